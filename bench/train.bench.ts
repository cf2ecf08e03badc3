// Training the classifier's model at scale: N synthetic labelled notices (bench/synthetic-
// notices.ts) learnt and trained in a fresh process each (10,000 and 100,000), timed and
// with the process's peak memory; then classification speed with the trained model
// against the same classifier without one, on one core.
//   node bin/run-ts.mjs bench/train.bench.ts [--quick]
// Writes bench/results/train.json.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createClassifier, type LabelledExample } from '../src/classify/index.js'
import { projectRoot } from '../src/util/paths.js'
import { syntheticNotices } from './synthetic-notices.js'

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }
const maxRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024)

async function one(n: number) {
  const data = syntheticNotices(n)
  const examples: LabelledExample[] = data.map((d, i) => ({ text: { ...d.input, id: `T/${i}` }, hsCodes: [d.code] }))
  const c = await createClassifier()
  const rssBefore = maxRssMb()
  const t0 = performance.now()
  const cpu0 = cpu()
  c.learn(examples)
  const r = c.train()
  const seconds = (performance.now() - t0) / 1000
  const cpuSeconds = cpu() - cpu0
  // Speed with the model, per CPU-second, on notices it did not train on.
  const probe = syntheticNotices(n + 5000).slice(n).map((d, i) => ({ ...d.input, id: `P/${i}` }))
  for (const p of probe.slice(0, 3000)) c.classify(p)
  let c0 = cpu()
  for (const p of probe) c.classify(p)
  const withModel = probe.length / (cpu() - c0)
  const bare = await createClassifier()
  for (const p of probe.slice(0, 3000)) bare.classify(p)
  c0 = cpu()
  for (const p of probe) bare.classify(p)
  const without = probe.length / (cpu() - c0)
  return {
    notices: n,
    trainSeconds: +seconds.toFixed(1),
    trainCpuSeconds: +cpuSeconds.toFixed(1),
    trainedOn: r.metrics.trained,
    heldOut: r.metrics.heldOut,
    heldOutChapterTop1: r.metrics.chapterTop1,
    peakRssMb: maxRssMb(),
    rssBeforeMb: rssBefore,
    features: c.exportModel()!.model.data.chapters.features.length,
    classifyPerSecondWithModel: Math.round(withModel),
    classifyPerSecondWithout: Math.round(without),
  }
}

if (process.argv[2] === '--one') {
  console.log(JSON.stringify(await one(Number(process.argv[3]))))
  process.exit(0)
}

const sizes = process.argv.includes('--quick') ? [2000, 10000] : [10000, 100000]
const rows = []
for (const n of sizes) {
  const r = spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'run-ts.mjs'), path.join(projectRoot, 'bench', 'train.bench.ts'), '--one', String(n)], { encoding: 'utf8', cwd: projectRoot, maxBuffer: 1 << 24 })
  if (r.status !== 0) {
    console.error(r.stderr)
    process.exit(1)
  }
  const row = JSON.parse(r.stdout.trim().split('\n').pop()!)
  rows.push(row)
  console.log(`train ${row.notices} notices: ${row.trainSeconds} s (${row.trainCpuSeconds} CPU-s), peak RSS ${row.peakRssMb} MB, ${row.features} features; classify ${row.classifyPerSecondWithModel}/s with the model, ${row.classifyPerSecondWithout}/s without`)
}
const [a, b] = rows
const result = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  loadAverage: +os.loadavg()[0].toFixed(1),
  date: new Date().toISOString(),
  rows,
  growth: { noticesRatio: b.notices / a.notices, timeRatio: +(b.trainSeconds / a.trainSeconds).toFixed(2), peakRssRatio: +(b.peakRssMb / a.peakRssMb).toFixed(2) },
  modelCostRatio: +(b.classifyPerSecondWithout / b.classifyPerSecondWithModel).toFixed(2),
}
console.log(`growth ×${result.growth.noticesRatio} notices: time ×${result.growth.timeRatio}, peak RSS ×${result.growth.peakRssRatio}; classifying with the model costs ×${result.modelCostRatio} the time without`)
const dir = path.join(projectRoot, 'bench', 'results')
fs.mkdirSync(dir, { recursive: true })
fs.writeFileSync(path.join(dir, 'train.json'), JSON.stringify(result, null, 2) + '\n')
