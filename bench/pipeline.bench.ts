// Pipeline throughput: N synthetic notices through the BullMQ stages (scrape → ingest →
// classify → score → warn) in 1, 2 and 4 worker processes, against BullMQ's own no-op
// jobs of the same shape on the same Redis (the overhead ratio), with peak memory.
// Run: node bin/run-ts.mjs bench/pipeline.bench.ts [--quick] [--n 10000,100000] [--workers 1,2,4] [--keep]
//   [--engine postgres|sqlite] [--no-inline] [--inline-engines sqlite,postgres]
// The inline pass (`tbt-watch run`, one process) is measured on both engines, so the workers
// are compared with it on the same database as well as with the embedded SQLite. --engine
// sqlite runs the workers on one SQLite file (one machine; its writers take turns).
// --keep: rows of the previous results file outside this run's N × workers grid are kept,
// each with the time it was measured (a 100,000-notice row takes ~40 min on 2 cores).
// Needs PostgreSQL (TEST_DATABASE_URL, default the local `test` database); starts its own
// Redis on a free port for each run, so Redis's peak memory is that run's. Prints how time
// and peak memory grow with N. Writes bench/results/pipeline.json.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { createContext } from '../src/app-context.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { seed } from '../src/services/seed.service.js'
import { runPass } from '../src/pipeline/run-pass.js'
import { STAGES } from '../src/pipeline/stages.js'
import { waitForIdle, type Queues } from '../jobs/queues.js'
import { projectRoot } from '../src/util/paths.js'
import { EPING_PAGE_SIZE } from '../scrapers/eping/eping.source.js'
import { startSyntheticEping } from './synthetic-eping.js'

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const quick = process.argv.includes('--quick')
const listArg = (name: string) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1].split(',').map(Number) : null
}
const NS = listArg('--n') ?? (quick ? [2_000, 4_000] : [10_000, 100_000])
const WORKERS = listArg('--workers') ?? [1, 2, 4]
const textArg = (name: string) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : undefined
}
type Engine = 'sqlite' | 'postgres'
const ENGINE: Engine = textArg('--engine') === 'sqlite' ? 'sqlite' : 'postgres'
const INLINE_ENGINES = (textArg('--inline-engines')?.split(',') ?? ['sqlite', 'postgres']).filter((e): e is Engine => e === 'sqlite' || e === 'postgres')

function spawnProc(args: string[], env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  const ready = new Promise<void>((resolve, reject) => {
    let started = false
    child.stderr!.on('data', (d) => {
      // Keep a tail for the error message only: a 100,000-notice run logs tens of MB.
      log = (log + d).slice(-8_000)
      if (!started && log.includes('workers started')) {
        started = true
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`process exited ${code}: ${log.slice(-2000)}`)))
  })
  ready.catch(() => {})
  return { child, ready }
}

const peakRssMb = (pid: number) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Math.round(Number(m[1]) / 1024) : 0
}

/** Busy and total jiffies of the whole machine (every core): for its CPU use during a run. */
function machineCpu() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const idle = f[3] + f[4]
  const total = f.reduce((a, b) => a + b, 0)
  return { busy: total - idle, total }
}

/** CPU seconds (user + system) a live process has used so far. */
function cpuSeconds(pid: number) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}

async function stop(children: ChildProcess[]) {
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM'))))))
}

