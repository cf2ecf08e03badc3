import { UnrecoverableError, type Job } from 'bullmq'
import { z } from 'zod'
import type { AppContext } from '../src/app-context.js'
import { MailError } from '../src/mail/mailer.js'
import type { Metrics } from '../src/ops/metrics.js'
import { classifyNotices } from '../src/services/classify.service.js'
import { deliverDigest, deliverImmediate, deliverReminder, dueImmediate, dueReminders, dueSubscribers, periodKey, sendConfirmation, withDueReports } from '../src/services/digest.service.js'
import { refreshLifecycle } from '../src/services/lifecycle.service.js'
import { ingestRaw } from '../src/services/ingest.service.js'
import { raiseWarnings, scoreMeasure } from '../src/services/risk.service.js'
import { scrapeSource, UnknownSourceError } from '../src/services/scrape.service.js'
import { purgeStaleSubscriptions } from '../src/services/subscriber.service.js'
import { jobId, type Queues, type Stage } from './queues.js'

const Id = z.number().int().positive()
/** The deduplication id of the immediate-alert sweep that the warn stage asks for. */
export const IMMEDIATE_SWEEP = 'immediate-sweep'
const Schemas = {
  scrape: z.object({ sourceId: z.string().min(1), since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable().optional() }),
  ingest: z.object({ rawId: Id }),
  classify: z.object({ noticeId: Id, trigger: z.string() }),
  score: z.object({ measureId: Id, trigger: z.string() }),
  warn: z.object({ measureId: Id, trigger: z.string() }),
  digest: z.object({ period: z.enum(['daily', 'weekly', 'monthly', 'quarterly', 'immediate', 'reminders', 'lifecycle']) }),
  deliver: z.union([
    z.object({ subscriberId: Id, period: z.enum(['daily', 'weekly', 'monthly', 'quarterly']), key: z.string().min(1) }),
    z.object({ subscriberId: Id, kind: z.literal('immediate'), warningId: Id }),
    z.object({ subscriberId: Id, kind: z.literal('reminder'), measureId: Id, deadline: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }),
    z.object({ subscriberId: Id, kind: z.literal('confirm') }),
  ]),
} satisfies Record<Stage, z.ZodType>

function payload<S extends Stage>(stage: S, job: Job): z.infer<(typeof Schemas)[S]> {
  const r = Schemas[stage].safeParse(job.data)
  if (!r.success) throw new UnrecoverableError(`bad ${stage} payload: ${r.error.issues[0].message} at ${r.error.issues[0].path.join('.')}`)
  return r.data as z.infer<(typeof Schemas)[S]>
}

/** The context a job's service call sees: its log lines carry the job, stage and entity ids. */
function jobContext(ctx: AppContext, stage: Stage, job: Job, ids: Record<string, unknown>): AppContext {
  return { ...ctx, log: ctx.log.child({ jobId: job.id, stage, attempt: job.attemptsMade + 1, ...ids }) }
}

/**
 * Each processor validates its payload, loads by id, calls one service (the same one
 * the inline pass calls) and enqueues the next stage with deterministic job ids.
 */
