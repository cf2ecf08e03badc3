import type { DocType } from './symbols.js'

/**
 * A notice as every source hands it over: one document (a notification or one of its
 * follow-ups) in normalised form. Sources differ; this shape does not.
 */
export interface ScrapedNotice {
  sourceId: string
  /** The source's own stable id for the item (ePing's numeric id, a TRIS number...). */
  sourceItemId: string
  symbols: string[]
  docType: DocType
  area: 'TBT' | 'SPS'
  member: string | null
  memberCode: string | null
  title: string
  products: string | null
  description: string | null
  objectives: string[]
  keywords: string[]
  hsCodes: string[]
  icsCodes: string[]
  /** The language the source says the text is in (ISO 639-3), or null. */
  languageHint: string | null
  distributionDate: string | null
  commentDeadline: string | null
  adoptionDate: string | null
  adoptionText: string | null
  entryIntoForceDate: string | null
  entryIntoForceText: string | null
  links: string[]
  sourceUrl: string | null
  /** The source's own word on where the item stands (TRIS: "Standstill period running"), when it has one. */
  sourceStatus?: string | null
}

/** An item a parser could not turn into a notice; the rest of the page still counts. */
export interface ItemError {
  itemId: string | null
  reason: string
}

export interface ParseResult {
  notices: ScrapedNotice[]
  errors: ItemError[]
}
