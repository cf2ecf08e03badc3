import { Migrator, type Migration, type MigrationProvider } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { migrateToLatest } from '../../src/db/database.js'
import * as m001 from '../../src/db/migrations/2026-11-28-001-initial.js'
import * as m010 from '../../src/db/migrations/2026-11-28-010-sources.js'
import * as m015 from '../../src/db/migrations/2026-11-28-015-browser.js'
import * as m020 from '../../src/db/migrations/2026-11-28-020-review.js'
import * as m030 from '../../src/db/migrations/2026-11-28-030-digests.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'

/** The migrations as they stood before one warning per measure. */
const BEFORE: Record<string, Migration> = {
  '2026-11-28-001-initial': m001,
  '2026-11-28-010-sources': m010,
  '2026-11-28-015-browser': m015,
  '2026-11-28-020-review': m020,
  '2026-11-28-030-digests': m030,
}

describe.each(DIALECTS)('migrating per-category warnings to one warning per measure (%s)', (dialect) => {
  let env: TestEnv
  afterEach(async () => env?.cleanup())

  it('merges a measure’s warnings: review status, history, deliveries and corrections kept', async () => {
    env = await createTestEnv(dialect, {}, { migrate: false })
    const db = env.ctx.db as never as import('kysely').Kysely<any>
    const provider: MigrationProvider = { getMigrations: async () => BEFORE }
    const r = await new Migrator({ db, provider, migrationTableSchema: env.schema }).migrateToLatest()
    expect(r.error).toBeUndefined()
    const t = '2026-11-20T00:00:00.000Z'
    await db.insertInto('source').values({ id: 'eping', name: 'ePing', engine: 'http', base_url: 'x', enabled: 1, created_at: t }).execute()
    for (const c of ['mobile-phones', 'lithium-batteries', 'steel']) await db.insertInto('category').values({ id: c, name_zh: c, name_en: c, hs_prefixes: '[]', export_weight: 0.1 }).execute()
    const measure = async (key: string) => (await db.insertInto('measure').values({ key, member: null, title: key, status: 'open', comment_deadline: '2026-12-01', created_at: t, updated_at: t }).returning('id').executeTakeFirstOrThrow()).id as number
    const m1 = await measure('G/TBT/N/SAU/1')
    const m2 = await measure('G/TBT/N/USA/2')
    await db
      .insertInto('notice')
      .values({
        source_id: 'eping', source_item_id: '1', measure_id: m1, symbol: 'G/TBT/N/SAU/1', symbols: JSON.stringify(['G/TBT/N/SAU/1', 'G/TBT/N/ARE/9']), doc_type: 'regular', area: 'TBT',
        member: 'Saudi Arabia, Kingdom of', member_code: 'SAU', title: 'x', objectives: '[]', keywords: '[]', language: 'eng', links: '[]', content_hash: 'h', first_seen_at: t, updated_at: t,
      })
      .execute()
    const warning = async (measure_id: number, category_id: string, status: string, score: number, level: string, over: object = {}) =>
      (await db.insertInto('warning').values({ measure_id, category_id, level, score, status, assignee: null, note: null, created_at: t, updated_at: t, ...over }).returning('id').executeTakeFirstOrThrow()).id as number
    const a = await warning(m1, 'mobile-phones', 'new', 55, 'medium')
    const b = await warning(m1, 'lithium-batteries', 'confirmed', 72, 'high', { note: 'checked', assignee: 'ana@example.org' })
    const c = await warning(m1, 'steel', 'dismissed', 30, 'low')
    const single = await warning(m2, 'steel', 'new', 40, 'medium')
    for (const [id, action] of [[a, 'raised'], [b, 'raised'], [b, 'confirm'], [c, 'dismiss']] as const) {
      await db.insertInto('warning_event').values({ warning_id: id, at: t, actor: 'system', action, from_status: null, to_status: 'new', details: null }).execute()
    }
    const sub = (await db.insertInto('subscriber').values({ email: 's@example.org', role: 'enterprise', lang: 'zh', frequency: 'daily', min_level: 'low', confirmed_at: t, created_at: t }).returning('id').executeTakeFirstOrThrow()).id
    const d1 = (await db.insertInto('email_delivery').values({ subscriber_id: sub, kind: 'digest-daily', period_key: '2026-11-20', status: 'sent', attempts: 1, created_at: t }).returning('id').executeTakeFirstOrThrow()).id
    const d2 = (await db.insertInto('email_delivery').values({ subscriber_id: sub, kind: 'immediate', period_key: `w${b}`, status: 'sent', attempts: 1, created_at: t }).returning('id').executeTakeFirstOrThrow()).id
    await db.insertInto('delivery_warning').values([{ delivery_id: d1, subscriber_id: sub, warning_id: a }, { delivery_id: d2, subscriber_id: sub, warning_id: b }, { delivery_id: d1, subscriber_id: sub, warning_id: single }]).execute()
    await db.insertInto('category_correction').values({ measure_id: m1, warning_id: c, categories: '["mobile-phones"]', previous: '[]', actor: 'x', at: t }).execute()

    await migrateToLatest(db, env.schema)

    const ws = await db.selectFrom('warning').selectAll().orderBy('id').execute()
    expect(ws.map((w: any) => [w.id, w.measure_id])).toEqual([[a, m1], [single, m2]])
    const merged = ws[0]
    // the most advanced review wins; the highest score and level; the top category; the note and assignee kept
    expect(merged).toMatchObject({ status: 'confirmed', score: 72, level: 'high', category_id: 'lithium-batteries', note: 'checked', assignee: 'ana@example.org', lifecycle_rank: 0 })
    const cats = await db.selectFrom('warning_category').selectAll().where('warning_id', '=', a).orderBy('category_id').execute()
    expect(cats.map((x: any) => [x.category_id, x.score, x.level])).toEqual([['lithium-batteries', 72, 'high'], ['mobile-phones', 55, 'medium'], ['steel', 30, 'low']])
    expect((await db.selectFrom('warning_category').select('category_id').where('warning_id', '=', single).execute()).map((x: any) => x.category_id)).toEqual(['steel'])
    // every event kept, on the merged warning, plus one saying what was merged
    const events = await db.selectFrom('warning_event').selectAll().where('warning_id', '=', a).orderBy('id').execute()
    expect(events.map((e: any) => e.action)).toEqual(['raised', 'raised', 'confirm', 'dismiss', 'merged'])
    expect(JSON.parse(events.at(-1)!.details).merged.map((m: any) => m.status)).toEqual(['new', 'confirmed', 'dismissed'])
    // the subscriber still holds the measure once; the correction and old links point at the merged warning
    const dw = await db.selectFrom('delivery_warning').selectAll().orderBy('delivery_id').orderBy('warning_id').execute()
    expect(dw.map((x: any) => [x.delivery_id, x.warning_id])).toEqual([[d1, a], [d1, single]])
    expect((await db.selectFrom('category_correction').select('warning_id').executeTakeFirstOrThrow()).warning_id).toBe(a)
    expect((await db.selectFrom('warning_merged').selectAll().orderBy('id').execute()).map((x: any) => [x.id, x.warning_id])).toEqual([[b, a], [c, a]])
    // one warning per measure from now on
    await expect(warning(m1, 'steel', 'new', 1, 'low')).rejects.toThrow()
    // members of the joint notification, in symbol order; what the documents say kept apart from the lifecycle
    expect((await db.selectFrom('measure_member').select(['member_code', 'position']).where('measure_id', '=', m1).orderBy('position').execute()).map((x: any) => x.member_code)).toEqual(['SAU', 'ARE'])
    expect((await db.selectFrom('measure').select(['status', 'stated_status']).where('id', '=', m1).executeTakeFirstOrThrow())).toEqual({ status: 'open', stated_status: 'open' })
    expect(await db.selectFrom('report').selectAll().execute()).toEqual([])
  })
})