export function processors(ctx: AppContext, queues: Queues, metrics?: Metrics): Record<Stage, (job: Job) => Promise<unknown>> {
  return {
    async scrape(job) {
      const { sourceId, since } = payload('scrape', job)
      const c = jobContext(ctx, 'scrape', job, { sourceId })
      c.fault('scrape:start')
      let r
      try {
        r = await scrapeSource(c, sourceId, { since: since ?? null, mode: 'worker' })
      } catch (err) {
        if (err instanceof UnknownSourceError) throw new UnrecoverableError(err.message)
        throw err
      }
      metrics?.scrapeRequests.inc({ source: sourceId }, r.requests)
      metrics?.scrapeRuns.inc({ source: sourceId, status: r.status })
      c.log.info({ runId: r.runId, status: r.status, requests: r.requests, rawNew: r.rawNew, pending: r.pendingRawIds.length, err: r.error }, 'source scraped')
      c.fault('scrape:done')
      await queues.ingest.addBulk(r.pendingRawIds.map((rawId) => ({ name: 'ingest', data: { rawId }, opts: { jobId: jobId('ingest', rawId) } })))
      // The inline pass reports a failed source and goes on; a queued scrape of a source
      // that is down (timeouts, 5xx, rate limits) is retried later with backoff instead.
      if (r.status === 'failed' && r.retryable) throw new Error(`source ${sourceId} unavailable, will retry: ${r.error}`)
      return { status: r.status, error: r.error, raw: r.pendingRawIds.length }
    },
    async ingest(job) {
      const { rawId } = payload('ingest', job)
      const c = jobContext(ctx, 'ingest', job, { rawId })
      const r = await ingestRaw(c, rawId)
      c.log.debug({ items: r.items, errors: r.errors, changed: r.changedNoticeIds.length }, 'response ingested')
      c.fault('ingest:done')
      const trigger = `r${rawId}`
      await queues.classify.addBulk(
        r.changedNoticeIds.map((noticeId) => ({ name: 'classify', data: { noticeId, trigger }, opts: { jobId: jobId('classify', noticeId, trigger) } })),
      )
      return { items: r.items, errors: r.errors, changed: r.changedNoticeIds.length }
    },
    async classify(job) {
      const { noticeId, trigger } = payload('classify', job)
      const c = jobContext(ctx, 'classify', job, { noticeId })
      const [r] = await classifyNotices(c, [noticeId])
      if (r) {
        c.log.debug({ measureId: r.measureId, categories: r.categories, changed: r.changed }, 'notice classified')
        c.fault('classify:done')
        const t = `${trigger}n${noticeId}`
        await queues.score.add('score', { measureId: r.measureId, trigger: t }, { jobId: jobId('score', r.measureId, t) })
      }
      return r
    },
    async score(job) {
      const { measureId, trigger } = payload('score', job)
      const c = jobContext(ctx, 'score', job, { measureId })
      const r = await scoreMeasure(c, measureId)
      if (r.deferred) return r
      c.fault('score:done')
      await queues.warn.add('warn', { measureId, trigger }, { jobId: jobId('warn', measureId, trigger) })
      return r
    },
    async warn(job) {
      const { measureId, trigger } = payload('warn', job)
      const c = jobContext(ctx, 'warn', job, { measureId })
      const r = await raiseWarnings(c, measureId)
      if (r.raised || r.updated || r.closed) c.log.info({ raised: r.raised, updated: r.updated, closed: r.closed }, 'warnings changed')
      c.fault('warn:done')
      // A new or rescored high warning may be due to immediate subscribers now. One sweep
      // serves a burst: while one waits, more adds are dropped; while one runs, one more
      // is kept for after it, so a warning raised mid-sweep is still seen. (One sweep per
      // warning made a 10,000-notice backfill read the high catalog 10,000 times.)
      if (r.raised || r.updated) await queues.digest.add('digest', { period: 'immediate' }, { deduplication: { id: IMMEDIATE_SWEEP, keepLastIfActive: true } })
      return r
    },
    async digest(job) {
      const { period } = payload('digest', job)
      const c = jobContext(ctx, 'digest', job, { period })
      const jobs: { name: string; data: Record<string, unknown>; opts: { jobId: string } }[] = []
      if (period === 'immediate') {
        for (const d of await dueImmediate(c)) jobs.push({ name: 'deliver', data: { ...d, kind: 'immediate' }, opts: { jobId: jobId('deliver', 'immediate', `w${d.warningId}`, d.subscriberId) } })
      } else if (period === 'lifecycle') {
        const r = await refreshLifecycle(c)
        c.fault('digest:done')
        return { changed: r.changed.length }
      } else if (period === 'reminders') {
        for (const d of await dueReminders(c)) jobs.push({ name: 'deliver', data: { ...d, kind: 'reminder' }, opts: { jobId: jobId('deliver', 'reminder', `m${d.measureId}`, d.deadline, d.subscriberId) } })
      } else {
        // Statuses first (a deadline that passed since the lifecycle job), so the e-mails agree with them.
        await refreshLifecycle(c)
        const key = periodKey(period, c.clock(), c.config.schedule.timezone)
        // The Monday run also sends the monthly and quarterly reports once due (first Monday of the period).
        if (period === 'weekly') {
          for (const p of withDueReports(c, ['weekly']).filter((x) => x !== 'weekly')) {
            await queues.digest.add('digest', { period: p }, { jobId: jobId('digest', p, periodKey(p, c.clock(), c.config.schedule.timezone)) })
          }
        }
        for (const subscriberId of await dueSubscribers(c, period, key)) jobs.push({ name: 'deliver', data: { subscriberId, period, key }, opts: { jobId: jobId('deliver', period, key, subscriberId) } })
        // Comment-deadline reminders ride on the daily run.
        if (period === 'daily') await queues.digest.add('digest', { period: 'reminders' }, { jobId: jobId('digest', 'reminders', key) })
        // So does the purge of what strangers can create: unconfirmed sign-ups after 7 days, used form nonces.
        if (period === 'daily') c.log.info(await purgeStaleSubscriptions(c), 'stale sign-ups purged')
      }
      c.log.info({ due: jobs.length }, 'deliveries due')
      c.fault('digest:done')
      for (let i = 0; i < jobs.length; i += 1000) await queues.deliver.addBulk(jobs.slice(i, i + 1000))
      return { due: jobs.length }
    },
    async deliver(job) {
      const p = payload('deliver', job)
      const c = jobContext(ctx, 'deliver', job, { subscriberId: p.subscriberId })
      try {
        let outcome
        if ('period' in p) outcome = await deliverDigest(c, p.subscriberId, p.period, p.key)
        else if (p.kind === 'immediate') outcome = await deliverImmediate(c, p.subscriberId, p.warningId)
        else if (p.kind === 'reminder') outcome = await deliverReminder(c, p.subscriberId, p.measureId, p.deadline)
        else outcome = await sendConfirmation(c, p.subscriberId)
        if (outcome === 'sent') metrics?.emails.inc({ status: 'sent' })
        if (outcome === 'uncertain') c.log.warn('delivery uncertain after an interrupted attempt; not re-sent')
        return outcome
      } catch (err) {
        metrics?.emails.inc({ status: 'failed' })
        // A permanent SMTP refusal (5xx) is recorded on the delivery row; retrying cannot help.
        if (err instanceof MailError && !err.retryable) throw new UnrecoverableError(err.message)
        throw err
      }
    },
  }
}

