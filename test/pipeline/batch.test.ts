import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Job } from 'bullmq'
import { startSyntheticEping } from '../../bench/synthetic-eping.js'
import type { AppContext } from '../../src/app-context.js'
import { classifyBatch, ingestPage, isolating, scoreBatch, warnBatch, type Owed } from '../../src/pipeline/batch.js'
import { work } from '../../src/pipeline/work.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { openQueues, producerConnection, type Queues } from '../../jobs/queues.js'
import { processors } from '../../jobs/processors.js'
import { createTestEnv, DIALECTS, REDIS_URL, type TestEnv } from '../helpers/db.js'

const FIXED_NOW = new Date('2026-11-28T04:00:00Z')

/** The same context with a classifier that fails on one notice (as a notice that trips a bug would). */
function failingOn(ctx: AppContext, noticeId: number): AppContext {
  return {
    ...ctx,
    async classifier() {
      const real = await ctx.classifier()
      return Object.assign(Object.create(Object.getPrototypeOf(real) as object) as typeof real, real, {
        classify: (input: Parameters<typeof real.classify>[0]) => {
          if (input.id === String(noticeId)) throw new Error(`cannot classify notice ${noticeId}`)
          return real.classify(input)
        },
      })
    },
  }
}

const count = async (ctx: AppContext, t: 'classification' | 'risk_score' | 'warning' | 'warning_event' | 'pipeline_outbox') =>
  Number((await ctx.db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)

describe.each(DIALECTS)('batched stages (%s)', (dialect) => {
  let source: { url: string; close(): Promise<void> }
  let env: TestEnv
  let noticeIds: number[]

  beforeAll(async () => {
    source = await startSyntheticEping(60)
    env = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: source.url, TBT_BATCH_SIZE: '25' }, { clock: () => FIXED_NOW })
    await seed(env.ctx, { subscribers: false })
    const scraped = await scrapeSource(env.ctx, 'eping', { since: '2026-11-01', mode: 'inline' })
    noticeIds = []
    for (const rawId of scraped.pendingRawIds) noticeIds.push(...(await ingestPage(env.ctx, rawId)).changedNoticeIds)
  }, 120_000)
  afterAll(async () => {
    await env?.cleanup()
    await source?.close()
  })

  it('one notice that fails a batch is isolated: the others are classified, it alone is handed back', { timeout: 120_000 }, async () => {
    expect(noticeIds.length).toBe(60)
    const bad = noticeIds[7]
    const batch = noticeIds.slice(0, 25).map((noticeId) => ({ noticeId }))
    const r = await isolating(batch, (b) => classifyBatch(failingOn(env.ctx, bad), b))
    expect(r.failed.map((f) => f.item.noticeId)).toEqual([bad])
    expect(String(r.failed[0].error)).toContain(`cannot classify notice ${bad}`)
    expect(r.results.flatMap((x) => x.outcomes).map((o) => o.noticeId)).toEqual(noticeIds.slice(0, 25).filter((id) => id !== bad))
    expect(await count(env.ctx, 'classification')).toBe(24)
    // When the whole batch fails item by item too (not one item's fault), the batch's error is thrown.
    await expect(isolating([{ noticeId: bad }, { noticeId: bad }], (b) => classifyBatch(failingOn(env.ctx, bad), b))).rejects.toThrow(/cannot classify/)
  })

  it('classifies, scores and warns batch by batch; each batch run again changes nothing', async () => {
    const classified = []
    for (let i = 0; i < noticeIds.length; i += 25) classified.push(await classifyBatch(env.ctx, noticeIds.slice(i, i + 25).map((noticeId) => ({ noticeId }))))
    expect(await count(env.ctx, 'classification')).toBe(60)
    // The notices classified before were unchanged: their marks are still owed, and handed on too.
    const owedScore: Owed[] = classified.flatMap((c) => c.next)
    const measures = new Set(classified.flatMap((c) => c.outcomes.map((o) => o.measureId)))
    expect(new Set(owedScore.map((o) => o.measureId))).toEqual(measures)
    const again = await classifyBatch(env.ctx, noticeIds.slice(0, 25).map((noticeId) => ({ noticeId })))
    expect(again.outcomes.every((o) => !o.changed)).toBe(true)

    const scored = await scoreBatch(env.ctx, owedScore)
    expect(scored.outcomes.filter((o) => o.deferred)).toEqual([])
    expect(scored.next.map((n) => n.measureId).sort((a, b) => a - b)).toEqual([...measures].sort((a, b) => a - b))
    const scores = await count(env.ctx, 'risk_score')
    expect(scores).toBeGreaterThan(0)
    // The same batch again (a retried job): every mark was consumed, nothing runs.
    const rerun = await scoreBatch(env.ctx, owedScore)
    expect(rerun).toMatchObject({ outcomes: [], already: owedScore.length, next: [] })

    const warned = await warnBatch(env.ctx, scored.next)
    const raised = warned.outcomes.reduce((a, o) => a + o.raised, 0)
    expect(raised).toBe(await count(env.ctx, 'warning'))
    const events = await count(env.ctx, 'warning_event')
    expect(await warnBatch(env.ctx, scored.next)).toMatchObject({ outcomes: [], already: scored.next.length, sweep: false })
    expect(await count(env.ctx, 'warning_event')).toBe(events)
    expect(await count(env.ctx, 'risk_score')).toBe(scores)
    // Only the immediate sweep (when a warning is high) can be left owed.
    const left = await env.ctx.db.selectFrom('pipeline_outbox').select('stage').execute()
    expect(left.map((r) => r.stage)).toEqual(warned.sweep ? ['immediate'] : [])
  })
})

