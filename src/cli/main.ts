import fs from 'node:fs'
import path from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import { createContext, type AppContext } from '../app-context.js'
import { loadConfig, sourceBaseUrlVar, type Config } from '../config.js'
import { migrateToLatest } from '../db/database.js'
import { runPass, type PassReport } from '../pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer } from '../replay/replay-server.js'
import { csvField, exportNotices, exportWarnings } from '../services/export.service.js'
import { ingestRaw } from '../services/ingest.service.js'
import { reclassifyAll } from '../services/reclassify.service.js'
import { scrapeSource } from '../services/scrape.service.js'
import { seed } from '../services/seed.service.js'
import { collectStats } from '../services/stats.service.js'
import { serve } from '../web/server.js'
import { registerClassifyCommand } from './commands/classify.command.js'
import { registerDigestCommand } from './commands/digest.command.js'
import { registerSubscriberCommand } from './commands/subscriber.command.js'
import { registerSourcesCommand } from './commands/sources.command.js'
import { registerReviewCommands } from './commands/review.command.js'
import { registerRetryFailedCommand } from './commands/retry-failed.command.js'
import { createProgress } from './progress.js'

// Commands print their own report on stdout; the log (stderr) stays quiet unless asked,
// except for the long-running worker and web server.
if (!process.env.TBT_LOG_LEVEL && !['worker', 'serve'].includes(process.argv[2] ?? '')) process.env.TBT_LOG_LEVEL = 'warn'

const program = new Command('tbt-watch')
  .description("Technical trade-barrier early warning for Beijing's exporters: scrape, classify, score, warn, e-mail")
  .showHelpAfterError()

const isoDate = (v: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) throw new InvalidArgumentError('expected a date YYYY-MM-DD')
  return v
}
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean)
const port = (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number')
  return n
}

/** Opens the context for a command and always closes it, whatever happens. */
async function withContext<T>(fn: (ctx: AppContext) => Promise<T>, config: Config = loadConfig()): Promise<T> {
  const ctx = await createContext(config)
  try {
    return await fn(ctx)
  } finally {
    await ctx.close()
  }
}

program
  .command('migrate')
  .description('create or upgrade the database schema')
  .action(async () => {
    await withContext(async (ctx) => {
      const applied = await migrateToLatest(ctx.db)
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date')
    })
  })

program
  .command('seed')
  .description('load categories, markets, sources and the demo subscribers')
  .action(async () => {
    await withContext(async (ctx) => {
      const r = await seed(ctx)
      console.log(`categories ${r.categories}, markets ${r.markets}, sources ${r.sources}, subscribers ${r.subscribers}`)
    })
  })

interface RunOpts {
  replay?: string
  sources?: string[]
  since?: string
  json?: boolean
}

/** The one-pass run, optionally against a replay snapshot served locally. */
async function runCommand(opts: RunOpts): Promise<PassReport> {
  let replay: Awaited<ReturnType<typeof startReplayServer>> | undefined
  const env = { ...process.env }
  if (opts.replay) {
    replay = await startReplayServer(path.resolve(opts.replay))
    for (const id of Object.keys(replay.manifest.sources)) env[sourceBaseUrlVar(id)] = replay.url
    env.TBT_HTTP_MIN_DELAY_MS ??= '0'
  }
  const config = loadConfig(env)
  const sources = opts.sources ?? (replay ? Object.keys(replay.manifest.sources) : undefined)
  const since = opts.since ?? replay?.manifest.since
  try {
    return await withContext(async (ctx) => {
      const unknown = (sources ?? []).filter((s) => !ctx.sources.some((x) => x.id === s))
      if (unknown.length) throw new InvalidArgumentError(`unknown source(s): ${unknown.join(', ')}; known: ${ctx.sources.map((s) => s.id).join(', ')}`)
      const progress = opts.json ? undefined : createProgress()
      const report = await runPass(ctx, { sources, since, onProgress: progress?.update }).finally(() => progress?.stop())
      if (opts.json) console.log(JSON.stringify(report))
      else printReport(report)
      return report
    }, config)
  } finally {
    await replay?.close()
  }
}

