import fs from 'node:fs'
import path from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration, type MigrationProvider } from 'kysely'
import pg from 'pg'
import type { Database } from './schema.js'
import * as m001 from './migrations/2026-11-28-001-initial.js'
import * as m010 from './migrations/2026-11-28-010-sources.js'
import * as m015 from './migrations/2026-11-28-015-browser.js'
import * as m020 from './migrations/2026-11-28-020-review.js'
import * as m030 from './migrations/2026-11-28-030-digests.js'
import * as m100 from './migrations/2026-11-30-100-reliability.js'
import * as m200 from './migrations/2026-11-30-200-security.js'
import * as m300 from './migrations/2026-11-30-300-lifecycle-members.js'
import * as m310 from './migrations/2026-11-30-310-one-warning-per-measure.js'
import * as m320 from './migrations/2026-11-30-320-reports.js'
import * as m500 from './migrations/2026-11-30-500-area.js'
import * as m600 from './migrations/2026-11-30-600-classifier-model.js'
import * as m700 from './migrations/2026-11-30-700-comments.js'
import * as m710 from './migrations/2026-11-30-710-search-index.js'
import * as m720 from './migrations/2026-11-30-720-short-search.js'
import * as m730 from './migrations/2026-11-30-730-faster-grams.js'
import * as m740 from './migrations/2026-12-01-740-measure-search-key.js'

export type Dialect = 'sqlite' | 'postgres'
export type Db = Kysely<Database>

export interface DbHandle {
  db: Db
  dialect: Dialect
  /** The PostgreSQL schema the handle works in, when one was chosen. */
  schema?: string
  close(): Promise<void>
}

/** Migrations in order; names are dated so they sort, and frozen once released. */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-28-001-initial': m001,
  '2026-11-28-010-sources': m010,
  '2026-11-28-015-browser': m015,
  '2026-11-28-020-review': m020,
  '2026-11-28-030-digests': m030,
  '2026-11-30-100-reliability': m100,
  '2026-11-30-200-security': m200,
  '2026-11-30-300-lifecycle-members': m300,
  '2026-11-30-310-one-warning-per-measure': m310,
  '2026-11-30-320-reports': m320,
  '2026-11-30-500-area': m500,
  '2026-11-30-600-classifier-model': m600,
  '2026-11-30-700-comments': m700,
  '2026-11-30-710-search-index': m710,
  '2026-11-30-720-short-search': m720,
  '2026-11-30-730-faster-grams': m730,
  '2026-12-01-740-measure-search-key': m740,
}

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations() {
    return MIGRATIONS
  }
}

// PostgreSQL returns BIGINT (count(*)) as text by default; counts here fit in a JS number.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10))

/**
 * Opens the database named by a URL: `sqlite:<path>` (the embedded default) or
 * `postgres://...`. `schema` (PostgreSQL only) sets the search_path, so each test can
 * own a schema of its own.
 */
export function openDatabase(url: string, opts: { schema?: string; poolSize?: number; onError?: (err: Error) => void } = {}): DbHandle {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length)
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
    const sqlite = new SQLite(file)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('busy_timeout = 5000')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('synchronous = NORMAL')
    // The short-search index's triggers (migration 720) call it: every connection that
    // writes notices, measures or warnings needs it.
    sqlite.function(m720.GRAMS_FN, { deterministic: true }, (text: unknown) => m720.searchGrams(typeof text === 'string' ? text : null))
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
    return { db, dialect: 'sqlite', close: () => db.destroy() }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  })
  // An idle connection that the server drops (a restart, a failover) makes the pool emit
  // 'error'; unheard, that event would kill the process. The pool replaces the client
  // and the next query reconnects.
  pool.on('error', (err) => opts.onError?.(err))
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { db, dialect: 'postgres', schema: opts.schema, close: () => db.destroy() }
}

const CATALOG_RACE = new Set(['3F000', '42P01', '42703'])

export async function migrateToLatest(db: Kysely<any>, schema?: string): Promise<string[]> {
  // Kysely looks for its own tables across all schemas unless told which one to use.
  // Unordered: migrations written in parallel land with dated names that may sort before
  // one a database already ran; each is independent of the others of its day.
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(), migrationTableSchema: schema, allowUnorderedMigrations: true })
  for (let attempt = 1; ; attempt++) {
    try {
      const { error, results } = await migrator.migrateToLatest()
      if (error) throw error instanceof Error ? error : new Error(String(error))
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
    } catch (err) {
      // Kysely's introspection reads every schema's tables; another schema dropped at that
      // moment (tests and tenants come and go) fails the read with 3F000, or with 42P01 or
      // 42703 when a table or column vanishes between the catalog scan and a function call
      // on it. Ours is fine: retry. (Migrations run in a transaction, so a retry is clean.)
      if (!CATALOG_RACE.has((err as { code?: string }).code ?? '') || attempt >= 5) throw err
      await new Promise((r) => setTimeout(r, 50 * attempt))
    }
  }
}

export const nowIso = (clock: () => Date = () => new Date()) => clock().toISOString()
