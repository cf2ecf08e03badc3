// Scraping throughput: our HTTP engine (scrapers/http-client.ts + cheerio) against
// crawlee's CheerioCrawler on the same local fixture site, politeness delays off.
// Our engine keeps one request at a time per host by design; crawlee is measured both
// like-for-like (maxConcurrency 1) and at its default autoscaled concurrency.
// Run: node bin/run-ts.mjs bench/scrape.bench.ts [--quick]. Writes bench/results/scrape.json.
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import * as cheerio from 'cheerio'
import { CheerioCrawler, Configuration } from '@crawlee/cheerio'
import { HttpClient } from '../scrapers/http-client.js'
import { projectRoot } from '../src/util/paths.js'

const quick = process.argv.includes('--quick')
const PAGES = quick ? 300 : 2_000

const page = (i: number) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Notice ${i}</title></head><body><h1>G/TBT/N/USA/${i}</h1>
<table>${Array.from({ length: 20 }, (_, r) => `<tr><td>field ${r}</td><td>value ${i}-${r} lithium-ion batteries, HS 8507.60</td></tr>`).join('')}</table>
<p>${'The draft regulation sets requirements. '.repeat(40)}</p></body></html>`

const server = http.createServer((req, res) => {
  const i = Number(/\/notice\/(\d+)/.exec(req.url ?? '')?.[1] ?? -1)
  if (i < 0) return void res.writeHead(404).end()
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(i))
})
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const urls = Array.from({ length: PAGES }, (_, i) => `${base}/notice/${i}`)

async function ours(): Promise<number> {
  const client = new HttpClient({ userAgent: 'bench', timeoutMs: 10_000, minDelayMs: 0 })
  const t0 = performance.now()
  let titles = 0
  for (const u of urls) {
    const res = await client.request(u)
    if (cheerio.load(res.body)('h1').text()) titles++
  }
  if (titles !== PAGES) throw new Error(`ours parsed ${titles}/${PAGES}`)
  return PAGES / ((performance.now() - t0) / 1000)
}

async function crawlee(maxConcurrency?: number): Promise<number> {
  let titles = 0
  const config = new Configuration({ persistStorage: false, purgeOnStart: true })
  const crawler = new CheerioCrawler(
    {
      maxConcurrency,
      maxRequestRetries: 0,
      requestHandler: async ({ $ }) => {
        if ($('h1').text()) titles++
      },
    },
    config,
  )
  const t0 = performance.now()
  await crawler.run(urls.map((url, i) => ({ url, uniqueKey: `${i}` })))
  if (titles !== PAGES) throw new Error(`crawlee parsed ${titles}/${PAGES}`)
  return PAGES / ((performance.now() - t0) / 1000)
}

process.env.CRAWLEE_LOG_LEVEL ??= 'ERROR'
await ours() // warm-up (JIT, sockets)
const oursPps = await ours()
const crawleeSerial = await crawlee(1)
const crawleeDefault = await crawlee()
server.close()
const r2 = (x: number) => Math.round(x * 100) / 100
const out = {
  bench: 'scrape',
  pages: PAGES,
  cores: os.cpus().length,
  memoryGb: Math.round(os.totalmem() / 2 ** 30),
  loadAverage: r2(os.loadavg()[0]),
  oursPagesPerSecond: Math.round(oursPps),
  crawleeSerialPagesPerSecond: Math.round(crawleeSerial),
  crawleeDefaultPagesPerSecond: Math.round(crawleeDefault),
  ratioVsCrawleeSerial: r2(oursPps / crawleeSerial),
  ratioVsCrawleeDefault: r2(oursPps / crawleeDefault),
  date: new Date().toISOString(),
}
fs.mkdirSync(path.join(projectRoot, 'bench', 'results'), { recursive: true })
fs.writeFileSync(path.join(projectRoot, 'bench', 'results', 'scrape.json'), `${JSON.stringify(out, null, 2)}\n`)
console.log(`scrape: ours ${out.oursPagesPerSecond} pages/s; crawlee CheerioCrawler ${out.crawleeSerialPagesPerSecond} (concurrency 1) / ${out.crawleeDefaultPagesPerSecond} (default) pages/s; ratio ${out.ratioVsCrawleeSerial} / ${out.ratioVsCrawleeDefault}`)
process.exit(0)
