import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FEDREG_FIELDS, parseFedregItem, parseFedregPage } from '../../scrapers/us-fedreg/us-fedreg.parser.js'
import { documentsUrl, monthWindows } from '../../scrapers/us-fedreg/us-fedreg.source.js'
import { SourceError, type Page } from '../../scrapers/types.js'
import { FEDREG_FIXTURES, fedregRecords, fedregResponse } from '../sources/fedreg-server.js'

const page = (body: string, url = 'https://www.federalregister.gov/api/v1/documents.json'): Page => ({ url, status: 200, contentType: 'application/json', body })
const listPage = (from: string, to: string) => {
  const url = new URL(documentsUrl('https://www.federalregister.gov', { from, to, page: 1 }))
  return page(fedregResponse(fedregRecords(), url), url.toString())
}

describe('Federal Register parser', () => {
  it('reads every field of a proposed rule', () => {
    const r = parseFedregPage(listPage('2026-11-01', '2026-11-30'))
    expect(r.errors).toEqual([])
    expect(r.count).toBe(2)
    expect(r.notices.map((n) => n.sourceItemId)).toEqual(['2026-24117', '2026-23802'])
    expect(r.notices[1]).toEqual({
      sourceId: 'us-fedreg',
      sourceItemId: '2026-23802',
      symbols: ['FR:2026-23802'],
      docType: 'regular',
      area: 'TBT',
      member: 'United States of America',
      memberCode: 'USA',
      title: 'Energy Conservation Program: Energy Conservation Standards for Portable Electric Heaters',
      products: 'Regulated under 10 CFR 430',
      description: 'The Department of Energy proposes amended energy conservation standards for portable electric heaters and a new test procedure for standby mode power.',
      objectives: [],
      keywords: [
        'Energy Department',
        'Energy Efficiency and Renewable Energy Office',
        'RIN 1904-AF77',
        'Docket EERE-2026-BT-STD-0019',
        'Docket EERE-2026-BT-TP-0020',
        'Notice of proposed rulemaking and announcement of public meeting.',
      ],
      hsCodes: [],
      icsCodes: [],
      languageHint: 'eng',
      distributionDate: '2026-11-13',
      commentDeadline: '2027-01-12',
      adoptionDate: null,
      adoptionText: null,
      entryIntoForceDate: null,
      entryIntoForceText: null,
      links: [
        'https://www.federalregister.gov/documents/2026/11/13/2026-23802/energy-conservation-program-energy-conservation-standards-for-portable-electric-heaters',
        'https://www.govinfo.gov/content/pkg/FR-2026-11-13/pdf/2026-23802.pdf',
        'https://www.regulations.gov/commenton/EERE-2026-BT-STD-0019-0001',
      ],
      sourceUrl: 'https://www.federalregister.gov/documents/2026/11/13/2026-23802/energy-conservation-program-energy-conservation-standards-for-portable-electric-heaters',
    })
  })

  it('strips HTML and decodes entities in the abstract; keeps effective dates', () => {
    const n = parseFedregPage(listPage('2026-10-01', '2026-10-31')).notices.find((x) => x.sourceItemId === '2026-21987')!
    expect(n.description).toBe('NHTSA proposes to extend the side impact test requirements of FMVSS No. 213a to belt-positioning booster seats & to amend labelling.')
    expect(n.entryIntoForceDate).toBe('2028-09-01')
    expect(n.commentDeadline).toBe('2026-12-14')
  })

  it('asks for comments_close_on by name, and without it the deadline is absent', () => {
    expect(new URL(documentsUrl('http://x', { from: '2026-11-01', to: '2026-11-30', page: 1 })).searchParams.getAll('fields[]')).toContain('comments_close_on')
    const url = new URL(documentsUrl('http://x', { from: '2026-11-01', to: '2026-11-30', page: 1 }))
    url.searchParams.delete('fields[]')
    url.searchParams.append('fields[]', 'document_number')
    url.searchParams.append('fields[]', 'title')
    const r = parseFedregPage(page(fedregResponse(fedregRecords(), url)))
    expect(r.notices.every((n) => n.commentDeadline === null)).toBe(true)
    expect(FEDREG_FIELDS).toContain('comments_close_on')
  })

  it('records a bad result as an item error and keeps the good ones', () => {
    const [good] = fedregRecords()
    const body = JSON.stringify({
      count: 5,
      results: [
        good,
        { ...good, document_number: null },
        { ...good, document_number: '2026-11111', title: '  ' },
        { ...good, document_number: '2026-22222', type: 'Rule' },
        { ...good, document_number: '2026-33333', publication_date: '0026-13-45', comments_close_on: 'soon' },
      ],
    })
    const r = parseFedregPage(page(body))
    expect(r.notices.map((n) => n.sourceItemId)).toEqual(['2026-24117', '2026-33333'])
    expect(r.errors).toEqual([
      { itemId: null, reason: 'result has no document_number' },
      { itemId: '2026-11111', reason: '2026-11111 has no title' },
      { itemId: '2026-22222', reason: '2026-22222 is a Rule, not a proposed rule' },
    ])
    expect(r.notices[1]).toMatchObject({ distributionDate: null, commentDeadline: null })
  })

  it('says the layout changed for a page that is not the envelope, and names an API error carried by a 200', () => {
    const err = (body: string) => {
      try {
        parseFedregPage(page(body))
      } catch (e) {
        return e as SourceError
      }
      throw new Error('no error')
    }
    expect(err('<html>maintenance</html>')).toMatchObject({ code: 'layout-changed', retryable: false })
    expect(err('[1,2]')).toMatchObject({ code: 'layout-changed' })
    expect(err('{"count":3,"data":[]}')).toMatchObject({ code: 'layout-changed' })
    const apiError = err(fs.readFileSync(path.join(FEDREG_FIXTURES, 'page-error-200.json'), 'utf8'))
    expect(apiError).toMatchObject({ code: 'bad-response', retryable: false })
    expect(apiError.message).toMatch(/publication_date gte is not a valid date/)
  })

  it('treats a query matching nothing (no results key) as an empty page', () => {
    expect(parseFedregPage(page('{"count":0,"description":"none"}'))).toMatchObject({ notices: [], errors: [], count: 0 })
  })

  it('pages by whole calendar months', () => {
    expect(monthWindows('2026-10-17', '2026-12-02')).toEqual([
      { from: '2026-10-01', to: '2026-10-31' },
      { from: '2026-11-01', to: '2026-11-30' },
      { from: '2026-12-01', to: '2026-12-31' },
    ])
    expect(monthWindows('2027-12-31', '2028-02-01').map((w) => w.to)).toEqual(['2027-12-31', '2028-01-31', '2028-02-29'])
  })
})

