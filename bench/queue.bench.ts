// The analyst's pages at a city's scale: N notices (10,000 and 100,000; --quick: 2,000 and
// 10,000) written straight into the database (bench/queue-data.ts: synthetic notice texts
// from the lexicon, about two thirds raising a warning), on SQLite and on PostgreSQL, then
// timed over HTTP (a real socket, logged in as an analyst) in the same process:
//   - queue `/`, filtered queue, search `/?q=battery`, `/?q=电池` (two characters: no
//     trigram, the gram index of migration 720) and `/?q=锂电池`, `/api/warnings`, a warning's page:
//     p50/p95 over R requests after a warm-up
//   - the whole queue as CSV (`/queue.csv`): time, rows, and the process's peak RSS while
//     it streams against its RSS before
//   - baseline: GET /healthz over the same connection (the floor of a request)
// Each (engine, N) runs in its own process; the parent writes bench/results/queue.json
// with the growth from the smallest to the largest N.
// Run: node bin/run-ts.mjs bench/queue.bench.ts [--quick] [--n 10000,100000] [--dialects sqlite,postgres] [--requests 40]
// One case, its database kept: node bin/run-ts.mjs bench/queue.bench.ts --one postgres:100000 --keep
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { projectRoot } from '../src/util/paths.js'

const arg = (name: string) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : undefined
}
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d

const one = arg('--one')
if (!one) {
  const ns = arg('--n')?.split(',').map(Number) ?? (process.argv.includes('--quick') ? [2_000, 10_000] : [10_000, 100_000])
  const dialects = arg('--dialects')?.split(',') ?? ['sqlite', 'postgres']
  const requests = arg('--requests') ?? (process.argv.includes('--quick') ? '20' : '40')
  const rows: Record<string, any>[] = []
  for (const dialect of dialects) {
    for (const n of ns) {
      const r = spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'run-ts.mjs'), new URL(import.meta.url).pathname, '--one', `${dialect}:${n}`, '--requests', requests], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
      const lines = r.stdout.split('\n')
      process.stdout.write(lines.filter((l) => !l.startsWith('RESULT ')).join('\n'))
      const line = lines.find((l) => l.startsWith('RESULT '))
      if (r.status !== 0 || !line) throw new Error(`queue bench ${dialect} ${n} exited ${r.status}`)
      rows.push(JSON.parse(line.slice(7)))
    }
  }
  const growth = dialects.flatMap((dialect) => {
    const mine = rows.filter((r) => r.dialect === dialect)
    const [a, b] = [mine[0], mine[mine.length - 1]]
    if (!a || a === b) return []
    const ratios = Object.fromEntries(Object.keys(b.p95Ms).map((k) => [k, round(b.p95Ms[k] / a.p95Ms[k], 2)]))
    return [{ dialect, fromNotices: a.notices, toNotices: b.notices, noticesRatio: round(b.notices / a.notices, 1), p95Ratio: ratios, csvTimeRatio: round(b.csv.seconds / a.csv.seconds, 2), csvPerRowTimeRatio: round(b.csv.seconds / b.csv.rows / (a.csv.seconds / a.csv.rows), 2), csvPeakRssRatio: round(b.csv.peakRssMb / a.csv.peakRssMb, 2) }]
  })
  for (const g of growth) console.log(`queue growth (${g.dialect}) ${g.fromNotices} → ${g.toNotices} notices: p95 ${Object.entries(g.p95Ratio).map(([k, v]) => `${k} ×${v}`).join(', ')}; CSV time ×${g.csvTimeRatio} (per row ×${g.csvPerRowTimeRatio}), peak RSS ×${g.csvPeakRssRatio}`)
  const out = path.join(projectRoot, 'bench', 'results', 'queue.json')
  fs.mkdirSync(path.dirname(out), { recursive: true })
  const result = { bench: 'queue', quick: process.argv.includes('--quick'), cores: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), date: new Date().toISOString(), node: process.version, loadAverage: os.loadavg().map((x) => round(x, 2)), rows, growth }
  fs.writeFileSync(`${out}.tmp`, JSON.stringify(result, null, 2) + '\n')
  fs.renameSync(`${out}.tmp`, out)
  process.exit(0)
}

// ---------------------------------------------------------------------------------
// One case: an engine and a number of notices, in this process.
const [dialect, nText] = one.split(':') as ['sqlite' | 'postgres', string]
const N = Number(nText)
const R = Number(arg('--requests') ?? 40)
const TODAY = '2026-11-28'
const NOW = new Date(`${TODAY}T04:00:00Z`)

const { createTestEnv } = await import('../test/helpers/db.js')
const { addUsers, PASSWORDS } = await import('../test/helpers/web.js')
const { seedQueue } = await import('./queue-data.js')
const { buildApp } = await import('../src/web/app.js')

