import { pino, type Logger } from 'pino'

export type { Logger }

/**
 * Something drawn on the terminal's last line (the CLI's progress bar) that a log line
 * must not break: it clears the line, lets the log line be written, and draws it again.
 */
export type StderrGuard = (write: () => void) => void
let guard: StderrGuard | undefined

/** Set (or, with undefined, remove) the guard every later log line is written through. */
export function guardStderr(g: StderrGuard | undefined): void {
  guard = g
}

/** A warning or error caused by a service that cannot be reached (`err` names the code and, mostly, the address). */
const UNREACHABLE = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)\b(?:\s+(\S+))?/

/** Where log lines go: anything with write(line) (pino.destination, a test's capture). */
export interface LogDestination {
  write(line: string): unknown
}

export interface LoggerOptions {
  /** where lines go: stderr by default (a test captures them) */
  destination?: LogDestination
  /**
   * The same warning about a service that cannot be reached (same message, same error
   * code and address: SMTP refusing every delivery, a database gone) is written once; its
   * repeats are counted into one summary line per this interval. Default one minute; 0
   * writes every line.
   */
  repeatWindowMs?: number
}

/**
 * The one logger: JSON lines on stderr (stdout stays for command output), written
 * synchronously so they keep their order with the CLI's own lines, and above the
 * progress bar while one is shown. Every line passes through redactSecrets on its way
 * out: signed tokens (`token=`, nonces, CSRF, passwords) and e-mail addresses never reach
 * a log, whoever logged them. The second argument may be a destination alone (tests).
 */
export function createLogger(level: string = 'info', options: LoggerOptions | LogDestination = {}): Logger {
  const opts: LoggerOptions = 'write' in options && typeof options.write === 'function' ? { destination: options as LogDestination } : (options as LoggerOptions)
  const out = (opts.destination ?? pino.destination({ fd: 2, sync: true })) as LogDestination & { flushSync?: () => void }
  const stream = {
    write(line: string) {
      const clean = redactSecrets(line)
      if (guard) guard(() => out.write(clean))
      else out.write(clean)
    },
    flushSync: out.flushSync ? () => out.flushSync!() : undefined,
  }
  const windowMs = opts.repeatWindowMs ?? 60_000
  const repeats = new Map<string, { count: number; since: number; summary: (count: number, ms: number) => void; timer: NodeJS.Timeout }>()
  const flush = (key: string, final: boolean) => {
    const r = repeats.get(key)
    if (!r) return
    if (r.count > 0) r.summary(r.count, Date.now() - r.since)
    // A whole interval without a repeat: the next one is news again.
    if (r.count === 0 || final) {
      clearInterval(r.timer)
      repeats.delete(key)
    } else {
      r.count = 0
      r.since = Date.now()
    }
  }
  if (windowMs > 0) process.once('exit', () => [...repeats.keys()].forEach((k) => flush(k, true)))
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        logMethod(args, method, lvl) {
          const [obj, msg] = args as unknown as [unknown, unknown]
          if (windowMs <= 0 || lvl < 40 || typeof obj !== 'object' || obj === null || typeof msg !== 'string') return method.apply(this, args)
          const e = (obj as { err?: unknown }).err
          const text = typeof e === 'string' ? e : e instanceof Error ? e.message : undefined
          const m = text ? UNREACHABLE.exec(text) : null
          if (!m) return method.apply(this, args)
          // One outage per message, code and address (the host of a URL in the error when no address follows the code).
          const where = m[2] ?? /\bhttps?:\/\/([^/\s:?#]+)/.exec(text!)?.[1] ?? ''
          const key = `${lvl}\0${msg}\0${m[1]} ${where}`
          const seen = repeats.get(key)
          if (seen) {
            seen.count++
            return
          }
          method.apply(this, args)
          const summary = (count: number, ms: number) =>
            method.apply(this, [{ err: text, repeated: count, windowMs: ms }, `${msg}: ${count} more time${count === 1 ? '' : 's'} in the last ${Math.round(ms / 1000)} s (${m[1]}${where ? ` ${where}` : ''})`] as unknown as Parameters<typeof method>)
          const timer = setInterval(() => flush(key, false), windowMs)
          timer.unref()
          repeats.set(key, { count: 0, since: Date.now(), summary, timer })
        },
      },
    },
    stream,
  )
}

// `token=…`, `nonce=…`: the query parameters and form fields that carry credentials.
const SECRET_PARAMS = /\b(token|nonce|_csrf|password|secret|api[_-]?key)(=|%3D|"\s*:\s*")([^&\s"\\,;]+)/gi
// An address, plain or percent-encoded (%40) as it appears in URLs.
const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}/g

/** A log line (or any text bound for one) without credentials or e-mail addresses. */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_PARAMS, (_m, k: string, sep: string) => `${k}${sep}[redacted]`).replace(EMAIL, '[e-mail]')
}

/**
 * E-mail addresses in a text bound for a log, a database row or a page (an SMTP server's
 * reply, say) replaced by `[address]`. (The logger's own safety net writes `[e-mail]`:
 * finding that in a log means some code logged an address it should not have.)
 */
export const redactEmails = (text: string) => text.replace(EMAIL, '[address]')

/** A request URL as it may be logged: the path only, never the query string (tokens live there). */
export const loggableUrl = (url: string) => {
  const i = url.indexOf('?')
  return i < 0 ? url : `${url.slice(0, i)}?…`
}
