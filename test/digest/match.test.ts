import { describe, expect, it } from 'vitest'
import { barChart, fitLabel, niceMax, textWidth, trendChart } from '../../src/digest/charts.js'
import { matchWarnings, type CatalogWarning } from '../../src/digest/match.js'
import { renderDigest } from '../../src/digest/render.js'
import { buildReport, renderReport, reportCharts, type ReportInput } from '../../src/digest/report.js'
import { periodSeries } from '../../src/domain/periods.js'
import { chartAttachments, cjkFontAvailable, probeCjkFont, svgToPng, weekRange } from '../../src/services/report.service.js'

const w = (over: Partial<CatalogWarning>): CatalogWarning => ({
  id: 1,
  level: 'high',
  score: 70,
  status: 'confirmed',
  categoryId: 'mobile-phones',
  categoryZh: '手机',
  categoryEn: 'Mobile phones',
  categories: [{ id: 'mobile-phones', zh: '手机', en: 'Mobile phones', score: 70, level: 'high' }],
  measureId: 1,
  measureKey: 'G/TBT/N/USA/1',
  symbols: ['G/TBT/N/USA/1'],
  measureStatus: 'open',
  title: 'Radio equipment',
  member: 'United States of America',
  memberCode: 'USA',
  members: [{ code: 'USA', zh: '美国', en: 'United States' }],
  marketCode: 'USA',
  marketZh: '美国',
  marketEn: 'United States',
  markets: [{ code: 'USA', zh: '美国', en: 'United States', watched: true }],
  commentDeadline: '2026-12-20',
  entryIntoForce: null,
  daysLeft: 22,
  reasonZh: '北京手机出口占比高',
  reasonEn: 'phones matter',
  detailUrl: 'http://x/warnings/1',
  path: '/warnings/1',
  sourceUrls: ['https://eping.wto.org/1'],
  hsCodes: ['851713'],
  text: 'radio equipment lithium battery',
  createdAt: '2026-11-28T04:00:00.000Z',
  ...over,
})

describe('matching a subscriber to warnings (pure)', () => {
  const catalog = [
    w({ id: 1 }),
    w({ id: 2, categoryId: 'steel', categories: [{ id: 'steel', zh: '钢材', en: 'Steel', score: 50, level: 'medium' }], hsCodes: ['7208'], level: 'medium', marketCode: 'EU', memberCode: 'DEU', members: [], markets: [], text: 'steel plates' }),
    w({ id: 3, categoryId: 'computers', categories: [{ id: 'computers', zh: '计算机', en: 'Computers', score: 30, level: 'low' }], hsCodes: ['8471'], level: 'low', marketCode: null, memberCode: 'BRA', members: [], markets: [], text: 'laptops energy' }),
  ]
  const base = { minLevel: 'low' as const, categories: [], hs: [], markets: [], keywords: [] }
  it('takes everything when no preference narrows it, above the minimum level', () => {
    expect(matchWarnings(catalog, base).map((m) => m.warning.id)).toEqual([1, 2, 3])
    expect(matchWarnings(catalog, { ...base, minLevel: 'medium' }).map((m) => m.warning.id)).toEqual([1, 2])
  })
  it('treats categories and HS prefixes as one product union; markets and keywords narrow', () => {
    expect(matchWarnings(catalog, { ...base, categories: ['steel'], hs: ['8471'] }).map((m) => m.warning.id)).toEqual([2, 3])
    expect(matchWarnings(catalog, { ...base, hs: ['85'] }).map((m) => m.warning.id)).toEqual([1])
    expect(matchWarnings(catalog, { ...base, markets: ['EU'] }).map((m) => m.warning.id)).toEqual([2])
    expect(matchWarnings(catalog, { ...base, markets: ['BRA'] }).map((m) => m.warning.id)).toEqual([3])
    expect(matchWarnings(catalog, { ...base, keywords: ['Battery'] }).map((m) => m.warning.id)).toEqual([1])
    const [m] = matchWarnings(catalog, { ...base, categories: ['mobile-phones'], markets: ['USA'] })
    expect(m.matchedBy).toEqual([{ kind: 'category', value: 'mobile-phones' }, { kind: 'market', value: 'USA' }])
  })
})

