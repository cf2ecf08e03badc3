import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseEpingItem, parseEpingPage } from '../../scrapers/eping/eping.parser.js'
import { SourceError } from '../../scrapers/types.js'

const item = (over: Record<string, unknown> = {}) => ({
  id: 500123,
  documentSymbol: 'G/TBT/N/KOR/1290',
  area: 'TBT',
  notificationType: 'Regular notification',
  notifyingMember: 'Korea, Republic of',
  notifyingMemberCode: 'KOR',
  title: '<p>Partial amendment to the safety standard for <strong>portable power banks</strong></p>',
  titlePlain: null,
  description: '<p>Adds a drop test&nbsp;and a labelling requirement.</p><p>Certification is mandatory.</p>',
  descriptionPlain: null,
  productsFreeText: 'Lithium-ion power banks (HS code(s): 8507.60) (ICS code(s): 29.220.30)',
  productsFreeTextPlain: 'Lithium-ion power banks (HS code(s): 8507.60) (ICS code(s): 29.220.30)',
  hsCodes: [{ id: 9, code: '850760', name: 'Lithium-ion accumulators' }],
  hsCodeText: '8507.60',
  icsCodeText: '29.220.30',
  objectives: [{ id: 1, name: 'Protection of human health or safety (TBT)' }],
  keywords: [{ id: 2, name: 'Batteries' }],
  distributionDate: '2026-10-02T00:00:00+00:00',
  commentDeadlineDate: '2026-12-01T00:00:00+00:00',
  proposedAdoptionDate: null,
  proposedEntryIntoForceDate: null,
  proposedAdoptionDateText: 'To be determined',
  proposedEntryIntoForceDateText: '6 months after publication',
  notifiedDocumentLink: 'https://members.wto.org/a.pdf,\r\nhttps://members.wto.org/b.pdf',
  dolLink: 'q:\\G\\TBT\\NKOR1290.pdf',
  linkToNotification: null,
  ...over,
})

const page = (items: unknown[], url = 'http://x/api/v1/azureSearch/getAll?language=1') => ({
  url,
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify({ items, totalCount: items.length, endRow: items.length }),
})

describe('ePing parser', () => {
  it('normalises a record: HTML stripped, codes flattened, links split, dates cut', () => {
    const n = parseEpingItem(item(), 'eping', 'eng')
    expect(n).toMatchObject({
      sourceItemId: '500123',
      symbols: ['G/TBT/N/KOR/1290'],
      docType: 'regular',
      area: 'TBT',
      memberCode: 'KOR',
      title: 'Partial amendment to the safety standard for portable power banks',
      description: 'Adds a drop test and a labelling requirement. Certification is mandatory.',
      hsCodes: ['850760'],
      icsCodes: ['29.220.30'],
      objectives: ['Protection of human health or safety'],
      keywords: ['Batteries'],
      distributionDate: '2026-10-02',
      commentDeadline: '2026-12-01',
      entryIntoForceText: '6 months after publication',
      links: ['https://members.wto.org/a.pdf', 'https://members.wto.org/b.pdf'],
      languageHint: 'eng',
    })
  })
  it('keeps a joint notification as one notice with every symbol', () => {
    const n = parseEpingItem(item({ documentSymbol: 'G/TBT/N/BDI/601, G/TBT/N/KEN/1801 ,G/TBT/N/UGA/2050' }), 'eping', 'eng')
    expect(n.symbols).toEqual(['G/TBT/N/BDI/601', 'G/TBT/N/KEN/1801', 'G/TBT/N/UGA/2050'])
  })
  it('records bad items and keeps the good ones', () => {
    const r = parseEpingPage(page([item(), { id: 'x' }, item({ id: 7, documentSymbol: '' }), item({ id: 8, title: '', titlePlain: '' }), 42]))
    expect(r.notices).toHaveLength(1)
    expect(r.errors).toHaveLength(4)
    expect(r.errors.map((e) => e.itemId)).toEqual(['x', '7', '8', null])
  })
  it('calls a page without items a layout change', () => {
    expect(() => parseEpingPage({ ...page([]), body: '<html>Service temporarily unavailable</html>' })).toThrow(SourceError)
    expect(() => parseEpingPage({ ...page([]), body: '{"error":"maintenance"}' })).toThrowError(/no items/)
  })
  it('never throws anything but a SourceError, whatever the body', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.array(fc.anything()).map((items) => JSON.stringify({ items }))), (body) => {
        try {
          const r = parseEpingPage({ url: 'http://x/', status: 200, contentType: null, body })
          expect(r.notices.length + r.errors.length).toBeGreaterThanOrEqual(0)
        } catch (err) {
          expect(err).toBeInstanceOf(SourceError)
        }
      }),
      { numRuns: 300 },
    )
  })
  it('survives arbitrary field values inside an item', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('title', 'hsCodes', 'objectives', 'distributionDate', 'notifiedDocumentLink', 'documentSymbol', 'description'), fc.anything()), (over) => {
        const r = parseEpingPage(page([item(over)]))
        expect(r.notices.length + r.errors.length).toBe(1)
      }),
      { numRuns: 300 },
    )
  })
})
