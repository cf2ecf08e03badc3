import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decode } from '../../scrapers/http-client.js'
import { loadPortalDefinitions, parsePortalDefinition, PORTALS_DIR } from '../../scrapers/portal/portal-definition.js'
import { isListUrl, listPageUrl, parsePortalDate, parsePortalDetail, parsePortalList, relativeDeadline } from '../../scrapers/portal/portal.parser.js'
import { createPortalSource } from '../../scrapers/portal/portal.source.js'
import { SourceError, type Page } from '../../scrapers/types.js'
import { DataFileError } from '../../src/util/yaml-file.js'
import { PORTAL_FIXTURES } from '../sources/portal-server.js'

const def = loadPortalDefinitions().find((d) => d.id === 'portal-labelled')!
const BASE = 'http://portal.test'
const fixture = (rel: string): Page => ({
  url: `${BASE}/${rel}`,
  status: 200,
  contentType: 'text/html',
  body: decode(fs.readFileSync(path.join(PORTAL_FIXTURES, rel)), 'text/html', def.encoding),
})
const detail = (id: string) => parsePortalDetail(def, fixture(`tbt/tzgg/202611/t${id}.html`))

describe('portal definitions', () => {
  it('ships the labelled-field portal, dormant until its base URL is set', () => {
    expect(def).toMatchObject({ engine: 'http', enabled: false, language: 'zho', encoding: 'gbk' })
    expect(Object.keys(def.detail.fields).sort()).toEqual(
      ['commentDeadline', 'description', 'distributionDate', 'hsCodes', 'icsCodes', 'member', 'objectives', 'products', 'symbols', 'title', 'area'].sort(),
    )
  })

  it('reports a mistake with its file and line', () => {
    const text = fs.readFileSync(path.join(PORTALS_DIR, 'labelled-tbt-portal.yaml'), 'utf8')
    const bad = text.replace('engine: http', 'engine: carrier-pigeon')
    const line = bad.split('\n').findIndex((l) => l.startsWith('engine:')) + 1
    const err = (() => {
      try {
        parsePortalDefinition(bad, 'scrapers/portals/x.yaml')
      } catch (e) {
        return e as DataFileError
      }
    })()!
    expect(err).toBeInstanceOf(DataFileError)
    expect(err.message).toMatch(new RegExp(`^scrapers/portals/x\\.yaml:${line}: .*engine`))
    expect(() => parsePortalDefinition(text.replace("url: tbt/tzgg/index_{page}.html", 'url: tbt/tzgg/list.html'), 'y.yaml')).toThrow(/y\.yaml:\d+: must contain \{page\}/)
    expect(() => parsePortalDefinition(text.replace('    member: 通告成员', '    member: { label: 通告成员, selector: td }'), 'z.yaml')).toThrow(/z\.yaml:\d+: give either label or selector/)
    expect(() => parsePortalDefinition(text.replace("idPattern: 't(", "idPattern: '(t("), 'w.yaml')).toThrow(/w\.yaml: list\.idPattern/)
    expect(() => parsePortalDefinition('id: x\n  bad: [', 'v.yaml')).toThrow(/v\.yaml:\d+:/)
  })
})

describe('portal list pages', () => {
  it('finds the detail links, ids and dates; later pages by their own URLs', () => {
    expect(listPageUrl(def, BASE, 1)).toBe(`${BASE}/tbt/tzgg/index.html`)
    expect(listPageUrl(def, `${BASE}/`, 2)).toBe(`${BASE}/tbt/tzgg/index_2.html`)
    expect(parsePortalList(def, fixture('tbt/tzgg/index.html'))).toEqual([
      { id: '20261120_5101', url: `${BASE}/tbt/tzgg/202611/t20261120_5101.html`, date: '2026-11-20' },
      { id: '20261118_5099', url: `${BASE}/tbt/tzgg/202611/t20261118_5099.html`, date: '2026-11-18' },
      { id: '20261116_5097', url: `${BASE}/tbt/tzgg/202611/t20261116_5097.html`, date: '2026-11-16' },
    ])
    expect(parsePortalList(def, fixture('tbt/tzgg/index_3.html'))).toEqual([])
    expect(isListUrl(def, `${BASE}/tbt/tzgg/index_12.html`)).toBe(true)
    expect(isListUrl(def, `${BASE}/tbt/tzgg/index.html`)).toBe(true)
    expect(isListUrl(def, `${BASE}/tbt/tzgg/202611/t20261120_5101.html`)).toBe(false)
    const source = createPortalSource(def)
    expect(source.parse(fixture('tbt/tzgg/index.html'))).toEqual({ notices: [], errors: [] })
  })
})

