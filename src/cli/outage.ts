import { describeError, networkReason, oneLine, type Endpoints } from './errors.js'

/** Where outage lines go: the process's JSON log (worker, serve). */
export type OutageLog = (level: 'warn' | 'info', fields: Record<string, unknown>, msg: string) => void

export interface OutageOptions {
  /** "Redis", "PostgreSQL", "SMTP" */
  service: string
  /** The service's URL, password already hidden. */
  url: string
  log: OutageLog
  endpoints?: Endpoints
  /** How often a summary line is written while the outage lasts (default one minute). */
  summaryMs?: number
  /**
   * Errors arrive on their own (a client reconnecting in the background), and no success
   * is ever reported: a whole interval without an error then means the service is back.
   * Without it, only recovered() ends the outage (withBackoff calls it).
   */
  quietMeansRecovered?: boolean
  clock?: () => number
}

/** The summary interval: a minute, or TBT_OUTAGE_SUMMARY_MS (tests). */
export const outageSummaryMs = (): number => {
  const v = Number(process.env.TBT_OUTAGE_SUMMARY_MS)
  return Number.isInteger(v) && v >= 100 ? v : 60_000
}

const seconds = (ms: number) => (ms < 90_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`)

/**
 * A service that cannot be reached, told in few lines instead of one stack trace per
 * attempt: one line at the first failure, then one summary line a minute while it lasts
 * (how many failures, the last reason), and one line when it answers again. Errors
 * arriving from many places at once (seven BullMQ workers and their queues on one
 * Redis) count into the same outage.
 */
export class OutageReporter {
  private since: number | undefined
  private failures = 0
  private failuresSinceSummary = 0
  private lastReason = ''
  private lastFailureAt = 0
  private timer: NodeJS.Timeout | undefined
  readonly summaryMs: number
  private readonly clock: () => number

  constructor(private readonly o: OutageOptions) {
    this.summaryMs = o.summaryMs ?? 60_000
    this.clock = o.clock ?? Date.now
  }

  get down(): boolean {
    return this.since !== undefined
  }

  failure(err: unknown): void {
    const now = this.clock()
    this.failures++
    this.failuresSinceSummary++
    this.lastFailureAt = now
    this.lastReason = networkReason(err) ?? oneLine(describeError(err, this.o.endpoints))
    if (this.since !== undefined) return
    this.since = now
    this.o.log('warn', { service: this.o.service, url: this.o.url, reason: this.lastReason }, `${this.o.service} at ${this.o.url} is unreachable (${this.lastReason}); retrying with backoff, a summary every ${seconds(this.summaryMs)}`)
    this.timer = setInterval(() => this.tick(), this.summaryMs)
    this.timer.unref()
  }

  /** The service answered: one line if it had been down. */
  recovered(): void {
    if (this.since === undefined) return
    const downFor = this.clock() - this.since
    this.o.log('info', { service: this.o.service, url: this.o.url, downMs: downFor, failures: this.failures }, `${this.o.service} at ${this.o.url} is reachable again after ${seconds(downFor)} (${this.failures} failed attempt${this.failures === 1 ? '' : 's'})`)
    this.reset()
  }

  /** The summary line; exposed for tests with a fake clock. */
  tick(): void {
    if (this.since === undefined) return
    // Errors only arrive while the connection fails: a whole interval without one means it is back.
    if (this.o.quietMeansRecovered && this.failuresSinceSummary === 0 && this.clock() - this.lastFailureAt >= this.summaryMs) return this.recovered()
    const downFor = this.clock() - this.since
    this.o.log('warn', { service: this.o.service, url: this.o.url, reason: this.lastReason, failures: this.failuresSinceSummary, downMs: downFor }, `${this.o.service} at ${this.o.url} still unreachable after ${seconds(downFor)}: ${this.failuresSinceSummary} failed attempt${this.failuresSinceSummary === 1 ? '' : 's'} in the last ${seconds(this.summaryMs)} (${this.lastReason}); still retrying`)
    this.failuresSinceSummary = 0
  }

  close(): void {
    this.reset()
  }

  private reset() {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.since = undefined
    this.failures = 0
    this.failuresSinceSummary = 0
  }
}

export interface BackoffOptions {
  /** first wait (ms), doubled after each failure up to maxMs; ±20% jitter */
  initialMs?: number
  maxMs?: number
  /** stop waiting when this is aborted (SIGINT) */
  signal?: AbortSignal
}

/**
 * Runs `attempt` until it succeeds, waiting with exponential backoff between failures
 * that `retryable` accepts (a network error by default) and reporting them through the
 * reporter; any other error is thrown at once.
 */
export async function withBackoff<T>(
  attempt: () => Promise<T>,
  reporter: OutageReporter,
  opts: BackoffOptions & { retryable?: (err: unknown) => boolean } = {},
): Promise<T> {
  const retryable = opts.retryable ?? ((err) => networkReason(err) !== undefined)
  let wait = opts.initialMs ?? 1_000
  const max = opts.maxMs ?? 30_000
  for (;;) {
    try {
      const r = await attempt()
      reporter.recovered()
      return r
    } catch (err) {
      if (!retryable(err) || opts.signal?.aborted) {
        reporter.close()
        throw err
      }
      reporter.failure(err)
      const jittered = wait * (0.8 + Math.random() * 0.4)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, jittered)
        opts.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true })
      })
      wait = Math.min(max, wait * 2)
    }
  }
}

/** One connection to PostgreSQL, closed at once (SQLite: nothing to reach). Used before the context is built, so a failed attempt leaves no pool behind. */
export async function probeDatabase(databaseUrl: string): Promise<void> {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) return
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 })
  client.on('error', () => {}) // the rejection below carries it
  try {
    await client.connect()
  } finally {
    await client.end().catch(() => {})
  }
}
