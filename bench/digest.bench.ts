// Builds and queues the digest for N synthetic subscribers (10,000 and 100,000; --quick:
// 2,000 and 10,000) in a temp SQLite database, on the real Redis (own key prefix, removed
// after). Each N runs in its own process, so its peak RSS is its own. Prints wall time and
// peak RSS, with ratios against baselines measured in the same run, and how both grow with N:
//   - noop-adds:  BullMQ addBulk of 10,000 empty jobs (the floor for any fan-out)
//   - fan-out:    what the scheduled digest job does: due subscribers + deliver jobs with deterministic ids
//   - build-all:  every subscriber's digest built and rendered (catalog loaded once), nothing sent
//   - per-job:    what one deliver job does before sending (its own catalog query), sampled
// Run: node bin/run-ts.mjs bench/digest.bench.ts [--quick] [--n 10000,100000]   → bench/results/digest.json
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { createContext } from '../src/app-context.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { jobId } from '../jobs/queues.js'
import { buildDueDigests, composeDigest, dueSubscribers, periodKey } from '../src/services/digest.service.js'
import { seed } from '../src/services/seed.service.js'
import { projectRoot } from '../src/util/paths.js'

const oneArg = process.argv.indexOf('--one')
if (oneArg < 0) {
  // The parent: one child process per N, then the results file with the growth between them.
  const nArg = process.argv.indexOf('--n')
  const ns = nArg > 0 ? process.argv[nArg + 1].split(',').map(Number) : process.argv.includes('--quick') ? [2_000, 10_000] : [10_000, 100_000]
  const rows: Record<string, any>[] = []
  for (const n of ns) {
    const r = spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'run-ts.mjs'), new URL(import.meta.url).pathname, '--one', String(n)], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
    const lines = r.stdout.split('\n')
    process.stdout.write(lines.filter((l) => !l.startsWith('RESULT ')).join('\n'))
    const line = lines.find((l) => l.startsWith('RESULT '))
    if (r.status !== 0 || !line) throw new Error(`digest bench for ${n} subscribers exited ${r.status}`)
    rows.push(JSON.parse(line.slice(7)))
  }
  const first = rows[0]
  const growth = rows.slice(1).map((r) => ({
    fromSubscribers: first.subscribers,
    toSubscribers: r.subscribers,
    subscribersRatio: Math.round((r.subscribers / first.subscribers) * 10) / 10,
    buildAndQueueTimeRatio: Number((r.ms.buildAndQueue / first.ms.buildAndQueue).toFixed(2)),
    perDigestTimeRatio: Number((r.ms.buildAll / r.digestsBuilt / (first.ms.buildAll / first.digestsBuilt)).toFixed(2)),
    peakRssRatio: Number((r.peakRssMb / first.peakRssMb).toFixed(2)),
  }))
  for (const g of growth) console.log(`digest growth ${g.fromSubscribers} → ${g.toSubscribers} subscribers (×${g.subscribersRatio}): build+queue time ×${g.buildAndQueueTimeRatio} (per digest ×${g.perDigestTimeRatio}), peak RSS ×${g.peakRssRatio}`)
  const out = path.join(projectRoot, 'bench', 'results', 'digest.json')
  fs.mkdirSync(path.dirname(out), { recursive: true })
  const result = { bench: 'digest', cores: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), date: new Date().toISOString(), node: process.version, rows, growth }
  fs.writeFileSync(`${out}.tmp`, JSON.stringify(result, null, 2) + '\n')
  fs.renameSync(`${out}.tmp`, out)
  process.exit(0)
}
const N = Number(process.argv[oneArg + 1])
const MEASURES = 400
const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const NOW = new Date('2026-11-28T04:00:00Z')