describe('a batch job with a bad item (postgres, Redis)', () => {
  let source: { url: string; close(): Promise<void> }
  let env: TestEnv
  let queues: Queues
  let connection: ReturnType<typeof producerConnection>

  beforeAll(async () => {
    source = await startSyntheticEping(30)
    env = await createTestEnv('postgres', { TBT_SOURCE_EPING_BASE_URL: source.url }, { clock: () => FIXED_NOW })
    connection = producerConnection(REDIS_URL)
    queues = openQueues({ redisUrl: REDIS_URL, prefix: `tbt-batch-${randomBytes(4).toString('hex')}` }, connection)
  })
  afterAll(async () => {
    for (const q of Object.values(queues ?? {})) {
      await q.obliterate({ force: true }).catch(() => {})
      await q.close()
    }
    connection?.disconnect()
    await env?.cleanup()
    await source?.close()
  })

  it('completes for the others and queues the bad notice as its own job, under its own id', { timeout: 120_000 }, async () => {
    await seed(env.ctx, { subscribers: false })
    const scraped = await scrapeSource(env.ctx, 'eping', { since: '2026-11-01', mode: 'inline' })
    const ids: number[] = []
    for (const rawId of scraped.pendingRawIds) ids.push(...(await ingestPage(env.ctx, rawId)).changedNoticeIds)
    const rows = await env.ctx.db.selectFrom('notice').select(['id', 'content_hash']).where('id', 'in', ids).orderBy('id').execute()
    const item = work.classifyBatch(rows.map((r) => ({ id: r.id, contentHash: r.content_hash })))
    // The same notices and versions make the same batch id; a batch of one is the notice's own job.
    expect(work.classifyBatch(rows.map((r) => ({ id: r.id, contentHash: r.content_hash }))).jobId).toBe(item.jobId)
    expect(work.classifyBatch([{ id: rows[0].id, contentHash: rows[0].content_hash }]).jobId).toBe(work.classify(rows[0].id, rows[0].content_hash).jobId)
    const bad = rows[3]
    const handlers = processors(failingOn(env.ctx, bad.id), queues)
    const job = { id: item.jobId, name: item.name, data: item.data, attemptsMade: 0 } as unknown as Job
    const r = await handlers.classify(job)
    expect(r).toEqual({ notices: rows.length - 1, changed: rows.length - 1, failed: 1 })
    const own = await queues.classify.getJob(work.classify(bad.id, bad.content_hash).jobId!)
    expect(own?.data).toEqual({ noticeId: bad.id, version: bad.content_hash.slice(0, 16) })
    expect(await count(env.ctx, 'classification')).toBe(rows.length - 1)
    // The measures of the others are owed a score, queued as batch jobs.
    const scoreJobs = await queues.score.getJobs(['waiting'])
    expect(scoreJobs.length).toBeGreaterThan(0)
    expect(scoreJobs.every((j) => j.name === 'score-batch' || j.name === 'score')).toBe(true)
    // The reconciliation's single items that a queued batch carries are not queued again.
    const carried = scoreJobs.flatMap((j) => (j.data.measures as { id: number; token: string }[] | undefined) ?? [{ id: j.data.measureId as number, token: j.data.token as string }])
    const { enqueue } = await import('../../jobs/queues.js')
    await enqueue(queues, carried.map((m) => work.score(m.id, m.token)))
    expect((await queues.score.getJobs(['waiting'])).length).toBe(scoreJobs.length)
  })
})
