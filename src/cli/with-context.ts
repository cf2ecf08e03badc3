import type { AppContext } from '../app-context.js'
import { loadConfig, type Config } from '../config.js'
import type { Db } from '../db/database.js'

/** Opens the context for a command and always closes it, whatever happens. */
export async function withContext<T>(fn: (ctx: AppContext) => Promise<T>, config: Config = loadConfig()): Promise<T> {
  const { createContext } = await import('../app-context.js')
  const ctx = await createContext(config)
  try {
    return await fn(ctx)
  } finally {
    await ctx.close()
  }
}

/**
 * The database alone (migrated), for commands that need nothing else (`stats`,
 * `export`, `migrate`): they start without loading the sources, the rules or the mailer.
 */
export async function withDatabase<T>(fn: (db: Db, config: Config) => Promise<T>, config: Config = loadConfig()): Promise<T> {
  const { migrateToLatest, openDatabase } = await import('../db/database.js')
  const handle = openDatabase(config.databaseUrl, { schema: config.databaseSchema })
  try {
    await migrateToLatest(handle.db, config.databaseSchema)
    return await fn(handle.db, config)
  } finally {
    await handle.close()
  }
}
