import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseCnDate } from '../../scrapers/cn-tbt/cn-dates.js'
import { parseCnTbtDetail, parseCnTbtList, parseCnTbtPage } from '../../scrapers/cn-tbt/cn-tbt.parser.js'
import { cnMemberCode } from '../../scrapers/cn-tbt/members.js'
import { SourceError } from '../../scrapers/types.js'
import { addDays } from '../../src/domain/dates.js'
import { projectRoot } from '../../src/util/paths.js'

const fixture = (f: string) => fs.readFileSync(path.join(projectRoot, 'test', 'fixtures', 'cn-tbt', f), 'utf8')
const BASE = 'http://centre.test'
const detailPage = (body = fixture('rendered-detail.html'), url = `${BASE}/tbt/1/20456`) => ({ url, status: 200, contentType: 'text/html; charset=utf-8', body })
const listPage = (rows: unknown[], extra: Record<string, unknown> = {}) => ({
  url: `${BASE}/tbt/find`,
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify({ code: 200, msg: '操作成功', data: { total: rows.length, data: rows }, ...extra }),
})

/** A rendered detail page with these field values (text, escaped as the DOM would). */
function renderedWith(fields: Record<string, string>): string {
  let html = fixture('rendered-detail.html')
  for (const [id, value] of Object.entries(fields)) {
    const escaped = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    html = html.replace(new RegExp(`(id="${id}"[^>]*>)[^<]*(<)`), (_m, a: string, b: string) => `${a}${escaped}${b}`)
  }
  return html
}

describe('cn-tbt list parser', () => {
  it('reads data.data[] rows, dates cut to the day', () => {
    const r = parseCnTbtList(listPage(JSON.parse(fixture('list.json'))))
    expect(r.total).toBe(6)
    expect(r.rows[0]).toEqual({ tbtid: '20533', tbtno: 'G/TBT/N/VNM/388', tbdate: '2026-11-26', tbtitle: '汽油、柴油和生物燃料国家技术法规草案（QCVN 01:2026/BKHCN）', areaName: '越南', tbtype: '1' })
  })

  it('skips rows without an id or symbol, and says what it skipped', () => {
    const r = parseCnTbtList(listPage([{ tbtid: 1, tbtno: 'G/TBT/N/USA/1' }, { tbtno: 'G/TBT/N/USA/2' }, { tbtid: '3' }, null]))
    expect(r.rows.map((x) => x.tbtid)).toEqual(['1'])
    expect(r.skipped).toBe(3)
  })

  it('calls a body that is not the envelope a layout change, and an error code a retryable failure', () => {
    expect(() => parseCnTbtList({ ...listPage([]), body: '<html>维护中</html>' })).toThrow(expect.objectContaining({ code: 'layout-changed', retryable: false }))
    expect(() => parseCnTbtList({ ...listPage([]), body: JSON.stringify({ code: 200, data: { rows: [] } }) })).toThrow(expect.objectContaining({ code: 'layout-changed' }))
    expect(() => parseCnTbtList({ ...listPage([]), body: JSON.stringify({ code: 401, msg: '会话已失效', data: null }) })).toThrow(expect.objectContaining({ code: 'unavailable', retryable: true }))
  })

  it('property: any JSON either parses into well-formed rows or fails as a SourceError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.array(fc.record({ tbtid: fc.oneof(fc.integer(), fc.string()), tbtno: fc.string(), tbdate: fc.string(), tbtitle: fc.string(), areaName: fc.string(), tbtype: fc.oneof(fc.integer(), fc.string()) }, { requiredKeys: [] })).map((rows) => JSON.stringify({ code: 200, data: { total: rows.length, data: rows } }))), (body) => {
        try {
          const r = parseCnTbtList({ ...listPage([]), body })
          for (const row of r.rows) {
            expect(row.tbtid).toMatch(/^\w+$/)
            expect(row.tbtype).toMatch(/^\w+$/)
            expect(row.tbtno.length).toBeGreaterThan(0)
            if (row.tbdate) expect(row.tbdate).toMatch(/^\d{4}-\d{2}-\d{2}$/)
          }
        } catch (err) {
          expect(err).toBeInstanceOf(SourceError)
        }
      }),
    )
  })
})

