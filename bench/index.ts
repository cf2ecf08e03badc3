// `npm run bench [-- --quick]`: runs every bench/*.bench.ts that exists, one after the
// other in its own process (pipeline, scrape, classify, digest, import, startup), then writes the table of
// bench/results/*.json into the README between the bench markers.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { projectRoot } from '../src/util/paths.js'

const quick = process.argv.includes('--quick')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',')
const ORDER = ['pipeline', 'scrape', 'classify', 'train', 'digest', 'import', 'queue', 'startup']
const benchDir = path.join(projectRoot, 'bench')
const found = fs.readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace('.bench.ts', ''))
const names = [...ORDER.filter((n) => found.includes(n)), ...found.filter((n) => !ORDER.includes(n)).sort()].filter((n) => !only || only.includes(n))

let failed = 0
for (const name of names) {
  console.log(`\n== ${name}`)
  // classify takes a notice count; the others understand --quick.
  const extra = name === 'classify' ? (quick ? ['2000'] : []) : quick ? ['--quick'] : []
  const r = spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'run-ts.mjs'), path.join(benchDir, `${name}.bench.ts`), ...extra], { stdio: 'inherit', cwd: projectRoot })
  if (r.status !== 0) {
    failed++
    console.error(`${name}: exited ${r.status}`)
  }
}

