import { DelayedError, UnrecoverableError, type Job } from 'bullmq'
import { z } from 'zod'
import type { AppContext } from '../src/app-context.js'
import { MailError } from '../src/mail/mailer.js'
import type { Metrics } from '../src/ops/metrics.js'
import { classifyNotices } from '../src/services/classify.service.js'
import { deliverDigest, deliverImmediate, deliverReminder, deliveryKind, dueImmediate, dueReminders, dueSubscribers, localDay, periodKey, reminderKey, sendConfirmation, withDueReports } from '../src/services/digest.service.js'
import { refreshLifecycle } from '../src/services/lifecycle.service.js'
import { reclassifyAll } from '../src/services/reclassify.service.js'
import { trainClassifier } from '../src/services/training.service.js'
import { ingestRaw } from '../src/services/ingest.service.js'
import { raiseWarnings, scoreMeasure } from '../src/services/risk.service.js'
import { scrapeSource, UnknownSourceError } from '../src/services/scrape.service.js'
import { purgeStaleSubscriptions } from '../src/services/subscriber.service.js'
import { withoutFailed } from '../src/services/reconcile.service.js'
import { owedToken, settle } from '../src/pipeline/outbox.js'
import { IMMEDIATE_SWEEP, work, type WorkItem } from '../src/pipeline/work.js'
import { enqueue, jobId, type Queues, type Stage } from './queues.js'
import { PERMANENT_MAIL_FAILURE, runReconcile } from './reconcile.js'

const Id = z.number().int().positive()
export { IMMEDIATE_SWEEP }
const Schemas = {
  scrape: z.object({ sourceId: z.string().min(1), since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable().optional() }),
  ingest: z.object({ rawId: Id }),
  // `version`: the notice's content hash the job was queued for; `trigger`: jobs queued before it.
  classify: z.object({ noticeId: Id, version: z.string().optional(), trigger: z.string().optional() }),
  // `token`: the pipeline-outbox token the job was queued for (absent in jobs queued before the outbox).
  score: z.object({ measureId: Id, token: z.string().optional(), trigger: z.string().optional() }),
  warn: z.object({ measureId: Id, token: z.string().optional(), trigger: z.string().optional() }),
  digest: z.object({ period: z.enum(['daily', 'weekly', 'monthly', 'quarterly', 'immediate', 'reminders', 'lifecycle', 'train']) }),
  deliver: z.union([
    z.object({ subscriberId: Id, period: z.enum(['daily', 'weekly', 'monthly', 'quarterly']), key: z.string().min(1) }),
    z.object({ subscriberId: Id, kind: z.literal('immediate'), warningId: Id }),
    z.object({ subscriberId: Id, kind: z.literal('reminder'), measureId: Id, deadline: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }),
    z.object({ subscriberId: Id, kind: z.literal('confirm') }),
  ]),
  reconcile: z.object({ reason: z.string().optional() }),
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

/** The content hashes of these notices, in id order (a classify job's id names the version). */
async function noticeVersions(ctx: AppContext, ids: number[]): Promise<WorkItem[]> {
  const out: WorkItem[] = []
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await ctx.db.selectFrom('notice').select(['id', 'content_hash']).where('id', 'in', ids.slice(i, i + 500)).orderBy('id').execute()
    for (const r of rows) out.push(work.classify(r.id, r.content_hash))
  }
  return out
}

/** The delivery row a deliver job works on: its status, or null before the first attempt. */
async function deliveryStatus(ctx: AppContext, p: z.infer<(typeof Schemas)['deliver']>): Promise<string | null> {
  const [kind, key] =
    'period' in p
      ? [deliveryKind(p.period, (await ctx.db.selectFrom('subscriber').select('role').where('id', '=', p.subscriberId).executeTakeFirst())?.role ?? 'enterprise'), p.key]
      : p.kind === 'immediate'
        ? ['immediate', `w${p.warningId}`]
        : p.kind === 'reminder'
          ? ['reminder', reminderKey(p.measureId, p.deadline)]
          : ['confirm', localDay(ctx.clock(), ctx.config.schedule.timezone)]
  const row = await ctx.db.selectFrom('email_delivery').select('status').where('subscriber_id', '=', p.subscriberId).where('kind', '=', kind).where('period_key', '=', key).executeTakeFirst()
  return row?.status ?? null
}

/**
 * Each processor validates its payload, loads by id, calls one service (the same one
 * the inline pass calls) and enqueues the next stage with deterministic job ids. What
 * comes next is read from committed state: the response's stored notices and their
 * versions, the pipeline outbox's owed steps. Enqueueing right away is the fast path; a
 * crash before it loses nothing, because the reconciliation finds the same work by SQL.
 */
