import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/web/app.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { startMetricsServer } from '../../src/ops/metrics-server.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { seed } from '../../src/services/seed.service.js'
import { startWorkers, type WorkerPool } from '../../jobs/worker.js'
import { jobId, waitForIdle } from '../../jobs/queues.js'
import { createTestEnv, REDIS_URL, type TestEnv } from '../helpers/db.js'
import { recordJobFailure } from '../../src/services/reconcile.service.js'
import { addUsers, Agent, PASSWORDS } from '../helpers/web.js'
import { startSmtp, type TestSmtp } from '../helpers/smtp.js'

const TOKEN = 'ops-test-admin-token-0123456789'
const FIXED_NOW = new Date('2026-11-28T04:00:00Z')

describe('operations: readiness, metrics, queue dashboard, structured logs', () => {
  const prefix = `tbt-ops-${randomBytes(4).toString('hex')}`
  let replay: ReplayServer
  let env: TestEnv
  let smtp: TestSmtp
  let pool: WorkerPool
  let app: FastifyInstance
  const metrics = createMetrics()
  const lines: Record<string, unknown>[] = []

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    smtp = await startSmtp()
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l))
        cb()
      },
    })
    env = await createTestEnv(
      'sqlite',
      { TBT_SOURCE_EPING_BASE_URL: replay.url, REDIS_URL, TBT_QUEUE_PREFIX: prefix, TBT_ADMIN_TOKEN: TOKEN, SMTP_URL: smtp.url },
      { clock: () => FIXED_NOW, log: pino({ level: 'debug', base: undefined }, sink) },
    )
    await seed(env.ctx)
    pool = await startWorkers(env.ctx, { redisUrl: REDIS_URL, prefix }, { schedule: false, metrics })
    await pool.queues.scrape.add('scrape', { sourceId: 'eping', since: replay.manifest.since }, { jobId: jobId('scrape', 'eping', 'ops') })
    await waitForIdle(pool.queues, { timeoutMs: 90_000 })
    await pool.queues.digest.add('digest', { period: 'daily' }, { jobId: jobId('digest', 'daily', 'ops') })
    await waitForIdle(pool.queues, { timeoutMs: 30_000 })
    app = await buildApp(env.ctx)
  })
  afterAll(async () => {
    await app?.close()
    await pool?.close()
    const redis = new Redis(REDIS_URL)
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length) await redis.del(...keys)
    redis.disconnect()
    await env?.cleanup()
    await smtp?.close()
    await replay?.close()
  })

  it('/readyz is 200 when the database and Redis answer', async () => {
    const r = await app.inject('/readyz')
    expect(r.statusCode).toBe(200)
    expect(r.json()).toEqual({ ok: true, checks: { database: 'ok', redis: 'ok' } })
    expect((await app.inject('/healthz')).statusCode).toBe(200)
  })

  it('/readyz is 503 and says why when Redis is away', async () => {
    const other = await env.reopen()
    const down = await buildApp({ ...other, config: { ...other.config, redisUrl: 'redis://127.0.0.1:9' } })
    try {
      const r = await down.inject('/readyz')
      expect(r.statusCode).toBe(503)
      expect(r.json().checks.database).toBe('ok')
      expect(r.json().checks.redis).toMatch(/^failed/)
      // /metrics still answers, without queue depths.
      const m = await down.inject('/metrics')
      expect(m.statusCode).toBe(200)
      expect(m.body).toContain('tbt_redis_up 0')
    } finally {
      await down.close()
    }
  })

  it('/metrics: per source, per queue, e-mails by status (Prometheus text)', async () => {
    const r = await app.inject('/metrics')
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toMatch(/text\/plain/)
    expect(r.body).toMatch(/tbt_source_runs\{source="eping",status="ok"\} 1/)
    expect(r.body).toMatch(/tbt_source_requests\{source="eping"\} [1-9]/)
    expect(r.body).toMatch(/tbt_notices\{source="eping"\} 33/)
    expect(r.body).toMatch(/tbt_email_deliveries\{status="sent"\} [1-9]/)
    for (const q of ['scrape', 'ingest', 'classify', 'score', 'warn', 'digest', 'deliver']) expect(r.body).toContain(`tbt_queue_jobs{queue="${q}",state="waiting"} 0`)
    expect(r.body).toMatch(/tbt_queue_jobs\{queue="classify",state="completed"\} [1-9]/)
    expect(r.body).toContain('tbt_redis_up 1')
  })

  it("a worker's own metrics: jobs and durations per stage, e-mails sent, scrape requests", async () => {
    const server = await startMetricsServer(metrics.registry, 0, '127.0.0.1')
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()
      for (const stage of ['scrape', 'ingest', 'classify', 'score', 'warn', 'digest', 'deliver']) {
        expect(text).toMatch(new RegExp(`tbt_jobs_total\\{queue="${stage}",status="completed"\\} [1-9]`))
        expect(text).toMatch(new RegExp(`tbt_stage_duration_seconds_count\\{stage="${stage}"\\} [1-9]`))
      }
      expect(text).toMatch(/tbt_emails_total\{status="sent"\} [1-9]/)
      expect(text).toMatch(/tbt_scrape_requests_total\{source="eping"\} [1-9]/)
      expect(smtp.messages.length).toBeGreaterThan(0)
    } finally {
      await server.close()
    }
  })

  it('the queue dashboard is for administrators only', async () => {
    const anon = await app.inject('/admin/queues')
    expect(anon.statusCode).toBe(401)
    expect(anon.headers['www-authenticate']).toMatch(/Basic/)
    expect((await app.inject({ url: '/admin/queues/api/queues', headers: { authorization: 'Bearer wrong-token-wrong-token' } })).statusCode).toBe(401)
    const page = await app.inject({ url: '/admin/queues', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(page.statusCode).toBe(200)
    expect(page.body).toMatch(/<html/i)
    const basic = Buffer.from(`admin:${TOKEN}`).toString('base64')
    const api = await app.inject({ url: '/admin/queues/api/queues', headers: { authorization: `Basic ${basic}` } })
    expect(api.statusCode).toBe(200)
    const names = (api.json().queues as { name: string }[]).map((q) => q.name).sort()
    expect(names).toEqual(['classify', 'deliver', 'digest', 'ingest', 'reconcile', 'score', 'scrape', 'warn'])
  })

  it('work that failed for good: a gauge on /metrics and an alert on /ops until retried', async () => {
    const before = await app.inject('/metrics')
    expect(before.body).not.toMatch(/tbt_jobs_failed_for_good\{/)
    await recordJobFailure(env.ctx, { queue: 'ingest', jobId: 'ingest-999', name: 'ingest', data: { rawId: 999 }, error: 'job stalled more than allowable limit', attempts: 21 })
    try {
      expect((await app.inject('/metrics')).body).toContain('tbt_jobs_failed_for_good{queue="ingest"} 1')
      await addUsers(env.ctx)
      const analyst = new Agent(app)
      await analyst.login('analyst@example.com', PASSWORDS.analyst)
      const zh = await analyst.get('/ops')
      expect(zh.statusCode).toBe(200)
      expect(zh.body).toContain('失败且不再自动重试的任务（1）')
      expect(zh.body).toContain('tbt-watch retry-failed')
      expect(zh.body).toContain('ingest-999')
      expect(zh.body).toContain('2026-11-28 12:00') // Asia/Shanghai
      const api = await analyst.get('/api/ops')
      expect(api.json().failedWork).toMatchObject({ total: 1, latest: [{ queue: 'ingest', jobId: 'ingest-999', attempts: 21 }] })
    } finally {
      await env.ctx.db.updateTable('job_failure').set({ retried_at: FIXED_NOW.toISOString() }).execute()
    }
    expect((await app.inject('/metrics')).body).not.toMatch(/tbt_jobs_failed_for_good\{/)
  })

  it('logs are JSON lines carrying job, stage, source and notice ids', () => {
    const scraped = lines.find((l) => l.msg === 'source scraped')
    expect(scraped).toMatchObject({ stage: 'scrape', sourceId: 'eping', jobId: 'scrape-eping-ops' })
    const classified = lines.find((l) => l.msg === 'notice classified')
    expect(classified).toMatchObject({ stage: 'classify' })
    expect(typeof classified?.noticeId).toBe('number')
    expect(String(classified?.jobId)).toMatch(/^classify-/)
    const sent = lines.find((l) => l.msg === 'e-mail sent' || l.msg === 'digest sent')
    expect(sent).toMatchObject({ stage: 'deliver' })
    // No e-mail address in the log.
    expect(JSON.stringify(lines)).not.toMatch(/@example\.com/)
  })
})
