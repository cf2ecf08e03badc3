import fs from 'node:fs'
import path from 'node:path'

/**
 * How the CLI fails: one line on stderr, a sentence, never a stack frame (TBT_DEBUG=1
 * adds the stack), and a documented exit code:
 *   2  usage: the command cannot run as given (unknown command or option, a bad value,
 *      a bad environment variable, an unknown source, subscriber or user)
 *   1  the run failed (a service unreachable, a file that cannot be written, ...)
 *   3  `digest`: some e-mails failed (the others went out)
 * This module imports nothing heavy: it is loaded before any command.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, mailFailed: 3 } as const

/** A mistake in how the command was called: exit 2. */
export class UsageError extends Error {
  readonly code = 'USAGE'
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** Error codes of the services' own errors that mean "the input was wrong". */
const USAGE_CODES = new Set([
  'USAGE',
  'CONFIG_INVALID',
  'UNKNOWN_SOURCE',
  'SUBSCRIBER_INVALID',
  'USER_INVALID',
  'USER_EXISTS',
  'USER_NOT_FOUND',
  'PASSWORD_WEAK',
  'REASON_REQUIRED',
  'INPUT_INVALID',
  'DATA_FILE_INVALID',
])

type Err = Error & { code?: string; errno?: number; syscall?: string; path?: string; address?: string; port?: number; hostname?: string; errors?: unknown[] }

export function exitCodeFor(err: unknown): number {
  const e = err as Err
  // commander's InvalidArgumentError (thrown by an action) and its own usage errors.
  if (e?.name === 'InvalidArgumentError' || e?.name === 'UsageError') return EXIT.usage
  if (typeof e?.code === 'string' && (USAGE_CODES.has(e.code) || e.code.startsWith('commander.'))) return EXIT.usage
  return EXIT.failed
}

/** The services a connection error may come from, to name them (from the config's URLs). */
export interface Endpoints {
  databaseUrl?: string
  redisUrl?: string
  smtpUrl?: string
}

const SERVICE_VAR: Record<string, string> = { PostgreSQL: 'DATABASE_URL', Redis: 'REDIS_URL', SMTP: 'SMTP_URL' }

function hostPort(url: string | undefined, defaultPort: number): { host: string; port: number } | undefined {
  if (!url) return undefined
  try {
    const u = new URL(url)
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || defaultPort }
  } catch {
    return undefined
  }
}

/** Which configured service listens at address:port, if any. */
export function serviceAt(endpoints: Endpoints, port: number | undefined): string | undefined {
  const candidates: [string, { host: string; port: number } | undefined][] = [
    ['PostgreSQL', endpoints.databaseUrl?.startsWith('postgres') ? hostPort(endpoints.databaseUrl, 5432) : undefined],
    ['Redis', hostPort(endpoints.redisUrl, 6379)],
    ['SMTP', hostPort(endpoints.smtpUrl, 587)],
  ]
  return candidates.find(([, hp]) => hp && hp.port === port)?.[0]
}

/** A URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString().replace(/\/$/, '')
  } catch {
    return url
  }
}

const NET_REASON: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name lookup failed',
}

/** The short reason of a network error ("connection refused"), or undefined. */
export function networkReason(err: unknown): string | undefined {
  const e = unwrap(err)
  return e.code ? NET_REASON[e.code] : undefined
}

/** Node's happy-eyeballs connect (localhost = ::1 and 127.0.0.1) fails with an AggregateError whose message is empty. */
function unwrap(err: unknown): Err {
  let e = err as Err
  if (e && !e.code && Array.isArray(e.errors) && e.errors.length) e = e.errors[e.errors.length - 1] as Err
  if (e && !e.code && (e as { cause?: unknown }).cause) {
    const c = (e as { cause?: Err }).cause!
    if (c.code) return c
  }
  return e ?? new Error(String(err))
}

/** One line, a sentence: what went wrong and, where it helps, what to do. */
export function describeError(err: unknown, endpoints: Endpoints = {}): string {
  if (!(err instanceof Error) && typeof err !== 'object') return String(err)
  const e = unwrap(err)
  const code = e.code ?? ''
  const where = e.path ? shownPath(e.path) : undefined
  if (NET_REASON[code]) {
    const service = serviceAt(endpoints, e.port)
    const target = e.address ? `${e.address}${e.port ? `:${e.port}` : ''}` : (e.hostname ?? '')
    if (service) {
      const url = service === 'PostgreSQL' ? endpoints.databaseUrl : service === 'Redis' ? endpoints.redisUrl : endpoints.smtpUrl
      return `cannot reach ${service} at ${url ? safeUrl(url) : target} (${NET_REASON[code]}): is it running? (${SERVICE_VAR[service]})`
    }
    return `cannot connect${target ? ` to ${target}` : ''} (${NET_REASON[code]})`
  }
  switch (code) {
    case 'ENOENT':
      if (where && (e.syscall === 'open' || e.syscall === 'mkdir') && !pathExists(path.dirname(e.path!))) return `cannot write ${where}: the folder ${path.dirname(where)} does not exist`
      return where ? `${where}: no such file or folder` : oneLine(e.message)
    case 'EACCES':
    case 'EPERM':
      return where ? `${where}: permission denied` : `permission denied (${oneLine(e.message)})`
    case 'EISDIR':
      return where ? `${where} is a folder, not a file` : oneLine(e.message)
    case 'ENOTDIR':
      return where ? `${where}: a part of the path is a file, not a folder` : oneLine(e.message)
    case 'ENOSPC':
      return 'no space left on the device'
    case 'EROFS':
      return where ? `${where}: the file system is read-only` : oneLine(e.message)
    case 'EADDRINUSE':
      return `${e.port ? `port ${e.port}` : 'the port'} is already in use: is tbt-watch already serving? (choose another with --port)`
    case 'SQLITE_CANTOPEN':
      return `cannot open the SQLite database (${oneLine(e.message)}): check TBT_DATA_DIR or DATABASE_URL`
    case 'SQLITE_BUSY':
      return 'the SQLite database is busy (another tbt-watch process holds it): try again'
    case '3D000':
    case '28P01':
    case '28000':
    case '3F000':
      return `PostgreSQL: ${oneLine(e.message)} (DATABASE_URL)`
  }
  return oneLine(e.message) || e.name || 'unknown error'
}

const pathExists = (p: string) => fs.existsSync(p)

/** A path as a person would write it: relative when under the current folder, else absolute. */
export function shownPath(p: string): string {
  const r = path.relative(process.cwd(), path.resolve(p))
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : path.resolve(p)
}

/** The first line of a message, trimmed; a trailing period is kept off so messages compose. */
export function oneLine(message: string | undefined): string {
  return (message ?? '').split('\n').map((s) => s.trim()).find(Boolean)?.replace(/\.$/, '') ?? ''
}

/**
 * commander's own error text ("error: unknown command 'stat'\n(Did you mean stats?)")
 * as one sentence.
 */
export function commanderLine(text: string): string {
  return text
    .replace(/^error:\s*/i, '')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => s.replace(/^\((.*)\)$/, '$1'))
    .join('. ')
    .replace(/\.\./g, '.')
}
