import { pino, type Logger } from 'pino'

export type { Logger }

/** Where log lines go: anything with write(line) (pino.destination, a test's capture). */
export interface LogDestination {
  write(line: string): unknown
}

/**
 * The one logger. Logs go to stderr so that stdout stays for command output. Every line
 * passes through redactSecrets on its way out: signed tokens (`token=`, nonces, CSRF,
 * passwords) and e-mail addresses never reach a log, whoever logged them.
 */
export function createLogger(level: string = 'info', destination: LogDestination = pino.destination(2)): Logger {
  const out = destination as LogDestination & { flushSync?: () => void }
  const stream = {
    write: (line: string) => out.write(redactSecrets(line)),
    flushSync: out.flushSync ? () => out.flushSync!() : undefined,
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream)
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
