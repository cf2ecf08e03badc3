import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sourceEnabled } from '../../src/app-context.js'
import { exportNotices } from '../../src/services/export.service.js'
import { ingestRaw } from '../../src/services/ingest.service.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'
import { dumpState } from '../helpers/dump.js'
import { startPortalServer } from './portal-server.js'

const FIXED_NOW = new Date('2026-11-28T04:00:00Z')
const ID = 'portal-labelled'

async function scrapeAndIngest(env: TestEnv, since: string | null = '2026-10-01') {
  const r = await scrapeSource(env.ctx, ID, { since })
  const ingested = []
  for (const id of r.pendingRawIds) ingested.push(await ingestRaw(env.ctx, id))
  return { r, ingested }
}

describe.each(DIALECTS)('labelled-field portal end to end through a fixture server (%s)', (dialect) => {
  let server: Awaited<ReturnType<typeof startPortalServer>>
  let env: TestEnv
  let first: Awaited<ReturnType<typeof scrapeAndIngest>>

  beforeAll(async () => {
    server = await startPortalServer()
    env = await createTestEnv(dialect, { TBT_SOURCE_PORTAL_LABELLED_BASE_URL: server.url }, { clock: () => FIXED_NOW })
    await seed(env.ctx, { subscribers: false })
    first = await scrapeAndIngest(env)
  })
  afterAll(async () => {
    await env?.cleanup()
    await server?.close()
  })

  it('walks the list pages and fetches every detail page once, after robots.txt', () => {
    expect(server.hits[0]).toBe('GET /robots.txt')
    expect(server.log.map((l) => `${l.status} ${l.path}`)).toEqual([
      '200 /tbt/tzgg/index.html',
      '200 /tbt/tzgg/202611/t20261120_5101.html',
      '200 /tbt/tzgg/202611/t20261118_5099.html',
      '200 /tbt/tzgg/202611/t20261116_5097.html',
      '200 /tbt/tzgg/index_2.html',
      '200 /tbt/tzgg/202611/t20261110_5090.html',
      '200 /tbt/tzgg/202611/t20261105_5088.html',
      '200 /tbt/tzgg/202611/t20261101_5080.html',
      '200 /tbt/tzgg/index_3.html',
    ])
    expect(first.r).toMatchObject({ status: 'ok', requests: 9, notModified: 0, rawNew: 9 })
    // List pages are kept but not ingested; the error page is quarantined, the rest kept.
    expect(first.ingested.map((i) => [i.items, i.errors, i.quarantined])).toEqual([
      [1, 0, false],
      [1, 0, false],
      [1, 0, false],
      [1, 0, false],
      [1, 0, false],
      [0, 0, true],
    ])
  })

  it('stores every field of every notice', async () => {
    const rows = await env.ctx.db.selectFrom('notice').selectAll().orderBy('source_item_id', 'desc').execute()
    const measures = new Map((await env.ctx.db.selectFrom('measure').selectAll().execute()).map((m) => [m.id, m]))
    const hs = await env.ctx.db.selectFrom('notice_hs').selectAll().orderBy('code').execute()
    const ics = await env.ctx.db.selectFrom('notice_ics').selectAll().orderBy('code').execute()
    const view = rows.map((r) => ({
      id: r.source_item_id,
      measure: measures.get(r.measure_id)!.key,
      symbol: r.symbol,
      symbols: JSON.parse(r.symbols),
      type: r.doc_type,
      area: r.area,
      member: r.member,
      memberCode: r.member_code,
      title: r.title,
      products: r.products,
      description: r.description,
      objectives: JSON.parse(r.objectives),
      keywords: JSON.parse(r.keywords),
      language: r.language,
      distribution: r.distribution_date,
      deadline: r.comment_deadline,
      adoption: [r.adoption_date, r.adoption_text],
      force: [r.entry_into_force_date, r.entry_into_force_text],
      links: JSON.parse(r.links),
      url: r.source_url,
      hs: hs.filter((h) => h.notice_id === r.id).map((h) => h.code),
      ics: ics.filter((h) => h.notice_id === r.id).map((h) => h.code),
      seen: r.first_seen_at,
      raw: r.raw_response_id !== null,
    }))
    const page = (id: string) => `${server.url}/tbt/tzgg/202611/t${id}.html`
    const common = { area: 'TBT', keywords: [], language: 'zho', adoption: [null, null], force: [null, null], seen: FIXED_NOW.toISOString(), raw: true }
    expect(view).toEqual([
      {
        ...common,
        id: '20261120_5101',
        measure: 'G/TBT/N/EU/1302',
        symbol: 'G/TBT/N/EU/1302/Add.1',
        symbols: ['G/TBT/N/EU/1302/Add.1'],
        type: 'addendum',
        member: '欧盟',
        memberCode: 'EU',
        title: '欧盟：电池护照授权法规草案评议期延长',
        products: '电池',
        description: 'The comment period for G/TBT/N/EU/1302 is extended to 18 February 2027. 评议期延长至2027年2月18日。',
        objectives: [],
        distribution: '2026-11-20',
        deadline: '2027-02-18',
        links: [],
        url: page('20261120_5101'),
        hs: [],
        ics: [],
      },
      {
        ...common,
        id: '20261118_5099',
        measure: 'G/TBT/N/KEN/1655',
        symbol: 'G/TBT/N/KEN/1655',
        symbols: ['G/TBT/N/KEN/1655', 'G/TBT/N/UGA/2101', 'G/TBT/N/TZA/1230'],
        type: 'regular',
        member: '肯尼亚、乌干达、坦桑尼亚',
        memberCode: 'KEN',
        title: '东非共同体：电动自行车安全要求标准草案',
        products: '电动助力自行车',
        description: '该东非标准草案规定了电动助力自行车的安全要求、试验方法及标志。',
        objectives: ['Protection of human health or safety', 'Quality requirements'],
        distribution: '2026-11-18',
        deadline: '2027-01-17',
        links: [],
        url: page('20261118_5099'),
        hs: ['871160'],
        ics: ['43.150'],
      },
      {
        ...common,
        id: '20261116_5097',
        measure: 'G/TBT/N/EU/1302',
        symbol: 'G/TBT/N/EU/1302',
        symbols: ['G/TBT/N/EU/1302'],
        type: 'regular',
        member: '欧盟',
        memberCode: 'EU',
        title: '欧盟：电池护照及碳足迹标签授权法规草案',
        products: '电动汽车电池、轻型交通工具电池及容量大于 2 kWh 的工业电池',
        description: '该授权法规草案规定电池护照的数据项、访问权限及碳足迹声明的计算方法与标签格式。 投放欧盟市场的电池须附二维码，链接至电池护照。',
        objectives: ['Protection of the environment', 'Consumer information, labelling'],
        distribution: '2026-11-16',
        deadline: '2027-01-19',
        links: [`${server.url}/tbt/files/2026/EU1302_zh.pdf`, 'https://members.wto.org/crnattachments/2026/TBT/EEC/26_09911_00_e.pdf'],
        url: page('20261116_5097'),
        hs: ['850760', '850780'],
        ics: ['13.020.60', '29.220.20'],
      },
      {
        ...common,
        id: '20261110_5090',
        measure: 'G/TBT/N/VNM/402',
        symbol: 'G/TBT/N/VNM/402',
        symbols: ['G/TBT/N/VNM/402'],
        type: 'regular',
        member: '越南',
        memberCode: 'VNM',
        title: '越南：儿童玩具安全国家技术法规草案',
        products: '14 岁以下儿童使用的玩具',
        description: '草案规定玩具中铅、镉等可迁移元素的限量及合格评定程序，进口玩具须逐批检验。',
        objectives: ['Protection of human health or safety'],
        distribution: '2026-11-10',
        deadline: '2027-01-09',
        links: [],
        url: page('20261110_5090'),
        hs: ['950300'],
        ics: ['97.200.50'],
      },
      {
        ...common,
        id: '20261105_5088',
        measure: 'G/TBT/N/SAU/1399',
        symbol: 'G/TBT/N/SAU/1399',
        symbols: ['G/TBT/N/SAU/1399'],
        type: 'regular',
        member: '沙特阿拉伯王国',
        memberCode: 'SAU',
        title: '沙特阿拉伯：家用燃气器具技术法规',
        products: '家用燃气灶具、燃气烤箱',
        description: '技术法规规定家用燃气器具的安全要求及符合性证书要求。',
        objectives: ['Protection of human health or safety'],
        distribution: '2026-11-05',
        deadline: '2027-01-04',
        links: [],
        url: page('20261105_5088'),
        hs: ['732111'],
        ics: ['97.040.20'],
      },
    ])
  })

  it('files the joint notice as one measure and moves the deadline by the extension addendum', async () => {
    const notices = []
    for await (const n of exportNotices(env.ctx.db)) notices.push(n)
    const eu = notices.filter((n) => n.measureId === 'G/TBT/N/EU/1302')
    expect(eu.map((n) => n.type).sort()).toEqual(['addendum', 'regular'])
    for (const n of eu) expect(n.measureCommentDeadline).toBe('2027-02-18')
    const joint = notices.find((n) => n.symbols.length === 3)!
    expect(joint.measureId).toBe('G/TBT/N/KEN/1655')
    expect(await env.ctx.db.selectFrom('measure').select('key').orderBy('key').execute()).toEqual(
      ['G/TBT/N/EU/1302', 'G/TBT/N/KEN/1655', 'G/TBT/N/SAU/1399', 'G/TBT/N/VNM/402'].map((key) => ({ key })),
    )
  })

  it('quarantines the error page with a clear reason and raises no operations alert for it', async () => {
    const q = await env.ctx.db.selectFrom('raw_response').selectAll().where('parse_status', '=', 'quarantined').execute()
    expect(q).toHaveLength(1)
    expect(q[0].url).toBe(`${server.url}/tbt/tzgg/202611/t20261101_5080.html`)
    expect(q[0].parse_error).toMatch(/页面不存在/)
    expect(await env.ctx.db.selectFrom('ops_alert').selectAll().execute()).toEqual([])
  })

  it('costs one conditional request the second time and stores nothing new', async () => {
    const before = await dumpState(env.ctx.db)
    const raws = (await env.ctx.db.selectFrom('raw_response').select('id').execute()).length
    server.log.length = 0
    const second = await scrapeAndIngest(env)
    expect(server.log).toEqual([{ path: '/tbt/tzgg/index.html', status: 304 }])
    expect(second.r).toMatchObject({ status: 'ok', requests: 1, notModified: 1, rawNew: 0, pendingRawIds: [] })
    expect((await env.ctx.db.selectFrom('raw_response').select('id').execute()).length).toBe(raws)
    expect(await dumpState(env.ctx.db)).toEqual(before)
    const source = await env.ctx.db.selectFrom('source').selectAll().where('id', '=', ID).executeTakeFirstOrThrow()
    expect(source).toMatchObject({ enabled: 1, cursor: '2026-11-20', last_status: 'ok', base_url: server.url })
  })
})

