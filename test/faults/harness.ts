import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { ExpectStatic } from 'vitest'
import { Redis } from 'ioredis'
import { createContext, type AppContext } from '../../src/app-context.js'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { runPass } from '../../src/pipeline/run-pass.js'
import { seed } from '../../src/services/seed.service.js'
import { backlog, settled } from '../../src/services/reconcile.service.js'
import { jobId, openQueues, waitForIdle, workerConnection, type Queues } from '../../jobs/queues.js'
import { PG_URL, REDIS_URL } from '../helpers/db.js'
import { dumpState } from '../helpers/dump.js'
import { startSmtp, type TestSmtp } from '../helpers/smtp.js'
import { WorkerFleet } from '../helpers/worker-process.js'

export const FIXED_NOW = '2026-11-28T04:00:00Z'

/**
 * At most this many passes of a test file run at once: each starts node processes that
 * load the classifier, and the suite runs on two cores.
 */
const MAX_PASSES = Number(process.env.TBT_FAULT_CONCURRENCY ?? 2)
let running = 0
const waiting: (() => void)[] = []
async function slot(): Promise<() => void> {
  if (running >= MAX_PASSES) await new Promise<void>((r) => waiting.push(r))
  running++
  return () => {
    running--
    waiting.shift()?.()
  }
}
export type Dump = Awaited<ReturnType<typeof dumpState>>

/** More recipients than the two demo ones, so that the deliver stage has work to crash in. */
const EXTRA_SUBSCRIBERS = [
  { email: 'official-a@example.com', frequency: 'daily' },
  { email: 'official-b@example.com', frequency: 'daily' },
  { email: 'official-c@example.com', frequency: 'weekly' },
  { email: 'official-d@example.com', frequency: 'daily' },
] as const

async function addSubscribers(ctx: AppContext) {
  await seed(ctx, { subscribers: true })
  for (const s of EXTRA_SUBSCRIBERS) {
    await ctx.db
      .insertInto('subscriber')
      .values({ email: s.email, name: null, role: 'official', lang: 'en', frequency: s.frequency, min_level: 'low', confirmed_at: FIXED_NOW, unsubscribed_at: null, created_at: FIXED_NOW })
      .onConflict((oc) => oc.column('email').doNothing())
      .execute()
  }
}

export interface PgDatabase {
  url: string
  schema: string
  ctx: AppContext
  dataDir: string
  env: Record<string, string>
  cleanup(): Promise<void>
}

