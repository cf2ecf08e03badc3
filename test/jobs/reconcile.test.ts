import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { markOwed, owedToken, settle } from '../../src/pipeline/outbox.js'
import { work, type WorkItem } from '../../src/pipeline/work.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { backlog, reconcile, recordJobFailure, settled } from '../../src/services/reconcile.service.js'
import { ingestRaw } from '../../src/services/ingest.service.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { openQueues, waitForIdle, workerConnection } from '../../jobs/queues.js'
import { retryFailed, runReconcile } from '../../jobs/reconcile.js'
import { startWorkers, type WorkerPool } from '../../jobs/worker.js'
import { createTestEnv, DIALECTS, REDIS_URL, type TestEnv } from '../helpers/db.js'
import { cli } from '../helpers/cli.js'
import { dumpState } from '../helpers/dump.js'

const FIXED_NOW = new Date('2026-11-28T04:00:00Z')

async function dropKeys(prefix: string) {
  const redis = new Redis(REDIS_URL)
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length) await redis.del(...keys)
  redis.disconnect()
}

async function found(env: TestEnv, batch?: number) {
  const items: WorkItem[] = []
  const report = await reconcile(env.ctx, async (b) => void items.push(...b), { batch })
  return { report, items, ids: items.map((i) => i.jobId ?? `dedup:${i.dedupId}`).sort() }
}

