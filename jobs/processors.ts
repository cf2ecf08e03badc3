import { DelayedError, UnrecoverableError, type Job } from 'bullmq'
import { z } from 'zod'
import type { AppContext } from '../src/app-context.js'
import { MailError } from '../src/mail/mailer.js'
import type { Metrics } from '../src/ops/metrics.js'
import { deliverDigest, deliverImmediate, deliverReminder, deliveryKind, dueImmediate, dueReminders, dueSubscribers, localDay, periodKey, reminderKey, sendConfirmation, withDueReports } from '../src/services/digest.service.js'
import { refreshLifecycle } from '../src/services/lifecycle.service.js'
import { reclassifyAll } from '../src/services/reclassify.service.js'
import { trainClassifier } from '../src/services/training.service.js'
import { scrapeSource, UnknownSourceError } from '../src/services/scrape.service.js'
import { purgeStaleSubscriptions } from '../src/services/subscriber.service.js'
import { withoutFailed } from '../src/services/reconcile.service.js'
import { owedToken, settle } from '../src/pipeline/outbox.js'
import { chunks, classifyBatch, ingestPage, isolating, scoreBatch, warnBatch, type MeasureItem, type NoticeItem, type Owed } from '../src/pipeline/batch.js'
import { IMMEDIATE_SWEEP, work, type WorkItem } from '../src/pipeline/work.js'
import { enqueue, jobId, type Queues, type Stage } from './queues.js'
import { PERMANENT_MAIL_FAILURE, runReconcile } from './reconcile.js'