describe('portal detail pages', () => {
  it('reads every labelled field of a notice', () => {
    const r = detail('20261116_5097')
    expect(r.errors).toEqual([])
    expect(r.notices).toEqual([
      {
        sourceId: 'portal-labelled',
        sourceItemId: '20261116_5097',
        symbols: ['G/TBT/N/EU/1302'],
        docType: 'regular',
        area: 'TBT',
        member: '欧盟',
        memberCode: 'EU',
        title: '欧盟：电池护照及碳足迹标签授权法规草案',
        products: '电动汽车电池、轻型交通工具电池及容量大于 2 kWh 的工业电池',
        description: '该授权法规草案规定电池护照的数据项、访问权限及碳足迹声明的计算方法与标签格式。 投放欧盟市场的电池须附二维码，链接至电池护照。',
        objectives: ['Protection of the environment', 'Consumer information, labelling'],
        keywords: [],
        hsCodes: ['850760', '850780'],
        icsCodes: ['29.220.20', '13.020.60'],
        languageHint: 'zho',
        distributionDate: '2026-11-16',
        commentDeadline: '2027-01-19',
        adoptionDate: null,
        adoptionText: null,
        entryIntoForceDate: null,
        entryIntoForceText: null,
        links: [`${BASE}/tbt/files/2026/EU1302_zh.pdf`, 'https://members.wto.org/crnattachments/2026/TBT/EEC/26_09911_00_e.pdf'],
        sourceUrl: `${BASE}/tbt/tzgg/202611/t20261116_5097.html`,
      },
    ])
  })

  it('keeps a joint notification as one notice with all its symbols, and counts a relative deadline', () => {
    const [n] = detail('20261118_5099').notices
    expect(n.symbols).toEqual(['G/TBT/N/KEN/1655', 'G/TBT/N/UGA/2101', 'G/TBT/N/TZA/1230'])
    expect(n.distributionDate).toBe('2026-11-18')
    expect(n.commentDeadline).toBe('2027-01-17') // 通报后60天
    expect(n.hsCodes).toEqual(['871160'])
    expect(n.objectives).toEqual(['Protection of human health or safety', 'Quality requirements'])
  })

  it('reads a follow-up by its symbol, and empty fields as empty', () => {
    const [n] = detail('20261120_5101').notices
    expect(n).toMatchObject({ docType: 'addendum', symbols: ['G/TBT/N/EU/1302/Add.1'], distributionDate: '2026-11-20', commentDeadline: '2027-02-18', hsCodes: [], icsCodes: [], objectives: [] })
  })

  it('decodes GBK pages, declared or not', () => {
    const [vn] = detail('20261110_5090').notices
    expect(vn).toMatchObject({ member: '越南', title: '越南：儿童玩具安全国家技术法规草案', distributionDate: '2026-11-10', commentDeadline: '2027-01-09', hsCodes: ['950300'], icsCodes: ['97.200.50'] })
    const [sa] = detail('20261105_5088').notices
    expect(sa).toMatchObject({ member: '沙特阿拉伯王国', symbols: ['G/TBT/N/SAU/1399'], hsCodes: ['732111'], products: '家用燃气灶具、燃气烤箱' })
  })

  it('names a 200 page carrying an error message as a bad response, and a page without the fields as a layout change', () => {
    expect(() => detail('20261101_5080')).toThrow(SourceError)
    try {
      detail('20261101_5080')
    } catch (e) {
      expect(e).toMatchObject({ code: 'bad-response', retryable: false })
      expect((e as Error).message).toMatch(/页面不存在/)
    }
    const redesigned: Page = { url: `${BASE}/tbt/tzgg/202611/t20261120_9999.html`, status: 200, contentType: 'text/html', body: '<html><body><div class="article"><dl><dt>成员</dt><dd>欧盟</dd></dl></div></body></html>' }
    expect(() => parsePortalDetail(def, redesigned)).toThrow(expect.objectContaining({ code: 'layout-changed' }))
  })

  it('records a page missing its symbols as an item error', () => {
    const page = fixture('tbt/tzgg/202611/t20261116_5097.html')
    const r = parsePortalDetail(def, { ...page, body: page.body.replace('G/TBT/N/EU/1302', '待定') })
    expect(r.notices).toEqual([])
    expect(r.errors).toEqual([{ itemId: '20261116_5097', reason: '20261116_5097: no document symbol' }])
  })
})