describe.each(DIALECTS)('reconciliation: owed work found by SQL (%s)', (dialect) => {
  let replay: ReplayServer
  let env: TestEnv

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => FIXED_NOW })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
  })
  afterAll(async () => {
    await env?.cleanup()
    await replay?.close()
  })

  it('finds nothing after a complete pass: the inline pass settles every outbox mark it makes', async () => {
    const { report, items } = await found(env)
    expect(items).toEqual([])
    expect(report).toMatchObject({ ingest: 0, classify: 0, rulesChanged: 0, score: 0, warn: 0, immediate: 0, deliver: 0, heldFailed: 0 })
    expect(settled(await backlog(env.ctx))).toBe(true)
  })

  it('the outbox: a step consumes its mark only while it holds the token it read, and marks the next step in the same transaction', async () => {
    const { db } = env.ctx
    const now = FIXED_NOW.toISOString()
    const t1 = await markOwed(db, 'score', 999_001, now)
    // A change lands while the step runs: the mark is renewed, the run's settle keeps it.
    const t2 = await markOwed(db, 'score', 999_001, now)
    expect(t2).not.toBe(t1)
    expect(await settle(db, 'score', 999_001, t1, now, { stage: 'warn', refId: 999_001 })).toEqual({ consumed: false, nextToken: null })
    expect(await owedToken(db, 'score', 999_001)).toBe(t2)
    expect(await owedToken(db, 'warn', 999_001)).toBeNull()
    const done = await settle(db, 'score', 999_001, t2, now, { stage: 'warn', refId: 999_001 })
    expect(done.consumed).toBe(true)
    expect(await owedToken(db, 'score', 999_001)).toBeNull()
    expect(await owedToken(db, 'warn', 999_001)).toBe(done.nextToken)
    expect((await settle(db, 'warn', 999_001, done.nextToken, now)).consumed).toBe(true)
    expect(settled(await backlog(env.ctx))).toBe(true)
  })

  it('finds every kind of owed work, in batches, under the ids the stages use, and holds work that failed for good', async () => {
    const { db } = env.ctx
    const notices = await db.selectFrom('notice').select(['id', 'content_hash', 'raw_response_id', 'measure_id']).orderBy('id').execute()
    const measures = [...new Set(notices.map((n) => n.measure_id))].sort((a, b) => a - b)
    // A response whose ingest died after storing a changed notice, never classified: the ingest's to hand on.
    const pendingRaw = await db
      .insertInto('raw_response')
      .values({ source_id: 'eping', url: 'http://x/changed', content_hash: 'changed', status: 200, content_type: 'application/json', etag: null, last_modified: null, body: '{}', fetched_at: FIXED_NOW.toISOString(), run_id: null, parse_status: 'pending', parse_error: null, parsed_at: null })
      .returning('id')
      .executeTakeFirstOrThrow()
    const rawNotice = notices[notices.length - 1]
    rawNotice.raw_response_id = pendingRaw.id
    await db.updateTable('notice').set({ raw_response_id: pendingRaw.id }).where('id', '=', rawNotice.id).execute()
    await db.deleteFrom('classification').where('notice_id', '=', rawNotice.id).execute()
    // Notices of ingested responses: one classified for an older version, one never.
    const [stale, missing] = notices
    await db.updateTable('classification').set({ notice_hash: 'an-older-version' }).where('notice_id', '=', stale.id).execute()
    await db.deleteFrom('classification').where('notice_id', '=', missing.id).execute()
    // Outbox marks a crash left: a measure to score, one to warn, the immediate sweep.
    const now = FIXED_NOW.toISOString()
    const scoreToken = await markOwed(db, 'score', measures[0], now)
    const warnToken = await markOwed(db, 'warn', measures[1], now)
    await markOwed(db, 'immediate', 0, now)
    // A measure scored under other risk rules.
    await db.updateTable('risk_score').set({ rules_version: 'older-rules' }).where('measure_id', '=', measures[2]).execute()
    // A delivery a crash left claimed.
    const delivery = await db.selectFrom('email_delivery').selectAll().where('status', '=', 'sent').orderBy('id').executeTakeFirstOrThrow()
    await db.updateTable('email_delivery').set({ status: 'claimed' }).where('id', '=', delivery.id).execute()

    const b = await backlog(env.ctx)
    expect(b).toMatchObject({ pendingRaw: 1, unclassified: 2, owedScore: 1, owedWarn: 1, owedImmediate: 1, interruptedDeliveries: 1 })
    expect(settled(b)).toBe(false)

    const all = await found(env)
    const rescoreToken = (await db.selectFrom('pipeline_outbox').select('token').where('stage', '=', 'score').where('ref_id', '=', measures[2]).executeTakeFirstOrThrow()).token
    const key = delivery.kind === 'immediate' ? `immediate-${delivery.period_key}` : `${delivery.kind.replace('digest-', '')}-${delivery.period_key}`
    expect(all.ids).toEqual(
      [
        `ingest-${rawNotice.raw_response_id}`,
        `classify-${stale.id}-${stale.content_hash.slice(0, 16)}`,
        `classify-${missing.id}-${missing.content_hash.slice(0, 16)}`,
        `score-${measures[0]}-${scoreToken}`,
        `score-${measures[2]}-${rescoreToken}`,
        `warn-${measures[1]}-${warnToken}`,
        'dedup:immediate-sweep',
        `deliver-${key}-${delivery.subscriber_id}`.replace(/[^\w.-]+/g, '_'),
      ].sort(),
    )
    expect(all.report).toMatchObject({ ingest: 1, classify: 2, rulesChanged: 1, score: 2, warn: 1, immediate: 1, deliver: 1, heldFailed: 0 })
    expect(all.items.find((i) => i.queue === 'deliver')?.replaceCompleted).toBe(true)
    // The same, two ids at a time.
    expect((await found(env, 2)).ids).toEqual(all.ids)

    // Work whose job failed for good is held until retry-failed.
    const classifyStale = all.items.find((i) => i.jobId?.startsWith(`classify-${stale.id}-`))!
    await recordJobFailure(env.ctx, { queue: 'classify', jobId: classifyStale.jobId!, name: 'classify', data: classifyStale.data, error: 'boom', attempts: 10 })
    const held = await found(env)
    expect(held.report.heldFailed).toBe(1)
    expect(held.ids).not.toContain(classifyStale.jobId)
    expect((await backlog(env.ctx)).failedForGood).toBe(1)
    // A batch that failed for good holds every item it carried, which the sweeps hand on one by one.
    const missingItem = all.items.find((i) => i.jobId?.startsWith(`classify-${missing.id}-`))!
    const scoreItems = all.items.filter((i) => i.queue === 'score')
    const classifyBatch = work.classifyBatch([{ id: missing.id, contentHash: missing.content_hash }, { id: 999_999, contentHash: 'f'.repeat(64) }])
    const scoreBatch = work.measureBatch('score', scoreItems.map((i) => ({ measureId: i.data.measureId as number, token: i.data.token as string })))
    for (const b of [classifyBatch, scoreBatch]) await recordJobFailure(env.ctx, { queue: b.queue, jobId: b.jobId!, name: b.name, data: b.data, error: 'stalled', attempts: 21 })
    const heldBatches = await found(env)
    expect(heldBatches.report.heldFailed).toBe(1 + 1 + scoreItems.length)
    for (const i of [missingItem, ...scoreItems]) expect(heldBatches.ids).not.toContain(i.jobId)
    expect(heldBatches.ids).toContain(`warn-${measures[1]}-${warnToken}`)
  })
})

