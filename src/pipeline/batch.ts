import type { AppContext } from '../app-context.js'
import { keepStatsFresh } from '../db/stats.js'
import { inTx } from '../db/tx.js'
import { classifyNotices, type ClassifyOutcome } from '../services/classify.service.js'
import { ingestRaws, type IngestResult } from '../services/ingest.service.js'
import { raiseWarningsMany, scoreMeasures, type ScoreOutcome, type WarnOutcome } from '../services/risk.service.js'
import { owedTokens, settleMany } from './outbox.js'

/**
 * The pipeline's stages over batches of items, shared by the inline pass (`tbt-watch run`)
 * and the BullMQ processors: a scrape page's notices are ingested in one transaction, then
 * classified, scored and warned about `TBT_BATCH_SIZE` at a time, each batch with set-based
 * reads and writes and one transaction for its work. The idempotency keys stay per item: a
 * notice's content hash (its classification names the version it classified), a measure's
 * pipeline-outbox token (consumed only if unchanged since read). A batch that is retried, or
 * cut by a crash, redoes what it did not commit and changes nothing it did.
 */

/** A notice to classify; `version`: the content hash prefix it was queued for. */
export interface NoticeItem {
  noticeId: number
  version?: string
}
/** A measure owed a step; `token`: the outbox token it was queued for (absent: queued before the outbox). */
export interface MeasureItem {
  measureId: number
  token?: string
}

/** Work the next stage owes, with the tokens the outbox holds for it. */
export interface Owed {
  measureId: number
  token: string
}

const byId = <T>(items: T[], id: (t: T) => number): T[] => {
  const seen = new Map<number, T>()
  for (const i of items) seen.set(id(i), i)
  return [...seen.values()].sort((a, b) => id(a) - id(b))
}

/** One page (stored response): parsed and stored in one transaction, all its notices or none. */
export async function ingestPage(ctx: AppContext, rawId: number): Promise<IngestResult> {
  return (await ingestPages(ctx, [rawId]))[0]
}

/**
 * Several stored responses as one page (an import's notifications, one response each):
 * parsed and stored in one transaction, all of them or none; one result per response.
 */
export async function ingestPages(ctx: AppContext, rawIds: number[]): Promise<IngestResult[]> {
  const results = await inTx(ctx.db, (tx) => ingestRaws({ ...ctx, db: tx }, rawIds))
  // A bulk load outruns autovacuum: the planner's statistics follow the tables' growth.
  await keepStatsFresh(ctx.db)
  return results
}

/**
 * Classifies a batch (one transaction) and returns the score steps its measures are owed:
 * a changed classification marked its measure in that transaction; an unchanged one (a
 * rerun after a crash) finds the mark still there.
 */
export async function classifyBatch(ctx: AppContext, items: NoticeItem[]): Promise<{ outcomes: ClassifyOutcome[]; next: Owed[] }> {
  await keepStatsFresh(ctx.db)
  const outcomes = await classifyNotices(ctx, byId(items, (i) => i.noticeId).map((i) => i.noticeId))
  for (const o of outcomes) {
    ctx.log.debug({ noticeId: o.noticeId, measureId: o.measureId, categories: o.categories, changed: o.changed }, 'notice classified')
    ctx.fault('classify:done')
  }
  const tokens = await owedTokens(ctx.db, 'score', [...new Set(outcomes.map((o) => o.measureId))])
  return { outcomes, next: [...tokens].map(([measureId, token]) => ({ measureId, token })) }
}

/**
 * Scores a batch of measures in one transaction, then settles their outbox marks (and marks
 * them owed a warning) in a second one. A job that names a token and finds nothing owed ran
 * already. A measure with a document still unclassified is deferred: that document's
 * classification marks the measure again.
 */
export async function scoreBatch(ctx: AppContext, items: MeasureItem[]): Promise<{ outcomes: ScoreOutcome[]; already: number; next: Owed[] }> {
  await keepStatsFresh(ctx.db)
  const list = byId(items, (i) => i.measureId)
  // The marks as they stand now, before working (a change that lands mid-run renews its token).
  const owed = await owedTokens(ctx.db, 'score', list.map((i) => i.measureId))
  const todo = list.filter((i) => owed.has(i.measureId) || !i.token)
  const outcomes: ScoreOutcome[] = todo.length ? await inTx(ctx.db, (tx) => scoreMeasures({ ...ctx, db: tx }, todo.map((i) => i.measureId))) : []
  const done = outcomes.filter((o) => !o.deferred)
  for (const _ of done) ctx.fault('score:done')
  const settled = await settleMany(ctx.db, 'score', done.map((o) => ({ refId: o.measureId, token: owed.get(o.measureId) ?? null })), ctx.clock().toISOString(), { stage: 'warn', refIdOf: (id) => id })
  return { outcomes, already: list.length - todo.length, next: [...settled.nextTokens].map(([measureId, token]) => ({ measureId, token })) }
}

/**
 * Raises or updates the warnings of a batch of measures in one transaction, then settles
 * their marks; returns whether the immediate-alert sweep is owed now (a new or rescored
 * warning, or a high one of these measures: a rerun after a crash raised nothing new).
 */
