import { UnrecoverableError, type Job } from 'bullmq'
import { z } from 'zod'
import type { AppContext } from '../src/app-context.js'
import { classifyNotices } from '../src/services/classify.service.js'
import { deliverDigest, dueSubscribers, periodKey } from '../src/services/digest.service.js'
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
  digest: z.object({ period: z.enum(['daily', 'weekly']) }),
  deliver: z.object({ subscriberId: Id, period: z.enum(['daily', 'weekly']), key: z.string().min(1) }),
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
      const { measureId } = payload('warn', job)
      return raiseWarnings(ctx, measureId)
    },
    async digest(job) {
      const { period } = payload('digest', job)
      const key = periodKey(period, ctx.clock(), ctx.config.schedule.timezone)
      const due = await dueSubscribers(ctx, period, key)
      await queues.deliver.addBulk(
        due.map((subscriberId) => ({ name: 'deliver', data: { subscriberId, period, key }, opts: { jobId: jobId('deliver', period, key, subscriberId) } })),
      )
      return { due: due.length }
    },
    async deliver(job) {
      const { subscriberId, period, key } = payload('deliver', job)
      return deliverDigest(ctx, subscriberId, period, key)
    },
  }
}
