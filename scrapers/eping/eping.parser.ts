import { toIsoDate } from '../../src/domain/dates.js'
import { hsCodesInText, normalizeHsCodes } from '../../src/domain/hs.js'
import type { ItemError, ParseResult, ScrapedNotice } from '../../src/domain/notice.js'
import { docTypeOf, splitSymbols } from '../../src/domain/symbols.js'
import { htmlToText, splitUrls } from '../../src/util/text.js'
import { SourceError, type Page } from '../types.js'

/** ePing's `language` parameter → the ISO 639-3 code of the text it returns. */
export const EPING_LANGUAGES: Record<string, string> = { '1': 'eng', '2': 'fra', '3': 'spa' }

export const epingNoticeUrl = (symbol: string) => `https://epingalert.org/en/Search?viewData=${encodeURIComponent(symbol)}`

/**
 * Parses one page of `/api/v1/azureSearch/getAll`. A page that is not the expected
 * envelope is a layout change (never retried); a bad item is an item error and the
 * rest of the page still counts.
 */
export function parseEpingPage(page: Page, sourceId = 'eping'): ParseResult & { totalCount: number | null; endRow: number | null } {
  let json: unknown
  try {
    json = JSON.parse(page.body)
  } catch {
    throw new SourceError('layout-changed', `${page.url}: response is not JSON`, false, page.url)
  }
  const envelope = json as { items?: unknown; totalCount?: unknown; endRow?: unknown }
  if (!envelope || typeof envelope !== 'object' || !Array.isArray(envelope.items)) {
    throw new SourceError('layout-changed', `${page.url}: no items[] array in the response`, false, page.url)
  }
  const language = EPING_LANGUAGES[new URL(page.url, 'http://x').searchParams.get('language') ?? '1'] ?? null
  const notices: ScrapedNotice[] = []
  const errors: ItemError[] = []
  for (const item of envelope.items) {
    try {
      notices.push(parseEpingItem(item, sourceId, language))
    } catch (err) {
      const id = item && typeof item === 'object' && 'id' in item ? String((item as { id: unknown }).id) : null
      errors.push({ itemId: id, reason: (err as Error).message })
    }
  }
  return {
    notices,
    errors,
    totalCount: typeof envelope.totalCount === 'number' ? envelope.totalCount : null,
    endRow: typeof envelope.endRow === 'number' ? envelope.endRow : null,
  }
}

type Rec = Record<string, unknown>

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null)
const plain = (rec: Rec, field: string) => htmlToText(str(rec[`${field}Plain`]) ?? str(rec[field])) || null
const names = (v: unknown): string[] =>
  Array.isArray(v)
    ? v
        .map((o) => (o && typeof o === 'object' ? str((o as Rec).name) : str(o)))
        .filter((s): s is string => !!s)
        .map((s) => htmlToText(s))
        .filter(Boolean)
    : []

export function parseEpingItem(item: unknown, sourceId: string, languageHint: string | null): ScrapedNotice {
  if (!item || typeof item !== 'object') throw new Error('item is not an object')
  const rec = item as Rec
  const id = str(rec.id)
  if (!id || !/^\d+$/.test(id)) throw new Error('item has no numeric id')
  const symbols = splitSymbols(str(rec.documentSymbol))
  if (!symbols.length) throw new Error(`item ${id} has no document symbol`)
  const title = plain(rec, 'title')
  if (!title) throw new Error(`item ${id} (${symbols[0]}) has no title`)
  const products = plain(rec, 'productsFreeText')
  const description = plain(rec, 'description')

  const hsFromObjects = Array.isArray(rec.hsCodes)
    ? rec.hsCodes.map((h) => (h && typeof h === 'object' ? str((h as Rec).code) ?? str((h as Rec).id) : str(h))).filter((c): c is string => !!c)
    : []
  const hsText = str(rec.hsCodeText) ?? ''
  const hsCodes = normalizeHsCodes([
    ...hsFromObjects,
    ...hsText.split(/[,;\s]+/).filter(Boolean),
    ...hsCodesInText(products ?? ''),
  ])
  const icsCodes = icsCodesOf(`${str(rec.icsCodeText) ?? ''} ${icsAnnotations(products ?? '')}`)
  const area = /sps/i.test(str(rec.area) ?? '') || symbols[0].startsWith('G/SPS/') ? 'SPS' : 'TBT'
  const links = [
    ...splitUrls(str(rec.notifiedDocumentLink)),
    ...splitUrls(str(rec.linkToNotification)),
  ].filter((u, i, all) => all.indexOf(u) === i)

  return {
    sourceId,
    sourceItemId: id,
    symbols,
    docType: docTypeOf(str(rec.notificationType), symbols),
    area,
    member: htmlToText(str(rec.notifyingMember)) || null,
    memberCode: str(rec.notifyingMemberCode),
    title,
    products,
    description,
    objectives: names(rec.objectives).map((n) => n.replace(/\s*\((TBT|SPS)\)\s*$/, '')),
    keywords: names(rec.keywords),
    hsCodes,
    icsCodes,
    languageHint,
    distributionDate: toIsoDate(rec.distributionDate),
    commentDeadline: toIsoDate(rec.commentDeadlineDate),
    adoptionDate: toIsoDate(rec.proposedAdoptionDate),
    adoptionText: htmlToText(str(rec.proposedAdoptionDateText)) || null,
    entryIntoForceDate: toIsoDate(rec.proposedEntryIntoForceDate),
    entryIntoForceText: htmlToText(str(rec.proposedEntryIntoForceDateText)) || null,
    links,
    sourceUrl: epingNoticeUrl(symbols[0]),
  }
}

function icsAnnotations(text: string): string {
  return [...text.matchAll(/(?:ICS\s*(?:code\(s\)|codes?|编码|代码)?|C[óo]digos?(?:\(s\))?\s+ICS|Codes?(?:\(s\))?\s+ICS)\s*[:：]\s*([^)）]*)/gi)].map((m) => m[1]).join(' ')
}

export function icsCodesOf(text: string): string[] {
  const out = new Set<string>()
  for (const m of text.matchAll(/\b(\d{2})\.(\d{3})(?:\.(\d{2}))?\b/g)) out.add(m[0])
  return [...out]
}
