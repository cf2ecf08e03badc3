import path from 'node:path'
import { z } from 'zod'

/**
 * Every setting the process reads from the environment, validated once at start and
 * passed down. Nothing below src/cli reads process.env directly.
 */
const EnvSchema = z.object({
  TBT_DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z.string().optional(),
  REDIS_URL: z.string().optional(),
  SMTP_URL: z.string().optional(),
  SMTP_FROM: z.string().default('tbt-watch <tbt-watch@localhost>'),
  PUBLIC_BASE_URL: z.string().default('http://localhost:8080'),
  TBT_SECRET: z.string().optional(),
  TBT_QUEUE_PREFIX: z.string().default('tbt'),
  TBT_HS_NOMENCLATURE: z.string().optional(),
  TBT_EPING_API_KEY: z.string().optional(),
  TBT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TBT_LANG: z.enum(['zh', 'en']).default('zh'),
  TBT_USER_AGENT: z.string().optional(),
  TBT_HTTP_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  TBT_HTTP_MIN_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
  TBT_HTTP_ROBOTS: z.enum(['on', 'off']).default('on'),
  TBT_BASELINE_DAYS: z.coerce.number().int().min(0).default(30),
  TBT_MAX_PAGES_PER_RUN: z.coerce.number().int().min(1).max(100_000).optional(),
  TBT_PORTALS_DIR: z.string().min(1).optional(),
  TBT_SCRAPE_CRON: z.string().default('0 */2 * * *'),
  TBT_DIGEST_DAILY_CRON: z.string().default('0 8 * * *'),
  TBT_DIGEST_WEEKLY_CRON: z.string().default('0 8 * * 1'),
  TBT_TIMEZONE: z.string().default('Asia/Shanghai'),
  TBT_IMMEDIATE_CRON: z.string().default('*/10 * * * *'),
  TBT_LIFECYCLE_CRON: z.string().default('5 0 * * *'),
  // The classifier's training job: off with '' or 'off'.
  TBT_TRAIN_CRON: z.string().default('30 2 * * *'),
  TBT_REMINDER_DAYS: z.coerce.number().int().min(0).max(90).default(7),
  // 评议: enterprises' feedback closes this many working days before the WTO comment deadline.
  TBT_COMMENT_LEAD_DAYS: z.coerce.number().int().min(0).max(60).default(5),
  TBT_MAIL_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  TBT_MAIL_RETRY_MS: z.coerce.number().int().min(0).default(2_000),
  TBT_DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a PostgreSQL schema name (lower case, digits, _)').optional(),
  TBT_STALLED_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
  TBT_LOCK_DURATION_MS: z.coerce.number().int().positive().default(30_000),
  TBT_MAX_STALLED_COUNT: z.coerce.number().int().min(1).max(1_000).default(20),
  TBT_JOB_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  TBT_RECONCILE_EVERY_MS: z.coerce.number().int().min(1_000).default(20_000),
  TBT_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(100),
  TBT_SEARCH_IDS_MAX: z.coerce.number().int().min(0).max(100_000).default(2_000),
  TBT_COUNT_MAX: z.coerce.number().int().min(0).max(10_000_000).default(1_000),
  TBT_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  TBT_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  TBT_ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  // Test-only: a fixed clock and a crash point for the fault tests (never set in production).
  TBT_NOW: z.iso.datetime({ offset: true }).optional(),
  TBT_CRASH_AT: z.string().regex(/^[a-z]+:[a-z-]+:\d+$/, 'stage:point:n, e.g. classify:done:3').optional(),
  TBT_CHROMIUM_PATH: z.string().default('/usr/bin/chromium'),
  TBT_BROWSER_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  TBT_CHROMIUM_SANDBOX: z.enum(['auto', 'on', 'off']).default('auto'),
})