const Id = z.number().int().positive()
const MAX_BATCH = 10_000
const MeasureJob = z.union([
  z.object({ measureId: Id, token: z.string().optional(), trigger: z.string().optional() }),
  z.object({ measures: z.array(z.object({ id: Id, token: z.string().min(1) })).min(1).max(MAX_BATCH) }),
])
const measureItems = (p: z.infer<typeof MeasureJob>): MeasureItem[] => ('measures' in p ? p.measures.map((m) => ({ measureId: m.id, token: m.token })) : [{ measureId: p.measureId, token: p.token }])
/** The log fields naming what a job works on: its one entity, or its batch's first id and size. */
const itemIds = <T>(items: T[], key: string, id: (t: T) => number) => (items.length === 1 ? { [key]: id(items[0]) } : { [`${key}s`]: items.length, [`first${key[0].toUpperCase()}${key.slice(1)}`]: id(items[0]) })
export { IMMEDIATE_SWEEP }
const Schemas = {
  scrape: z.object({ sourceId: z.string().min(1), since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable().optional() }),
  ingest: z.object({ rawId: Id }),
  // `version`: the notice's content hash the job was queued for; `trigger`: jobs queued before it.
  // A batch job (`notices`, `measures`) carries each item's own key (version, token).
  classify: z.union([
    z.object({ noticeId: Id, version: z.string().optional(), trigger: z.string().optional() }),
    z.object({ notices: z.array(z.object({ id: Id, version: z.string().min(1) })).min(1).max(MAX_BATCH) }),
  ]),
  // `token`: the pipeline-outbox token the job was queued for (absent in jobs queued before the outbox).
  score: MeasureJob,
  warn: MeasureJob,
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

/** Classify jobs for these notices, TBT_BATCH_SIZE a job, each item with its content hash (its version). */
async function classifyWork(ctx: AppContext, ids: number[]): Promise<WorkItem[]> {
  const rows: { id: number; contentHash: string }[] = []
  for (let i = 0; i < ids.length; i += 500) {
    const found = await ctx.db.selectFrom('notice').select(['id', 'content_hash']).where('id', 'in', ids.slice(i, i + 500)).orderBy('id').execute()
    rows.push(...found.map((r) => ({ id: r.id, contentHash: r.content_hash })))
  }
  return chunks(rows, ctx.config.batchSize).map(work.classifyBatch)
}

/** Score or warn jobs for these owed steps, TBT_BATCH_SIZE a job. */
const measureWork = (ctx: AppContext, stage: 'score' | 'warn', owed: Owed[]): WorkItem[] => chunks(owed, ctx.config.batchSize).map((b) => work.measureBatch(stage, b))

/** Items a batch could not do even alone: each queued as its own job (retried, then recorded in job_failure). */
function isolatedFailures<I>(c: AppContext, failed: { item: I; error: unknown }[], single: (item: I) => WorkItem): WorkItem[] {
  for (const f of failed) c.log.warn({ item: f.item, err: f.error instanceof Error ? f.error.message : String(f.error) }, 'batch item failed alone: queued as its own job')
  return failed.map((f) => single(f.item))
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
      const r = await ingestPage(c, rawId)
      c.log.debug({ items: r.items, errors: r.errors, changed: r.changedNoticeIds.length }, 'response ingested')
      c.fault('ingest:done')
      await enqueue(queues, await classifyWork(c, r.changedNoticeIds), { fanOut: true })
      return { items: r.items, errors: r.errors, changed: r.changedNoticeIds.length }
    },
    async classify(job) {
      const p = payload('classify', job)
      const items: NoticeItem[] = 'notices' in p ? p.notices.map((n) => ({ noticeId: n.id, version: n.version })) : [{ noticeId: p.noticeId, version: p.version }]
      const c = jobContext(ctx, 'classify', job, itemIds(items, 'noticeId', (i) => i.noticeId))
      const { results, failed } = await isolating(items, (b) => classifyBatch(c, b))
      // A changed classification marked its measure for scoring in its own transaction;
      // an unchanged one (a rerun after a crash) finds that mark still there.
      const next = results.flatMap((r) => r.next)
      await enqueue(queues, [...measureWork(c, 'score', next), ...isolatedFailures(c, failed, (i) => work.classify(i.noticeId, i.version ?? ''))], { fanOut: true })
      const outcomes = results.flatMap((r) => r.outcomes)
      if (!('notices' in p)) return outcomes[0]
      return { notices: outcomes.length, changed: outcomes.filter((o) => o.changed).length, failed: failed.length }
    },
    async score(job) {
      const items = measureItems(payload('score', job))
      const c = jobContext(ctx, 'score', job, itemIds(items, 'measureId', (i) => i.measureId))
      const { results, failed } = await isolating(items, (b) => scoreBatch(c, b))
      await enqueue(queues, [...measureWork(c, 'warn', results.flatMap((r) => r.next)), ...isolatedFailures(c, failed, (i) => work.score(i.measureId, i.token ?? ''))], { fanOut: true })
      const outcomes = results.flatMap((r) => r.outcomes)
      const already = results.reduce((a, r) => a + r.already, 0)
      if (items.length === 1) return outcomes[0] ?? { measureId: items[0].measureId, scored: 0, deferred: false, done: 'already' }
      return { measures: items.length, scored: outcomes.filter((o) => !o.deferred).length, deferred: outcomes.filter((o) => o.deferred).length, already, failed: failed.length }
    },
    async warn(job) {
      const items = measureItems(payload('warn', job))
      const c = jobContext(ctx, 'warn', job, itemIds(items, 'measureId', (i) => i.measureId))
      // A new or rescored high warning may be due to immediate subscribers now: the sweep is
      // owed. One sweep serves a burst: while one waits, more adds are dropped; while one
      // runs, one more is kept for after it, so a warning raised mid-sweep is still seen.
      // (One sweep per warning made a 10,000-notice backfill read the high catalog 10,000 times.)
      const { results, failed } = await isolating(items, (b) => warnBatch(c, b))
      const sweep = results.some((r) => r.sweep)
      await enqueue(queues, [...(sweep ? [work.immediateSweep()] : []), ...isolatedFailures(c, failed, (i) => work.warn(i.measureId, i.token ?? ''))], { fanOut: true })
      const outcomes = results.flatMap((r) => r.outcomes)
      if (items.length === 1) return outcomes[0] ?? { measureId: items[0].measureId, raised: 0, updated: 0, closed: 0, done: 'already' }
      const sum = (k: 'raised' | 'updated' | 'closed') => outcomes.reduce((a, o) => a + o[k], 0)
      return { measures: items.length, raised: sum('raised'), updated: sum('updated'), closed: sum('closed'), already: results.reduce((a, r) => a + r.already, 0), failed: failed.length }
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

