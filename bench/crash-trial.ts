// The crash-loop trial of issue 18, as an operator meets it (a crash-looping container, a
// node evicted again and again): N synthetic ePing notices served locally, `tbt-watch worker`
// processes (with their job schedulers) on PostgreSQL and their own Redis, the scrape
// scheduled every 10 s, TBT_STALLED_INTERVAL_MS=2000 and TBT_LOCK_DURATION_MS=4000. Each
// worker process is killed with SIGKILL K times at random 3-8 s intervals (each worker on its
// own timer) and restarted at once; then the workers are left alone until nothing in the
// database changes for 60 s, the daily and weekly digests are queued as the schedulers would,
// and the result is compared with one uninterrupted inline pass over the same source.
//
// Run: node bin/run-ts.mjs bench/crash-trial.ts [--n 3000] [--kills 8,30] [--workers 1,2,4]
//        [--quiet 60] [--label after] [--from-start]
// --from-start: count each 3-8 s interval from the restart, not from the worker being up.
// Not part of `npm run bench` nor of the test suite (a run of the default grid takes ~40 min).
// Needs PostgreSQL (TEST_DATABASE_URL, default the local `test` database) and redis-server.
// Prints one row per run and writes bench/results/crash-trial.json (rows of other labels kept).
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { Redis } from 'ioredis'
import { createContext, type AppContext } from '../src/app-context.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { runPass } from '../src/pipeline/run-pass.js'
import { seed } from '../src/services/seed.service.js'
import { openQueues, workerConnection } from '../jobs/queues.js'
import { projectRoot } from '../src/util/paths.js'
import { dumpState } from '../test/helpers/dump.js'
import { startSmtp } from '../test/helpers/smtp.js'
import { spawnWorker, type WorkerProcess } from '../test/helpers/worker-process.js'
import { startSyntheticEping } from './synthetic-eping.js'

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : dflt
}
const N = Number(arg('--n', '3000'))
const KILLS = arg('--kills', '8,30').split(',').map(Number)
const WORKERS = arg('--workers', '1,2,4').split(',').map(Number)
const QUIET_S = Number(arg('--quiet', '60'))
const LABEL = arg('--label', 'after')
const FROM_READY = !process.argv.includes('--from-start')
const NOW = '2026-11-28T04:00:00Z'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo)

const live = { procs: new Set<ChildProcess>(), schemas: new Set<string>(), dirs: new Set<string>() }
async function cleanupAll() {
  for (const c of live.procs) c.kill('SIGKILL')
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect().catch(() => {})
  for (const s of live.schemas) await c.query(`drop schema if exists ${s} cascade`).catch(() => {})
  await c.end().catch(() => {})
  for (const d of live.dirs) fs.rmSync(d, { recursive: true, force: true })
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, async () => {
    await cleanupAll()
    console.error(`crash trial: stopped by ${sig}`)
    process.exit(130)
  })
}

async function freshDb(env: Record<string, string>) {
  const schema = `trial_${process.pid}_${randomBytes(4).toString('hex')}`
  live.schemas.add(schema)
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  await c.query(`create schema ${schema}`)
  await c.end()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-trial-'))
  live.dirs.add(dataDir)
  const vars = { DATABASE_URL: PG_URL, TBT_DB_SCHEMA: schema, TBT_DATA_DIR: dataDir, TBT_NOW: NOW, TBT_HTTP_MIN_DELAY_MS: '0', TBT_MAX_PAGES_PER_RUN: String(Math.ceil(N / 100) + 1), ...env }
  const ctx = await createContext(loadConfig(vars), { log: createLogger('silent') })
  return {
    ctx,
    env: vars,
    async drop() {
      await ctx.close().catch(() => {})
      const c2 = new pg.Client({ connectionString: PG_URL })
      await c2.connect()
      await c2.query(`drop schema if exists ${schema} cascade`)
      await c2.end()
      live.schemas.delete(schema)
      fs.rmSync(dataDir, { recursive: true, force: true })
      live.dirs.delete(dataDir)
    },
  }
}