export interface Config {
  dataDir: string
  databaseUrl: string
  redisUrl?: string
  smtpUrl?: string
  smtpFrom: string
  outboxDir: string
  rawDir: string
  modelsDir: string
  publicBaseUrl: string
  secret: string
  queuePrefix: string
  nomenclaturePath?: string
  epingApiKey?: string
  logLevel: z.infer<typeof EnvSchema>['TBT_LOG_LEVEL']
  lang: 'zh' | 'en'
  userAgent: string
  http: { timeoutMs: number; minDelayMs: number; robots: boolean }
  /** TBT_MAX_PAGES_PER_RUN: list pages one run of ePing, TRIS or the China TBT centre may read (a backfill); unset, each keeps its own cap. Portals set theirs in YAML. */
  maxPagesPerRun?: number
  /** TBT_BATCH_SIZE: notices a classify job, or measures a score or warn job, carries (and the inline pass works on) at once, in one transaction. */
  batchSize: number
  /** TBT_SEARCH_IDS_MAX: a queue search finding at most this many warnings reads them by id (0: always as a filter over the queue's order). */
  searchIdsMax: number
  /** TBT_COUNT_MAX: the queue's tab counts stop at this many warnings per status and say "N+" (0: count them all). */
  countMax: number
  /** TBT_PORTALS_DIR: more portal definitions (YAML, as scrapers/portals/), e.g. a mounted volume. */
  portalsDir?: string
  /** A source's first run raises no warnings for notices distributed more than this many days ago. */
  baselineDays: number
  schedule: { scrapeCron: string; digestDailyCron: string; digestWeeklyCron: string; immediateCron: string; lifecycleCron: string; trainCron: string | null; timezone: string }
  /** Digests and alerts: days before a comment deadline to remind; inline send retries. */
  digest: { reminderDays: number; mailAttempts: number; mailRetryMs: number }
  /** 评议: working days between the internal feedback deadline and the WTO comment deadline (TBT_COMMENT_LEAD_DAYS). */
  comments: { leadDays: number }
  /** TBT_SOURCE_<ID>_BASE_URL overrides, by source id. */
  sourceBaseUrls: Record<string, string>
  /** PostgreSQL schema (search_path) to work in; one per test or per tenant. */
  databaseSchema?: string
  /**
   * BullMQ: the stalled check and lock; how many worker deaths a job survives (maxStalledCount)
   * and how many times a failing job is tried; how often the reconciliation runs.
   */
  queue: { stalledIntervalMs: number; lockDurationMs: number; maxStalledCount: number; attempts: number; reconcileEveryMs: number }
  /** Workers serve /metrics on this port when set. */
  metricsPort?: number
  /** ...on this address (default 127.0.0.1); elsewhere /metrics needs TBT_ADMIN_TOKEN. */
  metricsHost: string
  /** Bearer token (or Basic password for user `admin`) for /admin/* until user roles apply. */
  adminToken?: string
  /** Test-only: a fixed clock (TBT_NOW). */
  now?: Date
  /** Test-only: `stage:point:n` kills the process with SIGKILL at the n-th pass through that point. */
  crashAt?: string
  /** The browser engine: Debian's Chromium, and how long one page may take to render. */
  browser: { executablePath: string; timeoutMs: number; sandbox: 'auto' | 'on' | 'off' }
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  readonly retryable = false
}