describe('cn-tbt detail parser (rendered DOM)', () => {
  it('turns the rendered page into a notice: Chinese text, codes, dates, member, links and related notices', () => {
    const { notice, related } = parseCnTbtDetail(detailPage())
    expect(notice).toEqual({
      sourceId: 'cn-tbt',
      sourceItemId: '1/20456',
      symbols: ['G/TBT/N/USA/2268'],
      docType: 'regular',
      area: 'TBT',
      member: '美国',
      memberCode: 'USA',
      title: '便携式电站及其他可充电锂离子电池储能产品安全标准；拟议规则制定通知',
      products: '便携式电站、可充电锂离子电池储能产品（HS编码：8507.60、8504.40）',
      description: '保护人类健康与安全。拟对便携式电站规定过充保护、热失控防护及警示标签要求。',
      objectives: [],
      keywords: [],
      hsCodes: ['8507600010', '85', '850760', '850440'],
      icsCodes: ['29.220.30'],
      languageHint: 'zho',
      distributionDate: '2026-09-02',
      commentDeadline: '2026-11-01',
      adoptionDate: '2027-03-01',
      adoptionText: '2027年3月',
      entryIntoForceDate: null,
      entryIntoForceText: '待定',
      links: [`${BASE}/upload/tbt/USA2268_en.pdf`, `${BASE}/upload/tbt/USA2268_zh.pdf`],
      sourceUrl: `${BASE}/tbt/1/20456`,
    })
    expect(related).toEqual([{ tbtno: 'G/TBT/N/USA/2268/Add.1', url: `${BASE}/tbt/1/20511`, tbtype: '1', tbtid: '20511' }])
  })

  it('takes the member code from the table when the symbol does not say', () => {
    const { notice } = parseCnTbtDetail(detailPage(renderedWith({ tbtno: 'G/TBT/Notif.00/005', areaName: '肯尼亚' })))
    expect(notice.memberCode).toBe('KEN')
    expect(cnMemberCode('欧盟')).toBe('EU')
    expect(cnMemberCode(' 越南 ')).toBe('VNM')
    expect(cnMemberCode('不存在的成员')).toBeNull()
  })

  it('calls a page without the fields a layout change; a page without a symbol an item error', () => {
    const redesigned = fixture('rendered-detail.html').replace('id="tbtno"', 'class="symbol"')
    expect(() => parseCnTbtDetail(detailPage(redesigned))).toThrow(expect.objectContaining({ code: 'layout-changed', retryable: false }))
    const empty = parseCnTbtPage(detailPage(renderedWith({ tbtno: '' })))
    expect(empty.notices).toEqual([])
    expect(empty.errors).toEqual([{ itemId: '1/20456', reason: expect.stringMatching(/no notification number/) }])
  })

  it('gives no notices for the session and list calls', () => {
    expect(parseCnTbtPage({ url: `${BASE}/login/getSession?v=1`, status: 200, contentType: 'application/json', body: '{}' })).toEqual({ notices: [], errors: [] })
  })

  it('property: any field text parses or is an item error, and never loses the symbol or the Chinese title', () => {
    const text = fc.string({ unit: fc.constantFrom(...'通报后60天待定年月日2023/-.,; 85<>&abcG'.split('')), maxLength: 30 })
    fc.assert(
      fc.property(fc.record({ hscode: text, icscode: text, napprdate: text, neffedate: text, stopfeedbackdate: text, tbdate: text, productscovered: text, purposereason: text }), (fields) => {
        const r = parseCnTbtPage(detailPage(renderedWith(fields)))
        expect(r.errors).toEqual([])
        const n = r.notices[0]
        expect(n.symbols).toEqual(['G/TBT/N/USA/2268'])
        expect(n.title).toBe('便携式电站及其他可充电锂离子电池储能产品安全标准；拟议规则制定通知')
        for (const c of n.hsCodes) expect(c).toMatch(/^\d{2,10}$/)
        for (const d of [n.distributionDate, n.commentDeadline, n.adoptionDate, n.entryIntoForceDate]) if (d) expect(d).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      }),
      { numRuns: 150 },
    )
  })
})

describe('the centre’s dates', () => {
  it('reads days, months, to-be-determined and periods counted from the notification', () => {
    expect(parseCnDate('2000/02/15')).toEqual({ date: '2000-02-15', text: null })
    expect(parseCnDate('2026-10-12 00:00:00')).toEqual({ date: '2026-10-12', text: null })
    expect(parseCnDate('2023年10月1日')).toEqual({ date: '2023-10-01', text: null })
    expect(parseCnDate('2023年10月')).toEqual({ date: '2023-10-01', text: '2023年10月' })
    expect(parseCnDate('待定')).toEqual({ date: null, text: '待定' })
    expect(parseCnDate('通报后60天', '2026-09-02')).toEqual({ date: '2026-11-01', text: '通报后60天' })
    expect(parseCnDate('通报之日起90日', '2026-01-31')).toEqual({ date: '2026-05-01', text: '通报之日起90日' })
    expect(parseCnDate('通报后3个月', '2026-11-30')).toEqual({ date: '2027-02-28', text: '通报后3个月' })
    expect(parseCnDate('通报后60天')).toEqual({ date: null, text: '通报后60天' })
    expect(parseCnDate('批准后6个月')).toEqual({ date: null, text: '批准后6个月' })
    expect(parseCnDate('')).toEqual({ date: null, text: null })
    expect(parseCnDate('2023年13月')).toEqual({ date: null, text: '2023年13月' })
  })

  it('property: 通报后N天 is N days after the notification; a month is its first day', () => {
    const day = fc.date({ min: new Date('1996-01-01'), max: new Date('2040-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))
    fc.assert(
      fc.property(day, fc.integer({ min: 1, max: 365 }), (notified, n) => {
        expect(parseCnDate(`通报后${n}天`, notified).date).toBe(addDays(notified, n))
      }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 1995, max: 2050 }), fc.integer({ min: 1, max: 12 }), (y, m) => {
        expect(parseCnDate(`${y}年${m}月`).date).toBe(`${y}-${String(m).padStart(2, '0')}-01`)
      }),
    )
  })

  it('property: never throws, and a date it gives is a real day', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.constant('2026-03-31')), (s, notified) => {
        const r = parseCnDate(s, notified)
        if (r.date) expect(new Date(`${r.date}T00:00:00Z`).toISOString().slice(0, 10)).toBe(r.date)
      }),
    )
  })
})
