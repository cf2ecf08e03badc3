import { toIsoDate } from '../../src/domain/dates.js'
import type { ItemError, ParseResult, ScrapedNotice } from '../../src/domain/notice.js'
import { htmlToText, splitUrls } from '../../src/util/text.js'
import { SourceError, type Page } from '../types.js'

/** The fields we ask for: `comments_close_on` comes back only when asked for by name. */
export const FEDREG_FIELDS = [
  'document_number',
  'title',
  'type',
  'abstract',
  'action',
  'publication_date',
  'effective_on',
  'comments_close_on',
  'comment_url',
  'agencies',
  'cfr_references',
  'regulation_id_numbers',
  'docket_ids',
  'html_url',
  'pdf_url',
] as const

/** A Federal Register document is its own measure until linked to a G/TBT/N/USA symbol. */
export const fedregSymbol = (documentNumber: string) => `FR:${documentNumber}`

export interface FedregPage extends ParseResult {
  count: number | null
  /** Results on this page, good or bad: paging stops on a short page. */
  resultCount: number
  nextPageUrl: string | null
}

type Rec = Record<string, unknown>
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null)

/**
 * Parses one page of `/api/v1/documents.json`. Not JSON or no `results` array is a
 * layout change; a 200 answer carrying an API error message is a bad response; a bad
 * result is an item error and the rest of the page still counts.
 */
export function parseFedregPage(page: Page, sourceId = 'us-fedreg'): FedregPage {
  let json: unknown
  try {
    json = JSON.parse(page.body)
  } catch {
    throw new SourceError('layout-changed', `${page.url}: response is not JSON`, false, page.url)
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new SourceError('layout-changed', `${page.url}: response is not a JSON object`, false, page.url)
  }
  const env = json as Rec
  if (!Array.isArray(env.results)) {
    const message = errorMessage(env)
    if (message) throw new SourceError('bad-response', `${page.url}: the API answered with an error: ${message}`, false, page.url)
    // The API omits `results` when a query matches nothing.
    if (typeof env.count === 'number' && env.count === 0) return { notices: [], errors: [], count: 0, resultCount: 0, nextPageUrl: null }
    throw new SourceError('layout-changed', `${page.url}: no results[] array in the response`, false, page.url)
  }
  const notices: ScrapedNotice[] = []
  const errors: ItemError[] = []
  for (const item of env.results) {
    try {
      notices.push(parseFedregItem(item, sourceId))
    } catch (err) {
      const id = item && typeof item === 'object' ? str((item as Rec).document_number) : null
      errors.push({ itemId: id, reason: (err as Error).message })
    }
  }
  return {
    notices,
    errors,
    count: typeof env.count === 'number' ? env.count : null,
    resultCount: env.results.length,
    nextPageUrl: str(env.next_page_url),
  }
}

function errorMessage(env: Rec): string | null {
  const e = env.errors ?? env.error ?? env.message
  if (!e) return null
  if (typeof e === 'string') return e
  if (Array.isArray(e)) return e.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('; ')
  if (typeof e === 'object') return Object.entries(e as Rec).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`).join('; ')
  return String(e)
}

export function parseFedregItem(item: unknown, sourceId: string): ScrapedNotice {
  if (!item || typeof item !== 'object' || Array.isArray(item)) throw new Error('result is not an object')
  const rec = item as Rec
  const docNo = str(rec.document_number)?.trim()
  if (!docNo || !/^[A-Z0-9][A-Z0-9-]{3,30}$/i.test(docNo)) throw new Error('result has no document_number')
  const type = str(rec.type)
  if (type && !/proposed rule|prorule/i.test(type)) throw new Error(`${docNo} is a ${type}, not a proposed rule`)
  const title = htmlToText(str(rec.title))
  if (!title) throw new Error(`${docNo} has no title`)
  const agencies = Array.isArray(rec.agencies)
    ? rec.agencies
        .map((a) => (a && typeof a === 'object' ? str((a as Rec).name) ?? str((a as Rec).raw_name) : str(a)))
        .filter((s): s is string => !!s)
        .map((s) => htmlToText(s))
        .filter(Boolean)
    : []
  const list = (v: unknown) => (Array.isArray(v) ? v.map(str).filter((s): s is string => !!s).map((s) => s.trim()).filter(Boolean) : [])
  const cfr = Array.isArray(rec.cfr_references)
    ? rec.cfr_references
        .map((c) => (c && typeof c === 'object' ? [str((c as Rec).title), str((c as Rec).part)] : [null, null]))
        .filter(([t, p]) => t && p)
        .map(([t, p]) => `${t} CFR ${p}`)
    : []
  const action = htmlToText(str(rec.action)) || null
  const abstract = htmlToText(str(rec.abstract)) || null
  const links = [...splitUrls(str(rec.html_url)), ...splitUrls(str(rec.pdf_url)), ...splitUrls(str(rec.comment_url))].filter(
    (u, i, all) => all.indexOf(u) === i,
  )
  return {
    sourceId,
    sourceItemId: docNo,
    symbols: [fedregSymbol(docNo)],
    docType: 'regular',
    area: 'TBT',
    member: 'United States of America',
    memberCode: 'USA',
    title,
    products: cfr.length ? `Regulated under ${cfr.join(', ')}` : null,
    description: abstract,
    objectives: [],
    // Agencies, RINs and dockets: what links a proposed rule to its WTO notification.
    keywords: [...agencies, ...list(rec.regulation_id_numbers).map((r) => `RIN ${r}`), ...list(rec.docket_ids).map((d) => `Docket ${d}`), ...(action ? [action] : [])],
    hsCodes: [],
    icsCodes: [],
    languageHint: 'eng',
    distributionDate: toIsoDate(rec.publication_date),
    commentDeadline: toIsoDate(rec.comments_close_on),
    adoptionDate: null,
    adoptionText: null,
    entryIntoForceDate: toIsoDate(rec.effective_on),
    entryIntoForceText: null,
    links,
    sourceUrl: splitUrls(str(rec.html_url))[0] ?? null,
  }
}
