import type { AppContext } from '../app-context.js'
import { jobId, work, type DeliverPayload, type WorkItem } from '../pipeline/work.js'
import { newToken } from '../pipeline/outbox.js'
import { localDay } from './digest.service.js'

/**
 * Reconciliation: the database is the source of truth, Redis only schedules. Each sweep
 * finds, by SQL, work the database says is still owed, whatever happened to its job
 * (a worker killed again and again, a job failed, Redis restarted or emptied), and hands
 * it on in batches under the same deterministic job id the stage itself would use, so
 * work that is already queued or running is not queued twice:
 *
 * - raw responses never ingested (`parse_status = 'pending'`) → ingest;
 * - notices without a current classification (none, or one of an older content hash),
 *   once the response that stored them is ingested → classify;
 * - measures scored under older risk rules → owed a score (outbox);
 * - steps owed in the pipeline outbox: measures to score, to warn, the immediate-alert sweep;
 * - e-mail deliveries a crash left `pending` or `claimed` → deliver (claimed again, sent once),
 *   or `sending` → deliver (after a wait for a live sender: `uncertain`, never re-sent).
 *
 * Work whose job failed for good (job_failure, not yet retried) is left out until an
 * operator runs `tbt-watch retry-failed`: a job that kills its worker every time must not
 * be fed back into the crash loop. Every sweep walks its table by key, `batch` ids at a time.
 */
export interface ReconcileReport {
  ingest: number
  classify: number
  /** Measures whose scores were computed under older risk rules, now owed a score. */
  rulesChanged: number
  score: number
  warn: number
  immediate: number
  deliver: number
  /** Owed work left out because its job failed for good (see job_failure). */
  heldFailed: number
}

/** Hands a batch of work to the queues (the worker passes BullMQ adds; tests may collect). */
export type Enqueue = (items: WorkItem[]) => Promise<void>

export const RECONCILE_BATCH = 500

export async function reconcile(ctx: AppContext, enqueue: Enqueue, opts: { batch?: number } = {}): Promise<ReconcileReport> {
  const batch = opts.batch ?? RECONCILE_BATCH
  const report: ReconcileReport = { ingest: 0, classify: 0, rulesChanged: 0, score: 0, warn: 0, immediate: 0, deliver: 0, heldFailed: 0 }
  const hand = async (kind: keyof ReconcileReport, items: WorkItem[]) => {
    const free = await withoutFailed(ctx, items)
    report.heldFailed += items.length - free.length
    report[kind] += free.length
    if (free.length) await enqueue(free)
  }
  for await (const ids of pendingRaw(ctx, batch)) await hand('ingest', ids.map(work.ingest))
  for await (const rows of unclassified(ctx, batch)) await hand('classify', rows.map((r) => work.classify(r.id, r.content_hash)))
  report.rulesChanged = await markRulesStale(ctx, batch)
  for (const stage of ['score', 'warn'] as const) {
    for await (const rows of owed(ctx, stage, batch)) await hand(stage, rows.map((r) => work[stage](r.ref_id, r.token)))
  }
  if (await ctx.db.selectFrom('pipeline_outbox').select('ref_id').where('stage', '=', 'immediate').executeTakeFirst()) await hand('immediate', [work.immediateSweep()])
  for await (const items of interruptedDeliveries(ctx, batch)) await hand('deliver', items)
  return report
}

async function* pendingRaw(ctx: AppContext, batch: number): AsyncGenerator<number[]> {
  for (let after = 0; ; ) {
    const rows = await ctx.db.selectFrom('raw_response').select('id').where('parse_status', '=', 'pending').where('id', '>', after).orderBy('id').limit(batch).execute()
    if (rows.length) yield rows.map((r) => r.id)
    if (rows.length < batch) return
    after = rows[rows.length - 1].id
  }
}