const env = await createTestEnv(dialect, {}, { clock: () => NOW })
try {
  const t0 = performance.now()
  const seeded = await seedQueue(env.ctx, N, { today: TODAY })
  const seedSeconds = (performance.now() - t0) / 1000
  console.log(`[${dialect} ${N}] ${seeded.notices} notices, ${seeded.measures} measures, ${seeded.warnings} warnings written in ${seedSeconds.toFixed(1)} s`)
  await addUsers(env.ctx)
  const app = await buildApp(env.ctx, { loginAttemptsPerMinute: 1000 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  // A logged-in client over HTTP: the session cookie and the CSRF token of the login form.
  const jar = new Map<string, string>()
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(';')
      const i = kv.indexOf('=')
      jar.set(kv.slice(0, i), kv.slice(i + 1))
    }
  }
  const get = async (url: string) => {
    const res = await fetch(base + url, { headers: { cookie: cookie() }, redirect: 'manual' })
    keep(res)
    return res
  }
  const loginPage = await (await get('/login')).text()
  const csrf = /name="_csrf" value="([^"]+)"/.exec(loginPage)![1]
  const login = await fetch(`${base}/login`, { method: 'POST', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, email: 'analyst@example.com', password: PASSWORDS.analyst, next: '/' }), redirect: 'manual' })
  keep(login)
  if (login.status !== 303) throw new Error(`login: ${login.status}`)

  const category = env.ctx.categories[0].id
  const ids = (await env.ctx.db.selectFrom('warning').select('id').orderBy('id').execute()).map((r) => r.id)
  let k = 0
  // The detail page as an analyst opens it: a row's link on the queue's pages (it carries the
  // row's place), and opened directly (a bookmark: its place in the queue counted).
  const fromQueue: string[] = []
  for (let pg = 1; pg <= 10; pg++) {
    const body = await (await get(`/?page=${pg}`)).text()
    for (const m of body.matchAll(/<a href="(\/warnings\/\d+[^"]*)" class="key">/g)) fromQueue.push(m[1].replace(/&amp;/g, '&'))
  }
  if (!fromQueue.length) throw new Error('no warning links on the queue pages')
  let j = 0
  const CASES: Record<string, () => string> = {
    healthz: () => '/healthz',
    queue: () => '/',
    filtered: () => `/?status=new&level=high&category=${category}`,
    searchBattery: () => '/?q=battery',
    searchZh2: () => `/?q=${encodeURIComponent('电池')}`,
    searchZh3: () => `/?q=${encodeURIComponent('锂电池')}`,
    api: () => '/api/warnings',
    detail: () => fromQueue[(j = (j * 7919 + 104729) % fromQueue.length)],
    detailDirect: () => `/warnings/${ids[(k = (k * 7919 + 104729) % ids.length)]}`,
  }
  const p = (xs: number[], q: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]
  const p95Ms: Record<string, number> = {}
  const p50Ms: Record<string, number> = {}
  const totals: Record<string, number> = {}
  for (const [name, url] of Object.entries(CASES)) {
    for (let i = 0; i < 3; i++) await (await get(url())).arrayBuffer() // warm-up
    const times: number[] = []
    for (let i = 0; i < R; i++) {
      const u = url()
      const s = performance.now()
      const res = await get(u)
      const body = await res.text()
      times.push(performance.now() - s)
      if (res.status !== 200) throw new Error(`${u}: ${res.status}`)
      if (name === 'api') totals.api = JSON.parse(body).total
      const m = /<b>(\d+)<\/b>/.exec(body)
      if (m && name !== 'api' && !name.startsWith('detail')) totals[name] = Number(m[1])
    }
    p95Ms[name] = round(p(times, 0.95))
    p50Ms[name] = round(p(times, 0.5))
    console.log(`[${dialect} ${N}] ${name}: p50 ${p50Ms[name]} ms, p95 ${p95Ms[name]} ms${totals[name] !== undefined ? ` (${totals[name]} warnings)` : ''}`)
  }

  // The whole queue as CSV, with the process's RSS sampled while it streams.
  global.gc?.()
  const rssBefore = process.memoryUsage().rss
  let peak = rssBefore
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
  const s = performance.now()
  const res = await get('/queue.csv')
  let bytes = 0
  let lines = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length
    // indexOf, not a loop over each byte: the client shares the server's process, and a
    // byte loop cost it about 80 ms of the export's time at 17 MB
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
  }
  const csvSeconds = (performance.now() - s) / 1000
  clearInterval(timer)
  peak = Math.max(peak, process.memoryUsage().rss)
  const csv = { seconds: round(csvSeconds, 2), rows: lines - 1, mb: round(bytes / 2 ** 20), rssBeforeMb: round(rssBefore / 2 ** 20), peakRssMb: round(peak / 2 ** 20), rssGrowthMb: round((peak - rssBefore) / 2 ** 20) }
  console.log(`[${dialect} ${N}] /queue.csv: ${csv.rows} rows, ${csv.mb} MB in ${csv.seconds} s; RSS ${csv.rssBeforeMb} MB before, peak ${csv.peakRssMb} MB`)
  await app.close()
  const ratioToHealthz = Object.fromEntries(Object.entries(p95Ms).filter(([kk]) => kk !== 'healthz').map(([kk, v]) => [kk, round(v / p95Ms.healthz, 1)]))
  console.log(`RESULT ${JSON.stringify({ dialect, notices: seeded.notices, measures: seeded.measures, warnings: seeded.warnings, seedSeconds: round(seedSeconds), requests: R, p50Ms, p95Ms, ratioToHealthz, totals, csv, loadAverage: os.loadavg().map((x) => round(x, 2)) })}`)
} finally {
  // --keep leaves the database for a look at its plans (EXPLAIN in psql or sqlite3).
  if (process.argv.includes('--keep')) console.log(`[${dialect} ${N}] kept: ${env.schema ? `PostgreSQL schema ${env.schema}` : `${env.dataDir}/test.db`}`)
  else await env.cleanup()
}
process.exit(0)
