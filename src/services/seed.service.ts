import path from 'node:path'
import { z } from 'zod'
import type { AppContext } from '../app-context.js'
import { sourceBaseUrl, sourceEnabled } from '../app-context.js'
import { projectRoot } from '../util/paths.js'
import { loadYamlFile } from '../util/yaml-file.js'

const SubscriberSeed = z.object({
  email: z.string().email(),
  name: z.string().optional(),
  role: z.enum(['enterprise', 'official']),
  lang: z.enum(['zh', 'en']).default('zh'),
  frequency: z.enum(['immediate', 'daily', 'weekly']),
  minLevel: z.enum(['low', 'medium', 'high']).default('low'),
  subscriptions: z
    .object({
      category: z.array(z.string()).default([]),
      hs: z.array(z.string().regex(/^\d{2,10}$/)).default([]),
      market: z.array(z.string()).default([]),
      keyword: z.array(z.string()).default([]),
    })
    .default({ category: [], hs: [], market: [], keyword: [] }),
})

export const DEFAULT_SUBSCRIBERS_FILE = path.join(projectRoot, 'seeds', 'subscribers.yaml')

/** Reference data and demo records, upserted: seeding twice changes nothing. */
export async function seed(ctx: AppContext, opts: { subscribers?: boolean } = {}) {
  const now = ctx.clock().toISOString()
  const { db } = ctx
  for (const c of ctx.categories) {
    const row = { name_zh: c.zh, name_en: c.en, hs_prefixes: JSON.stringify(c.hs), export_weight: c.exportWeight }
    await db.insertInto('category').values({ id: c.id, ...row }).onConflict((oc) => oc.column('id').doUpdateSet(row)).execute()
  }
  for (const m of ctx.markets) {
    // Every notifying member is a market; the watch list (seeds/markets.yaml) only weights risk.
    const row = { name_zh: m.zh, name_en: m.en, members: JSON.stringify(m.members), trade_share: m.tradeShare, watched: m.watched ? 1 : 0 }
    await db.insertInto('market').values({ code: m.code, ...row }).onConflict((oc) => oc.column('code').doUpdateSet(row)).execute()
  }
  for (const s of ctx.sources) {
    const row = { name: s.name, engine: s.engine, base_url: sourceBaseUrl(ctx, s) }
    const enabled = sourceEnabled(ctx, s) ? 1 : 0
    // A source that needs configuring follows the configuration; others keep what an operator set.
    await db
      .insertInto('source')
      .values({ id: s.id, ...row, enabled, created_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet(s.enabled === false ? { ...row, enabled } : row))
      .execute()
  }
  let subscribers = 0
  if (opts.subscribers !== false) {
    const file = loadYamlFile(DEFAULT_SUBSCRIBERS_FILE, z.object({ subscribers: z.array(SubscriberSeed) }))
    for (const s of file.subscribers) {
      await db
        .insertInto('subscriber')
        .values({
          email: s.email,
          name: s.name ?? null,
          role: s.role,
          lang: s.lang,
          frequency: s.frequency,
          min_level: s.minLevel,
          confirmed_at: now,
          unsubscribed_at: null,
          created_at: now,
        })
        .onConflict((oc) => oc.column('email').doNothing())
        .execute()
      const { id } = await db.selectFrom('subscriber').select('id').where('email', '=', s.email).executeTakeFirstOrThrow()
      for (const [kind, values] of Object.entries(s.subscriptions)) {
        for (const value of values) {
          await db
            .insertInto('subscription')
            .values({ subscriber_id: id, kind, value })
            .onConflict((oc) => oc.columns(['subscriber_id', 'kind', 'value']).doNothing())
            .execute()
        }
      }
      subscribers++
    }
  }
  return { categories: ctx.categories.length, markets: ctx.markets.length, sources: ctx.sources.length, subscribers }
}