export async function warnBatch(ctx: AppContext, items: MeasureItem[]): Promise<{ outcomes: WarnOutcome[]; already: number; sweep: boolean }> {
  await keepStatsFresh(ctx.db)
  const list = byId(items, (i) => i.measureId)
  const owed = await owedTokens(ctx.db, 'warn', list.map((i) => i.measureId))
  const todo = list.filter((i) => owed.has(i.measureId) || !i.token)
  const outcomes: WarnOutcome[] = todo.length ? await inTx(ctx.db, (tx) => raiseWarningsMany({ ...ctx, db: tx }, todo.map((i) => i.measureId))) : []
  for (const r of outcomes) {
    if (r.raised || r.updated || r.closed) ctx.log.info({ measureId: r.measureId, raised: r.raised, updated: r.updated, closed: r.closed }, 'warnings changed')
    ctx.fault('warn:done')
  }
  const alert = new Set(outcomes.filter((r) => r.raised > 0 || r.updated > 0).map((r) => r.measureId))
  const quiet = outcomes.filter((r) => !alert.has(r.measureId)).map((r) => r.measureId)
  for (let k = 0; k < quiet.length; k += 500) {
    const high = await ctx.db.selectFrom('warning').select('measure_id').where('measure_id', 'in', quiet.slice(k, k + 500)).where('level', '=', 'high').execute()
    for (const h of high) alert.add(h.measure_id)
  }
  const settled = await settleMany(ctx.db, 'warn', outcomes.map((o) => ({ refId: o.measureId, token: owed.get(o.measureId) ?? null })), ctx.clock().toISOString(), {
    stage: 'immediate',
    refIdOf: (id) => (alert.has(id) ? 0 : null),
  })
  return { outcomes, already: list.length - todo.length, sweep: settled.nextTokens.size > 0 }
}

/**
 * Runs a batch; when it fails, runs its items one by one so that one bad item cannot hold
 * the others back: what went through is returned, the items that failed alone are handed
 * back with their errors (a worker queues each as its own job, which retries and, failing
 * for good, is recorded in job_failure as any job). When every item fails alone too, the
 * cause is not one item (the database away): the batch's own error is thrown.
 */
export async function isolating<I, R>(items: I[], run: (items: I[]) => Promise<R>): Promise<{ results: R[]; failed: { item: I; error: unknown }[] }> {
  try {
    return { results: [await run(items)], failed: [] }
  } catch (err) {
    if (items.length <= 1) throw err
    const results: R[] = []
    const failed: { item: I; error: unknown }[] = []
    for (const item of items) {
      try {
        results.push(await run([item]))
      } catch (error) {
        failed.push({ item, error })
      }
    }
    if (failed.length === items.length) throw err
    return { results, failed }
  }
}

/** Splits a list into batches of at most `size`. */
export function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < list.length; i += Math.max(1, size)) out.push(list.slice(i, i + Math.max(1, size)))
  return out
}

/**
 * A batch run in one process (`tbt-watch run`, `import eping-xlsx`): one bad item is
 * isolated as in a worker, but has no job of its own to retry it, so its error then stops
 * the run, as before batches.
 */
async function inline<I, R>(items: I[], run: (items: I[]) => Promise<R>): Promise<R[]> {
  const { results, failed } = await isolating(items, run)
  if (failed.length) throw failed[0].error
  return results
}

/** Classifies notices in this process, one batch of `classifyBatch` (`inline`); the measures they belong to. */
export async function classifyInline(ctx: AppContext, noticeIds: number[]): Promise<number[]> {
  return (await inline(noticeIds.map((noticeId) => ({ noticeId })), (b) => classifyBatch(ctx, b))).flatMap((r) => r.outcomes.map((o) => o.measureId))
}

/** What scoring and warning a set of measures did. */
export interface ScoreWarnCounts {
  measuresScored: number
  warningsRaised: number
  warningsUpdated: number
  warningsClosed: number
}

/**
 * Scores every measure, then warns about each (`scoreBatch`, `warnBatch`, `size` at a time,
 * in this process: `inline`), whether or not the outbox owes it a step: what `tbt-watch
 * run` and `import eping-xlsx` do after classifying. `progress` hears each stage's
 * measures done before each batch.
 */
export async function scoreAndWarnAll(ctx: AppContext, measureIds: number[], size: number, progress: (stage: 'score' | 'warn', done: number, total: number) => void = () => {}): Promise<ScoreWarnCounts> {
  const out: ScoreWarnCounts = { measuresScored: 0, warningsRaised: 0, warningsUpdated: 0, warningsClosed: 0 }
  const all = (batch: number[]) => batch.map((measureId) => ({ measureId }))
  for (const [i, batch] of chunks(measureIds, size).entries()) {
    progress('score', i * size, measureIds.length)
    out.measuresScored += (await inline(all(batch), (b) => scoreBatch(ctx, b))).reduce((a, r) => a + r.outcomes.length, 0)
  }
  for (const [i, batch] of chunks(measureIds, size).entries()) {
    progress('warn', i * size, measureIds.length)
    for (const w of (await inline(all(batch), (b) => warnBatch(ctx, b))).flatMap((r) => r.outcomes)) {
      out.warningsRaised += w.raised
      out.warningsUpdated += w.updated
      out.warningsClosed += w.closed
    }
  }
  return out
}