describe('Federal Register parser properties', () => {
  it('never throws anything but a SourceError, whatever the body', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ results: v })), fc.jsonValue().map((v) => JSON.stringify({ count: 1, results: [v] }))), (body) => {
        try {
          const r = parseFedregPage(page(body))
          expect(r.notices.length + r.errors.length).toBe(r.resultCount)
        } catch (e) {
          expect(e).toBeInstanceOf(SourceError)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('turns any result into a well-formed notice or an item error', () => {
    const [template] = fedregRecords()
    const result = fc.record(
      {
        document_number: fc.oneof(fc.constant('2026-12345'), fc.string(), fc.constant(null), fc.integer()),
        title: fc.oneof(fc.string(), fc.constant('<b>Safety &amp; labelling</b>'), fc.constant(null)),
        type: fc.oneof(fc.constant('Proposed Rule'), fc.constant('Rule'), fc.string(), fc.constant(null)),
        abstract: fc.oneof(fc.string(), fc.constant(null)),
        publication_date: fc.oneof(fc.constant('2026-10-01'), fc.string(), fc.constant('2026-02-31'), fc.constant(null)),
        comments_close_on: fc.oneof(fc.constant('2026-12-01'), fc.string(), fc.constant('9999-01-01'), fc.constant(null)),
        agencies: fc.oneof(fc.constant(template.agencies), fc.array(fc.jsonValue()), fc.string()),
        html_url: fc.oneof(fc.webUrl(), fc.string(), fc.constant(null)),
        regulation_id_numbers: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(result, (rec) => {
        let n
        try {
          n = parseFedregItem({ ...rec }, 'us-fedreg')
        } catch (e) {
          expect(e).toBeInstanceOf(Error)
          return
        }
        expect(n.sourceItemId).toMatch(/^[A-Z0-9][A-Z0-9-]{3,30}$/i)
        expect(n.symbols).toEqual([`FR:${n.sourceItemId}`])
        expect(n.title.length).toBeGreaterThan(0)
        expect(n.title).not.toMatch(/<[a-z][^>]*>/i)
        for (const d of [n.distributionDate, n.commentDeadline, n.entryIntoForceDate]) expect(d === null || /^\d{4}-\d{2}-\d{2}$/.test(d)).toBe(true)
        for (const u of n.links) expect(u).toMatch(/^https?:\/\//)
        for (const k of n.keywords) expect(typeof k).toBe('string')
      }),
      { numRuns: 500 },
    )
  })
})
