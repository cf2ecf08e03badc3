// Pipeline throughput: N synthetic notices through the BullMQ stages (scrape → ingest →
// classify → score → warn) in 1, 2 and 4 worker processes, against BullMQ's own no-op
// jobs of the same shape on the same Redis (the overhead ratio), with peak memory.
// Run: node bin/run-ts.mjs bench/pipeline.bench.ts [--quick] [--n 10000,20000]
// Needs PostgreSQL (TEST_DATABASE_URL, default the local `test` database); starts its own
// Redis on a free port. Writes bench/results/pipeline.json.
import { spawn, type ChildProcess } from 'node:child_process'
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
import { STAGES } from '../src/pipeline/stages.js'
import { projectRoot } from '../src/util/paths.js'
import { EPING_PAGE_SIZE } from '../scrapers/eping/eping.source.js'
import { startSyntheticEping } from './synthetic-eping.js'

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const quick = process.argv.includes('--quick')
const nArg = process.argv.indexOf('--n')
// One ePing run reads at most 200 pages (20,000 notices); larger N would need several runs.
const MAX_PER_RUN = 200 * EPING_PAGE_SIZE
const NS = nArg > 0 ? process.argv[nArg + 1].split(',').map(Number) : quick ? [2_000] : [10_000, 20_000]
const WORKERS = [1, 2, 4]

function spawnProc(args: string[], env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      log += d
      if (log.includes('workers started')) resolve()
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

async function waitIdle(queues: Queue[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  let quiet = 0
  while (Date.now() < deadline) {
    let busy = 0
    for (const q of queues) {
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
      busy += Object.values(c).reduce((a, b) => a + b, 0)
    }
    quiet = busy === 0 ? quiet + 1 : 0
    if (quiet >= 2) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('queues did not drain in time')
}

async function stop(children: ChildProcess[]) {
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM'))))))
}

async function startRedis() {
  const port = 20000 + Math.floor(Math.random() * 20000)
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
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

async function run(kind: 'pipeline' | 'noop', n: number, workers: number, redisUrl: string, sourceUrl: string) {
  const prefix = `bench-${kind}-${randomBytes(3).toString('hex')}`
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
  const queues = STAGES.map((s) => new Queue(s, { connection, prefix }))
  let schema: string | undefined
  let children: ChildProcess[] = []
  try {
    let env: Record<string, string> = {}
    let args: string[]
    if (kind === 'pipeline') {
      schema = `bench_${randomBytes(4).toString('hex')}`
      const c = new pg.Client({ connectionString: PG_URL })
      await c.connect()
      await c.query(`create schema ${schema}`)
      await c.end()
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-bench-'))
      env = { DATABASE_URL: PG_URL, TBT_DB_SCHEMA: schema, TBT_DATA_DIR: dataDir, REDIS_URL: redisUrl, TBT_QUEUE_PREFIX: prefix, TBT_SOURCE_EPING_BASE_URL: sourceUrl, TBT_HTTP_MIN_DELAY_MS: '0', TBT_LOG_LEVEL: 'info', TBT_NOW: '2026-11-28T04:00:00Z' }
      const ctx = await createContext(loadConfig(env), { log: createLogger('silent') })
      await seed(ctx, { subscribers: false })
      await ctx.close()
      args = [path.join(projectRoot, 'bin', 'tbt-watch.mjs'), 'worker', '--no-schedule']
    } else {
      args = [path.join(projectRoot, 'bin', 'run-ts.mjs'), path.join(projectRoot, 'bench', 'noop-worker.ts'), redisUrl, prefix, String(n)]
    }
    const procs = Array.from({ length: workers }, () => spawnProc(args, env))
    children = procs.map((p) => p.child)
    await Promise.all(procs.map((p) => p.ready))
    const t0 = performance.now()
    await queues[0].add('scrape', { sourceId: 'eping', since: '2026-11-01' }, { jobId: 'scrape-bench' })
    await waitIdle(queues, 3_600_000)
    const seconds = (performance.now() - t0) / 1000
    const rss = children.map((c) => peakRssMb(c.pid!))
    let notices = n
    if (schema) {
      const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
      await c.connect()
      notices = Number((await c.query('select count(*) from notice')).rows[0].count)
      await c.end()
    }
    return { seconds: Math.round(seconds * 100) / 100, notices, peakRssMbMax: Math.max(...rss), peakRssMbSum: rss.reduce((a, b) => a + b, 0) }
  } finally {
    await stop(children)
    await Promise.all(queues.map((q) => q.obliterate({ force: true }).catch(() => {})))
    await Promise.all(queues.map((q) => q.close()))
    connection.disconnect()
    if (schema) {
      const c = new pg.Client({ connectionString: PG_URL })
      await c.connect()
      await c.query(`drop schema ${schema} cascade`)
      await c.end()
    }
  }
}

const redis = await startRedis()
const rows: Record<string, unknown>[] = []
try {
  for (const n of NS) {
    if (n > MAX_PER_RUN) {
      console.log(`N=${n}: skipped, one ePing run reads at most ${MAX_PER_RUN} notices`)
      continue
    }
    const source = await startSyntheticEping(n)
    for (const w of WORKERS) {
      const base = await run('noop', n, w, redis.url, source.url)
      const real = await run('pipeline', n, w, redis.url, source.url)
      const row = {
        notices: n,
        workers: w,
        jobs: 3 * n + Math.ceil(n / 100) + 1,
        seconds: real.seconds,
        noticesPerSecond: Math.round(n / real.seconds),
        noopSeconds: base.seconds,
        overheadRatio: Math.round((real.seconds / base.seconds) * 10) / 10,
        peakRssMbPerWorker: real.peakRssMbMax,
        peakRssMbAllWorkers: real.peakRssMbSum,
        noticesStored: real.notices,
      }
      rows.push(row)
      console.log(JSON.stringify(row))
    }
    await source.close()
  }
} finally {
  redis.child.kill('SIGKILL')
}
const out = { bench: 'pipeline', quick, cores: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), loadAverage: Math.round(os.loadavg()[0] * 10) / 10, date: new Date().toISOString(), rows }
fs.mkdirSync(path.join(projectRoot, 'bench', 'results'), { recursive: true })
fs.writeFileSync(path.join(projectRoot, 'bench', 'results', 'pipeline.json'), `${JSON.stringify(out, null, 2)}\n`)
console.log('pipeline: overhead = pipeline time / BullMQ no-op time, same jobs, same workers')
for (const r of rows) console.log(`  N=${r.notices} workers=${r.workers}: ${r.seconds} s (${r.noticesPerSecond}/s), no-op ${r.noopSeconds} s, ratio ${r.overheadRatio}, peak RSS ${r.peakRssMbPerWorker} MB/worker`)
