import type { AppContext } from '../../src/app-context.js'
import { requestSubscription, validatePreferences } from '../../src/services/subscriber.service.js'

const DAY_MS = 86_400_000

/**
 * Two sign-ups never confirmed, as the public form leaves them: one 8 days old (due for
 * the 7-day purge) and one 2 days old (kept). `signupsLeft` says which are still there.
 */
export async function addPendingSignups(ctx: AppContext, now: Date): Promise<void> {
  for (const [email, days] of [['stale-signup@example.com', 8], ['young-signup@example.com', 2]] as const) {
    await requestSubscription({ ...ctx, clock: () => new Date(now.getTime() - days * DAY_MS) }, email, validatePreferences(ctx, {}))
  }
}

export async function signupsLeft(ctx: AppContext): Promise<string[]> {
  const rows = await ctx.db.selectFrom('subscriber').select('email').where('email', 'like', '%-signup@example.com').orderBy('email').execute()
  return rows.map((r) => r.email)
}