/** Notices whose classification is missing or of an older version, ingest of their response done. */
async function* unclassified(ctx: AppContext, batch: number): AsyncGenerator<{ id: number; content_hash: string }[]> {
  for (let after = 0; ; ) {
    const rows = await unclassifiedQuery(ctx).select(['notice.id', 'notice.content_hash']).where('notice.id', '>', after).orderBy('notice.id').limit(batch).execute()
    if (rows.length) yield rows
    if (rows.length < batch) return
    after = rows[rows.length - 1].id
  }
}

function unclassifiedQuery(ctx: AppContext) {
  return (
    ctx.db
      .selectFrom('notice')
      .leftJoin('classification', 'classification.notice_id', 'notice.id')
      .leftJoin('raw_response', 'raw_response.id', 'notice.raw_response_id')
      .where((eb) => eb.or([eb('classification.id', 'is', null), eb('classification.notice_hash', '!=', eb.ref('notice.content_hash'))]))
      // A notice of a response still being ingested is the ingest's to hand on (it links
      // the notice across sources first); classifying it now could skip that.
      .where((eb) => eb.or([eb('raw_response.id', 'is', null), eb('raw_response.parse_status', '!=', 'pending')]))
  )
}

/** Measures with a score of other risk rules than the ones loaded: owed a score (kept tokens stay). */
async function markRulesStale(ctx: AppContext, batch: number): Promise<number> {
  const version = ctx.rules.version
  let marked = 0
  for (let after = 0; ; ) {
    const rows = await ctx.db
      .selectFrom('risk_score')
      .select('measure_id')
      .distinct()
      .where((eb) => eb.or([eb('rules_version', '<', version), eb('rules_version', '>', version)]))
      .where('measure_id', '>', after)
      .orderBy('measure_id')
      .limit(batch)
      .execute()
    if (rows.length) {
      const now = ctx.clock().toISOString()
      const r = await ctx.db
        .insertInto('pipeline_outbox')
        .values(rows.map((m) => ({ stage: 'score', ref_id: m.measure_id, token: newToken(), created_at: now })))
        .onConflict((oc) => oc.columns(['stage', 'ref_id']).doNothing())
        .executeTakeFirst()
      marked += Number(r.numInsertedOrUpdatedRows ?? 0)
    }
    if (rows.length < batch) break
    after = rows[rows.length - 1].measure_id
  }
  if (marked) ctx.log.info({ measures: marked, rulesVersion: version }, 'measures scored under other risk rules: rescoring')
  return marked
}

async function* owed(ctx: AppContext, stage: 'score' | 'warn', batch: number): AsyncGenerator<{ ref_id: number; token: string }[]> {
  for (let after = -1; ; ) {
    const rows = await ctx.db.selectFrom('pipeline_outbox').select(['ref_id', 'token']).where('stage', '=', stage).where('ref_id', '>', after).orderBy('ref_id').limit(batch).execute()
    if (rows.length) yield rows
    if (rows.length < batch) return
    after = rows[rows.length - 1].ref_id
  }
}

/**
 * Delivery states a crash can leave behind: `pending`/`claimed` (before the hand-over: sent
 * by the next attempt) and `sending` (handed over by a run that is gone, e.g. one whose lock
 * ran out while it was slow, whose job another run then completed, and which died later:
 * the next attempt waits for it, then marks the delivery `uncertain`, never re-sent).
 */
const INTERRUPTED = ['pending', 'claimed', 'sending']

