import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { ingestRaw } from '../../src/services/ingest.service.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { euTrisSource } from '../../scrapers/eu-tris/eu-tris.source.js'
import { DIALECTS, createTestEnv, type TestEnv } from '../helpers/db.js'
import { startTrisSite, type FixtureSite } from '../helpers/fixture-sites.js'

const NOW = new Date('2026-11-27T08:00:00Z')
const SINCE = '2026-08-04'

async function scrapeAndIngest(env: TestEnv, sourceId: string) {
  const r = await scrapeSource(env.ctx, sourceId, { since: SINCE })
  const ingested = []
  for (const id of r.pendingRawIds) ingested.push(await ingestRaw(env.ctx, id))
  return { scrape: r, ingested }
}

describe.each(DIALECTS)('eu-tris through the fixture site in Chromium (%s)', (dialect) => {
  let site: FixtureSite
  let replay: ReplayServer
  let env: TestEnv
  let first: Awaited<ReturnType<typeof scrapeAndIngest>>

  beforeAll(async () => {
    site = await startTrisSite()
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv(dialect, { TBT_SOURCE_EU_TRIS_BASE_URL: site.url, TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => NOW })
    await seed(env.ctx)
    first = await scrapeAndIngest(env, 'eu-tris')
  })
  afterAll(async () => {
    await env?.cleanup()
    await site?.close()
    await replay?.close()
  })

  it('pages through the rendered search and renders each notification in the window', async () => {
    expect(first.scrape).toMatchObject({ status: 'ok' })
    expect(first.ingested.every((i) => !i.quarantined && i.errors === 0)).toBe(true)
    const pages = site.hits.filter((h) => h.path.startsWith('/en/')).map((h) => h.path)
    expect(pages.filter((p) => p.startsWith('/en/search'))).toEqual(['/en/search?page=1', '/en/search?page=2'])
    expect(pages.filter((p) => p.startsWith('/en/notification/')).sort()).toEqual(['/en/notification/25433', '/en/notification/25470', '/en/notification/25512'])
    // The search pages are not raw material; the notification pages are.
    const raws = await env.ctx.db.selectFrom('raw_response').select(['url', 'parse_status', 'engine', 'body']).where('engine', '=', 'browser').orderBy('url').execute()
    expect(raws.map((r) => [new URL(r.url).pathname + new URL(r.url).search, r.parse_status])).toEqual([
      ['/en/notification/25433', 'ok'],
      ['/en/notification/25470', 'ok'],
      ['/en/notification/25512', 'ok'],
      ['/en/search?page=1', 'ok'],
      ['/en/search?page=2', 'ok'],
    ])
    for (const r of raws) expect(r.body).not.toMatch(/<script/i)
  })

  it('stores every field of a notification, its measure keyed by its TRIS number', async () => {
    const row = await env.ctx.db.selectFrom('notice').selectAll().where('source_id', '=', 'eu-tris').where('source_item_id', '=', '2026/0266/ES').executeTakeFirstOrThrow()
    const measure = await env.ctx.db.selectFrom('measure').selectAll().where('id', '=', row.measure_id).executeTakeFirstOrThrow()
    expect(measure).toMatchObject({ key: 'TRIS:2026/0266/ES', member: 'Spain', comment_deadline: '2027-02-04', first_distribution_date: '2026-11-03', status: 'open' })
    const hs = (await env.ctx.db.selectFrom('notice_hs').select('code').where('notice_id', '=', row.id).execute()).map((r) => r.code)
    expect(hs).toEqual(['850760'])
    const { id, measure_id, content_hash, raw_response_id, first_seen_at, updated_at, baseline: _baseline, ...fields } = row
    expect([id > 0, measure_id > 0, /^[0-9a-f]{64}$/.test(content_hash), raw_response_id != null]).toEqual([true, true, true, true])
    expect([first_seen_at, updated_at]).toEqual([NOW.toISOString(), NOW.toISOString()])
    expect(fields).toEqual({
      source_id: 'eu-tris',
      source_item_id: '2026/0266/ES',
      symbol: 'TRIS:2026/0266/ES',
      symbols: JSON.stringify(['TRIS:2026/0266/ES']),
      doc_type: 'regular',
      area: 'TBT',
      member: 'Spain',
      member_code: 'ESP',
      title: 'Royal Decree laying down the safety requirements for lithium-ion batteries used in personal light electric vehicles',
      products: 'Lithium-ion batteries and battery packs for e-scooters and e-bikes (HS 8507.60)',
      description:
        'The draft requires lithium-ion batteries placed on the Spanish market for personal light electric vehicles to pass overcharge, short-circuit and thermal propagation tests, to carry a label with capacity and chemistry, and to be certified by a notified body.',
      objectives: '[]',
      keywords: '[]',
      language: 'eng',
      distribution_date: '2026-11-03',
      comment_deadline: '2027-02-04',
      adoption_date: null,
      adoption_text: null,
      entry_into_force_date: null,
      entry_into_force_text: null,
      links: JSON.stringify([`${site.url}/en/notification/25512/text/D/EN`]),
      source_url: `${site.url}/en/notification/25512`,
      source_status: 'Standstill period running',
    })
    const fr = await env.ctx.db.selectFrom('notice').selectAll().where('source_item_id', '=', '2026/0251/FR').executeTakeFirstOrThrow()
    expect(fr).toMatchObject({ member_code: 'FRA', comment_deadline: '2027-04-21', source_status: 'Standstill extended (detailed opinion)' })
  })

  it('links a notification that names its WTO symbol to the ePing record’s measure', async () => {
    const eping = await scrapeAndIngest(env, 'eping')
    expect(eping.scrape.status).toBe('ok')
    const rows = await env.ctx.db
      .selectFrom('notice')
      .innerJoin('measure', 'measure.id', 'notice.measure_id')
      .select(['notice.source_id', 'notice.symbols', 'measure.key', 'measure.id'])
      .where('measure.key', '=', 'G/TBT/N/EU/1207')
      .orderBy('notice.source_id')
      .execute()
    expect(rows.map((r) => [r.source_id, JSON.parse(r.symbols)])).toEqual([
      ['eping', ['G/TBT/N/EU/1207']],
      ['eu-tris', ['TRIS:2026/0244/EU', 'G/TBT/N/EU/1207']],
    ])
    expect(await env.ctx.db.selectFrom('measure').select('id').where('key', '=', 'TRIS:2026/0244/EU').executeTakeFirst()).toBeUndefined()
  })

  it('costs only conditional requests the second time and stores nothing new', async () => {
    const before = site.hits.length
    const again = await scrapeAndIngest(env, 'eu-tris')
    expect(again.scrape).toMatchObject({ status: 'ok', rawNew: 0, pendingRawIds: [] })
    const hits = site.hits.slice(before).filter((h) => h.path !== '/robots.txt')
    expect(hits.length).toBe(2 + 3 + 2) // two search pages, three notifications, main.js and the stylesheet
    expect(hits.every((h) => h.method === 'GET' && h.conditional && h.status === 304)).toBe(true)
  })

  it('parses a stored snapshot again without a browser', async () => {
    const raw = await env.ctx.db.selectFrom('raw_response').selectAll().where('engine', '=', 'browser').where('url', 'like', '%/en/notification/25433').executeTakeFirstOrThrow()
    const parsed = euTrisSource.parse({ url: raw.url, status: raw.status, contentType: raw.content_type, body: raw.body })
    expect(parsed.notices.map((n) => n.symbols)).toEqual([['TRIS:2026/0244/EU', 'G/TBT/N/EU/1207']])
  })
})
