import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { registerClassifyCommand } from './commands/classify.command.js'
import { registerDigestCommand } from './commands/digest.command.js'
import { registerImportCommand } from './commands/import.command.js'
import { registerReviewCommands } from './commands/review.command.js'
import { registerSourcesCommand } from './commands/sources.command.js'
import { registerSubscriberCommand } from './commands/subscriber.command.js'
import type { AppContext } from '../app-context.js'
import { commanderLine, describeError, EXIT, exitCodeFor, UsageError } from './errors.js'

// Start-up: this file and the command files import nothing heavy at the top (commander
// and the error helpers only); each action imports what it uses, so `--help` and
// `stats` do not load the web server, the queues, the browser or the classifier.
import { registerRetryFailedCommand } from './commands/retry-failed.command.js'
import { registerCommentsCommand } from './commands/comments.command.js'

// Commands print their own report on stdout; the log (stderr) stays quiet unless asked,
// except for the long-running worker and web server.
if (!process.env.TBT_LOG_LEVEL && !['worker', 'serve'].includes(process.argv[2] ?? '')) process.env.TBT_LOG_LEVEL = 'warn'

/** The configured services, to name the one a connection error comes from. */
const endpoints = () => ({ databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL, smtpUrl: process.env.SMTP_URL })

/** Prints the one line an error deserves and sets the exit code; the stack only with TBT_DEBUG=1. */
function fail(err: unknown): void {
  console.error(`tbt-watch: ${describeError(err, endpoints())}`)
  if (process.env.TBT_DEBUG && err instanceof Error) console.error(err.stack)
  process.exitCode = exitCodeFor(err)
}

// A reader that stops early (`tbt-watch export … | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok)
  fail(err)
  process.exit(process.exitCode)
})

// Whatever escapes a command (an 'error' event nobody listens to, a stray rejection) still
// ends in one line. Being unexpected, the worker and the web server also log where it
// happened, as one JSON line (a process manager restarts them; the operator needs it).
const crash = (err: unknown) => {
  if (['worker', 'serve', 'start', 'demo'].includes(process.argv[2] ?? '') && err instanceof Error) {
    process.stderr.write(`${JSON.stringify({ level: 60, time: new Date().toISOString(), err: err.message, stack: err.stack, msg: 'crashed' })}\n`)
  }
  fail(err)
  process.exit(process.exitCode)
}
process.on('uncaughtException', crash)
process.on('unhandledRejection', crash)

let commanderMessage = ''
const program = new Command('tbt-watch')
  .description("Technical trade-barrier early warning for Beijing's exporters: scrape, classify, score, warn, e-mail")
  .addHelpText('after', '\nExit codes: 0 done; 1 the run failed (one line on stderr says why); 2 the command was wrong (usage); 3 digest: some e-mails failed.\nDocs: README.md, section "The CLI".')
  // commander throws instead of exiting, and its message becomes our one line (no help dump after it).
  .exitOverride()
  .configureOutput({ outputError: (str) => (commanderMessage = str) })

const isoDate = (v: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) throw new InvalidArgumentError('expected a date YYYY-MM-DD')
  return v
}
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean)
const port = (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)')
  return n
}

/** Opens the context for a command and always closes it (src/cli/with-context.ts, loaded when a command runs). */
async function withContext<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  return (await import('./with-context.js')).withContext(fn)
}

program
  .command('migrate')
  .description('create or upgrade the database schema')
  .action(async () => {
    const { migrateToLatest, openDatabase } = await import('../db/database.js')
    const { loadConfig } = await import('../config.js')
    const config = loadConfig()
    const handle = openDatabase(config.databaseUrl, { schema: config.databaseSchema })
    try {
      const applied = await migrateToLatest(handle.db, config.databaseSchema)
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date')
    } finally {
      await handle.close()
    }
  })

