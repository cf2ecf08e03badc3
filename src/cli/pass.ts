import net from 'node:net'
import path from 'node:path'
import { createContext, type AppContext } from '../app-context.js'
import { assertSafeSecret, listenHost, loadConfig, sourceBaseUrlVar, type Config } from '../config.js'
import type { PassReport } from '../pipeline/run-pass.js'
import { UsageError, describeError, safeUrl, shownPath } from './errors.js'
import { nextSteps, type Guidance } from './first-run.js'
import { createProgress, type Progress } from './progress.js'

export interface RunOpts {
  replay?: string
  sources?: string[]
  since?: string
  json?: boolean
}

/** Where the database is, in words: a path relative to here for SQLite, the URL (no password) for PostgreSQL. */
export function databaseName(config: Config): string {
  if (config.databaseUrl.startsWith('sqlite:')) {
    const file = config.databaseUrl.slice('sqlite:'.length)
    return `the SQLite file ${file === ':memory:' ? file : shownPath(file)}`
  }
  return `PostgreSQL ${safeUrl(config.databaseUrl)}`
}

/** A long URL in a one-line failure, shortened to where it went: the rest helps nobody on a terminal. */
export function shortenUrls(text: string): string {
  return text.replace(/https?:\/\/[^\s]+/g, (u) => {
    if (u.length <= 80) return u
    try {
      const x = new URL(u.replace(/[:,;]+$/, ''))
      const tail = u.match(/[:,;]+$/)?.[0] ?? ''
      return `${x.origin}${x.pathname.length > 40 ? `${x.pathname.slice(0, 40)}…` : x.pathname}${x.search ? '?…' : ''}${tail}`
    } catch {
      return `${u.slice(0, 77)}…`
    }
  })
}

/** The one-pass run, optionally against a replay snapshot served locally. */
export async function runCommand(opts: RunOpts, ui: Progress = opts.json ? silent : createProgress()): Promise<{ report: PassReport; config: Config }> {
  // A wrong source id fails before anything starts, in one line (exit 2).
  if (opts.sources?.length) {
    const { sourcesFor } = await import('../../scrapers/registry.js')
    const known = sourcesFor(loadConfig()).map((s) => s.id)
    const unknown = opts.sources.filter((s) => !known.includes(s))
    if (unknown.length) throw new UsageError(`unknown source${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${known.join(', ')}`)
  }
  const { startReplayServer } = await import('../replay/replay-server.js')
  let replay: Awaited<ReturnType<typeof startReplayServer>> | undefined
  const env = { ...process.env }
  if (opts.replay) {
    replay = await startReplayServer(path.resolve(opts.replay))
    for (const id of Object.keys(replay.manifest.sources)) env[sourceBaseUrlVar(id)] = replay.url
    env.TBT_HTTP_MIN_DELAY_MS ??= '0'
    ui.say(`serving the recorded snapshot ${shownPath(opts.replay)} (${Object.keys(replay.manifest.sources).join(', ')}) at ${replay.url}`)
  }
  try {
    const config = loadConfig(env)
    const sources = opts.sources ?? (replay ? Object.keys(replay.manifest.sources) : undefined)
    const since = opts.since ?? replay?.manifest.since
    ui.say(`opening ${databaseName(config)}…`)
    const ctx = await createContext(config)
    try {
      const { runPass } = await import('../pipeline/run-pass.js')
      const report = await runPass(ctx, { sources, since, onProgress: ui.update }).finally(() => ui.stop())
      // The classifier learns from the coded notices the pass stored, once enough are new.
      const learnt = await learnFromPass(ctx)
      if (opts.json) console.log(JSON.stringify({ ...report, classifier: learnt }))
      else {
        printReport(report)
        console.log(learnt.line)
      }
      return { report, config }
    } finally {
      await ctx.close()
    }
  } finally {
    await replay?.close()
  }
}

const silent: Progress = { say() {}, update() {}, stop() {} }

/** After a pass: train the classifier if enough coded notices are new, and classify again what the model changes. */
async function learnFromPass(ctx: AppContext): Promise<{ trained: boolean; version: string | null; examples: number; reclassified: number; line: string }> {
  const { trainClassifier } = await import('../services/training.service.js')
  const t = await trainClassifier(ctx)
  if (!t.trained) return { trained: false, version: t.version, examples: t.examples, reclassified: 0, line: `classifier: ${t.reason}` }
  const { reclassifyAll } = await import('../services/reclassify.service.js')
  const r = await reclassifyAll(ctx)
  const m = t.metrics!
  const held = m.heldOut ? `held out ${m.heldOut}: chapter top-1 ${((m.chapterTop1 ?? 0) * 100).toFixed(1)}% (lexicon alone ${((m.lexiconChapterTop1 ?? 0) * 100).toFixed(1)}%)` : 'too few to hold any out'
  return { trained: true, version: t.version, examples: t.examples, reclassified: r.notices, line: `classifier: model ${t.version} learnt from ${t.examples} coded notices (${held}); ${r.notices} notices classified again, ${r.changed} changed` }
}