/** Deliveries a crash left unfinished, of subscribers still subscribed. */
async function* interruptedDeliveries(ctx: AppContext, batch: number): AsyncGenerator<WorkItem[]> {
  const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
  for (let after = 0; ; ) {
    const rows = await ctx.db
      .selectFrom('email_delivery')
      .innerJoin('subscriber', 'subscriber.id', 'email_delivery.subscriber_id')
      .select(['email_delivery.id', 'email_delivery.subscriber_id', 'email_delivery.kind', 'email_delivery.period_key', 'subscriber.confirmed_at', 'subscriber.unsubscribed_at'])
      .where('email_delivery.status', 'in', INTERRUPTED)
      .where('email_delivery.id', '>', after)
      .orderBy('email_delivery.id')
      .limit(batch)
      .execute()
    const items: WorkItem[] = []
    for (const r of rows) {
      const p = deliverPayload(r.subscriber_id, r.kind, r.period_key, today)
      const active = r.kind === 'confirm' || (r.confirmed_at && !r.unsubscribed_at)
      // A finished job of the same id (one that lost its claim to another sender, which then
      // died) must not hide the row: the enqueue replaces a completed job.
      if (p && active) items.push({ ...work.deliver(p), replaceCompleted: true })
    }
    if (items.length) yield items
    if (rows.length < batch) return
    after = rows[rows.length - 1].id
  }
}

/** The deliver job of a delivery row, or null when it cannot be sent any more (a confirmation of another day). */
export function deliverPayload(subscriberId: number, kind: string, key: string, today: string): DeliverPayload | null {
  if (kind === 'digest-daily' || kind === 'digest-weekly') return { subscriberId, period: kind === 'digest-daily' ? 'daily' : 'weekly', key }
  if (kind === 'immediate') {
    const m = /^w(\d+)$/.exec(key)
    return m ? { subscriberId, kind: 'immediate', warningId: Number(m[1]) } : null
  }
  if (kind === 'reminder') {
    const m = /^m(\d+)-(\d{4}-\d{2}-\d{2})$/.exec(key)
    return m ? { subscriberId, kind: 'reminder', measureId: Number(m[1]), deadline: m[2] } : null
  }
  if (kind === 'confirm') return key === today ? { subscriberId, kind: 'confirm', day: key } : null
  return null
}

// ---------------------------------------------------------------------------------------
// Work that failed for good.

export interface JobFailure {
  queue: string
  jobId: string
  name: string
  data: unknown
  error: string | null
  attempts: number
}

/** Records (or records again) a job that failed for good; idempotent by queue and job id. */
export async function recordJobFailure(ctx: AppContext, f: JobFailure): Promise<void> {
  const now = ctx.clock().toISOString()
  const row = { name: f.name, data: JSON.stringify(f.data ?? {}), error: f.error?.slice(0, 2000) ?? null, attempts: f.attempts, failed_at: now, retried_at: null }
  await ctx.db
    .insertInto('job_failure')
    .values({ queue: f.queue, job_id: f.jobId, ...row })
    .onConflict((oc) => oc.columns(['queue', 'job_id']).doUpdateSet(row))
    .execute()
}

/** Failures not yet retried, oldest first. */
export async function openFailures(ctx: AppContext, limit = 10_000) {
  const rows = await ctx.db.selectFrom('job_failure').selectAll().where('retried_at', 'is', null).orderBy('id').limit(limit).execute()
  return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }))
}

/** Unresolved failures by queue. */
export async function failureCounts(ctx: Pick<AppContext, 'db'>): Promise<Record<string, number>> {
  const rows = await ctx.db.selectFrom('job_failure').select(['queue', (eb) => eb.fn.countAll<number>().as('n')]).where('retried_at', 'is', null).groupBy('queue').execute()
  return Object.fromEntries(rows.map((r) => [r.queue, Number(r.n)]))
}

export async function markRetried(ctx: AppContext, ids: number[]): Promise<void> {
  const now = ctx.clock().toISOString()
  for (let i = 0; i < ids.length; i += 500) {
    await ctx.db
      .updateTable('job_failure')
      .set((eb) => ({ retried_at: now, retries: eb('retries', '+', 1) }))
      .where('id', 'in', ids.slice(i, i + 500))
      .execute()
  }
}

/**
 * These items less those whose job failed for good and was not retried since: their own
 * job, or a batch job that carried them (the sweeps hand items on one by one, under their
 * own ids; a failed batch holds every item it carried).
 */
