import type { Browser } from 'playwright-core'
import type { ChromiumEngine } from '../scrapers/browser/chromium.js'
import { HttpClient } from '../scrapers/http-client.js'
import { sourcesFor } from '../scrapers/registry.js'
import type { Source } from '../scrapers/types.js'
import type { Classifier } from './classify/index.js'
import type { Config } from './config.js'
import { migrateToLatest, openDatabase, type Db, type Dialect } from './db/database.js'
import { CategoryIndex, loadCategories, type Category } from './domain/categories.js'
import { loadMarkets, type Market } from './domain/markets.js'
import { createLogger, type Logger } from './logger.js'
import { createMailer, type Mailer } from './mail/mailer.js'
import { faultPoints, type FaultPoint } from './ops/fault-points.js'
import { loadRiskRules, type RiskRules } from './risk/rules.js'

/**
 * Everything a stage needs, built once per process from the validated config. The
 * expensive parts (classifier, mailer) are created on first use.
 */
export interface AppContext {
  config: Config
  db: Db
  dialect: Dialect
  log: Logger
  clock: () => Date
  categories: Category[]
  categoryIndex: CategoryIndex
  markets: Market[]
  rules: RiskRules
  sources: Source[]
  http: HttpClient
  classifier(): Promise<Classifier>
  mailer(): Mailer
  /** Test-only crash injection (TBT_CRASH_AT); a no-op otherwise. */
  fault: FaultPoint
  /** The shared Chromium of the browser engine, launched on first use. */
  browser(): Promise<Browser>
  close(): Promise<void>
}

export interface ContextOptions {
  log?: Logger
  clock?: () => Date
  /** PostgreSQL schema to use (tests). */
  schema?: string
  migrate?: boolean
  sources?: Source[]
}

export async function createContext(config: Config, opts: ContextOptions = {}): Promise<AppContext> {
  const log = opts.log ?? createLogger(config.logLevel)
  const schema = opts.schema ?? config.databaseSchema
  const { db, dialect, close: closeDb } = openDatabase(config.databaseUrl, { schema, onError: (err) => log.warn({ err: err.message }, 'database connection lost') })
  if (opts.migrate !== false) await migrateToLatest(db, schema)
  const fixedNow = config.now
  const categories = loadCategories()
  let classifier: Promise<Classifier> | undefined
  let mailer: Mailer | undefined
  // playwright-core takes seconds to load: only a process that renders a page pays for it.
  let chromium: Promise<ChromiumEngine> | undefined
  const ctx: AppContext = {
    config,
    db,
    dialect,
    log,
    clock: opts.clock ?? (fixedNow ? () => new Date(fixedNow) : () => new Date()),
    categories,
    categoryIndex: new CategoryIndex(categories),
    markets: loadMarkets(),
    rules: loadRiskRules(),
    sources: opts.sources ?? sourcesFor(config),
    http: new HttpClient({
      userAgent: config.userAgent,
      timeoutMs: config.http.timeoutMs,
      minDelayMs: config.http.minDelayMs,
      robots: config.http.robots,
    }),
    classifier() {
      classifier ??= import('./classify/index.js').then((m) =>
        m.createClassifier({ dataDir: config.dataDir, nomenclaturePath: config.nomenclaturePath }),
      )
      return classifier
    },
    mailer() {
      mailer ??= createMailer({ smtpUrl: config.smtpUrl, from: config.smtpFrom, outboxDir: config.outboxDir })
      return mailer
    },
    fault: faultPoints(config.crashAt),
    browser() {
      chromium ??= import('../scrapers/browser/chromium.js').then((m) => new m.ChromiumEngine({ executablePath: config.browser.executablePath, sandbox: config.browser.sandbox, warn: (msg) => log.warn(msg) }))
      return chromium.then((c) => c.browser())
    },
    async close() {
      await (await chromium?.catch(() => undefined))?.close()
      await ctx.http.close()
      mailer?.close()
      await closeDb()
    },
  }
  return ctx
}

export function sourceBaseUrl(ctx: AppContext, source: Source, stored?: string | null): string {
  return ctx.config.sourceBaseUrls[source.id] ?? stored ?? source.defaultBaseUrl
}

/** A source with `enabled: false` runs only once its base URL is configured (TBT_SOURCE_<ID>_BASE_URL). */
export function sourceEnabled(ctx: Pick<AppContext, 'config'>, source: Source): boolean {
  return source.enabled !== false || !!ctx.config.sourceBaseUrls[source.id]
}