describe('labelled-field portal failures', () => {
  it('says the layout changed when the list selector finds nothing, with an operations alert', async () => {
    const server = await startPortalServer({ override: { '/tbt/tzgg/index.html': '<html><body><div class="new-list"><a href="/x/1.html">新版</a></div></body></html>' } })
    const env = await createTestEnv('sqlite', { TBT_SOURCE_PORTAL_LABELLED_BASE_URL: server.url }, { clock: () => FIXED_NOW })
    try {
      await seed(env.ctx, { subscribers: false })
      const r = await scrapeSource(env.ctx, ID, { since: '2026-10-01' })
      expect(r).toMatchObject({ status: 'failed', errorCode: 'layout-changed' })
      const alerts = await env.ctx.db.selectFrom('ops_alert').selectAll().execute()
      expect(alerts).toHaveLength(1)
      expect(alerts[0]).toMatchObject({ source_id: ID, kind: 'layout-changed' })
      expect(alerts[0].message).toMatch(/ul\.news-list > li/)
    } finally {
      await env.cleanup()
      await server.close()
    }
  })

  it('stays dormant until its base URL is configured', async () => {
    const env = await createTestEnv('sqlite')
    try {
      const portal = env.ctx.sources.find((s) => s.id === ID)!
      expect(sourceEnabled(env.ctx, portal)).toBe(false)
      await seed(env.ctx, { subscribers: false })
      const row = await env.ctx.db.selectFrom('source').selectAll().where('id', '=', ID).executeTakeFirstOrThrow()
      expect(row.enabled).toBe(0)
    } finally {
      await env.cleanup()
    }
  })
})