function printReport(r: PassReport) {
  console.log('source            status  requests  304  new raw  items  item errors  quarantined  new/changed notices')
  for (const s of r.sources) {
    console.log(
      `${s.sourceId.padEnd(17)} ${s.status.padEnd(7)} ${String(s.requests).padStart(8)} ${String(s.notModified).padStart(4)} ${String(s.rawNew).padStart(8)} ${String(s.items).padStart(6)} ${String(s.itemErrors).padStart(12)} ${String(s.quarantined).padStart(12)} ${String(s.notices).padStart(20)}`,
    )
    if (s.error) console.log(`  ! ${s.sourceId} failed: ${s.error}`)
  }
  const st = r.stages
  console.log(
    `classified ${st.classified} notices · scored ${st.measuresScored} measures · warnings raised ${st.warningsRaised}, updated ${st.warningsUpdated}, closed ${st.warningsClosed} · e-mails sent ${st.emailsSent}`,
  )
}

program
  .command('run')
  .description('run one pass of the whole pipeline in this process (no Redis needed)')
  .option('--replay <dir>', 'serve a recorded snapshot of source responses locally and scrape that')
  .option('--sources <ids>', 'comma-separated source ids (default: all)', list)
  .option('--since <date>', 'fetch nothing distributed before this date (YYYY-MM-DD)', isoDate)
  .option('--json', 'print the pass report as JSON')
  .action(async (opts: RunOpts) => {
    await runCommand(opts)
  })

const serveOption = new Option('--no-serve', 'exit after the pass instead of serving the web UI')
async function passThenServe(opts: RunOpts & { serve: boolean; port: number }) {
  await runCommand(opts)
  if (!opts.serve || process.env.TBT_NO_SERVE === '1') return
  await serveCommand(opts.port)
}

program
  .command('start')
  .description('one pass against the live sources, then serve the web UI (npm start)')
  .addOption(serveOption)
  .option('--port <n>', 'web port', port, 8080)
  .action(passThenServe)

program
  .command('demo')
  .description('the same offline: one pass over the bundled replay snapshot, then serve the web UI (npm run demo)')
  .addOption(new Option('--no-serve', 'exit after the pass instead of serving the web UI'))
  .option('--port <n>', 'web port', port, 8080)
  .action((opts: { serve: boolean; port: number }) => passThenServe({ ...opts, replay: DEFAULT_REPLAY_DIR }))