describe('workers resume from committed state alone (postgres, the real Redis)', () => {
  let replay: ReplayServer
  let inline: TestEnv
  let crashed: TestEnv
  let pool: WorkerPool
  const prefix = `tbt-rec-${randomBytes(4).toString('hex')}`

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    const vars = { TBT_SOURCE_EPING_BASE_URL: replay.url, TBT_RECONCILE_EVERY_MS: '1000' }
    inline = await createTestEnv('postgres', vars, { clock: () => FIXED_NOW })
    crashed = await createTestEnv('postgres', vars, { clock: () => FIXED_NOW })
  })
  afterAll(async () => {
    await pool?.close()
    pool?.disconnect()
    await dropKeys(prefix)
    await inline?.cleanup()
    await crashed?.cleanup()
    await replay?.close()
  })

  it('a worker that died after ingesting, with nothing queued: the reconciliation at start finishes the pass', async () => {
    await runPass(inline.ctx, { sources: ['eping'], since: replay.manifest.since })

    // Scraped and ingested, then the process died: no job in Redis knows about any of it.
    await seed(crashed.ctx, { subscribers: true })
    const s = await scrapeSource(crashed.ctx, 'eping', { since: replay.manifest.since, mode: 'worker' })
    for (const id of s.pendingRawIds) await ingestRaw(crashed.ctx, id)
    expect((await backlog(crashed.ctx)).unclassified).toBeGreaterThan(20)

    pool = await startWorkers(crashed.ctx, { redisUrl: REDIS_URL, prefix }, { schedule: false })
    const ok = async () => settled(await backlog(crashed.ctx))
    await waitForIdle(pool.queues, { timeoutMs: 90_000, settled: ok })
    for (const period of ['daily', 'weekly'] as const) {
      await pool.queues.digest.add('digest', { period }, { jobId: `digest-${period}-rec` })
      await waitForIdle(pool.queues, { timeoutMs: 30_000, settled: ok })
    }
    expect(await dumpState(crashed.ctx.db)).toEqual(await dumpState(inline.ctx.db))
  })

  it('failed work is held from the reconciliation and queued again, once, by retry-failed', async () => {
    const { db } = crashed.ctx
    const raw = await db.selectFrom('raw_response').select('id').where('parse_status', '=', 'ok').orderBy('id').executeTakeFirstOrThrow()
    // Its ingest failed for good (say the database was down for longer than the attempts).
    await db.updateTable('raw_response').set({ parse_status: 'pending' }).where('id', '=', raw.id).execute()
    await recordJobFailure(crashed.ctx, { queue: 'ingest', jobId: `ingest-${raw.id}`, name: 'ingest', data: { rawId: raw.id }, error: 'database down', attempts: 10 })
    const r = await runReconcile(crashed.ctx, pool.queues)
    expect(r).toMatchObject({ ingest: 0, heldFailed: 1 })
    expect(await pool.queues.ingest.getJobState(`ingest-${raw.id}`)).toBe('unknown')

    const retried = await retryFailed(crashed.ctx, pool.queues)
    expect(retried).toMatchObject({ retried: 1, byQueue: { ingest: 1 } })
    await waitForIdle(pool.queues, { timeoutMs: 30_000, settled: async () => settled(await backlog(crashed.ctx)) })
    expect((await db.selectFrom('raw_response').select('parse_status').where('id', '=', raw.id).executeTakeFirstOrThrow()).parse_status).toBe('ok')
    const row = await db.selectFrom('job_failure').selectAll().where('job_id', '=', `ingest-${raw.id}`).executeTakeFirstOrThrow()
    expect(row.retried_at).not.toBeNull()
    expect(row.retries).toBe(1)
    expect((await retryFailed(crashed.ctx, pool.queues)).retried).toBe(0)
  })

  it('the reconciliation runs when a worker starts and on its own schedule', async () => {
    const schedulers = await pool.queues.reconcile.getJobSchedulers()
    expect(schedulers.map((s) => [s.key, s.every])).toEqual([['reconcile', crashed.ctx.config.queue.reconcileEveryMs]])
    const reasons = new Set((await pool.queues.reconcile.getJobs(['completed'])).map((j) => (j.data as { reason?: string }).reason))
    expect(reasons).toContain('worker start')
    expect(reasons).toContain('scheduled')
  })

  it('a job survives TBT_MAX_STALLED_COUNT worker deaths (BullMQ: 1), fails for good after the next, is recorded in job_failure and out of Redis, held, and retry-failed runs it', { timeout: 90_000 }, async () => {
    const { db } = crashed.ctx
    const max = crashed.ctx.config.queue.maxStalledCount
    expect(max).toBe(20)
    for (const w of pool.workers) expect(w.opts.maxStalledCount).toBe(max)
    expect(pool.queues.ingest.defaultJobOptions.attempts).toBe(crashed.ctx.config.queue.attempts)
    // The ingest worker leaves; a manual worker plays the process that takes the job and dies,
    // and the stalled check runs with the options the product's ingest worker had.
    const ingestWorker = pool.workers.find((w) => w.name === 'ingest')!
    await ingestWorker.close()
    const redis = workerConnection(REDIS_URL)
    const checker = new Worker('ingest', null, { ...ingestWorker.opts, connection: redis })
    const stalledCheck = async () => {
      await redis.del(pool.queues.ingest.toKey('stalled-check')) // BullMQ runs one check per stalled interval
      await (checker as unknown as { moveStalledJobsToWait(): Promise<void> }).moveStalledJobsToWait()
    }
    const dying = new Worker('ingest', null, { connection: redis, prefix, lockDuration: 200 })
    const raw = await db.selectFrom('raw_response').select('id').where('parse_status', '=', 'ok').orderBy('id', 'desc').executeTakeFirstOrThrow()
    const id = `ingest-${raw.id}`
    const failure = () => db.selectFrom('job_failure').selectAll().where('job_id', '=', id).where('retried_at', 'is', null).executeTakeFirst()
    let next: WorkerPool | undefined
    try {
      // Its ingest of the pass is done (a completed job of that id); the one that dies is another run.
      await (await pool.queues.ingest.getJob(id))?.remove()
      await pool.queues.ingest.add('ingest', { rawId: raw.id }, { jobId: id })
      await db.updateTable('raw_response').set({ parse_status: 'pending' }).where('id', '=', raw.id).execute()
      let deaths = 0
      for (let i = 0; i < 400 && !(await pool.queues.ingest.getJob(id))?.deferredFailure; i++) {
        // Taken, its lock never renewed (the process is gone): the stalled check puts it back.
        const job = await dying.getNextJob(`death-${i}`, { block: false })
        if (!job) {
          await new Promise((r) => setTimeout(r, 20))
          continue
        }
        expect(job.id).toBe(id)
        deaths++
        await stalledCheck()
        await new Promise((r) => setTimeout(r, 300))
        await stalledCheck()
        expect(await pool.queues.ingest.getJobState(id)).toBe('waiting')
      }
      expect(deaths).toBe(max + 1)
      expect((await pool.queues.ingest.getJob(id))?.deferredFailure).toMatch(/stalled more than allowable limit/)
      await dying.close()
      await checker.close()
      // The next worker to take it (one that starts) fails it for good: recorded, then removed from Redis.
      next = await startWorkers(crashed.ctx, { redisUrl: REDIS_URL, prefix }, { schedule: false })
      for (let i = 0; i < 200 && !(await failure()); i++) await new Promise((r) => setTimeout(r, 50))
      const row = await failure()
      expect(row).toMatchObject({ queue: 'ingest', name: 'ingest' })
      expect(row?.error).toMatch(/stalled more than allowable limit/)
      for (let i = 0; i < 100 && (await pool.queues.ingest.getJobState(id)) !== 'unknown'; i++) await new Promise((r) => setTimeout(r, 50))
      expect(await pool.queues.ingest.getJobState(id)).toBe('unknown')
      expect((await backlog(crashed.ctx)).failedForGood).toBe(1)
      // Held from the reconciliation (its response is still owed an ingest) until retry-failed.
      expect(await runReconcile(crashed.ctx, pool.queues)).toMatchObject({ ingest: 0, heldFailed: 1 })
      expect(await pool.queues.ingest.getJobState(id)).toBe('unknown')

      expect(await retryFailed(crashed.ctx, pool.queues)).toMatchObject({ retried: 1, byQueue: { ingest: 1 } })
      await waitForIdle(pool.queues, { timeoutMs: 30_000, settled: async () => settled(await backlog(crashed.ctx)) })
      expect((await db.selectFrom('raw_response').select('parse_status').where('id', '=', raw.id).executeTakeFirstOrThrow()).parse_status).toBe('ok')
      expect((await backlog(crashed.ctx)).failedForGood).toBe(0)
      expect(await dumpState(crashed.ctx.db)).toEqual(await dumpState(inline.ctx.db))
    } finally {
      await dying.close()
      await checker.close()
      await next?.close()
      next?.disconnect()
      redis.disconnect()
    }
  })
})

