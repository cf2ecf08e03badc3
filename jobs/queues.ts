import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq'
import { Redis } from 'ioredis'

import { STAGES, type Stage } from '../src/pipeline/stages.js'
import { jobId, type WorkItem } from '../src/pipeline/work.js'

/** One queue per stage. Payloads carry ids only; the database holds the rest. */
export { STAGES, type Stage, jobId }

export interface QueueSettings {
  redisUrl: string
  /** BullMQ key prefix; each test uses its own so queues never collide. */
  prefix: string
  /** Tries of a failing job (TBT_JOB_ATTEMPTS); the default options' otherwise. */
  attempts?: number
}

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { count: 1_000, age: 7 * 24 * 3600 },
  // A job that failed for good is recorded in SQL (job_failure) and removed by the worker,
  // so that it never blocks the same work being queued again; this only bounds what a
  // failure the worker could not record (its database down) leaves until the next sweep.
  removeOnFail: { count: 5_000, age: 30 * 24 * 3600 },
}

/** Producers fail fast when Redis is away; workers (below) wait for it forever. */
export function producerConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false })
}

export function workerConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null })
}

export type Queues = Record<Stage, Queue>

/** The Redis connection a set of queues was opened on, when it is one we hold (for pipelined look-ups). */
const connections = new WeakMap<Queues, Redis>()

export function openQueues(settings: QueueSettings, connection: ConnectionOptions): Queues {
  const defaultJobOptions = { ...DEFAULT_JOB_OPTIONS, ...(settings.attempts ? { attempts: settings.attempts } : {}) }
  const queues = Object.fromEntries(STAGES.map((s) => [s, new Queue(s, { connection, prefix: settings.prefix, defaultJobOptions })])) as Queues
  if (connection instanceof Redis) connections.set(queues, connection)
  return queues
}

/**
 * Of these items, those whose job id is not in Redis yet: one pipelined EXISTS per id instead
 * of BullMQ's add script, which matters when the reconciliation offers a large backlog that is
 * mostly queued already. (A job added in between is still deduplicated by the add itself.)
 */
async function notQueued(queues: Queues, q: Queue, items: WorkItem[]): Promise<WorkItem[]> {
  const redis = connections.get(queues)
  if (!redis || items.length < 50) return items
  const pipe = redis.pipeline()
  for (const i of items) pipe.exists(q.toKey(i.jobId!))
  const res = (await pipe.exec()) ?? []
  return items.filter((_, k) => res[k]?.[0] || res[k]?.[1] === 0)
}

/** An item's own key inside a batch job: a notice and its version, a measure and its token. */
const itemKey = (d: Record<string, unknown>) => ('noticeId' in d ? `${d.noticeId}:${d.version}` : `${d.measureId}:${d.token}`)

/**
 * Of these single items (the reconciliation's, `retry-failed`'s), those that no batch job
 * waiting, delayed or running already carries under the same key: a batch's id is not its
 * items' ids, so the add itself would not see them.
 */
async function notBatched(q: Queue, items: WorkItem[], cache?: CarriedCache): Promise<WorkItem[]> {
  const singles = items.filter((i) => i.name === q.name && i.jobId)
  if (!singles.length) return items
  let carried = cache?.get(q.name)
  if (!carried) {
    carried = new Set<string>()
    for (const job of await q.getJobs(['waiting', 'active', 'delayed', 'prioritized'])) {
      const d = job?.data as { notices?: { id: number; version: string }[]; measures?: { id: number; token: string }[] } | undefined
      for (const n of d?.notices ?? []) carried.add(`${n.id}:${n.version}`)
      for (const m of d?.measures ?? []) carried.add(`${m.id}:${m.token}`)
    }
    cache?.set(q.name, carried)
  }
  return carried.size ? items.filter((i) => !(i.name === q.name && i.jobId && carried.has(itemKey(i.data)))) : items
}
const BATCHED: Stage[] = ['classify', 'score', 'warn']

/**
 * The items the queued batches of each queue carry, read once for many calls of `enqueue`
 * (a reconciliation hands its findings over 500 at a time; reading every queued batch for
 * each 500 made a sweep over a backlog of 100,000 notices quadratic). A batch queued after
 * the read is not in it: an item it carries may then be queued once more on its own, which
 * its idempotency key makes harmless.
 */
export type CarriedCache = Map<string, Set<string>>

/**
 * Queues work items, in bulk per queue. A deterministic id that is already waiting, delayed
 * or running adds nothing, and neither does a single item a queued batch carries (unless
 * `fanOut`: a stage's own follow-ups); an item marked `replaceCompleted` first removes a finished job of
 * its id (the work is owed again). Deduplicated items (the immediate sweep) are added one by one.
 */
export async function enqueue(queues: Queues, items: WorkItem[], opts: { fanOut?: boolean; carried?: CarriedCache } = {}): Promise<void> {
  const byQueue = new Map<Stage, WorkItem[]>()
  for (const i of items) byQueue.set(i.queue, [...(byQueue.get(i.queue) ?? []), i])
  for (let [stage, list] of byQueue) {
    const q = queues[stage]
    // A stage's own follow-ups (`fanOut`) are batches or their own items: never carried by another batch.
    if (!opts.fanOut && BATCHED.includes(stage)) list = await notBatched(q, list, opts.carried)
    for (const i of list) {
      if (i.replaceCompleted && i.jobId) {
        const old = await q.getJob(i.jobId)
        if (old && (await old.isCompleted())) await old.remove().catch(() => {})
      }
    }
    const bulk = list.filter((i) => !i.dedupId)
    for (let k = 0; k < bulk.length; k += 500) {
      const fresh = await notQueued(queues, q, bulk.slice(k, k + 500).filter((i) => i.jobId))
      const chunk = [...fresh, ...bulk.slice(k, k + 500).filter((i) => !i.jobId)]
      if (chunk.length) await q.addBulk(chunk.map((i) => ({ name: i.name, data: i.data, opts: { jobId: i.jobId } })))
    }
    for (const i of list.filter((x) => x.dedupId)) await q.add(i.name, i.data, { deduplication: { id: i.dedupId!, keepLastIfActive: true } })
  }
}

/**
 * Resolves when no queue has work waiting, delayed or running, twice in a row, and
 * `settled` (when given: e.g. the database owes no work) holds.
 */
export async function waitForIdle(queues: Queues, opts: { timeoutMs?: number; pollMs?: number; settled?: () => Promise<boolean> } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000)
  let quietPolls = 0
  while (Date.now() < deadline) {
    let busy = 0
    for (const q of Object.values(queues)) {
      // The reconciliation runs on a timer whatever the load: its own runs are not work.
      if (q.name === 'reconcile') continue
      const c = await q.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children')
      busy += Object.values(c).reduce((a, b) => a + b, 0)
      // A job scheduler always holds its next run as a delayed job; only retries count.
      busy += (await q.getDelayed()).filter((j) => !j.id?.startsWith('repeat:')).length
    }
    if (busy === 0 && opts.settled && !(await opts.settled())) busy = 1
    quietPolls = busy === 0 ? quietPolls + 1 : 0
    if (quietPolls >= 2) return
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100))
  }
  throw new Error('queues did not drain in time')
}
