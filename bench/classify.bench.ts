// Classifier throughput: our classifier beside natural's BayesClassifier on the same
// notices, on one core, after loading. Run: node bin/run-ts.mjs bench/classify.bench.ts [N]
//
// Notices are synthetic: made-up title templates in English, Spanish, French and Chinese
// filled with product terms drawn from rules/lexicon (so the words are realistic and the
// labels known), plus a description of filler sentences. natural's classifier is trained
// on the same notices and then asked about all of them, so the ratio compares like with
// like. Writes bench/results/classify.json.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier.js'
import { createClassifier, type ClassifyInput } from '../src/classify/index.js'
import { syntheticNotices as notices } from './synthetic-notices.js'
import { projectRoot } from '../src/util/paths.js'

const N = Number(process.argv[2] ?? 5000)
const WARMUP = 3000

const rss = () => process.memoryUsage().rss / 2 ** 20
// CPU time of this (single-threaded) process: on a shared, busy machine wall time
// measures the neighbours; CPU time measures the work, i.e. one core's throughput.
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }
const maxRss = () => process.resourceUsage().maxRSS / 1024

const data = notices(N + WARMUP)
const warm = data.slice(0, WARMUP)
const timed = data.slice(WARMUP)

// Ours, out of the box (no learnt model), after loading.
const t0 = performance.now()
const ours = await createClassifier()
const loadMs = performance.now() - t0
for (const d of warm) ours.classify(d.input)
let s = performance.now()
let c0 = cpu()
let hits = 0
for (const d of timed) if (ours.classify(d.input).hs[0]?.code.startsWith(d.chapter)) hits++
const oursWall = (performance.now() - s) / 1000
const oursRate = timed.length / (cpu() - c0)
const oursRss = maxRss()

// natural's BayesClassifier, trained on the same notices (titles, products, descriptions).
const text = (i: ClassifyInput) => [i.title, i.products, i.description].join(' ')
const bayes = new BayesClassifier()
s = performance.now()
for (const d of data) bayes.addDocument(text(d.input), d.chapter)
bayes.train()
const trainSeconds = (performance.now() - s) / 1000
for (const d of warm.slice(0, 50)) bayes.classify(text(d.input))
s = performance.now()
c0 = cpu()
let bayesHits = 0
for (const d of timed) if (bayes.classify(text(d.input)) === d.chapter) bayesHits++
const bayesWall = (performance.now() - s) / 1000
const bayesRate = timed.length / (cpu() - c0)

const result = {
  notices: timed.length,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  loadSeconds: +(loadMs / 1000).toFixed(3),
  ours: { noticesPerSecond: Math.round(oursRate), noticesPerWallSecond: Math.round(timed.length / oursWall), chapterTop1OnSynthetic: +(hits / timed.length).toFixed(3) },
  naturalBayes: { noticesPerSecond: Math.round(bayesRate), noticesPerWallSecond: Math.round(timed.length / bayesWall), trainSeconds: +trainSeconds.toFixed(2), chapterTop1OnItsTrainingNotices: +(bayesHits / timed.length).toFixed(3) },
  speedRatio: +(oursRate / bayesRate).toFixed(1),
  peakRssMbAfterOurs: Math.round(oursRss),
  peakRssMbTotal: Math.round(maxRss()),
  rssMbNow: Math.round(rss()),
  loadAverage: +os.loadavg()[0].toFixed(1),
  date: new Date().toISOString(),
}
console.log(`classify ${timed.length} synthetic notices on one core (after ${result.loadSeconds}s loading)`)
console.log(`  (rates per CPU-second of this process; load average now ${os.loadavg()[0].toFixed(1)})`)
console.log(`  tbt-watch classifier : ${result.ours.noticesPerSecond} notices/s, chapter top-1 ${result.ours.chapterTop1OnSynthetic} (no training)`)
console.log(`  natural BayesClassifier: ${result.naturalBayes.noticesPerSecond} notices/s, chapter top-1 ${result.naturalBayes.chapterTop1OnItsTrainingNotices} (trained on these notices, ${result.naturalBayes.trainSeconds}s)`)
console.log(`  speed ratio ours/natural: ${result.speedRatio}x`)
console.log(`  peak RSS: ${result.peakRssMbAfterOurs} MB after ours, ${result.peakRssMbTotal} MB with natural's model too`)
const dir = path.join(projectRoot, 'bench', 'results')
fs.mkdirSync(dir, { recursive: true })
fs.writeFileSync(path.join(dir, 'classify.json'), JSON.stringify(result, null, 2) + '\n')
