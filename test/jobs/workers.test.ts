import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { runPass, sendDueDigests } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { seed } from '../../src/services/seed.service.js'
import { addSubscriber, validatePreferences } from '../../src/services/subscriber.service.js'
import { startWorkers, type WorkerPool } from '../../jobs/worker.js'
import { jobId, waitForIdle } from '../../jobs/queues.js'
import { createTestEnv, DIALECTS, REDIS_URL, type TestEnv } from '../helpers/db.js'
import { dumpState } from '../helpers/dump.js'

const FIXED_NOW = new Date('2026-11-28T04:00:00Z')

describe.each(DIALECTS)('BullMQ workers on the real Redis (%s)', (dialect) => {
  let replay: ReplayServer
  let inline: TestEnv
  let queued: TestEnv
  let pool: WorkerPool
  const prefix = `tbt-test-${randomBytes(4).toString('hex')}`

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    const env = { TBT_SOURCE_EPING_BASE_URL: replay.url }
    inline = await createTestEnv(dialect, env, { clock: () => FIXED_NOW })
    queued = await createTestEnv(dialect, env, { clock: () => FIXED_NOW })
  })
  afterAll(async () => {
    await pool?.close()
    pool?.disconnect()
    const redis = new Redis(REDIS_URL)
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length) await redis.del(...keys)
    redis.disconnect()
    await inline?.cleanup()
    await queued?.cleanup()
    await replay?.close()
  })

  it('reach exactly the database state of the inline pass', async () => {
    // An enterprise that wants high warnings at once: the inline pass sends them after
    // warning; the warn jobs ask for sweeps, and a burst of warnings shares a few sweeps.
    const immediate = async (env: TestEnv) => {
      await seed(env.ctx)
      await addSubscriber(env.ctx, 'at-once@example.com', validatePreferences(env.ctx, { frequency: 'immediate' }), { confirmed: true })
    }
    await immediate(inline)
    await runPass(inline.ctx, { sources: ['eping'], since: replay.manifest.since })

    await immediate(queued)
    pool = await startWorkers(queued.ctx, { redisUrl: REDIS_URL, prefix })
    const schedulers = await pool.queues.scrape.getJobSchedulers()
    expect(schedulers.map((s) => s.key)).toContain('scrape-eping')
    expect((await pool.queues.digest.getJobSchedulers()).map((s) => s.key).sort()).toEqual(['digest-daily', 'digest-immediate', 'digest-lifecycle', 'digest-train', 'digest-weekly'])

    await pool.queues.scrape.add('scrape', { sourceId: 'eping', since: replay.manifest.since }, { jobId: jobId('scrape', 'eping', 'test') })
    await waitForIdle(pool.queues, { timeoutMs: 90_000 })
    for (const period of ['daily', 'weekly'] as const) {
      await pool.queues.digest.add('digest', { period }, { jobId: jobId('digest', period, 'test') })
      await waitForIdle(pool.queues, { timeoutMs: 30_000 })
    }
    const failed = await Promise.all(Object.values(pool.queues).map((q) => q.getJobCountByTypes('failed')))
    expect(failed.reduce((a, b) => a + b, 0)).toBe(0)
    const sweeps = (await pool.queues.digest.getJobs(['completed'])).filter((j) => j.data.period === 'immediate')
    const raisedFor = await queued.ctx.db.selectFrom('warning').select('measure_id').distinct().execute()
    expect(raisedFor.length).toBeGreaterThan(10)
    expect(sweeps.length).toBeGreaterThan(0)
    expect(sweeps.length).toBeLessThan(raisedFor.length / 2)
    const alerts = await queued.ctx.db.selectFrom('email_delivery').select('id').where('kind', '=', 'immediate').execute()
    expect(alerts.length).toBeGreaterThan(0)

    expect(await dumpState(queued.ctx.db)).toEqual(await dumpState(inline.ctx.db))
    // And the inline digest code agrees that nothing more is due.
    expect(await sendDueDigests(queued.ctx, ['daily', 'weekly'])).toBe(0)
  })

  it('rejects a bad payload without retrying it, records it as failed for good and frees its id', async () => {
    const job = await pool.queues.ingest.add('ingest', { rawId: 'not-a-number' }, { jobId: 'bad-payload' })
    await waitForIdle(pool.queues, { timeoutMs: 20_000 })
    const failure = () => queued.ctx.db.selectFrom('job_failure').selectAll().where('job_id', '=', job.id!).executeTakeFirst()
    for (let i = 0; i < 100 && !(await failure()); i++) await new Promise((r) => setTimeout(r, 50))
    const row = await failure()
    expect(row).toMatchObject({ queue: 'ingest', name: 'ingest', attempts: 1, retried_at: null })
    expect(row?.error).toMatch(/bad ingest payload/)
    expect(JSON.parse(row!.data)).toEqual({ rawId: 'not-a-number' })
    // Recorded, then removed from Redis: the same id can be queued again.
    for (let i = 0; i < 100 && (await pool.queues.ingest.getJobState(job.id!)) !== 'unknown'; i++) await new Promise((r) => setTimeout(r, 50))
    expect(await pool.queues.ingest.getJobState(job.id!)).toBe('unknown')
  })
})