export function processors(ctx: AppContext, queues: Queues, metrics?: Metrics): Record<Stage, (job: Job, token?: string) => Promise<unknown>> {
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
      // Every response of the source still pending, not only this run's; but not one whose
      // ingest failed for good (it waits for retry-failed instead of failing every run).
      await enqueue(queues, await withoutFailed(c, r.pendingRawIds.map(work.ingest)))
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
      await enqueue(queues, await noticeVersions(c, r.changedNoticeIds))
      return { items: r.items, errors: r.errors, changed: r.changedNoticeIds.length }
    },
    async classify(job) {
      const { noticeId } = payload('classify', job)
      const c = jobContext(ctx, 'classify', job, { noticeId })
      const [r] = await classifyNotices(c, [noticeId])
      if (r) {
        c.log.debug({ measureId: r.measureId, categories: r.categories, changed: r.changed }, 'notice classified')
        c.fault('classify:done')
        // A changed classification marked its measure for scoring in its own transaction;
        // an unchanged one (a rerun after a crash) finds that mark still there.
        const token = await owedToken(c.db, 'score', r.measureId)
        if (token) await enqueue(queues, [work.score(r.measureId, token)])
      }
      return r
    },
    async score(job) {
      const { measureId, token } = payload('score', job)
      const c = jobContext(ctx, 'score', job, { measureId })
      // The mark as it stands now (a later change may have renewed it since this job was queued).
      const owed = await owedToken(c.db, 'score', measureId)
      if (!owed && token) return { measureId, scored: 0, deferred: false, done: 'already' }
      const r = await scoreMeasure(c, measureId)
      // Deferred: a document still awaits classification, whose commit marks the measure again.
      if (r.deferred) return r
      c.fault('score:done')
      const next = await settle(c.db, 'score', measureId, owed, c.clock().toISOString(), { stage: 'warn', refId: measureId })
      if (next.nextToken) await enqueue(queues, [work.warn(measureId, next.nextToken)])
      return r
    },
    async warn(job) {
      const { measureId, token } = payload('warn', job)
      const c = jobContext(ctx, 'warn', job, { measureId })
      const owed = await owedToken(c.db, 'warn', measureId)
      if (!owed && token) return { measureId, raised: 0, updated: 0, closed: 0, done: 'already' }
      const r = await raiseWarnings(c, measureId)
      if (r.raised || r.updated || r.closed) c.log.info({ raised: r.raised, updated: r.updated, closed: r.closed }, 'warnings changed')
      c.fault('warn:done')
      // A new or rescored high warning may be due to immediate subscribers now: the sweep is
      // owed (a rerun after a crash raised nothing new, so a high warning of the measure
      // counts too). One sweep serves a burst: while one waits, more adds are dropped; while
      // one runs, one more is kept for after it, so a warning raised mid-sweep is still seen.
      // (One sweep per warning made a 10,000-notice backfill read the high catalog 10,000 times.)
      const alert = r.raised > 0 || r.updated > 0 || !!(await c.db.selectFrom('warning').select('id').where('measure_id', '=', measureId).where('level', '=', 'high').executeTakeFirst())
      const next = await settle(c.db, 'warn', measureId, owed, c.clock().toISOString(), alert ? { stage: 'immediate', refId: 0 } : undefined)
      if (next.nextToken) await enqueue(queues, [work.immediateSweep()])
      return r
    },
    async digest(job) {
      const { period } = payload('digest', job)
      const c = jobContext(ctx, 'digest', job, { period })
      const jobs: WorkItem[] = []
      // The sweep's mark as it stands before looking: a warning marked after this read keeps it.
      const owed = period === 'immediate' ? await owedToken(c.db, 'immediate', 0) : null
      if (period === 'immediate') {
        for (const d of await dueImmediate(c)) jobs.push(work.deliver({ ...d, kind: 'immediate' }))
      } else if (period === 'lifecycle') {
        const r = await refreshLifecycle(c)
        c.fault('digest:done')
        return { changed: r.changed.length }
      } else if (period === 'train') {
        // The classifier learns from the stored coded notices when enough are new (or an
        // analyst corrected one), then classifies again what the new model changes.
        const t = await trainClassifier(c)
        if (!t.trained) return { trained: false, reason: t.reason }
        const r = await reclassifyAll(c)
        return { trained: true, version: t.version, heldOutChapterTop1: t.metrics?.chapterTop1 ?? null, reclassified: r.notices, changed: r.changed }
      } else if (period === 'reminders') {
        for (const d of await dueReminders(c)) jobs.push(work.deliver({ ...d, kind: 'reminder' }))
        // 评议: feedback-deadline reminders, and submitted/reply e-mails a crash left unsent (exactly once through email_delivery).
        const { sendDueCommentMails } = await import('../src/comments/notify.js')
        c.log.info(await sendDueCommentMails(c), 'comment e-mails sent')
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
        for (const subscriberId of await dueSubscribers(c, period, key)) jobs.push(work.deliver({ subscriberId, period, key }))
        // Comment-deadline reminders ride on the daily run.
        if (period === 'daily') await queues.digest.add('digest', { period: 'reminders' }, { jobId: jobId('digest', 'reminders', key) })
        // So does the purge of what strangers can create: unconfirmed sign-ups after 7 days, used form nonces.
        if (period === 'daily') c.log.info(await purgeStaleSubscriptions(c), 'stale sign-ups purged')
      }
      c.log.info({ due: jobs.length }, 'deliveries due')
      c.fault('digest:done')
      await enqueue(queues, jobs)
      if (owed) await settle(c.db, 'immediate', 0, owed, c.clock().toISOString())
      return { due: jobs.length }
    },
    async deliver(job, token) {
      const p = payload('deliver', job)
      const c = jobContext(ctx, 'deliver', job, { subscriberId: p.subscriberId })
      // Handed to SMTP by a run that may still be alive: a job the stalled check put back
      // because its first run was slow (its event loop busy past the lock), not dead. That
      // run is given two lock durations to mark the e-mail sent before this one finds the
      // delivery still `sending` and declares it uncertain (never re-sent either way).
      if (!job.data.sendingWaited && token && (await deliveryStatus(c, p)) === 'sending') {
        await job.updateData({ ...job.data, sendingWaited: true })
        await job.moveToDelayed(Date.now() + 2 * ctx.config.queue.lockDurationMs, token)
        c.log.info('delivery handed to SMTP by another run: waiting before calling it uncertain')
        throw new DelayedError()
      }
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
        if (err instanceof MailError && !err.retryable) throw new UnrecoverableError(PERMANENT_MAIL_FAILURE + err.message)
        throw err
      }
    },
    async reconcile(job) {
      const c = jobContext(ctx, 'reconcile', job, {})
      return runReconcile(c, queues)
    },
  }
}

