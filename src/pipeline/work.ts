import { createHash } from 'node:crypto'
import type { Stage } from './stages.js'

/**
 * The one place that names a unit of work as a BullMQ job: which queue, what payload (ids
 * only) and which deterministic job id. The stages' own follow-ups, the reconciliation and
 * `retry-failed` all build jobs here, so the same work always gets the same id: a second
 * enqueue while it waits or runs adds nothing. Ids carry the version of what they work on
 * where it can change (a notice's content hash, an outbox token), so newer work is never
 * mistaken for older work that already ran.
 */
export interface WorkItem {
  queue: Stage
  name: string
  data: Record<string, unknown>
  /** A deterministic job id; absent for work deduplicated by `dedupId` instead. */
  jobId?: string
  /** BullMQ deduplication id (one waiting and one running at most: a sweep). */
  dedupId?: string
  /** A completed job of the same id is removed first, so that the work runs again. */
  replaceCompleted?: boolean
}

/** Job ids are deterministic (a retry or a second enqueue adds nothing) and never hold ':'. */
export const jobId = (...parts: (string | number)[]) => parts.map((p) => String(p).replace(/[^\w.-]+/g, '_')).join('-')

/** The deduplication id of the immediate-alert sweep. */
export const IMMEDIATE_SWEEP = 'immediate-sweep'

/** The part of a notice's content hash that names its version in a job id. */
export const noticeVersion = (contentHash: string) => contentHash.slice(0, 16)

export type DeliverPayload =
  | { subscriberId: number; period: 'daily' | 'weekly' | 'monthly' | 'quarterly'; key: string }
  | { subscriberId: number; kind: 'immediate'; warningId: number }
  | { subscriberId: number; kind: 'reminder'; measureId: number; deadline: string }
  | { subscriberId: number; kind: 'confirm'; day: string }

/** A batch job's id: the stage, its first item and size, and a digest of every item's key. */
const batchId = (stage: Stage, keys: string[]) => jobId(stage, 'batch', keys[0].split(':')[0], keys.length, createHash('sha256').update(keys.join(',')).digest('hex').slice(0, 16))

export const work = {
  ingest: (rawId: number): WorkItem => ({ queue: 'ingest', name: 'ingest', data: { rawId }, jobId: jobId('ingest', rawId) }),
  classify: (noticeId: number, contentHash: string): WorkItem => {
    const version = noticeVersion(contentHash)
    return { queue: 'classify', name: 'classify', data: { noticeId, version }, jobId: jobId('classify', noticeId, version) }
  },
  score: (measureId: number, token: string): WorkItem => ({ queue: 'score', name: 'score', data: { measureId, token }, jobId: jobId('score', measureId, token) }),
  warn: (measureId: number, token: string): WorkItem => ({ queue: 'warn', name: 'warn', data: { measureId, token }, jobId: jobId('warn', measureId, token) }),
  /**
   * A batch of notices to classify, or of measures to score or warn about: one job. Its id
   * is made of its items' own keys (each notice's version, each measure's outbox token), so
   * the same batch queued twice (a retried ingest) is one job, and new work is a new one.
   * A batch of one is the item's own job.
   */
  classifyBatch: (notices: { id: number; contentHash: string }[]): WorkItem => {
    if (notices.length === 1) return work.classify(notices[0].id, notices[0].contentHash)
    const items = notices.map((n) => ({ id: n.id, version: noticeVersion(n.contentHash) }))
    return { queue: 'classify', name: 'classify-batch', data: { notices: items }, jobId: batchId('classify', items.map((i) => `${i.id}:${i.version}`)) }
  },
  measureBatch: (stage: 'score' | 'warn', measures: { measureId: number; token: string }[]): WorkItem => {
    if (measures.length === 1) return work[stage](measures[0].measureId, measures[0].token)
    const items = measures.map((m) => ({ id: m.measureId, token: m.token }))
    return { queue: stage, name: `${stage}-batch`, data: { measures: items }, jobId: batchId(stage, items.map((i) => `${i.id}:${i.token}`)) }
  },
  /** One sweep serves a burst: while one waits, more adds are dropped; while one runs, one more is kept for after it. */
  immediateSweep: (): WorkItem => ({ queue: 'digest', name: 'digest', data: { period: 'immediate' }, dedupId: IMMEDIATE_SWEEP }),
  deliver: (p: DeliverPayload): WorkItem => {
    const s = p.subscriberId
    if ('period' in p) return { queue: 'deliver', name: 'deliver', data: p, jobId: jobId('deliver', p.period, p.key, s) }
    if (p.kind === 'immediate') return { queue: 'deliver', name: 'deliver', data: p, jobId: jobId('deliver', 'immediate', `w${p.warningId}`, s) }
    if (p.kind === 'reminder') return { queue: 'deliver', name: 'deliver', data: p, jobId: jobId('deliver', 'reminder', `m${p.measureId}`, p.deadline, s) }
    return { queue: 'deliver', name: 'deliver', data: { subscriberId: s, kind: 'confirm' }, jobId: jobId('deliver', 'confirm', p.day, s) }
  },
}