export const USER_AGENT = 'tbt-watch/0.1 (+technical trade measure early warning for Beijing exporters; polite crawler)'

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env)
  if (!parsed.success) {
    const i = parsed.error.issues[0]
    throw new ConfigError(`environment variable ${i.path.join('.')}: ${i.message}`)
  }
  const e = parsed.data
  checkServiceUrls(e)
  const dataDir = path.resolve(e.TBT_DATA_DIR)
  const databaseUrl = e.DATABASE_URL || `sqlite:${path.join(dataDir, 'tbt-watch.db')}`
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must start with sqlite: or postgres://, got ${databaseUrl.split(':')[0]}:`)
  }
  const sourceBaseUrls: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) {
    const m = /^TBT_SOURCE_([A-Z0-9_]+)_BASE_URL$/.exec(k)
    if (m && v) sourceBaseUrls[m[1].toLowerCase().replace(/_/g, '-')] = v.replace(/\/+$/, '')
  }
  return {
    dataDir,
    databaseUrl,
    redisUrl: e.REDIS_URL,
    smtpUrl: e.SMTP_URL,
    smtpFrom: e.SMTP_FROM,
    outboxDir: path.join(dataDir, 'outbox'),
    rawDir: path.join(dataDir, 'raw'),
    modelsDir: path.join(dataDir, 'models'),
    publicBaseUrl: e.PUBLIC_BASE_URL.replace(/\/+$/, ''),
    // A development default keeps the quick start working; serve, worker and start refuse
    // it (and any short or published value) unless PUBLIC_BASE_URL is a loopback address.
    secret: e.TBT_SECRET || DEVELOPMENT_SECRET,
    queuePrefix: e.TBT_QUEUE_PREFIX,
    nomenclaturePath: e.TBT_HS_NOMENCLATURE,
    epingApiKey: e.TBT_EPING_API_KEY,
    logLevel: e.TBT_LOG_LEVEL,
    lang: e.TBT_LANG,
    userAgent: e.TBT_USER_AGENT ?? USER_AGENT,
    http: { timeoutMs: e.TBT_HTTP_TIMEOUT_MS, minDelayMs: e.TBT_HTTP_MIN_DELAY_MS, robots: e.TBT_HTTP_ROBOTS === 'on' },
    baselineDays: e.TBT_BASELINE_DAYS,
    maxPagesPerRun: e.TBT_MAX_PAGES_PER_RUN,
    batchSize: e.TBT_BATCH_SIZE,
    searchIdsMax: e.TBT_SEARCH_IDS_MAX,
    countMax: e.TBT_COUNT_MAX,
    portalsDir: e.TBT_PORTALS_DIR ? path.resolve(e.TBT_PORTALS_DIR) : undefined,
    schedule: {
      scrapeCron: e.TBT_SCRAPE_CRON,
      digestDailyCron: e.TBT_DIGEST_DAILY_CRON,
      digestWeeklyCron: e.TBT_DIGEST_WEEKLY_CRON,
      immediateCron: e.TBT_IMMEDIATE_CRON,
      lifecycleCron: e.TBT_LIFECYCLE_CRON,
      trainCron: ['', 'off', 'none'].includes(e.TBT_TRAIN_CRON.trim().toLowerCase()) ? null : e.TBT_TRAIN_CRON,
      timezone: e.TBT_TIMEZONE,
    },
    digest: { reminderDays: e.TBT_REMINDER_DAYS, mailAttempts: e.TBT_MAIL_ATTEMPTS, mailRetryMs: e.TBT_MAIL_RETRY_MS },
    comments: { leadDays: e.TBT_COMMENT_LEAD_DAYS },
    sourceBaseUrls,
    databaseSchema: e.TBT_DB_SCHEMA,
    queue: {
      stalledIntervalMs: e.TBT_STALLED_INTERVAL_MS,
      lockDurationMs: e.TBT_LOCK_DURATION_MS,
      maxStalledCount: e.TBT_MAX_STALLED_COUNT,
      attempts: e.TBT_JOB_ATTEMPTS,
      reconcileEveryMs: e.TBT_RECONCILE_EVERY_MS,
    },
    metricsPort: e.TBT_METRICS_PORT,
    metricsHost: e.TBT_METRICS_HOST,
    adminToken: e.TBT_ADMIN_TOKEN,
    now: e.TBT_NOW ? new Date(e.TBT_NOW) : undefined,
    crashAt: e.TBT_CRASH_AT,
    browser: { executablePath: e.TBT_CHROMIUM_PATH, timeoutMs: e.TBT_BROWSER_TIMEOUT_MS, sandbox: e.TBT_CHROMIUM_SANDBOX },
  }
}

/** A URL for a message, without what a password could hide in it. */
const shownUrl = (v: string) => v.replace(/\/\/[^/@]*@/, '//***@').replace(/^[^/@]*@/, '***@')

/**
 * REDIS_URL and PUBLIC_BASE_URL are URLs with a scheme. `localhost:6379` would otherwise
 * be taken by ioredis as something else entirely, and a base URL without http(s) makes
 * every link in every e-mail broken.
 */
function checkServiceUrls(e: { REDIS_URL?: string; PUBLIC_BASE_URL: string }): void {
  const url = (name: string, value: string, schemes: string[], example: string) => {
    const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)
    if (!m) throw new ConfigError(`${name} must be a URL such as ${example}: "${shownUrl(value)}" has no scheme (${schemes.join(' or ')})`)
    if (!schemes.includes(`${m[1].toLowerCase()}://`)) throw new ConfigError(`${name} must start with ${schemes.join(' or ')}, e.g. ${example}: got ${m[1]}://`)
    let u: URL
    try {
      u = new URL(value)
    } catch {
      throw new ConfigError(`${name} is not a valid URL: "${shownUrl(value)}" (e.g. ${example})`)
    }
    if (!u.hostname) throw new ConfigError(`${name} has no host: "${shownUrl(value)}" (e.g. ${example})`)
  }
  if (e.REDIS_URL) url('REDIS_URL', e.REDIS_URL, ['redis://', 'rediss://'], 'redis://127.0.0.1:6379')
  url('PUBLIC_BASE_URL', e.PUBLIC_BASE_URL, ['http://', 'https://'], 'https://tbt.example.org')
}