function printReport(r: PassReport) {
  console.log('source            status  requests  304  new raw  items  item errors  quarantined  new/changed notices')
  for (const s of r.sources) {
    console.log(
      `${s.sourceId.padEnd(17)} ${s.status.padEnd(7)} ${String(s.requests).padStart(8)} ${String(s.notModified).padStart(4)} ${String(s.rawNew).padStart(8)} ${String(s.items).padStart(6)} ${String(s.itemErrors).padStart(12)} ${String(s.quarantined).padStart(12)} ${String(s.notices).padStart(20)}`,
    )
    if (s.error) console.log(`  ! ${s.sourceId} failed: ${shortenUrls(s.error)}`)
  }
  const st = r.stages
  console.log(
    `classified ${st.classified} notices · scored ${st.measuresScored} measures · warnings raised ${st.warningsRaised}, updated ${st.warningsUpdated}, closed ${st.warningsClosed} · e-mails sent ${st.emailsSent}`,
  )
}

/** Fails at once, before a pass of minutes, when the web port is taken. */
async function checkPortFree(port: number): Promise<void> {
  if (port === 0) return
  await new Promise<void>((resolve, reject) => {
    const s = net.createServer()
    s.once('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { port })))
    s.listen(port, '0.0.0.0', () => s.close(() => resolve()))
  })
}

/** Links in e-mails and exports point at the port served when PUBLIC_BASE_URL is not set. */
export function defaultBaseUrl(port: number): void {
  if (!process.env.PUBLIC_BASE_URL && port) process.env.PUBLIC_BASE_URL = `http://localhost:${port}`
}

export interface PassThenServeOpts extends RunOpts {
  serve: boolean
  port: number
  demo?: boolean
}

/** `npm start` and `npm run demo`: a pass, then the web UI, then what to do next. */
export async function passThenServe(opts: PassThenServeOpts): Promise<void> {
  const serving = opts.serve && process.env.TBT_NO_SERVE !== '1'
  defaultBaseUrl(opts.port)
  // Refuse before the pass: its e-mails carry links signed with the secret too.
  assertSafeSecret(loadConfig())
  if (serving) await checkPortFree(opts.port)
  const ui = createProgress()
  const { report } = await runCommand(opts, ui)
  // The web UI's own context: the process's environment, not the pass's (whose sources pointed at the replay server, now closed).
  const ctx = await createContext(loadConfig())
  let app: { close(): Promise<unknown> } | undefined
  try {
    let demoLogin: Guidance['demoLogin']
    if (opts.demo) {
      const { ensureDemoAccount } = await import('./first-run.js')
      demoLogin = await ensureDemoAccount(ctx)
    }
    let port = opts.port
    if (serving) {
      const { serve } = await import('../web/server.js')
      const listen = listenHost(ctx.config)
      const server = await serve(ctx, opts.port, listen.host)
      app = server
      port = (server.server.address() as net.AddressInfo).port
      if (listen.why) console.log(listen.why)
    }
    const lines = await nextSteps(ctx, { serving, port, demo: !!opts.demo, demoLogin, report })
    console.log(lines.join('\n'))
  } catch (err) {
    await app?.close()
    await ctx.close()
    throw err
  }
  if (!app) return void (await ctx.close())
  stopOnSignal(app, ctx)
}

function stopOnSignal(app: { close(): Promise<unknown> }, ctx: AppContext) {
  const stop = async () => {
    await app.close()
    await ctx.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/** `tbt-watch serve`: waits for PostgreSQL with backoff (a server outlives an outage), then serves. */
export async function serveCommand(port: number): Promise<void> {
  defaultBaseUrl(port)
  const config = loadConfig()
  assertSafeSecret(config)
  const { createLogger } = await import('../logger.js')
  const { OutageReporter, outageSummaryMs, probeDatabase, withBackoff } = await import('./outage.js')
  const log = createLogger(config.logLevel)
  const reporter = new OutageReporter({
    service: 'PostgreSQL',
    url: safeUrl(config.databaseUrl),
    log: (level, fields, msg) => log[level](fields, msg),
    endpoints: config,
    summaryMs: outageSummaryMs(),
  })
  await withBackoff(() => probeDatabase(config.databaseUrl), reporter, { maxMs: Math.min(30_000, reporter.summaryMs) })
  const ctx = await createContext(config, { log })
  const listen = listenHost(config)
  let app
  try {
    const { serve } = await import('../web/server.js')
    app = await serve(ctx, port, listen.host)
  } catch (err) {
    await ctx.close()
    throw err
  }
  const actual = (app.server.address() as net.AddressInfo).port
  console.log(`web UI: http://localhost:${actual}/  (Ctrl-C to stop)`)
  if (listen.why) console.log(listen.why)
  const { accountHint } = await import('./first-run.js')
  const hint = await accountHint(ctx).catch((err) => `(could not count the accounts: ${describeError(err)})`)
  if (hint) console.log(hint)
  stopOnSignal(app, ctx)
}