describe('portal dates', () => {
  it('reads the configured formats and rejects absurd dates', () => {
    const f = ['YYYY-MM-DD', 'YYYY年M月D日', 'YYYY/M/D']
    expect(parsePortalDate('2027年1月9日', f)).toBe('2027-01-09')
    expect(parsePortalDate(' 发布：2026/11/5 ', f)).toBe('2026-11-05')
    expect(parsePortalDate('2026-02-30', f)).toBeNull()
    expect(parsePortalDate('待定', f)).toBeNull()
    expect(parsePortalDate('1066-10-14', f)).toBeNull()
    expect(parsePortalDate('05/11/2026', ['DD/MM/YYYY'])).toBe('2026-11-05')
    expect(relativeDeadline('通报后 90 天', '2026-11-01')).toBe('2027-01-30')
    expect(relativeDeadline('60 days after notification', '2026-11-01')).toBe('2026-12-31')
    expect(relativeDeadline('待定', '2026-11-01')).toBeNull()
  })
})

describe('portal parser properties', () => {
  const html = fc.oneof(
    fc.string(),
    fc.constantFrom(...['20261116_5097', '20261118_5099', '20261110_5090'].map((id) => fixture(`tbt/tzgg/202611/t${id}.html`).body)),
  )
  // Mutations of a real page: cut it anywhere, splice junk in, drop characters.
  const mutated = fc.tuple(html, fc.nat(), fc.nat(), fc.string()).map(([b, i, j, junk]) => {
    const a = i % (b.length + 1)
    const z = j % (b.length + 1)
    return b.slice(0, Math.min(a, z)) + junk + b.slice(Math.max(a, z))
  })

  it('detail pages: a notice, an item error, or a SourceError; never anything else', () => {
    fc.assert(
      fc.property(mutated, (body) => {
        const page: Page = { url: `${BASE}/tbt/tzgg/202611/t20261120_5101.html`, status: 200, contentType: 'text/html', body }
        let r
        try {
          r = parsePortalDetail(def, page)
        } catch (e) {
          expect(e).toBeInstanceOf(SourceError)
          return
        }
        expect(r.notices.length + r.errors.length).toBe(1)
        for (const n of r.notices) {
          expect(n.symbols.length).toBeGreaterThan(0)
          expect(n.title.length).toBeGreaterThan(0)
          for (const d of [n.distributionDate, n.commentDeadline]) expect(d === null || /^\d{4}-\d{2}-\d{2}$/.test(d)).toBe(true)
          for (const c of n.hsCodes) expect(c).toMatch(/^\d{2,10}$/)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('list pages: items always carry an absolute URL and a unique id', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constant(fixture('tbt/tzgg/index.html').body)), fc.string(), (body, junk) => {
        const items = parsePortalList(def, { url: `${BASE}/tbt/tzgg/index.html`, status: 200, contentType: 'text/html', body: body.replace('</li>', `${junk}</li>`) })
        expect(new Set(items.map((i) => i.id)).size).toBe(items.length)
        for (const i of items) expect(i.url).toMatch(/^https?:\/\//)
      }),
      { numRuns: 300 },
    )
  })
})