/** A fresh schema in a PostgreSQL database (the shared test one, or a cluster a test started). */
export async function freshDatabase(url = PG_URL, env: Record<string, string> = {}): Promise<PgDatabase> {
  const schema = `f_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(`create schema ${schema}`)
  await client.end()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-fault-'))
  const vars = {
    TBT_DATA_DIR: dataDir,
    DATABASE_URL: url,
    TBT_DB_SCHEMA: schema,
    TBT_NOW: FIXED_NOW,
    TBT_HTTP_MIN_DELAY_MS: '0',
    TBT_HTTP_TIMEOUT_MS: '5000',
    ...env,
  }
  const ctx = await createContext(loadConfig(vars), { log: createLogger('silent') })
  return {
    url,
    schema,
    ctx,
    dataDir,
    env: vars,
    async cleanup() {
      await ctx.close().catch(() => {})
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      await c.query(`drop schema if exists ${schema} cascade`)
      await c.end()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** The reference: one uninterrupted inline pass over the same snapshot, same clock, same recipients. */
export async function referenceDump(sourceUrl: string, since: string): Promise<Dump> {
  const db = await freshDatabase(PG_URL, { TBT_SOURCE_EPING_BASE_URL: sourceUrl })
  try {
    await addSubscribers(db.ctx)
    await runPass(db.ctx, { sources: ['eping'], since })
    return await dumpState(db.ctx.db)
  } finally {
    await db.cleanup()
  }
}

export interface QueuedPassOptions {
  sourceUrl: string
  since: string
  workers: number
  crashAt?: string
  redisUrl?: string
  pgUrl?: string
  smtp?: TestSmtp
  env?: Record<string, string>
  /** Runs after the scrape job is queued, before waiting for the pass: inject a fault here. */
  during?: (p: { db: PgDatabase; queues: Queues; fleet: WorkerFleet; smtp: TestSmtp }) => Promise<void>
  /** Awaited after the last digest job is queued, before the final wait: e.g. a crash loop running in the background. */
  beforeLastIdle?: () => Promise<void>
  timeoutMs?: number
}

export interface QueuedPassResult {
  dump: Dump
  fleet: WorkerFleet
  smtp: TestSmtp
  failedJobs: number
  /** Message-Id of every e-mail the SMTP server accepted, in arrival order. */
  messageIds: string[]
  deliveries: { email: string; status: string; messageId: string }[]
}

/**
 * One pass through worker processes: a scrape job, then the daily and weekly digest
 * jobs once the pipeline is idle, as the schedulers would queue them.
 */
export async function queuedPass(o: QueuedPassOptions): Promise<QueuedPassResult> {
  const release = await slot()
  try {
    return await queuedPassNow(o)
  } finally {
    release()
  }
}

async function queuedPassNow(o: QueuedPassOptions): Promise<QueuedPassResult> {
  const redisUrl = o.redisUrl ?? REDIS_URL
  const prefix = `tbt-fault-${randomBytes(4).toString('hex')}`
  const smtp = o.smtp ?? (await startSmtp())
  const db = await freshDatabase(o.pgUrl ?? PG_URL, { TBT_SOURCE_EPING_BASE_URL: o.sourceUrl })
  await addSubscribers(db.ctx)
  const env = {
    ...db.env,
    REDIS_URL: redisUrl,
    TBT_QUEUE_PREFIX: prefix,
    SMTP_URL: smtp.url,
    TBT_STALLED_INTERVAL_MS: '1000',
    TBT_LOCK_DURATION_MS: '4000',
    // The safety net runs often here: it is what finds work a crash left owed.
    TBT_RECONCILE_EVERY_MS: '2000',
    ...o.env,
  }
  const fleet = new WorkerFleet(env, o.workers, o.crashAt ? { TBT_CRASH_AT: o.crashAt } : {})
  // Like a worker's: waits for Redis forever, so the test rides out a Redis restart too.
  const connection = workerConnection(redisUrl)
  connection.on('error', () => {})
  const queues = openQueues({ redisUrl, prefix }, connection)
  for (const q of Object.values(queues)) q.on('error', () => {}) // Redis restarts are expected here
  const timeoutMs = o.timeoutMs ?? 120_000
  // Idle means: no job waiting or running, and the database owes no work (nothing a crash
  // left for the reconciliation to find).
  const idle = { timeoutMs, settled: async () => settled(await backlog(db.ctx)) }
  try {
    await fleet.ready()
    await queues.scrape.add('scrape', { sourceId: 'eping', since: o.since }, { jobId: jobId('scrape', 'eping', 'pass') })
    await o.during?.({ db, queues, fleet, smtp })
    await waitForIdle(queues, idle)
    for (const period of ['daily', 'weekly'] as const) {
      await queues.digest.add('digest', { period }, { jobId: jobId('digest', period, 'pass') })
      if (period === 'weekly') await o.beforeLastIdle?.()
      await waitForIdle(queues, idle)
    }
    // Work that failed for good: recorded in SQL and removed from Redis, or (not yet recorded) still in Redis.
    const recorded = await db.ctx.db.selectFrom('job_failure').select(['queue', 'job_id', 'error']).execute()
    if (recorded.length) console.error('failed for good:', JSON.stringify(recorded))
    const failed = [recorded.length, ...(await Promise.all(Object.values(queues).map((q) => q.getJobCountByTypes('failed'))))]
    const dump = await dumpState(db.ctx.db)
    const deliveries = await db.ctx.db
      .selectFrom('email_delivery')
      .innerJoin('subscriber', 'subscriber.id', 'email_delivery.subscriber_id')
      .select(['subscriber.email', 'subscriber.id', 'email_delivery.status', 'email_delivery.kind', 'email_delivery.period_key'])
      .execute()
      .then((rows) => rows.map((d) => ({ email: d.email, status: d.status, messageId: `<${d.kind}.${d.period_key}.${d.id}@tbt-watch>` })))
    return { dump, fleet, smtp, failedJobs: failed.reduce((a, b) => a + b, 0), messageIds: smtp.messages.map((m) => m.messageId ?? ''), deliveries }
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${fleet.logs()}`)
  } finally {
    await fleet.stop()
    await Promise.all(Object.values(queues).map((q) => q.close().catch(() => {})))
    await dropKeys(redisUrl, prefix).catch(() => {})
    connection.disconnect()
    if (!o.smtp) await smtp.close()
    await db.cleanup()
  }
}