/** The README table: one line per measured case, from whatever the results hold. */
function table(): string {
  const dir = path.join(benchDir, 'results')
  const read = (n: string) => (fs.existsSync(path.join(dir, `${n}.json`)) ? JSON.parse(fs.readFileSync(path.join(dir, `${n}.json`), 'utf8')) : null)
  const lines = [`Machines: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB memory (the table written on one with ${os.cpus()[0]?.model.trim()}; rows come from different runs, on machines of the same size, and name their load). Ratios are against a baseline run in the same script.`, '', '| benchmark | case | result | baseline | ratio |', '|---|---|---|---|---|']
  const p = read('pipeline')
  // Rows kept from an earlier run (`--keep`) say when they were measured.
  const runs = new Set((p?.rows ?? []).map((r: { measuredAt?: string }) => r.measuredAt?.slice(0, 13)))
  const when = (r: { measuredAt?: string }) => (runs.size > 1 && r.measuredAt ? `, measured ${r.measuredAt.slice(0, 16).replace('T', ' ')} UTC` : '')
  for (const r of p?.rows ?? []) lines.push(`| pipeline${p.quick ? ' (quick)' : ''} | ${r.notices} notices, ${r.workers} worker process(es) on ${r.engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'}${when(r)} | ${r.seconds} s, ${r.noticesPerSecond} notices/s, peak ${r.peakRssMbPerWorker} MB/worker${r.redisPeakMb ? `, Redis peak ${r.redisPeakMb} MB` : ''}${r.machineCpuBusyPct != null ? `, all cores ${r.machineCpuBusyPct}% busy` : ''}${r.batchSize ? `, batches of ${r.batchSize}` : ''}${r.loadAverageAtEnd != null ? `, load average ${r.loadAverageAtEnd}` : ''} | BullMQ no-op jobs, one per notice and stage: ${r.noopSeconds} s${r.inlineSqliteSeconds ? `; inline pass on SQLite: ${r.inlineSqliteSeconds} s (${r.inlineSqliteNoticesPerSecond} notices/s)` : ''}${r.inlinePostgresSeconds ? `; inline pass on PostgreSQL: ${r.inlinePostgresSeconds} s` : ''} | ${r.overheadRatio}× the no-op time${r.speedupVsInline ? `; ${r.speedupVsInline}× as fast as inline on SQLite` : ''}${r.speedupVsInlinePostgres ? `, ${r.speedupVsInlinePostgres}× as fast as inline on PostgreSQL` : ''} |`)
  for (const g of p?.growth ?? []) lines.push(`| pipeline growth | ${g.fromNotices} → ${g.toNotices} notices (×${g.noticesRatio}), ${g.workers} worker(s)${g.engine ? ` on ${g.engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'}` : ''} | time ×${g.timeRatio}, peak RSS/worker ×${g.peakRssRatio}, Redis peak ×${g.redisPeakRatio} | linear: time ×${g.noticesRatio} | per notice ×${g.perNoticeTimeRatio} |`)
  const s = read('scrape')
  if (s) lines.push(`| scrape | ${s.pages} local pages, delays off | ours ${s.oursPagesPerSecond} pages/s | crawlee CheerioCrawler ${s.crawleeSerialPagesPerSecond} (concurrency 1) / ${s.crawleeDefaultPagesPerSecond} (default) pages/s | ${s.ratioVsCrawleeSerial} / ${s.ratioVsCrawleeDefault} |`)
  const c = read('classify')
  if (c) lines.push(`| classify | ${c.notices} synthetic notices, one core, no learnt model | ${c.ours?.noticesPerSecond} notices/s | natural BayesClassifier ${c.naturalBayes?.noticesPerSecond} notices/s | ${c.speedRatio}× |`)
  const tr = read('train')
  for (const r of tr?.rows ?? []) {
    lines.push(`| train | the classifier's model on ${r.notices} synthetic labelled notices (${r.heldOut} held out), one core | ${r.trainSeconds} s (${r.trainCpuSeconds} CPU-s), peak ${r.peakRssMb} MB | — | — |`)
    lines.push(`| classify with a model | trained on ${r.notices} notices, one core | ${r.classifyPerSecondWithModel} notices/s | the same classifier without a model: ${r.classifyPerSecondWithout} notices/s | ${(r.classifyPerSecondWithout / r.classifyPerSecondWithModel).toFixed(2)}× the time |`)
  }
  if (tr?.growth) lines.push(`| train growth | ${tr.rows[0].notices} → ${tr.rows[1].notices} notices (×${tr.growth.noticesRatio}) | time ×${tr.growth.timeRatio}, peak RSS ×${tr.growth.peakRssRatio} | linear: time ×${tr.growth.noticesRatio} | — |`)
  const d = read('digest')
  for (const r of d ? (d.rows ?? [d]) : []) lines.push(`| digest | ${r.subscribers} subscribers, ${r.warnings} warnings: build ${r.digestsBuilt} digests and queue ${r.jobsQueued} jobs | ${(r.ms.buildAndQueue / 1000).toFixed(1)} s, peak ${r.peakRssMb} MB | ${r.jobsQueued} BullMQ no-op adds: ${(r.ms.noopAdds / 1000).toFixed(1)} s | ${r.ratios.buildAndQueueVsNoopAdds}× the time |`)
  for (const g of d?.growth ?? []) lines.push(`| digest growth | ${g.fromSubscribers} → ${g.toSubscribers} subscribers (×${g.subscribersRatio}) | time ×${g.buildAndQueueTimeRatio}, peak RSS ×${g.peakRssRatio} | linear: time ×${g.subscribersRatio} | per digest ×${g.perDigestTimeRatio} |`)
  const im = read('import')
  for (const r of im?.rows ?? []) {
    lines.push(
      `| import${im.quick ? ' (quick)' : ''} | \`import eping-xlsx\`, ${r.rows} generated rows (${r.fileMb} MB, ${r.notices} notices, ${r.jointNotices} joint) through classify → warn on SQLite | ${r.seconds} s, ${r.rowsPerSecond} rows/s, peak ${r.peakRssMb} MB; ${r.stages.warningsRaised} warnings raised | exceljs streaming read of the file, once: ${r.readSeconds} s | ${r.ratioVsRead}× the time |`,
    )
  }
  for (const g of im?.growth ?? []) lines.push(`| import growth | ${g.fromRows} → ${g.toRows} rows (×${g.rowsRatio}) | time ×${g.timeRatio}, peak RSS ×${g.peakRssRatio} | linear: time ×${g.rowsRatio} | per row ×${g.perRowTimeRatio} |`)
  if (im?.train) lines.push(`| import --train-only | ${im.train.rows} rows, ${im.train.examples} coded notices learnt | ${im.train.seconds} s, peak ${im.train.peakRssMb} MB | exceljs streaming read of the file, once: ${im.train.readSeconds} s | ${(im.train.seconds / im.train.readSeconds).toFixed(1)}× the time |`)
  const qu = read('queue')
  const NAMES: Record<string, string> = { queue: 'queue page `/`', filtered: 'filtered queue', searchBattery: 'search `/?q=battery`', searchZh2: 'search `/?q=电池` (2 characters)', searchZh3: 'search `/?q=锂电池`', api: '`/api/warnings`', detail: 'warning detail (from the queue)', detailDirect: 'warning detail (opened directly)' }
  for (const r of qu?.rows ?? []) {
    const cases = Object.keys(NAMES).filter((k) => r.p95Ms[k] !== undefined)
    lines.push(`| queue${qu.quick ? ' (quick)' : ''} | ${r.dialect}, ${r.notices} notices (${r.warnings} warnings), HTTP logged in, p95 of ${r.requests} requests (load average ${r.loadAverage?.[0]}) | ${cases.map((k) => `${NAMES[k]} ${r.p95Ms[k]} ms`).join(', ')} | GET /healthz p95 ${r.p95Ms.healthz} ms | ${cases.map((k) => `×${r.ratioToHealthz[k]}`).join(', ')} |`)
    lines.push(`| queue CSV | ${r.dialect}, whole queue \`/queue.csv\`, ${r.csv.rows} rows (${r.csv.mb} MB) | ${r.csv.seconds} s, RSS ${r.csv.rssBeforeMb} → peak ${r.csv.peakRssMb} MB | — | — |`)
  }
  for (const g of qu?.growth ?? []) lines.push(`| queue growth | ${g.dialect}, ${g.fromNotices} → ${g.toNotices} notices (×${g.noticesRatio}) | p95 ${Object.entries(g.p95Ratio).filter(([k]) => NAMES[k]).map(([k, v]) => `${NAMES[k]} ×${v}`).join(', ')}; CSV time ×${g.csvTimeRatio}, peak RSS ×${g.csvPeakRssRatio} | flat: ×1 (target ≤ 1.5×) | CSV per row ×${g.csvPerRowTimeRatio} |`)
  const st = read('startup')
  for (const r of st?.rows ?? []) lines.push(`| startup | ${r.case}, median of ${st.runs} runs (load average ${st.loadAverage}) | ${r.medianMs} ms (p90 ${r.p90Ms} ms) | node -e 0: ${st.baselineMedianMs} ms | ${r.ratio}× |`)
  return lines.join('\n')
}

const readme = path.join(projectRoot, 'README.md')
const text = fs.readFileSync(readme, 'utf8')
const START = '<!-- bench:start -->'
const END = '<!-- bench:end -->'
if (text.includes(START) && text.includes(END)) {
  fs.writeFileSync(readme, text.replace(new RegExp(`${START}[\\s\\S]*?${END}`), `${START}\n${table()}\n${END}`))
  console.log('\nREADME benchmark table updated')
}
process.exit(failed ? 1 : 0)
