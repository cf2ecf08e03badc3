import { createContext, type AppContext } from '../app-context.js'
import { loadConfig, type Config } from '../config.js'

/** Opens the context for a command and always closes it, whatever happens. */
export async function withContext<T>(fn: (ctx: AppContext) => Promise<T>, config: Config = loadConfig()): Promise<T> {
  const ctx = await createContext(config)
  try {
    return await fn(ctx)
  } finally {
    await ctx.close()
  }
}