// ---------------------------------------------------------------------------------------
// The signing secret. It signs unsubscribe, manage and confirmation links, sessions and
// CSRF cookies: a published or guessable value lets anyone forge them.

export const DEVELOPMENT_SECRET = 'tbt-watch-development-secret'
/** Values that have been published (docs, docker-compose, the code): never a production secret. */
const KNOWN_SECRETS = new Set([DEVELOPMENT_SECRET, 'change-me', 'changeme', 'change_me', 'secret', 'tbt-watch', 'tbt-secret', 'please-change-me'])
export const MIN_SECRET_BYTES = 32

/** Whether a base URL's host is this machine only (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackUrl(url: string): boolean {
  let host: string
  try {
    host = new URL(url).hostname.toLowerCase()
  } catch {
    return false
  }
  host = host.replace(/^\[|\]$/g, '')
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1' || host === '0:0:0:0:0:0:0:1'
}

/**
 * Why the secret is unsafe for a server reachable from elsewhere, or null: unset (the
 * development default), a published value, or shorter than 32 bytes. A loopback
 * PUBLIC_BASE_URL (the quick start, the demo, tests) needs no secret.
 */
export function secretProblem(config: Pick<Config, 'secret' | 'publicBaseUrl'>): string | null {
  if (isLoopbackUrl(config.publicBaseUrl)) return null
  const why = secretWeakness(config.secret)
  return why
    ? `TBT_SECRET ${why}, and PUBLIC_BASE_URL ${config.publicBaseUrl} is not a loopback address: set TBT_SECRET to ${MIN_SECRET_BYTES}+ random bytes (e.g. openssl rand -hex 32)`
    : null
}

/** What makes a secret unfit for a server others reach ("is not set", a published value, too short), or null. */
export function secretWeakness(s: string): string | null {
  return s === DEVELOPMENT_SECRET ? 'is not set' : KNOWN_SECRETS.has(s.trim().toLowerCase()) ? 'is a published example value' : Buffer.byteLength(s) < MIN_SECRET_BYTES ? `is shorter than ${MIN_SECRET_BYTES} bytes` : null
}

/**
 * Where the web server listens: every interface with a secret of its own, this machine
 * only (127.0.0.1) without one. A loopback PUBLIC_BASE_URL lets a server start without a
 * secret; it must not then be reachable from elsewhere, where its links could be forged.
 */
export function listenHost(config: Pick<Config, 'secret'>): { host: string; why: string | null } {
  const why = secretWeakness(config.secret)
  return why ? { host: '127.0.0.1', why: `listening on 127.0.0.1 only: TBT_SECRET ${why} (set it to ${MIN_SECRET_BYTES}+ random bytes to serve other machines)` } : { host: '0.0.0.0', why: null }
}

/** Throws a one-line ConfigError when the secret is unsafe (see secretProblem): serve, worker and start call it first. */
export function assertSafeSecret(config: Pick<Config, 'secret' | 'publicBaseUrl'>): void {
  const problem = secretProblem(config)
  if (problem) throw new ConfigError(problem)
}

/** A worker's /metrics bound beyond this machine needs TBT_ADMIN_TOKEN (it then asks for it). */
export function assertSafeMetrics(config: Pick<Config, 'metricsPort' | 'metricsHost' | 'adminToken'>): void {
  if (config.metricsPort === undefined || ['127.0.0.1', '::1', 'localhost'].includes(config.metricsHost) || config.adminToken) return
  throw new ConfigError(`TBT_METRICS_HOST ${config.metricsHost} serves /metrics beyond this machine: set TBT_ADMIN_TOKEN (16+ characters), which /metrics then requires, or bind to 127.0.0.1`)
}

/** The env var that overrides a source's base URL: id upper-cased, dashes to underscores. */
export const sourceBaseUrlVar = (sourceId: string) => `TBT_SOURCE_${sourceId.toUpperCase().replace(/-/g, '_')}_BASE_URL`
