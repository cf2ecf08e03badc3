import type { ScrapedNotice } from '../../src/domain/notice.js'

/** A scraped ePing TBT notice in English with nothing but what `over` says: no dates, codes, links or texts. */
export const scrapedNotice = (over: Partial<ScrapedNotice> & Pick<ScrapedNotice, 'sourceItemId' | 'symbols' | 'title'>): ScrapedNotice => ({
  sourceId: 'eping',
  docType: 'regular',
  area: 'TBT',
  member: null,
  memberCode: null,
  products: null,
  description: null,
  objectives: [],
  keywords: [],
  hsCodes: [],
  icsCodes: [],
  languageHint: 'eng',
  distributionDate: null,
  commentDeadline: null,
  adoptionDate: null,
  adoptionText: null,
  entryIntoForceDate: null,
  entryIntoForceText: null,
  links: [],
  sourceUrl: null,
  ...over,
})
