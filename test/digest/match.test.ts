import { describe, expect, it } from 'vitest'
import { barChart, fitLabel, niceMax, textWidth, trendChart } from '../../src/digest/charts.js'
import { matchWarnings, type CatalogWarning } from '../../src/digest/match.js'
import { renderDigest } from '../../src/digest/render.js'
import { buildWeeklyReport, renderWeeklyReport, reportCharts } from '../../src/digest/weekly-report.js'
import { chartAttachments, cjkFontAvailable, probeCjkFont, svgToPng, weekRange, shiftWeek } from '../../src/services/report.service.js'

const w = (over: Partial<CatalogWarning>): CatalogWarning => ({
  id: 1,
  level: 'high',
  score: 70,
  status: 'confirmed',
  categoryId: 'mobile-phones',
  categoryZh: '手机',
  categoryEn: 'Mobile phones',
  measureId: 1,
  measureKey: 'G/TBT/N/USA/1',
  measureStatus: 'open',
  title: 'Radio equipment',
  member: 'United States',
  memberCode: 'USA',
  marketCode: 'USA',
  marketZh: '美国',
  marketEn: 'United States',
  commentDeadline: '2026-12-20',
  entryIntoForce: null,
  daysLeft: 22,
  reasonZh: '北京手机出口占比高',
  reasonEn: 'phones matter',
  detailUrl: 'http://x/warnings/1',
  sourceUrls: ['https://eping.wto.org/1'],
  hsCodes: ['851713'],
  text: 'radio equipment lithium battery',
  createdAt: '2026-11-28T04:00:00.000Z',
  ...over,
})

describe('matching a subscriber to warnings (pure)', () => {
  const catalog = [
    w({ id: 1 }),
    w({ id: 2, categoryId: 'steel', hsCodes: ['7208'], level: 'medium', marketCode: 'EU', memberCode: 'DEU', text: 'steel plates' }),
    w({ id: 3, categoryId: 'computers', hsCodes: ['8471'], level: 'low', marketCode: null, memberCode: 'BRA', text: 'laptops energy' }),
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
  it('builds the weekly report: counts, trend against 4 and 12 weeks, charts that render to PNG', () => {
    const history = Array.from({ length: 13 }, (_, i) => ({ week: shiftWeek('2026-W48', i - 12), high: i === 12 ? 2 : 1, medium: 1, low: 0 }))
    const r = buildWeeklyReport({ week: '2026-W48', ...weekRange('2026-W48'), warnings: [w({ id: 1 }), w({ id: 2, measureKey: 'G/TBT/N/EU/9', marketCode: 'EU', level: 'medium', score: 40 })], history, deadlines: [], entries: [] })
    expect(r.from).toBe('2026-11-23')
    expect(r.to).toBe('2026-11-29')
    expect(r.byLevel).toEqual({ high: 1, medium: 1, low: 0 })
    expect(r.byMarket.map((m) => m.key)).toEqual(['EU', 'USA'])
    expect(r.trend).toMatchObject({ current: 3, avg4: 2, avg12: 2, change4: 50, change12: 50 })
    expect(r.top.map((x) => x.warning.measureKey)).toEqual(['G/TBT/N/USA/1', 'G/TBT/N/EU/9'])
    const mail = renderWeeklyReport('en', r, { kind: 'email', webUrl: 'http://x/reports/weekly/2026-W48', links })
    expect(mail.subject).toBe('[TBT weekly risk report] 2026-W48: 2 new warnings, 1 high risk')
    expect(mail.html).toContain('src="cid:trend@tbt-watch"')
    const web = renderWeeklyReport('zh', r, { kind: 'web', webUrl: 'http://x' })
    expect(web.html).toContain('<svg')
    const png = svgToPng(reportCharts(r, 'codes').trend)
    expect(png.subarray(1, 4).toString()).toBe('PNG')
    expect(trendChart([], { avg4: 0, avg12: 0 })).toBe(trendChart([], { avg4: 0, avg12: 0 }))
    expect(barChart([{ label: '<x>', high: 1, medium: 0, low: 0 }])).toContain('&lt;x&gt;')
    expect([niceMax(0), niceMax(3), niceMax(7), niceMax(12)]).toEqual([1, 5, 10, 20])
  })
  it("labels the charts in the reader's language, and with codes where the PNG renderer has no CJK font", () => {
    const history = Array.from({ length: 12 }, (_, i) => ({ week: `2026-W${String(36 + i).padStart(2, '0')}`, high: 1, medium: 1, low: 0 }))
    const eu = { measureKey: 'G/TBT/N/EU/9', marketCode: 'EU', marketZh: '欧盟', marketEn: 'European Union', categoryId: 'lithium-batteries', categoryZh: '锂离子蓄电池', categoryEn: 'Lithium-ion batteries' }
    const r = buildWeeklyReport({ week: '2026-W48', ...weekRange('2026-W48'), warnings: [w({ id: 1 }), w({ id: 2, ...eu })], history, deadlines: [], entries: [] })
    const svgText = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])
    expect(svgText(reportCharts(r, 'zh').markets)).toEqual(expect.arrayContaining(['欧盟', '美国']))
    expect(svgText(reportCharts(r, 'zh').categories)).toEqual(expect.arrayContaining(['锂离子蓄电池', '手机']))
    expect(svgText(reportCharts(r, 'zh').trend).some((t) => t.startsWith('前4周平均 2.0'))).toBe(true)
    expect(svgText(reportCharts(r, 'en').markets)).toEqual(expect.arrayContaining(['European Union', 'United States']))
    expect(svgText(reportCharts(r, 'codes').markets)).toEqual(expect.arrayContaining(['EU', 'USA']))
    // The web page's inline charts are the reader's language.
    const web = renderWeeklyReport('zh', r, { kind: 'web', webUrl: 'http://x' }).html
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
