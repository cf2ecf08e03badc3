// Importing ePing's Excel bulk file: a generated file of N rows in the export's shape
// (bench/synthetic-eping.ts: formula cells, date cells, joint notifications spread apart,
// follow-ups, SPS rows, two thirds with HS codes) through `import eping-xlsx`, i.e. read →
// ingest → classify → score → warn, on a fresh SQLite database. Each run is its own process,
// so its peak RSS is its own. The baseline, measured in the same run, is exceljs' streaming
// reader going once through the same file and doing nothing with the rows: the floor of any
// import. Then `--train-only` on the largest file (time and peak memory).
// Run: node bin/run-ts.mjs bench/import.bench.ts [--quick] [--n 10000,100000]   → bench/results/import.json
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { projectRoot } from '../src/util/paths.js'
import { syntheticEpingXlsxRows, writeEpingXlsx } from './synthetic-eping.js'

const NOW = new Date('2026-11-28T04:00:00Z')
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024)

const oneArg = process.argv.indexOf('--one')
if (oneArg >= 0) {
  // A child: one measurement, printed as a RESULT line.
  const [what, file] = process.argv.slice(oneArg + 1)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-bench-import-'))
  try {
    const result = await measure(what, file, dir)
    console.log(`RESULT ${JSON.stringify({ ...result, peakRssMb: peakRssMb() })}`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  process.exit(0)
}

async function measure(what: string, file: string, dir: string): Promise<Record<string, unknown>> {
  const started = performance.now()
  const seconds = () => Math.round((performance.now() - started) / 10) / 100
  if (what === 'read') {
    const { readEpingXlsx } = await import('../src/import/eping-xlsx.reader.js')
    let rows = 0
    for await (const _ of readEpingXlsx(file)) rows++
    return { rows, seconds: seconds() }
  }
  if (what === 'train') {
    const { createClassifier } = await import('../src/classify/index.js')
    const { trainFromEpingXlsx } = await import('../src/import/eping-import.service.js')
    const classifier = await createClassifier({ dataDir: dir })
    const r = await trainFromEpingXlsx(file, classifier, { modelDir: path.join(dir, 'models') })
    return { rows: r.rows, examples: r.training?.examples, seconds: seconds() }
  }
  const { createContext } = await import('../src/app-context.js')
  const { loadConfig } = await import('../src/config.js')
  const { createLogger } = await import('../src/logger.js')
  const { importEpingXlsx } = await import('../src/import/eping-import.service.js')
  const ctx = await createContext(loadConfig({ TBT_DATA_DIR: dir, TBT_LOG_LEVEL: 'silent' }), { log: createLogger('silent'), clock: () => NOW })
  try {
    // Time per stage, from the progress callback the CLI's progress bar uses.
    const stages: Record<string, number> = {}
    let stage = ''
    let mark = performance.now()
    const r = await importEpingXlsx(ctx, file, {
      onProgress: (s) => {
        const t = performance.now()
        if (stage) stages[stage] = (stages[stage] ?? 0) + (t - mark)
        stage = s
        mark = t
      },
    })
    if (stage) stages[stage] = (stages[stage] ?? 0) + (performance.now() - mark)
    const ms = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k.replace(/ \(KB\)$/, ''), Math.round(v)]))
    return { rows: r.rows, notices: r.notices, jointNotices: r.jointNotices, badRows: r.badRows.length, stages: r.stages, stageMs: ms, seconds: seconds() }
  } finally {
    await ctx.close()
  }
}

function child(what: string, file: string): Record<string, any> {
  const r = spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'run-ts.mjs'), new URL(import.meta.url).pathname, '--one', what, file], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  })
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  if (r.status !== 0 || !line) throw new Error(`import bench (${what}) exited ${r.status}`)
  return JSON.parse(line.slice(7))
}

const nArg = process.argv.indexOf('--n')
const quick = process.argv.includes('--quick')
const ns = nArg > 0 ? process.argv[nArg + 1].split(',').map(Number) : quick ? [2_000, 10_000] : [10_000, 100_000]
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-bench-xlsx-'))
const rows: Record<string, any>[] = []
let train: Record<string, any> | undefined
try {
  for (const n of ns) {
    const file = path.join(work, `eping-${n}.xlsx`)
    const t = performance.now()
    await writeEpingXlsx(file, syntheticEpingXlsxRows(n, { brokenEvery: 5_000, recentUntil: NOW }))
    const mb = Math.round((fs.statSync(file).size / 2 ** 20) * 10) / 10
    console.log(`import bench: ${n} rows written (${mb} MB) in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    const read = child('read', file)
    console.log(`  baseline  exceljs streaming read, once      ${read.seconds} s, ${Math.round(n / read.seconds)} rows/s, peak ${read.peakRssMb} MB`)
    const imp = child('import', file)
    const row = {
      rows: n,
      fileMb: mb,
      notices: imp.notices,
      jointNotices: imp.jointNotices,
      badRows: imp.badRows,
      stages: imp.stages,
      stageMs: imp.stageMs,
      seconds: imp.seconds,
      rowsPerSecond: Math.round(n / imp.seconds),
      peakRssMb: imp.peakRssMb,
      readSeconds: read.seconds,
      readPeakRssMb: read.peakRssMb,
      ratioVsRead: Number((imp.seconds / read.seconds).toFixed(1)),
      measuredAt: new Date().toISOString(),
    }
    rows.push(row)
    const st = imp.stages
    console.log(`  import    read → ingest → classify → warn    ${imp.seconds} s, ${row.rowsPerSecond} rows/s, peak ${imp.peakRssMb} MB   x${row.ratioVsRead} the read`)
    console.log(`            ${imp.notices} notices (${imp.jointNotices} joint), ${imp.badRows} bad rows; classified ${st.classified}, scored ${st.measuresScored} measures, warnings raised ${st.warningsRaised}; ms per stage ${JSON.stringify(imp.stageMs)}`)
    if (n === Math.max(...ns)) {
      train = { ...child('train', file), readSeconds: read.seconds }
      console.log(`  train-only                                   ${train.seconds} s for ${train.examples} examples, peak ${train.peakRssMb} MB   x${(train.seconds / read.seconds).toFixed(1)} the read`)
    }
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
const first = rows[0]
const growth = rows.slice(1).map((r) => ({
  fromRows: first.rows,
  toRows: r.rows,
  rowsRatio: Math.round((r.rows / first.rows) * 10) / 10,
  timeRatio: Number((r.seconds / first.seconds).toFixed(2)),
  perRowTimeRatio: Number((r.seconds / r.rows / (first.seconds / first.rows)).toFixed(2)),
  peakRssRatio: Number((r.peakRssMb / first.peakRssMb).toFixed(2)),
}))
for (const g of growth) console.log(`import growth ${g.fromRows} → ${g.toRows} rows (×${g.rowsRatio}): time ×${g.timeRatio} (per row ×${g.perRowTimeRatio}), peak RSS ×${g.peakRssRatio}`)
const out = path.join(projectRoot, 'bench', 'results', 'import.json')
fs.mkdirSync(path.dirname(out), { recursive: true })
const result = { bench: 'import', quick, cores: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), date: new Date().toISOString(), node: process.version, rows, growth, train }
fs.writeFileSync(`${out}.tmp`, JSON.stringify(result, null, 2) + '\n')
fs.renameSync(`${out}.tmp`, out)
