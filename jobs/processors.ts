import { UnrecoverableError, type Job } from 'bullmq'
import { z } from 'zod'
import type { AppContext } from '../src/app-context.js'
import { classifyNotices } from '../src/services/classify.service.js'
import { deliverDigest, deliverImmediate, deliverReminder, dueImmediate, dueReminders, dueSubscribers, periodKey, sendConfirmation } from '../src/services/digest.service.js'
import { MailError } from '../src/mail/mailer.js'
import { ingestRaw } from '../src/services/ingest.service.js'
import { raiseWarnings, scoreMeasure } from '../src/services/risk.service.js'
import { scrapeSource, UnknownSourceError } from '../src/services/scrape.service.js'
import { jobId, type Queues, type Stage } from './queues.js'

const Id = z.number().int().positive()
const Schemas = {
  scrape: z.object({ sourceId: z.string().min(1), since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable().optional() }),
  ingest: z.object({ rawId: Id }),
  classify: z.object({ noticeId: Id, trigger: z.string() }),
  score: z.object({ measureId: Id, trigger: z.string() }),
  warn: z.object({ measureId: Id, trigger: z.string() }),
  digest: z.object({ period: z.enum(['daily', 'weekly', 'immediate', 'reminders']) }),
  deliver: z.union([
    z.object({ subscriberId: Id, period: z.enum(['daily', 'weekly']), key: z.string().min(1) }),
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

/**
 * Each processor validates its payload, loads by id, calls one service (the same one
 * the inline pass calls) and enqueues the next stage with deterministic job ids.
 */
export function processors(ctx: AppContext, queues: Queues): Record<Stage, (job: Job) => Promise<unknown>> {
  return {
    async scrape(job) {
      const { sourceId, since } = payload('scrape', job)
      let r
      try {
        r = await scrapeSource(ctx, sourceId, { since: since ?? null, mode: 'worker' })
      } catch (err) {
        if (err instanceof UnknownSourceError) throw new UnrecoverableError(err.message)
        throw err
      }
      await queues.ingest.addBulk(r.pendingRawIds.map((rawId) => ({ name: 'ingest', data: { rawId }, opts: { jobId: jobId('ingest', rawId) } })))
      return { status: r.status, error: r.error, raw: r.pendingRawIds.length }
    },
    async ingest(job) {
      const { rawId } = payload('ingest', job)
      const r = await ingestRaw(ctx, rawId)
      const trigger = `r${rawId}`
      await queues.classify.addBulk(
        r.changedNoticeIds.map((noticeId) => ({ name: 'classify', data: { noticeId, trigger }, opts: { jobId: jobId('classify', noticeId, trigger) } })),
      )
      return { items: r.items, errors: r.errors, changed: r.changedNoticeIds.length }
    },
    async classify(job) {
      const { noticeId, trigger } = payload('classify', job)
      const [r] = await classifyNotices(ctx, [noticeId])
      if (r) {
        const t = `${trigger}n${noticeId}`
        await queues.score.add('score', { measureId: r.measureId, trigger: t }, { jobId: jobId('score', r.measureId, t) })
      }
      return r
    },
    async score(job) {
      const { measureId, trigger } = payload('score', job)
      const r = await scoreMeasure(ctx, measureId)
      if (r.deferred) return r
      await queues.warn.add('warn', { measureId, trigger }, { jobId: jobId('warn', measureId, trigger) })
      return r
    },
    async warn(job) {
      const { measureId, trigger } = payload('warn', job)
      const r = await raiseWarnings(ctx, measureId)
      // A new or rescored high warning may be due to immediate subscribers now.
      if (r.raised || r.updated) await queues.digest.add('digest', { period: 'immediate' }, { jobId: jobId('digest', 'immediate', trigger, measureId) })
      return r
    },
    async digest(job) {
      const { period } = payload('digest', job)
      const jobs: { name: string; data: Record<string, unknown>; opts: { jobId: string } }[] = []
      if (period === 'immediate') {
        for (const d of await dueImmediate(ctx)) jobs.push({ name: 'deliver', data: { ...d, kind: 'immediate' }, opts: { jobId: jobId('deliver', 'immediate', `w${d.warningId}`, d.subscriberId) } })
      } else if (period === 'reminders') {
        for (const d of await dueReminders(ctx)) jobs.push({ name: 'deliver', data: { ...d, kind: 'reminder' }, opts: { jobId: jobId('deliver', 'reminder', `m${d.measureId}`, d.deadline, d.subscriberId) } })
      } else {
        const key = periodKey(period, ctx.clock(), ctx.config.schedule.timezone)
        for (const subscriberId of await dueSubscribers(ctx, period, key)) jobs.push({ name: 'deliver', data: { subscriberId, period, key }, opts: { jobId: jobId('deliver', period, key, subscriberId) } })
        // Comment-deadline reminders ride on the daily run.
        if (period === 'daily') await queues.digest.add('digest', { period: 'reminders' }, { jobId: jobId('digest', 'reminders', key) })
      }
      for (let i = 0; i < jobs.length; i += 1000) await queues.deliver.addBulk(jobs.slice(i, i + 1000))
      return { due: jobs.length }
    },
    async deliver(job) {
      const p = payload('deliver', job)
      try {
        if ('period' in p) return await deliverDigest(ctx, p.subscriberId, p.period, p.key)
        if (p.kind === 'immediate') return await deliverImmediate(ctx, p.subscriberId, p.warningId)
        if (p.kind === 'reminder') return await deliverReminder(ctx, p.subscriberId, p.measureId, p.deadline)
        return await sendConfirmation(ctx, p.subscriberId)
      } catch (err) {
        // A permanent SMTP refusal (5xx) is recorded on the delivery row; retrying cannot help.
        if (err instanceof MailError && !err.retryable) throw new UnrecoverableError(err.message)
        throw err
      }
    },
  }
}