async function startRedis() {
  const port = 20000 + Math.floor(Math.random() * 20000)
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  live.procs.add(child)
  const url = `redis://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    r.on('error', () => {})
    const ok = await r.connect().then(() => true, () => false)
    r.disconnect()
    if (ok) return { url, child }
    await new Promise((res) => setTimeout(res, 50))
  }
  throw new Error('redis-server did not start')
}

/** What a Ctrl-C must not leave behind: worker and Redis processes, bench schemas. */
const live = { procs: new Set<ChildProcess>(), schemas: new Set<string>() }
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, async () => {
    for (const c of live.procs) c.kill('SIGKILL')
    const c = new pg.Client({ connectionString: PG_URL })
    await c.connect().catch(() => {})
    for (const schema of live.schemas) await c.query(`drop schema if exists ${schema} cascade`).catch(() => {})
    await c.end().catch(() => {})
    console.error(`pipeline bench: stopped by ${sig}; removed ${live.schemas.size} schema(s)`)
    process.exit(130)
  })
}

/** Schemas of earlier runs that died without cleaning up (kill -9): their process is gone. */
async function dropOrphanSchemas() {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0)
      return true
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM'
    }
  }
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  try {
    const { rows } = await c.query<{ nspname: string }>(`select nspname from pg_namespace where nspname ~ '^bench_p[0-9]+_[0-9a-f]+$'`)
    for (const { nspname } of rows) {
      if (alive(Number(/^bench_p(\d+)_/.exec(nspname)![1]))) continue
      await c.query(`drop schema if exists ${nspname} cascade`)
      console.error(`pipeline bench: removed ${nspname}, left by a run that was killed`)
    }
  } finally {
    await c.end()
  }
}

async function run(kind: 'pipeline' | 'noop', n: number, workers: number, redisUrl: string, sourceUrl: string) {
  const prefix = `bench-${kind}-${randomBytes(3).toString('hex')}`
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
  const byStage = Object.fromEntries(STAGES.map((s) => [s, new Queue(s, { connection, prefix })])) as Queues
  const queues = Object.values(byStage)
  let schema: string | undefined
  let dataDir: string | undefined
  let children: ChildProcess[] = []
  try {
    let env: Record<string, string> = {}
    let args: string[]
    if (kind === 'pipeline') {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-bench-'))
      const db: Record<string, string> = ENGINE === 'sqlite' ? { DATABASE_URL: `sqlite:${path.join(dataDir, 'bench.db')}` } : { DATABASE_URL: PG_URL, TBT_DB_SCHEMA: (schema = await newSchema()) }
      // One ePing run reads 200 pages (20,000 notices) unless told otherwise: a backfill's setting.
      const maxPages = String(Math.ceil(n / EPING_PAGE_SIZE) + 1)
      env = { ...db, TBT_DATA_DIR: dataDir, REDIS_URL: redisUrl, TBT_QUEUE_PREFIX: prefix, TBT_SOURCE_EPING_BASE_URL: sourceUrl, TBT_HTTP_MIN_DELAY_MS: '0', TBT_MAX_PAGES_PER_RUN: maxPages, TBT_LOG_LEVEL: 'info', TBT_NOW: '2026-11-28T04:00:00Z' }
      const ctx = await createContext(loadConfig(env), { log: createLogger('silent') })
      await seed(ctx, { subscribers: false })
      await ctx.close()
      // BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the workers.
      args = [...(process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), path.join(projectRoot, 'bin', 'tbt-watch.mjs'), 'worker', '--no-schedule']
    } else {
      args = [path.join(projectRoot, 'bin', 'run-ts.mjs'), path.join(projectRoot, 'bench', 'noop-worker.ts'), redisUrl, prefix, String(n)]
    }
    const procs = Array.from({ length: workers }, () => spawnProc(args, env))
    children = procs.map((p) => p.child)
    for (const c of children) live.procs.add(c)
    await Promise.all(procs.map((p) => p.ready))
    const cpu0 = machineCpu()
    const workerCpu0 = children.map((c) => cpuSeconds(c.pid!))
    const t0 = performance.now()
    await byStage.scrape.add('scrape', { sourceId: 'eping', since: '2026-11-01' }, { jobId: 'scrape-bench' })
    await waitForIdle(byStage, { timeoutMs: 3_600_000, pollMs: 200 })
    const seconds = (performance.now() - t0) / 1000
    const cpu1 = machineCpu()
    const rss = children.map((c) => peakRssMb(c.pid!))
    // During the run only (start-up compiles TypeScript).
    const workerCpu = children.map((c, i) => cpuSeconds(c.pid!) - workerCpu0[i])
    let notices = n
    if (kind === 'pipeline') {
      const ctx = await createContext(loadConfig(env), { log: createLogger('silent') })
      notices = Number((await ctx.db.selectFrom('notice').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
      await ctx.close()
    }
    return {
      seconds: Math.round(seconds * 100) / 100,
      notices,
      peakRssMbMax: Math.max(...rss),
      peakRssMbSum: rss.reduce((a, b) => a + b, 0),
      // All cores: near 100 means the machine was saturated and more workers cannot help.
      machineCpuBusyPct: Math.round(((cpu1.busy - cpu0.busy) / Math.max(1, cpu1.total - cpu0.total)) * 100),
      workerCpuSeconds: Math.round(workerCpu.reduce((a, b) => a + b, 0) * 10) / 10,
    }
  } finally {
    await stop(children)
    await Promise.all(queues.map((q) => q.obliterate({ force: true }).catch(() => {})))
    await Promise.all(queues.map((q) => q.close()))
    connection.disconnect()
    if (schema) await dropSchema(schema)
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

/** A PostgreSQL schema of its own for a run (dropped by dropSchema, or on Ctrl-C). */
async function newSchema() {
  const schema = `bench_p${process.pid}_${randomBytes(4).toString('hex')}`
  live.schemas.add(schema)
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  await c.query(`create schema ${schema}`)
  await c.end()
  return schema
}

async function dropSchema(schema: string) {
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  await c.query(`drop schema ${schema} cascade`)
  await c.end()
  live.schemas.delete(schema)
}

/**
 * The other baseline: the inline pass (`tbt-watch run`'s runPass) over the same N notices
 * on the embedded SQLite or on PostgreSQL, in this process, timed from the pass's start to
 * its end. It does a little more than the workers (the due digests and alerts of the demo
 * subscribers).
 */
async function inlinePass(n: number, sourceUrl: string, engine: Engine) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-bench-inline-'))
  const schema = engine === 'postgres' ? await newSchema() : undefined
  try {
    const maxPages = String(Math.ceil(n / EPING_PAGE_SIZE) + 1)
    const db: Record<string, string> = schema ? { DATABASE_URL: PG_URL, TBT_DB_SCHEMA: schema } : { DATABASE_URL: `sqlite:${path.join(dataDir, 'bench.db')}` }
    const env = { ...db, TBT_DATA_DIR: dataDir, TBT_SOURCE_EPING_BASE_URL: sourceUrl, TBT_HTTP_MIN_DELAY_MS: '0', TBT_MAX_PAGES_PER_RUN: maxPages, TBT_NOW: '2026-11-28T04:00:00Z' }
    const ctx = await createContext(loadConfig(env), { log: createLogger('silent') })
    try {
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      await runPass(ctx, { sources: ['eping'], since: '2026-11-01' })
      const seconds = (performance.now() - t0) / 1000
      const cpu = process.cpuUsage(cpu0)
      const notices = Number((await ctx.db.selectFrom('notice').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
      return { seconds: Math.round(seconds * 100) / 100, notices, cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10 }
    } finally {
      await ctx.close()
    }
  } finally {
    if (schema) await dropSchema(schema)
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

/** The code a row measured (a kept row from another commit says so). */
const COMMIT = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' }).trim()
  } catch {
    return undefined
  }
})()
type Row = {
  measuredAt?: string
  commit?: string
  notices: number
  workers: number
  seconds: number
  msPerNotice: number
  peakRssMbPerWorker: number
  redisPeakMb: number
  [k: string]: unknown
}
const resultsFile = path.join(projectRoot, 'bench', 'results', 'pipeline.json')
const rows: Row[] = []
if (process.argv.includes('--keep') && fs.existsSync(resultsFile)) {
  const old = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as { quick: boolean; date: string; rows: Row[] }
  if (old.quick !== quick) throw new Error(`--keep: ${resultsFile} holds ${old.quick ? 'quick' : 'full'} rows, this run is ${quick ? 'quick' : 'full'}`)
  for (const r of old.rows) if (!(NS.includes(r.notices) && WORKERS.includes(r.workers) && (r.engine ?? 'postgres') === ENGINE)) rows.push({ ...r, measuredAt: r.measuredAt ?? old.date })
}
/** Each run on its own Redis, so `used_memory_peak` is that run's alone. */
async function measured(kind: 'pipeline' | 'noop', n: number, workers: number, sourceUrl: string) {
  const redis = await startRedis()
  try {
    const r = await run(kind, n, workers, redis.url, sourceUrl)
    const info = new Redis(redis.url)
    const peak = /used_memory_peak:(\d+)/.exec(await info.info('memory'))
    info.disconnect()
    return { ...r, redisPeakMb: peak ? Math.round(Number(peak[1]) / 2 ** 20) : 0 }
  } finally {
    redis.child.kill('SIGKILL')
  }
}

/** Growth with N, per worker count: each larger N against the smallest one measured. */
function growthOf(): Record<string, number | string>[] {
  const growth: Record<string, number | string>[] = []
  const engineOf = (r: Row) => String(r.engine ?? 'postgres')
  for (const [e, w] of [...new Map(rows.map((r) => [`${engineOf(r)}:${r.workers}`, [engineOf(r), r.workers] as const])).values()].sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1])) {
    const mine = rows.filter((r) => r.workers === w && engineOf(r) === e).sort((a, b) => a.notices - b.notices)
    for (const r of mine.slice(1)) {
      const b = mine[0]
      const g = {
        engine: e,
        workers: w,
        fromNotices: b.notices,
        toNotices: r.notices,
        noticesRatio: Math.round((r.notices / b.notices) * 10) / 10,
        timeRatio: Math.round((r.seconds / b.seconds) * 10) / 10,
        perNoticeTimeRatio: Math.round((r.msPerNotice / b.msPerNotice) * 100) / 100,
        peakRssRatio: Math.round((r.peakRssMbPerWorker / b.peakRssMbPerWorker) * 100) / 100,
        redisPeakRatio: Math.round((r.redisPeakMb / Math.max(1, b.redisPeakMb)) * 100) / 100,
      }
      growth.push(g)
    }
  }
  return growth
}

/** Written after every row: a long run that is stopped keeps what it measured. */
function save() {
  const growth = growthOf()
  const out = { bench: 'pipeline', quick, cores: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), loadAverage: Math.round(os.loadavg()[0] * 10) / 10, date: new Date().toISOString(), rows, growth }
  fs.mkdirSync(path.join(projectRoot, 'bench', 'results'), { recursive: true })
  fs.writeFileSync(resultsFile, `${JSON.stringify(out, null, 2)}\n`)
  return growth
}

await dropOrphanSchemas()
for (const n of NS) {
  const source = await startSyntheticEping(n)
  try {
    // Once per N: the inline pass that the workers must at least match, on the embedded
    // SQLite (the single process's own database) and on PostgreSQL (the same database as the workers').
    const inlineOn: Partial<Record<Engine, { seconds: number }>> = {}
    if (!process.argv.includes('--no-inline')) {
      for (const e of INLINE_ENGINES) {
        inlineOn[e] = await inlinePass(n, source.url, e)
        console.log(JSON.stringify({ [e === 'sqlite' ? 'inlineSqlite' : 'inlinePostgres']: { n, ...inlineOn[e] } }))
      }
    }
    const inline = inlineOn.sqlite
    const inlinePg = inlineOn.postgres
    for (const w of WORKERS) {
      const base = await measured('noop', n, w, source.url)
      const real = await measured('pipeline', n, w, source.url)
      const row: Row = {
        measuredAt: new Date().toISOString(),
        commit: COMMIT,
        notices: n,
        workers: w,
        engine: ENGINE,
        jobs: 3 * n + Math.ceil(n / 100) + 1,
        seconds: real.seconds,
        noticesPerSecond: Math.round(n / real.seconds),
        msPerNotice: Math.round((real.seconds * 1000 * 100) / n) / 100,
        noopSeconds: base.seconds,
        overheadRatio: Math.round((real.seconds / base.seconds) * 10) / 10,
        // The inline pass on SQLite, same N, same run: > 1 means the workers are faster.
        ...(inline ? { inlineSqliteSeconds: inline.seconds, inlineSqliteNoticesPerSecond: Math.round(n / inline.seconds), speedupVsInline: Math.round((inline.seconds / real.seconds) * 100) / 100 } : {}),
        // The inline pass on PostgreSQL: the same engine's cost on both sides.
        ...(inlinePg ? { inlinePostgresSeconds: inlinePg.seconds, speedupVsInlinePostgres: Math.round((inlinePg.seconds / real.seconds) * 100) / 100 } : {}),
        batchSize: Number(process.env.TBT_BATCH_SIZE ?? 100),
        loadAverageAtEnd: Math.round(os.loadavg()[0] * 10) / 10,
        peakRssMbPerWorker: real.peakRssMbMax,
        peakRssMbAllWorkers: real.peakRssMbSum,
        redisPeakMb: real.redisPeakMb,
        machineCpuBusyPct: real.machineCpuBusyPct,
        workerCpuSeconds: real.workerCpuSeconds,
        noopMachineCpuBusyPct: base.machineCpuBusyPct,
        noopRedisPeakMb: base.redisPeakMb,
        noticesStored: real.notices,
      }
      rows.push(row)
      rows.sort((a, b) => String(a.engine ?? 'postgres').localeCompare(String(b.engine ?? 'postgres')) || a.notices - b.notices || a.workers - b.workers)
      console.log(JSON.stringify(row))
      save()
    }
  } finally {
    await source.close()
  }
}

const growth = save()
console.log('pipeline: overhead = pipeline time / BullMQ no-op time, same jobs, same workers')
for (const r of rows) console.log(`  N=${r.notices} workers=${r.workers} on ${r.engine ?? 'postgres'}: ${r.seconds} s (${r.noticesPerSecond}/s), no-op ${r.noopSeconds} s, ratio ${r.overheadRatio}${r.inlineSqliteSeconds ? `, inline pass on SQLite ${r.inlineSqliteSeconds} s (${r.inlineSqliteNoticesPerSecond}/s): workers ${r.speedupVsInline}× as fast` : ''}${r.inlinePostgresSeconds ? `, inline pass on PostgreSQL ${r.inlinePostgresSeconds} s: workers ${r.speedupVsInlinePostgres}× as fast` : ''}, peak RSS ${r.peakRssMbPerWorker} MB/worker, Redis peak ${r.redisPeakMb} MB, machine CPU ${r.machineCpuBusyPct}% busy, workers used ${r.workerCpuSeconds} CPU s`)
for (const g of growth) console.log(`  growth, ${g.workers} worker(s) on ${g.engine}, N ${g.fromNotices} → ${g.toNotices} (×${g.noticesRatio}): time ×${g.timeRatio} (per notice ×${g.perNoticeTimeRatio}), peak RSS ×${g.peakRssRatio}, Redis peak ×${g.redisPeakRatio}`)
