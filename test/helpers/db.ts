import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { loadConfig, type Config } from '../../src/config.js'
import { createContext, type AppContext, type ContextOptions } from '../../src/app-context.js'
import { createLogger } from '../../src/logger.js'
import { setScryptCostForTests } from '../../src/services/user.service.js'

// Test users' passwords are hashed at scrypt N=2^14, not production's 2^17 (~0.4 s each):
// test/web/accounts.test.ts checks the production cost and the rehash on its own.
setScryptCostForTests(2 ** 14)

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const DIALECTS = ['sqlite', 'postgres'] as const
export type TestDialect = (typeof DIALECTS)[number]

export interface TestEnv {
  ctx: AppContext
  config: Config
  dataDir: string
  schema?: string
  /** With `captureLog`: every log line written (after the logger's redaction), for checks like expectCleanLog. */
  logLines: string[]
  /** A second context on the same database (another process would see the same). */
  reopen(opts?: ContextOptions): Promise<AppContext>
  cleanup(): Promise<void>
}

/**
 * A fresh database of the given dialect: a new SQLite file in a temp directory, or a new
 * schema in the test PostgreSQL database. Removed again by cleanup().
 */
export async function createTestEnv(dialect: TestDialect, env: Record<string, string> = {}, opts: ContextOptions & { captureLog?: boolean } = {}): Promise<TestEnv> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-test-'))
  let schema: string | undefined
  let databaseUrl = `sqlite:${path.join(dataDir, 'test.db')}`
  if (dialect === 'postgres') {
    schema = `t_${randomBytes(6).toString('hex')}`
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    await client.query(`create schema ${schema}`)
    await client.end()
    databaseUrl = PG_URL
  }
  const config = loadConfig({ TBT_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, TBT_HTTP_MIN_DELAY_MS: '0', TBT_HTTP_TIMEOUT_MS: '5000', ...env })
  const logLines: string[] = []
  const { captureLog, ...ctxOpts } = opts
  const log = captureLog ? createLogger('debug', { write: (line: string) => logLines.push(line) }) : createLogger('silent')
  const contexts: AppContext[] = []
  const open = async (o: ContextOptions = {}) => {
    const c = await createContext(config, { log, schema, ...ctxOpts, ...o })
    contexts.push(c)
    return c
  }
  const ctx = await open()
  return {
    ctx,
    config,
    dataDir,
    schema,
    logLines,
    reopen: open,
    async cleanup() {
      for (const c of contexts) await c.close().catch(() => {})
      if (schema) {
        const client = new pg.Client({ connectionString: PG_URL })
        await client.connect()
        await client.query(`drop schema ${schema} cascade`)
        await client.end()
      }
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * The log of a test run holds no credential, no e-mail address and no failed request:
 * nothing the logger had to redact (it writes `[redacted]` / `[e-mail]` where it did),
 * no token-looking query string, no double reply (ERR_HTTP_HEADERS_SENT,
 * "Reply was already sent") and no error-level line unless allowed.
 */
export function logProblems(lines: string[], opts: { allowErrors?: RegExp } = {}): string[] {
  return lines.filter((l) => {
    if (/\[redacted\]|\[e-mail\]|token=|@example\.(com|org)|ERR_HTTP_HEADERS_SENT|already sent/i.test(l)) return true
    const level = /"level":(\d+)/.exec(l)?.[1]
    return Number(level) >= 50 && !(opts.allowErrors && opts.allowErrors.test(l))
  })
}