let seedRng = 42
const rnd = () => ((seedRng = (seedRng * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-bench-'))
const ctx = await createContext(loadConfig({ TBT_DATA_DIR: dir, TBT_LOG_LEVEL: 'silent' }), { log: createLogger('silent'), clock: () => NOW })
const prefix = `tbt-bench-${randomBytes(4).toString('hex')}`
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now()
  const value = await fn()
  return { ms: performance.now() - t, value }
}

try {
  await seed(ctx, { subscribers: false })
  const now = NOW.toISOString()
  const levels = ['low', 'medium', 'high'] as const
  const members = ['USA', 'DEU', 'VNM', 'IND', 'SAU', 'BRA', 'JPN', 'KOR', 'EU', 'AUS']
  // Synthetic measures, each with one notice, HS codes, a risk trace per category and one warning (1-2 categories).
  for (let i = 0; i < MEASURES; i++) {
    const member = pick(members)
    const cat = pick(ctx.categories)
    const key = `G/TBT/N/${member}/${1000 + i}`
    const m = await ctx.db
      .insertInto('measure')
      .values({ key, member, title: `Synthetic measure ${i} on ${cat.en}`, status: 'open', comment_deadline: `2026-12-${String(1 + (i % 28)).padStart(2, '0')}`, adoption_date: null, entry_into_force_date: null, first_distribution_date: '2026-11-20', created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow()
    const n = await ctx.db
      .insertInto('notice')
      .values({
        source_id: 'eping', source_item_id: `bench-${i}`, measure_id: m.id, symbol: key, symbols: JSON.stringify([key]), doc_type: 'regular', area: 'TBT', member, member_code: member,
        title: `Synthetic measure ${i} on ${cat.en}`, products: `${cat.en} products`, description: 'lithium battery labelling and conformity assessment', objectives: '[]', keywords: '[]', language: 'en',
        distribution_date: '2026-11-20', comment_deadline: null, adoption_date: null, adoption_text: null, entry_into_force_date: null, entry_into_force_text: null,
        links: JSON.stringify([`https://example.org/doc/${i}.pdf`]), source_url: `https://example.org/n/${i}`, content_hash: `h${i}`, raw_response_id: null, first_seen_at: now, updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await ctx.db.insertInto('notice_hs').values({ notice_id: n.id, code: cat.hs[0] }).execute()
    // One warning per measure, with every category it touches (warning_category).
    const cats = [cat, ...(rnd() < 0.3 ? [pick(ctx.categories)] : [])].filter((c, j, xs) => xs.findIndex((x) => x.id === c.id) === j)
    const scored = cats.map((c) => {
      const level = pick([...levels])
      return { c, level, score: level === 'high' ? 70 : level === 'medium' ? 45 : 25 }
    })
    for (const { c, level, score } of scored) {
      const trace = JSON.stringify([{ factor: 'exposure', points: 20, zh: `北京${c.zh}出口占比高`, en: `${c.en} matter to Beijing` }])
      await ctx.db.insertInto('risk_score').values({ measure_id: m.id, category_id: c.id, score, level, trace, rules_version: 'bench', scored_at: now }).execute()
    }
    const top = [...scored].sort((a, b) => b.score - a.score)[0]
    const w = await ctx.db
      .insertInto('warning')
      .values({ measure_id: m.id, category_id: top.c.id, level: top.level, score: top.score, status: rnd() < 0.6 ? 'confirmed' : 'new', assignee: null, note: null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow()
    await ctx.db.insertInto('warning_category').values(scored.map(({ c, level, score }) => ({ warning_id: w.id, category_id: c.id, score, level }))).execute()
    await ctx.db.insertInto('measure_member').values({ measure_id: m.id, member_code: member, position: 0 }).execute()
  }
  // Subscribers in batches: enterprises with 1-3 categories, some with markets; a few officials.
  const marketCodes = ctx.markets.filter((m) => m.watched).map((m) => m.code)
  for (let i = 0; i < N; i += 500) {
    const rows = Array.from({ length: Math.min(500, N - i) }, (_, j) => ({
      email: `sub${i + j}@bench.example.com`, name: null, role: (i + j) % 1000 === 0 ? 'official' : 'enterprise', lang: rnd() < 0.8 ? 'zh' : 'en',
      frequency: 'daily', min_level: pick(['low', 'low', 'medium', 'high']), confirmed_at: now, unsubscribed_at: null, created_at: now, updated_at: now,
    }))
    const ids = await ctx.db.insertInto('subscriber').values(rows).returning('id').execute()
    const subs = ids.flatMap(({ id }) => {
      const out = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({ subscriber_id: id, kind: 'category', value: pick(ctx.categories).id }))
      if (rnd() < 0.4) out.push({ subscriber_id: id, kind: 'market', value: pick(marketCodes) })
      return out.filter((s, k, xs) => xs.findIndex((x) => x.kind === s.kind && x.value === s.value) === k)
    })
    await ctx.db.insertInto('subscription').values(subs).execute()
  }
  const key = periodKey('daily', NOW, ctx.config.schedule.timezone)
  const noopQ = new Queue('bench-noop', { connection: redis, prefix })
  const deliverQ = new Queue('deliver', { connection: redis, prefix })

  // Warm up the connection and BullMQ's Lua scripts so the baseline times the adds only.
  await noopQ.addBulk(Array.from({ length: 100 }, (_, j) => ({ name: 'noop', data: {}, opts: { jobId: `warm-${j}` } })))
  await deliverQ.add('warm', {}, { jobId: 'warm' })
  await deliverQ.remove('warm')
  const noop = await timed(async () => {
    for (let i = 0; i < N; i += 1000) await noopQ.addBulk(Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ name: 'noop', data: {}, opts: { jobId: `noop-${i + j}` } })))
  })
  const fanout = await timed(async () => {
    const due = await dueSubscribers(ctx, 'daily', key)
    for (let i = 0; i < due.length; i += 1000) {
      await deliverQ.addBulk(due.slice(i, i + 1000).map((subscriberId) => ({ name: 'deliver', data: { subscriberId, period: 'daily', key }, opts: { jobId: jobId('deliver', 'daily', key, subscriberId) } })))
    }
    return due.length
  })
  const queued = await deliverQ.getJobCountByTypes('waiting', 'prioritized')
  let bytes = 0
  const build = await timed(async () => {
    let n = 0
    for await (const { mail } of buildDueDigests(ctx, 'daily', key)) {
      n++
      bytes += mail.html.length + mail.text.length
    }
    return n
  })
  const sample = (await dueSubscribers(ctx, 'daily', key)).filter((_, i) => i % Math.max(1, Math.floor(N / 200)) === 0)
  const perJob = await timed(async () => {
    for (const id of sample) {
      const sub = await ctx.db.selectFrom('subscriber').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
      const p = await composeDigest(ctx, sub, 'daily', key)
      if (p) await p.compose(new Set(p.warningIds))
    }
  })
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024)
  const warnings = Number((await ctx.db.selectFrom('warning').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    subscribers: N,
    warnings,
    digestsBuilt: build.value,
    jobsQueued: queued,
    ms: {
      noopAdds: Math.round(noop.ms),
      fanOut: Math.round(fanout.ms),
      buildAll: Math.round(build.ms),
      buildAndQueue: Math.round(build.ms + fanout.ms),
      perDeliverJob: Number((perJob.ms / Math.max(1, sample.length)).toFixed(2)),
    },
    ratios: {
      fanOutVsNoopAdds: Number((fanout.ms / noop.ms).toFixed(2)),
      buildAndQueueVsNoopAdds: Number(((build.ms + fanout.ms) / noop.ms).toFixed(2)),
      perJobBuildVsBulkBuild: Number((perJob.ms / Math.max(1, sample.length) / (build.ms / Math.max(1, build.value))).toFixed(2)),
    },
    renderedMb: Number((bytes / 1e6).toFixed(1)),
    peakRssMb,
  }
  console.log(`digest bench: ${N} subscribers, ${warnings} warnings`)
  console.log(`  baseline  noop addBulk ${N} jobs        ${result.ms.noopAdds} ms`)
  console.log(`  fan-out   due + deliver jobs (${queued})  ${result.ms.fanOut} ms   x${result.ratios.fanOutVsNoopAdds} baseline`)
  console.log(`  build     ${build.value} digests rendered      ${result.ms.buildAll} ms   (${result.renderedMb} MB of HTML+text)`)
  console.log(`  build+queue                          ${result.ms.buildAndQueue} ms   x${result.ratios.buildAndQueueVsNoopAdds} baseline`)
  console.log(`  per deliver job (own catalog query)  ${result.ms.perDeliverJob} ms   x${result.ratios.perJobBuildVsBulkBuild} a bulk-built digest`)
  console.log(`  peak RSS ${peakRssMb} MB`)
  console.log(`RESULT ${JSON.stringify(result)}`)
  await noopQ.close()
  await deliverQ.close()
} finally {
  const keys = await redis.keys(`${prefix}:*`).catch(() => [] as string[])
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000))
  redis.disconnect()
  await ctx.close()
  fs.rmSync(dir, { recursive: true, force: true })
}