async function startRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-trial-redis-'))
  live.dirs.add(dir)
  const port = 20000 + Math.floor(Math.random() * 20000)
  // As docker-compose runs it: append-only, no eviction.
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' })
  live.procs.add(child)
  const url = `redis://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    r.on('error', () => {})
    const ok = await r.connect().then(() => true, () => false)
    r.disconnect()
    if (ok) return { url, stop: () => (child.kill('SIGKILL'), fs.rmSync(dir, { recursive: true, force: true }), live.dirs.delete(dir)) }
    await sleep(50)
  }
  throw new Error('redis-server did not start')
}

/** What changes while the pipeline works: when none of it moves for QUIET_S, it is done. */
async function fingerprint(ctx: AppContext): Promise<string> {
  const n = async (t: 'notice' | 'classification' | 'risk_score' | 'warning' | 'warning_event' | 'email_delivery' | 'raw_response') =>
    Number((await ctx.db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  const sent = await ctx.db.selectFrom('email_delivery').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').orderBy('status').execute()
  const current = await ctx.db
    .selectFrom('classification')
    .innerJoin('notice', 'notice.id', 'classification.notice_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .whereRef('classification.notice_hash', '=', 'notice.content_hash')
    .executeTakeFirstOrThrow()
  return JSON.stringify([await n('raw_response'), await n('notice'), await n('classification'), Number(current.n), await n('risk_score'), await n('warning'), await n('warning_event'), sent])
}

async function waitQuiet(ctx: AppContext, quietMs: number, capMs: number): Promise<number> {
  const t0 = Date.now()
  let last = ''
  let since = Date.now()
  while (Date.now() - t0 < capMs) {
    const f = await fingerprint(ctx).catch(() => 'db-error')
    if (f !== last) {
      last = f
      since = Date.now()
    } else if (Date.now() - since >= quietMs) break
    await sleep(2_000)
  }
  return Math.round((Date.now() - t0) / 1000)
}

const counts = (d: Awaited<ReturnType<typeof dumpState>>) => ({
  notices: d.notices.length,
  classifications: d.classifications.length,
  warnings: d.warnings.length,
  riskScores: d.risks.length,
  deliveries: d.deliveries.length,
})

async function trial(sourceUrl: string, reference: Awaited<ReturnType<typeof dumpState>>, workers: number, kills: number) {
  const redis = await startRedis()
  const smtp = await startSmtp()
  const prefix = `trial-${randomBytes(3).toString('hex')}`
  const db = await freshDb({ TBT_SOURCE_EPING_BASE_URL: sourceUrl })
  await seed(db.ctx, { subscribers: true })
  // The trial is about ePing: the other sources (live sites, unreachable here) are switched
  // off as an operator would, so their failing scrapes add no noise.
  await db.ctx.db.updateTable('source').set({ enabled: 0 }).where('id', '!=', 'eping').execute()
  const env = {
    ...db.env,
    REDIS_URL: redis.url,
    TBT_QUEUE_PREFIX: prefix,
    SMTP_URL: smtp.url,
    TBT_SCRAPE_CRON: '*/10 * * * * *',
    TBT_STALLED_INTERVAL_MS: '2000',
    TBT_LOCK_DURATION_MS: '4000',
    TBT_LOG_LEVEL: 'info',
  }
  const slots: WorkerProcess[] = []
  const allProcs: WorkerProcess[] = []
  const start = (i: number) => {
    const p = spawnWorker(env, { schedule: true })
    live.procs.add(p.child)
    slots[i] = p
    allProcs.push(p)
  }
  for (let i = 0; i < workers; i++) start(i)
  const t0 = Date.now()
  let killed = 0
  // Each worker on its own timer: K kills at random 3-8 s intervals, restarted at once. An
  // interval counts from the moment the worker is up (FROM_READY, the default): a start takes
  // 3-7 s on a loaded 2-core machine and would otherwise swallow most of each interval, so
  // the kills would land on starting processes instead of on jobs.
  const up = async (p: WorkerProcess) => {
    while (FROM_READY && !p.log().includes('workers started') && p.child.exitCode === null) await sleep(50)
  }
  await Promise.all(
    Array.from({ length: workers }, async (_, i) => {
      for (let k = 0; k < kills; k++) {
        await up(slots[i])
        await sleep(rand(3_000, 8_000))
        const p = slots[i]
        p.child.kill('SIGKILL')
        await p.exited
        live.procs.delete(p.child)
        killed++
        start(i)
      }
    }),
  )
  const killSeconds = Math.round((Date.now() - t0) / 1000)
  const settleSeconds = await waitQuiet(db.ctx, QUIET_S * 1000, 30 * 60_000)
  // The digests, as the daily and weekly schedulers would queue them.
  const connection = workerConnection(redis.url)
  const queues = openQueues({ redisUrl: redis.url, prefix }, connection)
  for (const period of ['daily', 'weekly'] as const) await queues.digest.add('digest', { period }, { jobId: `digest-${period}-trial` })
  await waitQuiet(db.ctx, 15_000, 10 * 60_000)
  let failedJobs = 0
  const failedReasons: Record<string, number> = {}
  for (const q of Object.values(queues)) {
    failedJobs += await q.getJobCountByTypes('failed')
    for (const j of await q.getFailed(0, 999)) {
      const k = `${q.name}: ${(j?.failedReason ?? '?').slice(0, 60)}`
      failedReasons[k] = (failedReasons[k] ?? 0) + 1
    }
  }
  await Promise.all(Object.values(queues).map((q) => q.close()))
  connection.disconnect()
  await Promise.all(slots.map((p) => p.stop()))
  for (const p of slots) live.procs.delete(p.child)
  const stalledFailures = allProcs.reduce((n, p) => n + (p.log().match(/stalled more than allowable limit/g)?.length ?? 0), 0)
  let recordedFailures: Record<string, number> | null = null
  try {
    const rows = await db.ctx.db.selectFrom('job_failure' as never).select(['queue' as never, 'error' as never]).execute()
    recordedFailures = {}
    for (const r of rows as { queue: string; error: string | null }[]) {
      const k = `${r.queue}: ${(r.error ?? '?').slice(0, 60)}`
      recordedFailures[k] = (recordedFailures[k] ?? 0) + 1
    }
  } catch {
    // before the fix there is no job_failure table
  }
  const stalledReruns = allProcs.reduce((n, p) => n + (p.log().match(/job stalled; its worker stopped/g)?.length ?? 0), 0)
  const dump = await dumpState(db.ctx.db)
  const ids = smtp.messages.map((m) => m.messageId ?? '')
  const duplicates = ids.length - new Set(ids).size
  const row = {
    label: LABEL,
    measuredAt: new Date().toISOString(),
    sourceNotices: N,
    workers,
    kills: killed,
    intervalsFrom: FROM_READY ? 'worker up' : 'process start',
    killSeconds,
    settleSeconds,
    ...counts(dump),
    reference: counts(reference),
    equal: {
      notices: JSON.stringify(dump.notices) === JSON.stringify(reference.notices),
      classifications: JSON.stringify(dump.classifications) === JSON.stringify(reference.classifications),
      warnings: JSON.stringify(dump.warnings) === JSON.stringify(reference.warnings),
      riskScores: JSON.stringify(dump.risks) === JSON.stringify(reference.risks),
      warningEvents: JSON.stringify(dump.events) === JSON.stringify(reference.events),
      deliveries: JSON.stringify(dump.deliveries) === JSON.stringify(reference.deliveries),
    },
    emailsArrived: ids.length,
    emailsTwice: duplicates,
    uncertainDeliveries: dump.deliveries.filter((d) => JSON.parse(d)[3] === 'uncertain').length,
    failedJobsInRedis: failedJobs,
    failedReasons,
    recordedFailures,
    stalledLimitFailures: stalledFailures,
    stalledReruns,
  }
  await smtp.close()
  redis.stop()
  await db.drop()
  return row
}

const resultsFile = path.join(projectRoot, 'bench', 'results', 'crash-trial.json')
const old = fs.existsSync(resultsFile) ? (JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as { rows: { label: string }[] }).rows : []
const rows: Record<string, unknown>[] = old.filter((r) => r.label !== LABEL)
const save = () => {
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true })
  fs.writeFileSync(resultsFile, `${JSON.stringify({ trial: 'crash-loop', cores: os.cpus().length, rows }, null, 2)}\n`)
}

const source = await startSyntheticEping(N)
try {
  const ref = await freshDb({ TBT_SOURCE_EPING_BASE_URL: source.url })
  let reference
  try {
    await seed(ref.ctx, { subscribers: true })
    const t = Date.now()
    await runPass(ref.ctx, { sources: ['eping'] })
    reference = await dumpState(ref.ctx.db)
    console.log(`reference (inline pass, ${Math.round((Date.now() - t) / 1000)} s): ${JSON.stringify(counts(reference))}`)
  } finally {
    await ref.drop()
  }
  for (const w of WORKERS) {
    for (const k of KILLS) {
      const row = await trial(source.url, reference, w, k)
      rows.push(row)
      save()
      console.log(JSON.stringify(row))
    }
  }
} finally {
  await source.close()
  await cleanupAll()
}
process.exit(0)