async function serveCommand(p: number) {
  const ctx = await createContext(loadConfig())
  let app
  try {
    app = await serve(ctx, p)
  } catch (err) {
    await ctx.close()
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`port ${p} is already in use: is tbt-watch already serving? (choose another with --port)`)
      process.exitCode = 1
      return
    }
    throw err
  }
  console.log(`web UI: http://localhost:${p}/  (Ctrl-C to stop)`)
  const stop = async () => {
    await app.close()
    await ctx.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

program
  .command('serve')
  .description('serve the web UI')
  .option('--port <n>', 'web port', port, 8080)
  .action(async (opts: { port: number }) => serveCommand(opts.port))

program
  .command('worker')
  .description('run the BullMQ workers and job schedulers (needs REDIS_URL)')
  .option('--no-schedule', 'do not (re)create the job schedulers')
  .action(async (opts: { schedule: boolean }) => {
    const config = loadConfig()
    if (!config.redisUrl) throw new InvalidArgumentError('worker needs REDIS_URL (e.g. redis://127.0.0.1:6379)')
    const ctx = await createContext(config)
    await seed(ctx, { subscribers: false })
    // Load the classifier before taking jobs: loading blocks the event loop for seconds,
    // which inside a job would stop its lock being renewed and make it look stalled.
    await ctx.classifier()
    // The CLI is the one place that starts the queue boundary; nothing in src/ imports jobs/.
    const { startWorkers } = await import('../../jobs/worker.js')
    const { createMetrics, registerDbGauges, registerQueueGauges } = await import('../ops/metrics.js')
    const metrics = createMetrics({ processDefaults: true })
    const pool = await startWorkers(ctx, { redisUrl: config.redisUrl, prefix: config.queuePrefix }, { schedule: opts.schedule, metrics })
    let metricsServer: { port: number; close(): Promise<void> } | undefined
    if (config.metricsPort !== undefined) {
      registerDbGauges(metrics.registry, ctx.db)
      registerQueueGauges(metrics.registry, Object.values(pool.queues))
      const { startMetricsServer } = await import('../ops/metrics-server.js')
      metricsServer = await startMetricsServer(metrics.registry, config.metricsPort)
    }
    ctx.log.info({ prefix: config.queuePrefix, pid: process.pid, metricsPort: metricsServer?.port }, 'workers started')
    let stopping = false
    const shutdown = async (signal: string) => {
      if (stopping) return
      stopping = true
      ctx.log.info({ signal }, 'shutting down')
      await metricsServer?.close()
      await pool.close() // workers (running jobs finish), then queues
      await ctx.close() // browser, mailer, database
      pool.disconnect() // Redis last
      process.exit(0)
    }
    process.once('SIGINT', () => void shutdown('SIGINT'))
    process.once('SIGTERM', () => void shutdown('SIGTERM'))
  })

program
  .command('scrape <source>')
  .description('scrape one source and store its notices')
  .option('--since <date>', 'fetch nothing distributed before this date', isoDate)
  .action(async (sourceId: string, opts: { since?: string }) => {
    await withContext(async (ctx) => {
      await seed(ctx, { subscribers: false })
      const r = await scrapeSource(ctx, sourceId, { since: opts.since })
      let items = 0
      let changed = 0
      for (const id of r.pendingRawIds) {
        const i = await ingestRaw(ctx, id)
        items += i.items
        changed += i.changedNoticeIds.length
      }
      console.log(`${sourceId}: ${r.status}, ${r.requests} requests (${r.notModified} not modified), ${r.rawNew} new responses, ${items} items, ${changed} new or changed notices`)
      if (r.error) {
        console.log(`  ! ${r.error}`)
        process.exitCode = 2
      }
    })
  })

program
  .command('stats')
  .description('counts of what the database holds')
  .option('--json', 'one JSON object')
  .action(async (opts: { json?: boolean }) => {
    await withContext(async (ctx) => {
      const s = await collectStats(ctx.db)
      if (opts.json) return console.log(JSON.stringify(s))
      console.log(`sources ${s.sources} · raw responses ${s.rawResponses}`)
      console.log(`notices ${s.notices} · measures ${s.measures} · classifications ${s.classifications} · risk scores ${s.riskScores}`)
      console.log(`warnings ${s.warnings}: ${Object.entries(s.warningsByStatus).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`)
      console.log(`subscribers ${s.subscribers} · e-mails sent ${s.emails}${s.opsAlerts ? ` · open operations alerts ${s.opsAlerts}` : ''}`)
    })
  })

program
  .command('export <what>')
  .description('export notices or warnings, one record a line')
  .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
  .option('--out <file>', 'write to a file instead of standard output')
  .action(async (what: string, opts: { format: 'jsonl' | 'csv'; out?: string }) => {
    if (what !== 'notices' && what !== 'warnings') throw new InvalidArgumentError('export what? notices or warnings')
    await withContext(async (ctx) => {
      const out = opts.out ? fs.createWriteStream(opts.out) : process.stdout
      const write = (s: string) => new Promise<void>((resolve, reject) => (out.write(s) ? resolve() : out.once('drain', resolve).once('error', reject)))
      const records = what === 'notices' ? exportNotices(ctx.db) : exportWarnings(ctx.db)
      let header: string[] | undefined
      let n = 0
      for await (const rec of records as AsyncIterable<Record<string, unknown>>) {
        if (opts.format === 'jsonl') await write(`${JSON.stringify(rec)}\n`)
        else {
          if (!header) {
            header = Object.keys(rec)
            await write(`${header.join(',')}\r\n`)
          }
          await write(`${header.map((k) => csvField(rec[k])).join(',')}\r\n`)
        }
        n++
      }
      if (opts.out) {
        await new Promise<void>((resolve) => (out as fs.WriteStream).end(resolve))
        console.error(`${n} ${what} written to ${opts.out}`)
      }
    })
  })

program
  .command('reclassify')
  .description('re-run the classifier over every stored notice, then re-score and re-warn what changed')
  .action(async () => {
    await withContext(async (ctx) => {
      const r = await reclassifyAll(ctx)
      console.log(`reclassified ${r.notices} notices: ${r.changed} changed, ${r.measures} measures re-scored, warnings raised ${r.raised}, updated ${r.updated}`)
    })
  })

registerClassifyCommand(program)
registerDigestCommand(program)
registerSubscriberCommand(program)
registerSourcesCommand(program)
registerReviewCommands(program)
registerRetryFailedCommand(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  const e = err as Error & { code?: string }
  console.error(`tbt-watch: ${e.message}`)
  if (process.env.TBT_DEBUG) console.error(e.stack)
  process.exitCode = e instanceof InvalidArgumentError ? 2 : 1
}
