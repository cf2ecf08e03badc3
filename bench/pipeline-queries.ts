// Round trips to PostgreSQL per stage of the worker path, for one scrape page (100 notices):
// each stage's processor is run once on a job of that page's work (ingest of the page, then
// its classify, score and warn batches), counting every query the pg driver sends
// (BEGIN/COMMIT included), and with --kinds the time each kind of statement took to answer.
// Run: node bin/run-ts.mjs bench/pipeline-queries.ts [pages] [--kinds]
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { Redis } from 'ioredis'
import type { Job } from 'bullmq'
import { createContext } from '../src/app-context.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { seed } from '../src/services/seed.service.js'
import { scrapeSource } from '../src/services/scrape.service.js'
import { openQueues, type Queues, type Stage } from '../jobs/queues.js'
import { processors } from '../jobs/processors.js'
import { EPING_PAGE_SIZE } from '../scrapers/eping/eping.source.js'
import { startSyntheticEping } from './synthetic-eping.js'

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const pages = Number(process.argv[2] ?? 1)
const n = pages * EPING_PAGE_SIZE

let queries = 0
const kinds = new Map<string, number>()
/** Milliseconds from sending each kind of statement to its answer. */
const spent = new Map<string, number>()
const query = pg.Client.prototype.query as (...a: unknown[]) => unknown
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  queries++
  const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? '')
  const kind = text.replace(/\s+/g, ' ').trim().split(' ').slice(0, 4).join(' ').replace(/"/g, '')
  kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
  const t0 = performance.now()
  const r = query.apply(this, args)
  if (r instanceof Promise) void r.then(() => spent.set(kind, (spent.get(kind) ?? 0) + performance.now() - t0), () => {})
  return r
} as typeof pg.Client.prototype.query

const schema = `bench_q${process.pid}_${randomBytes(3).toString('hex')}`
const admin = new pg.Client({ connectionString: PG_URL })
await admin.connect()
await admin.query(`create schema ${schema}`)
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-queries-'))
const source = await startSyntheticEping(n)
const prefix = `bench-q-${randomBytes(3).toString('hex')}`
const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
let queues: Queues | undefined
try {
  const env = { DATABASE_URL: PG_URL, TBT_DB_SCHEMA: schema, TBT_DATA_DIR: dataDir, TBT_SOURCE_EPING_BASE_URL: source.url, TBT_HTTP_MIN_DELAY_MS: '0', TBT_MAX_PAGES_PER_RUN: String(pages + 1), TBT_NOW: '2026-11-28T04:00:00Z' }
  const ctx = await createContext(loadConfig(env), { log: createLogger('silent') })
  queues = openQueues({ redisUrl: REDIS_URL, prefix }, connection)
  const run = processors(ctx, queues)
  await seed(ctx, { subscribers: false })
  const scraped = await scrapeSource(ctx, 'eping', { since: '2026-11-01', mode: 'worker' })
  await (await ctx.classifier())
  const rows: Record<string, unknown>[] = []
  /** Runs every waiting job of a stage's queue through its processor, counting round trips. */
  async function drain(stage: Stage, first?: Record<string, unknown>[]) {
    const jobs = first ?? (await queues![stage].getJobs(['waiting', 'prioritized'])).map((j) => j.data as Record<string, unknown>)
    await queues![stage].obliterate({ force: true })
    kinds.clear()
    spent.clear()
    const q0 = queries
    const t0 = performance.now()
    for (const [i, data] of jobs.entries()) await run[stage]({ id: `${stage}-${i}`, data, attemptsMade: 0 } as unknown as Job)
    const count = queries - q0
    rows.push({ stage, jobs: jobs.length, queries: count, perNotice: Math.round((count / n) * 100) / 100, ms: Math.round(performance.now() - t0) })
    if (process.argv.includes('--kinds')) console.log(stage, Object.fromEntries([...kinds].sort((a, b) => (spent.get(b[0]) ?? 0) - (spent.get(a[0]) ?? 0)).slice(0, 12).map(([k, c]) => [k, `${c}× ${Math.round(spent.get(k) ?? 0)} ms`])))
  }
  await drain('ingest', scraped.pendingRawIds.map((rawId) => ({ rawId })))
  await drain('classify')
  await drain('score')
  await drain('warn')
  console.table(rows)
  await ctx.close()
} finally {
  if (queues) for (const q of Object.values(queues)) await q.obliterate({ force: true }).catch(() => {}), await q.close()
  connection.disconnect()
  await source.close()
  await admin.query(`drop schema ${schema} cascade`)
  await admin.end()
  fs.rmSync(dataDir, { recursive: true, force: true })
}
