import { sourceEnabled, type AppContext } from '../app-context.js'
import { sendDueCommentMails } from '../comments/notify.js'
import { deliverDigest, dueSubscribers, periodKey, runDeliveries, sendImmediateAlerts, sendReminders, withDueReports, type Period, type SendReport } from '../services/digest.service.js'
import { refreshLifecycle } from '../services/lifecycle.service.js'
import { scrapeSource, type ScrapeResult } from '../services/scrape.service.js'
import { seed } from '../services/seed.service.js'
import { purgeStaleSubscriptions } from '../services/subscriber.service.js'
import { owedToken, settle } from './outbox.js'
import { chunks, classifyInline, ingestPage, scoreAndWarnAll } from './batch.js'

export interface PassOptions {
  sources?: string[]
  since?: string | null
  /** Called as each stage advances, for a progress bar; `detail` names the source being scraped. */
  onProgress?: (stage: string, done: number, total: number, detail?: string) => void
}

export interface SourceReport {
  sourceId: string
  status: 'ok' | 'failed'
  error?: string
  requests: number
  notModified: number
  rawNew: number
  items: number
  itemErrors: number
  quarantined: number
  notices: number
}

export interface PassReport {
  sources: SourceReport[]
  stages: {
    classified: number
    measuresScored: number
    warningsRaised: number
    warningsUpdated: number
    warningsClosed: number
    emailsSent: number
  }
}

/**
 * One pass of the whole pipeline in this process, stage after stage: the same
 * service functions the BullMQ workers call, so the two modes cannot drift apart.
 */
export async function runPass(ctx: AppContext, opts: PassOptions = {}): Promise<PassReport> {
  await seed(ctx, { subscribers: true })
  const selected = opts.sources?.length ? opts.sources : ctx.sources.filter((s) => sourceEnabled(ctx, s)).map((s) => s.id)
  const progress = opts.onProgress ?? (() => {})
  const reports: SourceReport[] = []
  const changed = new Set<number>()

  for (const [i, sourceId] of selected.entries()) {
    progress('scrape', i, selected.length, sourceId)
    const scraped: ScrapeResult = await scrapeSource(ctx, sourceId, { since: opts.since, mode: 'inline' })
    const report: SourceReport = {
      sourceId,
      status: scraped.status,
      error: scraped.error,
      requests: scraped.requests,
      notModified: scraped.notModified,
      rawNew: scraped.rawNew,
      items: 0,
      itemErrors: 0,
      quarantined: 0,
      notices: 0,
    }
    for (const [j, rawId] of scraped.pendingRawIds.entries()) {
      progress(`ingest ${sourceId}`, j, scraped.pendingRawIds.length)
      const r = await ingestPage(ctx, rawId)
      report.items += r.items
      report.itemErrors += r.errors
      if (r.quarantined) report.quarantined++
      report.notices += r.changedNoticeIds.length
      r.changedNoticeIds.forEach((id) => changed.add(id))
    }
    reports.push(report)
  }
  progress('scrape', selected.length, selected.length)

  // Notices a crashed earlier pass stored but never classified are picked up here.
  const unclassified = await ctx.db
    .selectFrom('notice')
    .select('id')
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('classification').select('classification.id').whereRef('classification.notice_id', '=', 'notice.id'))))
    .execute()
  unclassified.forEach((r) => changed.add(r.id))
  const noticeIds = [...changed].sort((a, b) => a - b)
  const measures = new Set<number>()
  const size = ctx.config.batchSize
  for (const [i, batch] of chunks(noticeIds, size).entries()) {
    progress('classify', i * size, noticeIds.length)
    for (const m of await classifyInline(ctx, batch)) measures.add(m)
  }
  // So are measures whose scoring or warning the pipeline outbox still owes (a crashed
  // pass, or workers that left them): classification marks its measure there in the same
  // transaction, and each step below settles its mark once done.
  const owedSteps = await ctx.db.selectFrom('pipeline_outbox').select('ref_id').where('stage', 'in', ['score', 'warn']).execute()
  owedSteps.forEach((r) => measures.add(r.ref_id))
  const measureIds = [...measures].sort((a, b) => a - b)
  // Every measure is scored (and warned about) whether or not a mark is owed: the inline
  // pass has always rescored what it touched. A mark that is owed is settled as it goes.
  const stages = { classified: noticeIds.length, ...(await scoreAndWarnAll(ctx, measureIds, size, progress)), emailsSent: 0 }
  const now = () => ctx.clock().toISOString()
  // Comment deadlines passed, dates come: measures move on before anything is sent.
  await refreshLifecycle(ctx)
  // High warnings go out as immediate alerts first; digests then carry the rest.
  const sweep = await owedToken(ctx.db, 'immediate', 0)
  stages.emailsSent += (await sendImmediateAlerts(ctx)).sent
  if (sweep) await settle(ctx.db, 'immediate', 0, sweep, now())
  stages.emailsSent += await sendDueDigests(ctx, withDueReports(ctx, ['daily', 'weekly']), progress)
  stages.emailsSent += (await sendReminders(ctx)).sent
  stages.emailsSent += (await sendDueCommentMails(ctx)).sent
  // As the daily digest job does: what strangers can create (sign-ups never confirmed
  // after 7 days, used form nonces) goes, also where only `run` or `start` is scheduled.
  await purgeStaleSubscriptions(ctx)
  return { sources: reports, stages }
}

/** Sends this period's digests to everyone who is due; the scheduler calls the same code. */
export async function sendDueDigests(ctx: AppContext, periods: Period[], progress: (stage: string, done: number, total: number) => void = () => {}): Promise<number> {
  return (await sendDigests(ctx, periods, progress)).sent
}

/** The same, reporting failed addresses too (recorded on their delivery rows; the others still go out). */
export async function sendDigests(ctx: AppContext, periods: Period[], progress: (stage: string, done: number, total: number) => void = () => {}): Promise<SendReport> {
  const total: SendReport = { sent: 0, failed: 0 }
  for (const period of periods) {
    const key = periodKey(period, ctx.clock(), ctx.config.schedule.timezone)
    const due = await dueSubscribers(ctx, period, key)
    const r = await runDeliveries(
      ctx,
      due.map((id, i) => () => {
        progress(`digest ${period}`, i, due.length)
        return deliverDigest(ctx, id, period, key)
      }),
    )
    total.sent += r.sent
    total.failed += r.failed
  }
  return total
}