export async function withoutFailed(ctx: AppContext, items: WorkItem[]): Promise<WorkItem[]> {
  const ids = items.map((i) => i.jobId).filter((id): id is string => !!id)
  if (!ids.length) return items
  const held = await failedBatchItems(ctx)
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await ctx.db.selectFrom('job_failure').select(['queue', 'job_id']).where('retried_at', 'is', null).where('job_id', 'in', ids.slice(i, i + 500)).execute()
    for (const r of rows) held.add(`${r.queue}|${r.job_id}`)
  }
  return held.size ? items.filter((i) => !i.jobId || !held.has(`${i.queue}|${i.jobId}`)) : items
}

/** The own job ids (`queue|id`) of the items that batch jobs failed for good (and not retried) carried. */
async function failedBatchItems(ctx: AppContext): Promise<Set<string>> {
  const rows = await ctx.db.selectFrom('job_failure').select(['queue', 'data']).where('retried_at', 'is', null).where('name', 'in', ['classify-batch', 'score-batch', 'warn-batch']).execute()
  const held = new Set<string>()
  for (const r of rows) {
    let data: { notices?: { id: number; version: string }[]; measures?: { id: number; token: string }[] }
    try {
      data = JSON.parse(r.data)
    } catch {
      continue
    }
    for (const n of data.notices ?? []) held.add(`classify|${jobId('classify', n.id, n.version)}`)
    if (r.queue === 'score' || r.queue === 'warn') for (const m of data.measures ?? []) held.add(`${r.queue}|${jobId(r.queue, m.id, m.token)}`)
  }
  return held
}

// ---------------------------------------------------------------------------------------
// What is left to do, as counts: for /ops, the fault tests ("settled" = all zero) and logs.

export interface Backlog {
  pendingRaw: number
  unclassified: number
  owedScore: number
  owedWarn: number
  owedImmediate: number
  interruptedDeliveries: number
  failedForGood: number
}

export async function backlog(ctx: AppContext): Promise<Backlog> {
  const n = async (q: { executeTakeFirstOrThrow(): Promise<{ n: number | string | bigint }> }) => Number((await q.executeTakeFirstOrThrow()).n)
  const { db } = ctx
  const owedBy = Object.fromEntries(
    (await db.selectFrom('pipeline_outbox').select(['stage', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('stage').execute()).map((r) => [r.stage, Number(r.n)]),
  )
  return {
    pendingRaw: await n(db.selectFrom('raw_response').select((eb) => eb.fn.countAll<number>().as('n')).where('parse_status', '=', 'pending')),
    unclassified: await n(unclassifiedQuery(ctx).select((eb) => eb.fn.countAll<number>().as('n'))),
    owedScore: owedBy.score ?? 0,
    owedWarn: owedBy.warn ?? 0,
    owedImmediate: owedBy.immediate ?? 0,
    interruptedDeliveries: await n(
      db
        .selectFrom('email_delivery')
        .innerJoin('subscriber', 'subscriber.id', 'email_delivery.subscriber_id')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('email_delivery.status', 'in', INTERRUPTED)
        // The ones the sweep can still send (as interruptedDeliveries picks them).
        .where((eb) =>
          eb.or([
            eb.and([eb('email_delivery.kind', '!=', 'confirm'), eb('subscriber.confirmed_at', 'is not', null), eb('subscriber.unsubscribed_at', 'is', null)]),
            eb.and([eb('email_delivery.kind', '=', 'confirm'), eb('email_delivery.period_key', '=', localDay(ctx.clock(), ctx.config.schedule.timezone))]),
          ]),
        ),
    ),
    failedForGood: Object.values(await failureCounts(ctx)).reduce((a, b) => a + b, 0),
  }
}

/** True when the database owes no pipeline work (failed-for-good work aside). */
export const settled = (b: Backlog) => b.pendingRaw + b.unclassified + b.owedScore + b.owedWarn + b.owedImmediate + b.interruptedDeliveries === 0