program
  .command('seed')
  .description('load categories, markets, sources and the demo subscribers')
  .action(async () => {
    const { seed } = await import('../services/seed.service.js')
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

program
  .command('run')
  .description('run one pass of the whole pipeline in this process (no Redis needed)')
  .option('--replay <dir>', 'serve a recorded snapshot of source responses locally and scrape that')
  .option('--sources <ids>', 'comma-separated source ids (default: all)', list)
  .option('--since <date>', 'fetch nothing distributed before this date (YYYY-MM-DD)', isoDate)
  .option('--json', 'print the pass report as JSON')
  .action(async (opts: RunOpts) => {
    await (await import('./pass.js')).runCommand(opts)
  })

program
  .command('start')
  .description('one pass against the live sources, then serve the web UI (npm start)')
  .addOption(new Option('--no-serve', 'exit after the pass instead of serving the web UI'))
  .option('--port <n>', 'web port', port, 8080)
  .action(async (opts: { serve: boolean; port: number }) => {
    // An unsafe secret is refused before anything else is said (issue 15).
    const { assertSafeSecret, loadConfig } = await import('../config.js')
    assertSafeSecret(loadConfig())
    process.stderr.write('tbt-watch start: one pass over the live sources, then the web UI\n')
    await (await import('./pass.js')).passThenServe(opts)
  })

program
  .command('demo')
  .description('the same offline: one pass over the bundled replay snapshot, then serve the web UI (npm run demo)')
  .addOption(new Option('--no-serve', 'exit after the pass instead of serving the web UI'))
  .option('--port <n>', 'web port', port, 8080)
  .action(async (opts: { serve: boolean; port: number }) => {
    // An unsafe secret is refused before anything else is said (issue 15).
    const { assertSafeSecret, loadConfig } = await import('../config.js')
    assertSafeSecret(loadConfig())
    process.stderr.write('tbt-watch demo: one pass over the recorded snapshot (no network needed), then the web UI\n')
    const pass = await import('./pass.js')
    const { DEFAULT_REPLAY_DIR } = await import('../replay/replay-server.js')
    await pass.passThenServe({ ...opts, replay: DEFAULT_REPLAY_DIR, demo: true })
  })

program
  .command('serve')
  .description('serve the web UI (links in e-mails use this port unless PUBLIC_BASE_URL is set)')
  .option('--port <n>', 'web port', port, 8080)
  .action(async (opts: { port: number }) => (await import('./pass.js')).serveCommand(opts.port))

program
  .command('worker')
  .description('run the BullMQ workers and job schedulers (needs REDIS_URL)')
  .option('--no-schedule', 'do not (re)create the job schedulers')
  .action(async (opts: { schedule: boolean }) => {
    const { loadConfig } = await import('../config.js')
    const config = loadConfig()
    await (await import('./worker.js')).workerCommand(config, opts)
  })

program
  .command('scrape <source>')
  .description('scrape one source and store its notices')
  .option('--since <date>', 'fetch nothing distributed before this date', isoDate)
  .action(async (sourceId: string, opts: { since?: string }) => {
    const { seed } = await import('../services/seed.service.js')
    const { scrapeSource } = await import('../services/scrape.service.js')
    const { ingestRaw } = await import('../services/ingest.service.js')
    const { shortenUrls } = await import('./pass.js')
    await withContext(async (ctx) => {
      if (!ctx.sources.some((s) => s.id === sourceId)) throw new UsageError(`unknown source ${sourceId}; known: ${ctx.sources.map((s) => s.id).join(', ')}`)
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
        console.error(`tbt-watch: ${sourceId} failed: ${shortenUrls(r.error)}`)
        process.exitCode = EXIT.failed
      }
    })
  })

program
  .command('stats')
  .description('counts of what the database holds')
  .option('--json', 'one JSON object')
  .action(async (opts: { json?: boolean }) => {
    const { collectStats } = await import('../services/stats.service.js')
    const { withDatabase } = await import('./with-context.js')
    await withDatabase(async (db) => {
      const s = await collectStats(db)
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
    if (what !== 'notices' && what !== 'warnings') throw new UsageError(`export what? notices or warnings, not ${what}`)
    const { exportCommand } = await import('./export.js')
    await exportCommand(what, opts)
  })

program
  .command('reclassify')
  .description('classify again the stored notices that an older classifier or model classified (--all: every notice), then re-score and re-warn what changed')
  .option('--all', 'every stored notice, whatever classified it')
  .action(async (opts: { all?: boolean }) => {
    const { reclassifyAll } = await import('../services/reclassify.service.js')
    await withContext(async (ctx) => {
      const r = await reclassifyAll(ctx, { all: opts.all })
      console.log(`reclassified ${r.notices} notices with ${r.version}: ${r.changed} changed, ${r.measures} measures re-scored, warnings raised ${r.raised}, updated ${r.updated}`)
    })
  })

registerClassifyCommand(program)
registerDigestCommand(program)
registerSubscriberCommand(program)
registerSourcesCommand(program)
registerReviewCommands(program)
registerImportCommand(program)
registerRetryFailedCommand(program)
registerCommentsCommand(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    // --help, --version and `help <command>` end here too, having printed what was asked.
    if (err.exitCode === 0) process.exitCode = EXIT.ok
    else {
      // A command group without its subcommand (`tbt-watch subscriber`) prints its help; anything else is one line.
      if (err.code !== 'commander.help' && err.code !== 'commander.executeSubCommandAsync') {
        const line = commanderLine(commanderMessage || err.message)
        console.error(`tbt-watch: ${line}${line.startsWith('unknown command') ? ' (tbt-watch --help lists the commands)' : ''}`)
      }
      process.exitCode = EXIT.usage
    }
  } else fail(err)
}
