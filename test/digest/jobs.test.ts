import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobId, waitForIdle } from '../../jobs/queues.js'
import { startWorkers, type WorkerPool } from '../../jobs/worker.js'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { addSubscriber, validatePreferences } from '../../src/services/subscriber.service.js'
import { createTestEnv, REDIS_URL, type TestEnv } from '../helpers/db.js'
import { addPendingSignups, signupsLeft } from '../helpers/signups.js'
import { startSmtp, type TestSmtp } from '../helpers/smtp.js'

const NOW = new Date('2026-11-28T04:00:00Z')
const to = (m: TestSmtp['messages'][number]) => (Array.isArray(m.to) ? m.to[0] : m.to)?.value[0]?.address

describe('digest and deliver jobs on the real Redis', () => {
  let replay: ReplayServer
  let smtp: TestSmtp
  let env: TestEnv
  let pool: WorkerPool
  const prefix = `tbt-test-${randomBytes(4).toString('hex')}`

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    smtp = await startSmtp()
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url, SMTP_URL: smtp.url }, { clock: () => NOW })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    // Subscribers that join after the pass: their e-mails go through the queues.
    await addSubscriber(env.ctx, 'queued-daily@example.com', validatePreferences(env.ctx, { frequency: 'daily' }), { confirmed: true })
    await addSubscriber(env.ctx, 'queued-now@example.com', validatePreferences(env.ctx, { frequency: 'immediate', lang: 'en' }), { confirmed: true })
    pool = await startWorkers(env.ctx, { redisUrl: REDIS_URL, prefix }, { schedule: false })
  })
  afterAll(async () => {
    await pool?.close()
    const redis = new Redis(REDIS_URL)
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length) await redis.del(...keys)
    redis.disconnect()
    await env?.cleanup()
    await smtp?.close()
    await replay?.close()
  })

  it('fans out one deliver job per subscriber and period with a deterministic id, and sends each once', async () => {
    const ids = Object.fromEntries((await env.ctx.db.selectFrom('subscriber').select(['id', 'email']).execute()).map((s) => [s.email, s.id]))
    // Twice: the second fan-out adds no job and no e-mail.
    for (let i = 0; i < 2; i++) {
      await pool.queues.digest.add('digest', { period: 'daily' }, { jobId: jobId('digest', 'daily', 'test', i) })
      await waitForIdle(pool.queues, { timeoutMs: 30_000 })
    }
    const jobs = await pool.queues.deliver.getJobs(['completed', 'failed'])
    const daily = jobs.filter((j) => j.id?.startsWith('deliver-daily-')).map((j) => j.id).sort()
    expect(daily).toEqual([`deliver-daily-2026-11-28-${ids['queued-daily@example.com']}`, `deliver-daily-2026-11-28-${ids['queued-now@example.com']}`].sort())
    expect(jobs.every((j) => !j.id?.includes(':'))).toBe(true)
    expect(smtp.messages.filter((m) => to(m) === 'queued-daily@example.com')).toHaveLength(1)
    expect(await pool.queues.deliver.getJobCountByTypes('failed')).toBe(0)
  })

  it('purges sign-ups never confirmed for 7 days with the daily run, and keeps younger ones', async () => {
    await addPendingSignups(env.ctx, NOW)
    expect(await signupsLeft(env.ctx)).toEqual(['stale-signup@example.com', 'young-signup@example.com'])
    await pool.queues.digest.add('digest', { period: 'daily' }, { jobId: jobId('digest', 'daily', 'purge') })
    await waitForIdle(pool.queues, { timeoutMs: 30_000 })
    expect(await signupsLeft(env.ctx)).toEqual(['young-signup@example.com'])
  })

  it('delivers immediate alerts as jobs keyed by warning and subscriber', async () => {
    const sub = await env.ctx.db.selectFrom('subscriber').select('id').where('email', '=', 'queued-now@example.com').executeTakeFirstOrThrow()
    const high = await env.ctx.db.selectFrom('warning').select('id').where('level', '=', 'high').orderBy('id').execute()
    // Its daily digest (above) already carried the high warnings; a newly published one goes at once.
    // One warning per measure: a measure without one gets it.
    const m = await env.ctx.db.selectFrom('measure').select('id').where('id', 'not in', env.ctx.db.selectFrom('warning').select('measure_id')).executeTakeFirstOrThrow()
    const w = await env.ctx.db
      .insertInto('warning')
      .values({ measure_id: m.id, category_id: 'wind-turbines', level: 'high', score: 75, status: 'confirmed', assignee: null, note: null, created_at: NOW.toISOString(), updated_at: NOW.toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow()
    await env.ctx.db.insertInto('warning_category').values({ warning_id: w.id, category_id: 'wind-turbines', score: 75, level: 'high' }).execute()
    expect(high.length).toBeGreaterThan(0)
    for (let i = 0; i < 2; i++) {
      await pool.queues.digest.add('digest', { period: 'immediate' }, { jobId: jobId('digest', 'immediate', 'test', i) })
      await waitForIdle(pool.queues, { timeoutMs: 30_000 })
    }
    const job = await pool.queues.deliver.getJob(`deliver-immediate-w${w.id}-${sub.id}`)
    expect(job?.returnvalue).toBe('sent')
    const alerts = smtp.messages.filter((x) => to(x) === 'queued-now@example.com' && /high-risk alert/.test(x.subject ?? ''))
    expect(alerts).toHaveLength(1)
    // Same id again: BullMQ keeps the finished job and adds nothing.
    await pool.queues.deliver.add('deliver', { subscriberId: sub.id, kind: 'immediate', warningId: w.id }, { jobId: `deliver-immediate-w${w.id}-${sub.id}` })
    await waitForIdle(pool.queues, { timeoutMs: 10_000 })
    expect(smtp.messages.filter((x) => to(x) === 'queued-now@example.com' && /high-risk alert/.test(x.subject ?? ''))).toHaveLength(1)
  })

  it('fails a permanently refused e-mail once, without retries', async () => {
    await addSubscriber(env.ctx, 'refused@example.com', validatePreferences(env.ctx, { frequency: 'weekly' }), { confirmed: true })
    const sub = await env.ctx.db.selectFrom('subscriber').select('id').where('email', '=', 'refused@example.com').executeTakeFirstOrThrow()
    smtp.refuse = { code: 550, message: 'mailbox unavailable' }
    try {
      await pool.queues.digest.add('digest', { period: 'weekly' }, { jobId: jobId('digest', 'weekly', 'refused') })
      await waitForIdle(pool.queues, { timeoutMs: 30_000 })
    } finally {
      smtp.refuse = null
    }
    // On Saturday 2026-11-28 the weekly e-mails are those of the last complete week, W47.
    const job = await pool.queues.deliver.getJob(jobId('deliver', 'weekly', '2026-W47', sub.id))
    expect(await job?.getState()).toBe('failed')
    expect(job?.attemptsMade).toBe(1)
    const row = await env.ctx.db.selectFrom('email_delivery').selectAll().where('subscriber_id', '=', sub.id).executeTakeFirstOrThrow()
    expect(row.status).toBe('failed-permanent')
  })
})
