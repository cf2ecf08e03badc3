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

export interface LoggerOptions {
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
 * progress bar while one is shown.
 */
export function createLogger(level: string = 'info', opts: LoggerOptions = {}): Logger {
  const fd2 = pino.destination({ fd: 2, sync: true })
  const stream = {
    write(line: string) {
      if (guard) guard(() => fd2.write(line))
      else fd2.write(line)
    },
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