async function dropKeys(redisUrl: string, prefix: string) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  try {
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length) await redis.del(...keys)
  } finally {
    redis.disconnect()
  }
}

/** Polls until `check` holds. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000, pollMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

/**
 * A crash between handing a delivery to SMTP and marking it sent leaves it `uncertain`,
 * never re-sent: at most once, by design. A crash after claiming, before the hand-over,
 * loses nothing (`deliver:claimed` must equal the reference).
 */
const AT_MOST_ONCE = new Set(['deliver:handed', 'deliver:sent'])

/**
 * The pass equals the reference. `point`: the kill point of a single crash (a delivery cut
 * at the SMTP hand-over is `uncertain` by design); `'random'`: random kills anywhere, so any
 * delivery may have been cut at its hand-over: those (and only those) are `uncertain`, each
 * sent in the reference and arrived at most once.
 */
export function expectSamePass(expect: ExpectStatic, r: QueuedPassResult, reference: Dump, point?: string) {
  expect(r.failedJobs, r.fleet.logs()).toBe(0)
  // No e-mail reached the SMTP server twice; every sent delivery arrived exactly once; an
  // uncertain one at most once; nothing else arrived.
  const arrived = new Map<string, number>()
  for (const id of r.messageIds) arrived.set(id, (arrived.get(id) ?? 0) + 1)
  expect([...arrived.values()].every((n) => n === 1), JSON.stringify([...arrived])).toBe(true)
  for (const d of r.deliveries) {
    if (d.status === 'sent') expect(arrived.get(d.messageId), d.messageId).toBe(1)
    else if (d.status !== 'uncertain') expect(arrived.has(d.messageId), d.messageId).toBe(false)
  }
  expect(r.messageIds.every((id) => r.deliveries.some((d) => d.messageId === id))).toBe(true)
  const uncertain = r.dump.deliveries.filter((d) => JSON.parse(d)[3] === 'uncertain')
  if (point === 'random' || (point && AT_MOST_ONCE.has(point))) {
    // kill -9 catches every delivery the process had in flight (up to the stage's concurrency).
    if (point !== 'random') expect(uncertain.length).toBeGreaterThanOrEqual(1)
    expect(uncertain.length).toBeLessThanOrEqual(point === 'random' ? reference.deliveries.length : 4)
    const keys = new Set(uncertain.map((d) => JSON.stringify((JSON.parse(d) as string[]).slice(0, 3))))
    // Everything else equals the reference; those deliveries are uncertain instead of sent.
    const expected = reference.deliveries.map((d) => {
      const row = JSON.parse(d) as (string | null)[]
      return keys.has(JSON.stringify(row.slice(0, 3))) ? JSON.stringify([...row.slice(0, 3), 'uncertain', null]) : d
    })
    expect({ ...r.dump, deliveries: [...r.dump.deliveries].sort() }).toEqual({ ...reference, deliveries: expected.sort() })
  } else {
    expect(uncertain).toEqual([])
    expect(r.dump).toEqual(reference)
  }
}