describe('tbt-watch retry-failed', () => {
  let env: TestEnv
  const prefix = `tbt-retry-${randomBytes(4).toString('hex')}`
  afterAll(async () => {
    await dropKeys(prefix)
    await env?.cleanup()
  })

  it('queues the failed work again and says so in one line; --json; nothing left the second time', async () => {
    env = await createTestEnv('sqlite')
    for (const rawId of [7, 8]) await recordJobFailure(env.ctx, { queue: 'ingest', jobId: `ingest-${rawId}`, name: 'ingest', data: { rawId }, error: 'stalled', attempts: 21 })
    await recordJobFailure(env.ctx, { queue: 'classify', jobId: 'classify-3-abc', name: 'classify', data: { noticeId: 3, version: 'abc' }, error: 'boom', attempts: 10 })
    const vars = { TBT_DATA_DIR: env.dataDir, DATABASE_URL: `sqlite:${path.join(env.dataDir, 'test.db')}`, REDIS_URL, TBT_QUEUE_PREFIX: prefix }
    const r = await cli(['retry-failed'], vars)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim().split('\n')).toEqual(['queued again 3 job(s) that had failed for good: ingest 2, classify 1'])
    const connection = workerConnection(REDIS_URL)
    const queues = openQueues({ redisUrl: REDIS_URL, prefix }, connection)
    try {
      expect(await queues.ingest.getJobState('ingest-7')).toBe('waiting')
      expect((await queues.classify.getJob('classify-3-abc'))?.data).toEqual({ noticeId: 3, version: 'abc' })
    } finally {
      await Promise.all(Object.values(queues).map((q) => q.close()))
      connection.disconnect()
    }
    const again = await cli(['retry-failed', '--json'], vars)
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toEqual({ retried: 0, byQueue: {}, jobs: [] })
    expect((await cli(['retry-failed'], vars)).stdout.trim()).toBe('nothing to retry: no job has failed for good')
  })

  it('without REDIS_URL: a clear message, exit 2, nothing changed', async () => {
    const r = await cli(['retry-failed'], { TBT_DATA_DIR: env.dataDir, DATABASE_URL: `sqlite:${path.join(env.dataDir, 'test.db')}`, REDIS_URL: '' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('retry-failed needs REDIS_URL')
  })
})
