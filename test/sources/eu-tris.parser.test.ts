import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseTrisDetail, parseTrisList, parseTrisPage } from '../../scrapers/eu-tris/eu-tris.parser.js'
import { SNAPSHOT_META } from '../../scrapers/browser/snapshot.js'
import { SourceError } from '../../scrapers/types.js'
import { projectRoot } from '../../src/util/paths.js'

const fixture = (f: string) => fs.readFileSync(path.join(projectRoot, 'test', 'fixtures', 'eu-tris', f), 'utf8')
const BASE = 'https://tris.test'
const page = (body: string, p = '/en/notification/25433') => ({ url: `${BASE}${p}`, status: 200, contentType: 'text/html; charset=utf-8', body })
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** The rendered notification page with these labels' values replaced. */
function withFields(fields: Record<string, string>) {
  let html = fixture('rendered-notification.html')
  for (const [label, value] of Object.entries(fields)) {
    html = html.replace(new RegExp(`(<dt>${label.replace(/\//g, '\\/')}</dt><dd>)[^<]*(</dd>)`), (_m, a: string, b: string) => `${a}${esc(value)}${b}`)
  }
  return html
}

describe('eu-tris parsers (rendered DOM)', () => {
  it('reads a notification by its labels and links it to the WTO symbol it names', () => {
    expect(parseTrisDetail(page(fixture('rendered-notification.html')))).toEqual({
      sourceId: 'eu-tris',
      sourceItemId: '2026/0244/EU',
      symbols: ['TRIS:2026/0244/EU', 'G/TBT/N/EU/1207'],
      docType: 'regular',
      area: 'TBT',
      member: 'European Union',
      memberCode: 'EU',
      title: 'Draft Commission Delegated Directive amending Annex III to Directive 2011/65/EU as regards an exemption for lead in high melting temperature type solders',
      products: 'Electrical and electronic equipment: integrated circuit packages',
      description:
        'Renews, with a narrower scope, the exemption for lead in high melting temperature type solders used for internal interconnections in integrated circuit packages. Also notified to the WTO as G/TBT/N/EU/1207.',
      objectives: [],
      keywords: [],
      hsCodes: [],
      icsCodes: [],
      languageHint: 'eng',
      distributionDate: '2026-11-04',
      commentDeadline: '2027-02-05',
      adoptionDate: null,
      adoptionText: null,
      entryIntoForceDate: null,
      entryIntoForceText: null,
      links: [`${BASE}/en/notification/25433/text/D/EN`],
      sourceUrl: `${BASE}/en/notification/25433`,
      sourceStatus: 'Standstill period running',
    })
  })

  it('keys a notification that names no WTO symbol by its TRIS number; maps TRIS state codes', () => {
    const html = withFields({ 'Notification number': '2026/0312/EL', 'Notifying Member State': 'Greece', Abstract: 'Sets labelling rules.', 'WTO notification': '' })
    const n = parseTrisDetail(page(html))
    expect(n.symbols).toEqual(['TRIS:2026/0312/EL'])
    expect(n.memberCode).toBe('GRC')
    expect(n.member).toBe('Greece')
  })

  it('reads the search page: ids, numbers, dates and whether there is a next page', () => {
    const r = parseTrisList(page(fixture('rendered-search.html'), '/en/search?page=1'))
    expect(r.hasNext).toBe(true)
    expect(r.rows).toEqual([
      { internalId: '25433', number: '2026/0244/EU', notificationDate: '2026-11-04' },
      { internalId: '25512', number: '2026/0266/ES', notificationDate: '2026-11-03' },
      { internalId: '25470', number: '2026/0251/FR', notificationDate: '2026-10-20' },
    ])
  })

  it('calls pages without the expected structure layout changes; a notification without a title an item error', () => {
    expect(() => parseTrisList(page('<html><body><main>New search</main></body></html>', '/en/search?page=1'))).toThrow(expect.objectContaining({ code: 'layout-changed', retryable: false }))
    expect(() => parseTrisDetail(page('<html><body><section class="ntf-view">2026 notification</section></body></html>'))).toThrow(expect.objectContaining({ code: 'layout-changed' }))
    const r = parseTrisPage(page(withFields({ Title: '' })))
    expect(r).toEqual({ notices: [], errors: [{ itemId: '25433', reason: '2026/0244/EU has no title' }] })
    expect(parseTrisPage(page(fixture('rendered-search.html'), '/en/search?page=1'))).toEqual({ notices: [], errors: [] })
  })

  it('reads nothing from the application shell the server sent (only the rendered snapshot counts)', () => {
    const shell = fixture('shell.html').replace('{{STATE}}', '{"route":"notification"}')
    expect(parseTrisPage(page(shell))).toEqual({ notices: [], errors: [] })
  })

  it('property: any field text gives a notice with its number, or an item error, never anything else', () => {
    const text = fc.string({ unit: fc.constantFrom(...'G/TBT/N/EU/12 Add.1 2026/0101/DE 31/02/2026 HS 8517 <>&ab'.split('')), maxLength: 40 })
    fc.assert(
      fc.property(fc.record({ Title: text, 'Products/Services': text, 'Notification date': text, 'End of standstill': text, Abstract: text, Status: text }), (fields) => {
        const r = parseTrisPage(page(withFields(fields)))
        expect(r.notices.length + r.errors.length).toBe(1)
        for (const n of r.notices) {
          expect(n.sourceItemId).toBe('2026/0244/EU')
          expect(n.symbols[0]).toBe('TRIS:2026/0244/EU')
          expect(n.symbols.slice(1).every((s) => /^G\/TBT\/N\/EU\/\d+$/.test(s))).toBe(true)
          for (const d of [n.distributionDate, n.commentDeadline]) if (d) expect(d).toMatch(/^\d{4}-\d{2}-\d{2}$/)
        }
      }),
      { numRuns: 150 },
    )
  })

  it('property: arbitrary HTML is parsed or refused as a SourceError', () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), fc.constantFrom('/en/notification/1', '/en/search?page=1'), (text, marked, p) => {
        const body = marked ? `${SNAPSHOT_META}${text}` : text
        try {
          p.startsWith('/en/search') ? parseTrisList(page(body, p)) : parseTrisPage(page(body, p))
        } catch (err) {
          expect(err).toBeInstanceOf(SourceError)
        }
      }),
    )
  })
})
