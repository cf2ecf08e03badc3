import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { ingestRaw } from '../../src/services/ingest.service.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { cnTbtSource } from '../../scrapers/cn-tbt/cn-tbt.source.js'
import { DIALECTS, createTestEnv, type TestEnv } from '../helpers/db.js'
import { startCnTbtSite, type FixtureSite } from '../helpers/fixture-sites.js'

const NOW = new Date('2026-11-27T08:00:00Z')
const SINCE = '2026-08-04'

async function scrapeAndIngest(env: TestEnv, sourceId: string) {
  const r = await scrapeSource(env.ctx, sourceId, { since: SINCE })
  const ingested = []
  for (const id of r.pendingRawIds) ingested.push(await ingestRaw(env.ctx, id))
  return { scrape: r, ingested }
}

describe.each(DIALECTS)('cn-tbt through the fixture site in Chromium (%s)', (dialect) => {
  let site: FixtureSite
  let replay: ReplayServer
  let env: TestEnv
  let first: Awaited<ReturnType<typeof scrapeAndIngest>>

  beforeAll(async () => {
    site = await startCnTbtSite()
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv(dialect, { TBT_SOURCE_CN_TBT_BASE_URL: site.url, TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => NOW })
    await seed(env.ctx)
    first = await scrapeAndIngest(env, 'cn-tbt')
  })
  afterAll(async () => {
    await env?.cleanup()
    await site?.close()
    await replay?.close()
  })

  it('keeps the session cookie, lists, and renders every detail page in the window plus the related original', async () => {
    expect(first.scrape).toMatchObject({ status: 'ok' })
    expect(first.ingested.every((i) => !i.quarantined && i.errors === 0)).toBe(true)
    const find = site.hits.filter((h) => h.path === '/tbt/find')
    expect(find.map((h) => h.status)).toEqual([200]) // 401 without the session's cookie
    const details = site.hits.filter((h) => /^\/tbt\/1\/\d+$/.test(h.path)).map((h) => h.path).sort()
    // 20101 is older than --since but the Corr.1 on the page links it.
    expect(details).toEqual(['/tbt/1/20101', '/tbt/1/20390', '/tbt/1/20456', '/tbt/1/20511', '/tbt/1/20533', '/tbt/1/20540'])
    // The script asked for its payload; images were refused; the script was fetched once for the crawl.
    expect(site.hits.filter((h) => h.path.startsWith('/tbt/getTbtDetail')).length).toBe(6)
    expect(site.hits.some((h) => h.path.startsWith('/static/img/'))).toBe(false)
    expect(site.hits.filter((h) => h.path === '/static/js/tbt-detail.js').length).toBe(1)
  })

  it('stores every field of a notice as the page showed it', async () => {
    const row = await env.ctx.db.selectFrom('notice').selectAll().where('source_id', '=', 'cn-tbt').where('source_item_id', '=', '1/20456').executeTakeFirstOrThrow()
    const measure = await env.ctx.db.selectFrom('measure').selectAll().where('id', '=', row.measure_id).executeTakeFirstOrThrow()
    const hs = (await env.ctx.db.selectFrom('notice_hs').select('code').where('notice_id', '=', row.id).orderBy('code').execute()).map((r) => r.code)
    const ics = (await env.ctx.db.selectFrom('notice_ics').select('code').where('notice_id', '=', row.id).execute()).map((r) => r.code)
    expect(measure.key).toBe('G/TBT/N/USA/2268')
    expect(hs).toEqual(['85', '850440', '850760', '8507600010'])
    expect(ics).toEqual(['29.220.30'])
    const { id, measure_id, content_hash, raw_response_id, first_seen_at, updated_at, baseline: _baseline, ...fields } = row
    expect(id).toBeGreaterThan(0)
    expect(content_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(raw_response_id).not.toBeNull()
    expect(first_seen_at).toBe(NOW.toISOString())
    expect(updated_at).toBe(NOW.toISOString())
    expect(fields).toEqual({
      source_id: 'cn-tbt',
      source_item_id: '1/20456',
      symbol: 'G/TBT/N/USA/2268',
      symbols: JSON.stringify(['G/TBT/N/USA/2268']),
      doc_type: 'regular',
      area: 'TBT',
      member: '美国',
      member_code: 'USA',
      title: '便携式电站及其他可充电锂离子电池储能产品安全标准；拟议规则制定通知',
      products: '便携式电站、可充电锂离子电池储能产品（HS编码：8507.60、8504.40）',
      description: '保护人类健康与安全。拟对便携式电站规定过充保护、热失控防护及警示标签要求。',
      objectives: '[]',
      keywords: '[]',
      language: 'zho',
      distribution_date: '2026-09-02',
      comment_deadline: '2026-11-01', // 通报后60天
      adoption_date: '2027-03-01', // 2027年3月, its first day
      adoption_text: '2027年3月',
      entry_into_force_date: null,
      entry_into_force_text: '待定',
      links: JSON.stringify([`${site.url}/upload/tbt/USA2268_en.pdf`, `${site.url}/upload/tbt/USA2268_zh.pdf`]),
      source_url: `${site.url}/tbt/1/20456`,
      source_status: null,
    })
  })

  it('reads the centre’s other date forms and member names', async () => {
    const rows = await env.ctx.db.selectFrom('notice').selectAll().where('source_id', '=', 'cn-tbt').orderBy('source_item_id').execute()
    const by = Object.fromEntries(rows.map((r) => [r.source_item_id, r]))
    expect(Object.keys(by)).toEqual(['1/20101', '1/20390', '1/20456', '1/20511', '1/20533', '1/20540'])
    expect(by['1/20540']).toMatchObject({ member_code: 'KEN', comment_deadline: '2027-01-19', adoption_date: null, adoption_text: '待定', entry_into_force_date: null, entry_into_force_text: '批准后6个月' })
    expect(by['1/20533']).toMatchObject({ member: '越南', member_code: 'VNM', comment_deadline: '2027-01-25', adoption_date: '2027-01-01', adoption_text: '2027年1月', entry_into_force_date: '2027-07-01', entry_into_force_text: null })
    expect(by['1/20511']).toMatchObject({ doc_type: 'addendum', comment_deadline: '2026-12-20' })
    expect(by['1/20390']).toMatchObject({ doc_type: 'corrigendum', symbol: 'G/TBT/N/JPN/910/Corr.1', comment_deadline: null })
    expect(by['1/20390'].measure_id).toBe(by['1/20101'].measure_id)
    expect(by['1/20456'].measure_id).toBe(by['1/20511'].measure_id)
  })

  it('stores the rendered DOM, scripts removed, and parses it again without a browser', async () => {
    const raws = await env.ctx.db.selectFrom('raw_response').selectAll().where('source_id', '=', 'cn-tbt').where('engine', '=', 'browser').orderBy('url').execute()
    expect(raws).toHaveLength(6)
    for (const raw of raws) {
      expect(raw.parse_status).toBe('ok')
      expect(raw.body).not.toMatch(/<script/i)
      expect(raw.body).toMatch(/id="tbtno">G\/TBT\/N\//)
      const again = cnTbtSource.parse({ url: raw.url, status: raw.status, contentType: raw.content_type, body: raw.body })
      expect(again.notices).toHaveLength(1)
    }
    // The shell the server sent has empty fields: only the browser saw them.
    const shell = await env.ctx.db.selectFrom('raw_response').select('body').where('url', '=', `${site.url}/tbt/1/20456`).where('engine', '=', 'http').executeTakeFirstOrThrow()
    expect(shell.body).toMatch(/<td id="tbtno"><\/td>/)
    // ... and gives no notices (nor a false alert) if a parser is ever run over it.
    expect(cnTbtSource.parse({ url: `${site.url}/tbt/1/20456`, status: 200, contentType: 'text/html', body: shell.body })).toEqual({ notices: [], errors: [] })
  })

  it('files the centre’s record and the ePing record of one symbol under one measure, the English title first', async () => {
    const eping = await scrapeAndIngest(env, 'eping')
    expect(eping.scrape.status).toBe('ok')
    const measures = await env.ctx.db
      .selectFrom('notice')
      .innerJoin('measure', 'measure.id', 'notice.measure_id')
      .select(['notice.source_id', 'notice.symbol', 'measure.key', 'measure.title', 'measure.id'])
      .where('measure.key', 'in', ['G/TBT/N/USA/2268', 'G/TBT/N/VNM/388'])
      .orderBy('notice.symbol')
      .orderBy('notice.source_id')
      .execute()
    const usa = measures.filter((m) => m.key === 'G/TBT/N/USA/2268')
    expect(usa.map((m) => `${m.source_id} ${m.symbol}`)).toEqual([
      'cn-tbt G/TBT/N/USA/2268',
      'eping G/TBT/N/USA/2268',
      'cn-tbt G/TBT/N/USA/2268/Add.1',
      'eping G/TBT/N/USA/2268/Add.1',
    ])
    expect(new Set(usa.map((m) => m.id)).size).toBe(1)
    expect(usa[0].title).toMatch(/^Safety Standard for Portable Power Stations/)
    const vnm = measures.filter((m) => m.key === 'G/TBT/N/VNM/388')
    expect(vnm.map((m) => m.source_id).sort()).toEqual(['cn-tbt', 'eping'])
    expect(new Set(vnm.map((m) => m.id)).size).toBe(1)
  })

  it('costs only conditional requests the second time and stores nothing new', async () => {
    const before = site.hits.length
    const rawBefore = await env.ctx.db.selectFrom('raw_response').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    const again = await scrapeAndIngest(env, 'cn-tbt')
    expect(again.scrape.status).toBe('ok')
    expect(again.scrape.rawNew).toBe(0)
    expect(again.scrape.pendingRawIds).toEqual([])
    const hits = site.hits.slice(before)
    // The session call is new every time (and the list is a POST); every page, script and payload is a 304.
    const gets = hits.filter((h) => h.method === 'GET' && !h.path.startsWith('/login/getSession'))
    // Five pages in the window and their payloads, the script and the stylesheet (20101 is known now).
    expect(gets.length).toBe(5 * 2 + 2)
    expect(gets.every((h) => h.conditional && h.status === 304)).toBe(true)
    expect(hits.filter((h) => h.method === 'POST').map((h) => h.path)).toEqual(['/tbt/find'])
    const rawAfter = await env.ctx.db.selectFrom('raw_response').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    expect(Number(rawAfter.n)).toBe(Number(rawBefore.n))
  })
})
