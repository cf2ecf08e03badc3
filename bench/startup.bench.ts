// CLI start-up: `tbt-watch --help` and `tbt-watch stats` (a seeded SQLite database) from
// the precompiled dist/ and, for comparison, from the TypeScript sources through tsx
// (TBT_FROM_SOURCE=1, what a stale or missing build falls back to), each against
// `node -e 0` measured in the same rounds: the runs are interleaved, so a busy machine
// slows the baseline as much as the cases.
// Run: node bin/run-ts.mjs bench/startup.bench.ts [--quick] [--runs N]   → bench/results/startup.json
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { projectRoot } from '../src/util/paths.js'

const quick = process.argv.includes('--quick')
const runsArg = process.argv.indexOf('--runs')
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : quick ? 5 : 21
const bin = path.join(projectRoot, 'bin', 'tbt-watch.mjs')
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-bench-startup-'))
const env = { ...process.env, TBT_DATA_DIR: dataDir, TBT_LOG_LEVEL: 'silent' }

// A current build, and a database with something in it.
const build = spawnSync(process.execPath, [path.join(projectRoot, 'scripts', 'build.mjs')], { stdio: 'inherit' })
if (build.status !== 0) throw new Error('build failed')
const seeded = spawnSync(process.execPath, [bin, 'seed'], { env, encoding: 'utf8' })
if (seeded.status !== 0) throw new Error(`seed failed: ${seeded.stderr}`)

interface Case {
  name: string
  args: string[]
  env?: Record<string, string>
}
const CASES: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'tbt-watch --help (dist/)', args: [bin, '--help'] },
  { name: 'tbt-watch stats (dist/)', args: [bin, 'stats'] },
  { name: 'tbt-watch --help (sources, tsx)', args: [bin, '--help'], env: { TBT_FROM_SOURCE: '1' } },
  { name: 'tbt-watch stats (sources, tsx)', args: [bin, 'stats'], env: { TBT_FROM_SOURCE: '1' } },
]

const times = new Map<string, number[]>(CASES.map((c) => [c.name, []]))
// One warm-up round (file cache, tsx's transform cache), then the measured rounds.
for (let round = -1; round < RUNS; round++) {
  for (const c of CASES) {
    const t = process.hrtime.bigint()
    const r = spawnSync(process.execPath, c.args, { env: { ...env, ...c.env }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
    const ms = Number(process.hrtime.bigint() - t) / 1e6
    if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr}`)
    if (round >= 0) times.get(c.name)!.push(ms)
  }
}
fs.rmSync(dataDir, { recursive: true, force: true })

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}
const baseline = quantile(times.get('node -e 0')!, 0.5)
const rows = CASES.slice(1).map((c) => {
  const xs = times.get(c.name)!
  const median = quantile(xs, 0.5)
  return { case: c.name, medianMs: Math.round(median), p90Ms: Math.round(quantile(xs, 0.9)), ratio: Math.round((median / baseline) * 10) / 10 }
})
const result = {
  runs: RUNS,
  quick,
  baselineMedianMs: Math.round(baseline),
  rows,
  cpu: os.cpus()[0]?.model.trim(),
  loadAverage: Math.round(os.loadavg()[0] * 10) / 10,
  date: new Date().toISOString(),
}
fs.mkdirSync(path.join(projectRoot, 'bench', 'results'), { recursive: true })
fs.writeFileSync(path.join(projectRoot, 'bench', 'results', 'startup.json'), `${JSON.stringify(result, null, 2)}\n`)
console.log(`node -e 0: ${result.baselineMedianMs} ms (median of ${RUNS}); load average ${result.loadAverage}`)
for (const r of rows) console.log(`${r.case.padEnd(34)} ${String(r.medianMs).padStart(5)} ms median, p90 ${r.p90Ms} ms, ${r.ratio}× node -e 0`)