describe('rendering (pure)', () => {
  const links = { baseUrl: 'http://x', unsubscribeUrl: 'http://x/unsubscribe?token=a.b', manageUrl: 'http://x/subscriptions?token=c.d' }
  it('escapes scraped text and refuses non-http source links', () => {
    const evil = w({ title: '<script>alert(1)</script>', sourceUrls: ['javascript:alert(2)'], reasonZh: '<img src=x onerror=alert(3)>' })
    const r = renderDigest({ lang: 'zh', period: 'daily', periodKey: '2026-11-28', recipientName: '<b>ACME</b>', matches: [{ warning: evil, matchedBy: [] }], links })
    expect(r.html).not.toMatch(/<script>|<img src=x|<b>ACME|javascript:/)
    expect(r.html).toContain('&lt;script&gt;')
    expect(r.subject).toBe('【TBT预警】每日摘要 2026-11-28：1项与您产品相关的技术性贸易措施，其中高风险1项')
    expect(r.text).toContain('剩余22天')
    expect(r.html).toContain(links.manageUrl)
  })
  const twoCategories = () =>
    w({
      id: 4,
      measureKey: 'G/TBT/N/SAU/1',
      symbols: ['G/TBT/N/SAU/1'],
      member: 'Saudi Arabia, Kingdom of',
      memberCode: 'SAU',
      members: [{ code: 'SAU', zh: '沙特阿拉伯', en: 'Saudi Arabia' }],
      markets: [{ code: 'GCC', zh: '海湾合作委员会', en: 'Gulf Cooperation Council', watched: true }],
      marketCode: 'GCC',
      marketZh: '海湾合作委员会',
      marketEn: 'Gulf Cooperation Council',
      categoryId: 'electromechanical',
      categoryZh: '其他机电产品',
      categoryEn: 'Other mechanical and electrical products',
      categories: [
        { id: 'electromechanical', zh: '其他机电产品', en: 'Other mechanical and electrical products', score: 70, level: 'high' },
        { id: 'lithium-batteries', zh: '锂离子电池', en: 'Lithium-ion batteries', score: 50, level: 'medium' },
      ],
    })
  it('lists a two-category measure once, with both categories and names instead of codes, and counts measures', () => {
    const m = twoCategories()
    const [match] = matchWarnings([m], { minLevel: 'low', categories: ['lithium-batteries'], hs: [], markets: ['SAU'], keywords: [] })
    expect(match.matchedBy).toEqual([{ kind: 'category', value: 'lithium-batteries' }, { kind: 'market', value: 'SAU' }])
    const zh = renderDigest({ lang: 'zh', period: 'daily', periodKey: '2026-11-30', recipientName: null, matches: [match, { warning: w({ id: 1 }), matchedBy: [] }], links })
    expect(zh.subject).toBe('【TBT预警】每日摘要 2026-11-30：2项与您产品相关的技术性贸易措施，其中高风险2项')
    expect(zh.html.split('G/TBT/N/SAU/1').length - 1).toBe(1)
    expect(zh.html).toContain('其他机电产品、锂离子电池')
    expect(zh.html).toContain('沙特阿拉伯')
    expect(zh.html).toContain('产品类别 锂离子电池；市场 沙特阿拉伯')
    expect(zh.html).not.toMatch(/electromechanical|lithium-batteries|Saudi Arabia, Kingdom of/)
    const en = renderDigest({ lang: 'en', period: 'daily', periodKey: '2026-11-30', recipientName: null, matches: [match], links })
    expect(en.subject).toBe('[TBT alert] Daily digest 2026-11-30: 1 trade measure affecting your products, 1 high risk')
    expect(en.text).toContain('Other mechanical and electrical products, Lithium-ion batteries')
    expect(en.text).toContain('Notified by: Saudi Arabia')
  })
  const input = (over: Partial<ReportInput>): ReportInput => ({
    kind: 'weekly',
    key: '2026-W48',
    ...weekRange('2026-W48'),
    asOf: '2026-11-30',
    generatedAt: '2026-11-30T00:00:00.000Z',
    timeZone: 'Asia/Shanghai',
    warnings: [],
    history: [],
    deadlines: [],
    entries: [],
    comments: null,
    ...over,
  })
  it('builds a report: counts of measures, trend against 4 and 12 periods, charts that render to PNG', () => {
    const history = periodSeries('weekly', '2026-W48', 13).map((key, i) => ({ key, high: i === 12 ? 2 : 1, medium: 1, low: 0 }))
    const closed = w({ id: 5, measureKey: 'G/TBT/N/EU/7', symbols: ['G/TBT/N/EU/7'], measureStatus: 'closed', score: 90, markets: [{ code: 'EU', zh: '欧盟', en: 'European Union', watched: true }] })
    const r = buildReport(input({ warnings: [w({ id: 1 }), twoCategories(), closed], history, entries: [twoCategories()] }))
    expect(r.from).toBe('2026-11-23')
    expect(r.to).toBe('2026-11-29')
    expect(r.total).toBe(3)
    expect(r.byLevel).toEqual({ high: 3, medium: 0, low: 0 })
    // a measure counts once in each category it touches
    expect(r.byCategory.map((c) => [c.key, c.high + c.medium + c.low])).toEqual([['mobile-phones', 2], ['electromechanical', 1], ['lithium-batteries', 1]])
    expect(r.byMarket.map((m) => m.key)).toEqual(['EU', 'GCC', 'USA'])
    expect(r.trend).toMatchObject({ current: 3, avg4: 2, avg12: 2, change4: 50, change12: 50 })
    // closed measures rank below open ones
    expect(r.top.map((x) => x.measureKey)).toEqual(['G/TBT/N/USA/1', 'G/TBT/N/SAU/1', 'G/TBT/N/EU/7'])
    expect(r.entriesByMarket.map((m) => m.key)).toEqual(['GCC'])
    expect(r.entriesByCategory.map((m) => m.key)).toEqual(['electromechanical', 'lithium-batteries'])
    expect(r.comments).toBeNull()
    const mail = renderReport('en', r, { kind: 'email', baseUrl: 'http://x', webUrl: 'http://x/reports/weekly/2026-W48', links })
    expect(mail.subject).toBe('[TBT weekly risk report] week 2026-W48 (2026-11-23 to 2026-11-29): 3 newly warned measures, 3 high risk')
    expect(mail.html).toContain('src="cid:trend@tbt-watch"')
    expect(mail.html).toContain('href="http://x/warnings/1"')
    expect(mail.html).toContain('2026-11-30 08:00 (Beijing time)')
    expect(mail.html).not.toContain('Enterprise comments')
    const web = renderReport('zh', r, { kind: 'web', baseUrl: '', webUrl: 'http://x' })
    expect(web.html).toContain('<svg')
    expect(web.subject).toBe('【TBT风险周报】2026年第48周（2026-11-23 至 2026-11-29）：新增预警措施3项，其中高风险3项')
    expect(web.html).toContain('评议期已结束')
    expect(web.html).toContain('生成时间：2026-11-30 08:00（北京时间）')
    // The 评议 section appears once the comment feed gives figures.
    const withComments = renderReport('zh', buildReport(input({ comments: { submitted: 3, drafting: 1, missedDeadline: 2, exportValue: { amount: 1200000, currency: 'CNY', basis: 'est.' } } })), { kind: 'web', baseUrl: '', webUrl: 'http://x' })
    expect(withComments.html).toContain('企业评议')
    expect(withComments.html).toContain('评议期已过、未提交评议的措施')
    const png = svgToPng(reportCharts(r, 'codes').trend)
    expect(png.subarray(1, 4).toString()).toBe('PNG')
    expect(trendChart([], { avg4: 0, avg12: 0 })).toBe(trendChart([], { avg4: 0, avg12: 0 }))
    expect(barChart([{ label: '<x>', high: 1, medium: 0, low: 0 }])).toContain('&lt;x&gt;')
    expect([niceMax(0), niceMax(3), niceMax(7), niceMax(12)]).toEqual([1, 5, 10, 20])
  })
  it('names monthly and quarterly reports in both languages', () => {
    const m = renderReport('zh', buildReport(input({ kind: 'monthly', key: '2026-11', from: '2026-11-01', to: '2026-11-30', asOf: '2026-12-01' })), { kind: 'web', baseUrl: '', webUrl: 'http://x' })
    expect(m.subject).toBe('【TBT风险月报】2026年11月：新增预警措施0项，其中高风险0项')
    expect(m.html).toContain('近13个月预警措施数量')
    const q = renderReport('en', buildReport(input({ kind: 'quarterly', key: '2026-Q4', from: '2026-10-01', to: '2026-12-31', asOf: '2027-01-01' })), { kind: 'web', baseUrl: '', webUrl: 'http://x' })
    expect(q.subject).toBe('[TBT quarterly risk report] Q4 2026 (2026-10-01 to 2026-12-31): 0 newly warned measures, 0 high risk')
    expect(q.html).toContain('previous 4 quarters&#39; mean')
    expect(q.html).not.toContain('：')
  })
  it("labels the charts in the reader's language, and with codes where the PNG renderer has no CJK font", () => {
    const history = periodSeries('weekly', '2026-W48', 13).map((key) => ({ key, high: 1, medium: 1, low: 0 }))
    const eu = { measureKey: 'G/TBT/N/EU/9', marketCode: 'EU', markets: [{ code: 'EU', zh: '欧盟', en: 'European Union', watched: true }], categoryId: 'lithium-batteries', categories: [{ id: 'lithium-batteries', zh: '锂离子蓄电池', en: 'Lithium-ion batteries', score: 70, level: 'high' as const }] }
    const r = buildReport(input({ warnings: [w({ id: 1 }), w({ id: 2, ...eu })], history }))
    const svgText = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])
    expect(svgText(reportCharts(r, 'zh').markets)).toEqual(expect.arrayContaining(['欧盟', '美国']))
    expect(svgText(reportCharts(r, 'zh').categories)).toEqual(expect.arrayContaining(['锂离子蓄电池', '手机']))
    expect(svgText(reportCharts(r, 'zh').trend).some((t) => t.startsWith('前4周平均 2.0'))).toBe(true)
    expect(svgText(reportCharts(r, 'en').markets)).toEqual(expect.arrayContaining(['European Union', 'United States']))
    expect(svgText(reportCharts(r, 'codes').markets)).toEqual(expect.arrayContaining(['EU', 'USA']))
    // The web page's inline charts are the reader's language.
    const web = renderReport('zh', r, { kind: 'web', baseUrl: '', webUrl: 'http://x' }).html
    expect(svgText(web.slice(web.indexOf('<svg'), web.lastIndexOf('</svg>')))).toEqual(expect.arrayContaining(['欧盟', '锂离子蓄电池']))

    // The probe tells a CJK font from none: DejaVu alone has no Chinese glyphs.
    const dejavu = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'
    const wqy = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc'
    expect(probeCjkFont({ loadSystemFonts: false, fontFiles: [dejavu], defaultFontFamily: 'DejaVu Sans' })).toBe(false)
    expect(probeCjkFont({ loadSystemFonts: false, fontFiles: [dejavu, wqy], defaultFontFamily: 'DejaVu Sans' })).toBe(true)
    // This machine has one (.ci/run installs fonts-wqy-microhei), so the e-mail PNGs carry Chinese labels.
    expect(cjkFontAvailable()).toBe(true)
    const zh = chartAttachments(r, 'zh').find((a) => a.filename === 'markets.png')!.content
    expect(zh.equals(svgToPng(reportCharts(r, 'zh').markets))).toBe(true)
    expect(zh.equals(svgToPng(reportCharts(r, 'codes').markets))).toBe(false)
    expect(chartAttachments(r, 'en').find((a) => a.filename === 'markets.png')!.content.equals(svgToPng(reportCharts(r, 'en').markets))).toBe(true)
  })
  it('fits long chart labels into the label column', () => {
    expect(textWidth('EU', 10)).toBe(12)
    expect(textWidth('欧盟', 10)).toBe(20)
    expect(fitLabel('手机', 40, 11)).toBe('手机')
    const long = 'Electrical machinery, equipment and parts thereof; sound recorders and reproducers'
    const cut = fitLabel(long, 178, 11)
    expect(cut.endsWith('…')).toBe(true)
    expect(long.startsWith(cut.slice(0, -1))).toBe(true)
    expect(textWidth(cut, 11)).toBeLessThanOrEqual(178)
    expect(barChart([{ label: long, high: 1, medium: 0, low: 0 }])).toContain(`>${cut}<`)
  })
})
