import { toIsoDate } from '../../src/domain/dates.js'
import { hsCodesInText, normalizeHsCode, normalizeHsCodes } from '../../src/domain/hs.js'
import type { ItemError, ParseResult, ScrapedNotice } from '../../src/domain/notice.js'
import { docTypeOf, parseSymbol, splitSymbols, symbolKey } from '../../src/domain/symbols.js'
import { splitUrls } from '../../src/util/text.js'
import { SourceError, type Page } from '../types.js'
import { epingNoticeUrl, icsCodesOf } from './eping.parser.js'

/**
 * ePing's Excel export (the search page's "Export" and the daily bulk file of every
 * notification): one row per notification and notifying member. The import
 * (src/import/) reads the workbook and hands the rows of one notification to this
 * parser, through a raw response of the `eping` source, so that the normal ingest
 * stores them and `reparse eping` re-reads them with a later parser.
 */

/** The raw response's content type for the rows of one notification, as JSON. */
export const EPING_XLSX_CONTENT_TYPE = 'application/vnd.tbt-watch.eping-xlsx-rows+json'
export const EPING_XLSX_FORMAT = 'eping-xlsx/1'

/**
 * One row's cells as the reader found them: text as written (formula cells give their
 * label, never an evaluated value), date cells as `YYYY-MM-DD`, links as the URLs of
 * the three link columns. Cleaning happens here, in the parser.
 */
export interface EpingXlsxRow {
  member: string | null
  distributionDate: string | null
  symbols: string | null
  title: string | null
  description: string | null
  products: string | null
  hsCodes: string | null
  icsCodes: string | null
  objectives: string | null
  keywords: string | null
  regions: string | null
  commentDeadline: string | null
  notificationType: string | null
  notifiedDocument: string | null
  links: string[]
}

/** The export's columns in order, and the row field each fills. */
export const EPING_XLSX_COLUMNS: { header: string; field: keyof EpingXlsxRow | 'link' }[] = [
  { header: 'Notifying Member', field: 'member' },
  { header: 'Distribution date', field: 'distributionDate' },
  { header: 'Document symbol', field: 'symbols' },
  { header: 'Title', field: 'title' },
  { header: 'Description', field: 'description' },
  { header: 'Products covered', field: 'products' },
  { header: 'HS code(s)', field: 'hsCodes' },
  { header: 'ICS code(s)', field: 'icsCodes' },
  { header: 'Objectives', field: 'objectives' },
  { header: 'Keywords', field: 'keywords' },
  { header: 'Specific regions or countries likely to be affected', field: 'regions' },
  { header: 'Final date for comments', field: 'commentDeadline' },
  { header: 'Notification type', field: 'notificationType' },
  { header: 'Notified document', field: 'notifiedDocument' },
  { header: 'Link to notification(EN)', field: 'link' },
  { header: 'Link to notification(FR)', field: 'link' },
  { header: 'Link to notification(ES)', field: 'link' },
]

/**
 * Excel text as a reader hands it over: `_xHHHH_` escapes (`_x000D_`, the escaped
 * carriage return) decoded, non-breaking and other odd spaces made plain, control
 * characters dropped, whitespace collapsed.
 */
export function cleanCellText(s: string | null | undefined): string {
  if (!s) return ''
  return String(s)
    .replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u200B\uFEFF]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
}

const clean = (s: string | null | undefined) => cleanCellText(s) || null

/**
 * Codes of an `HS code(s)` or `ICS code(s)` cell: `8517 - Telephone sets…; 8518 - …`.
 * The nomenclature text holds `;` and other codes itself ("… heading 8443, 8525 …"), so
 * a code is one that starts the cell or follows a `;`, and is followed by ` - `. A cell of
 * bare codes (`8517; 8518`) is read code by code.
 */
export function codesOfCell(cell: string | null | undefined, kind: 'hs' | 'ics'): string[] {
  const text = cleanCellText(cell)
  if (!text) return []
  const code = kind === 'hs' ? String.raw`\d{2}(?:[\d.]*\d)?` : String.raw`\d{2}(?:\.\d{3}(?:\.\d{2})?)?`
  const labelled = [...text.matchAll(new RegExp(String.raw`(?:^|;)\s*(${code})\s+[-–]\s`, 'g'))].map((m) => m[1])
  const raw = labelled.length ? labelled : text.split(/[;,\s]+/).filter((t) => new RegExp(`^${code}$`).test(t))
  if (kind === 'ics') return [...new Set(raw)]
  return normalizeHsCodes(raw.filter((c) => normalizeHsCode(c)))
}

// "(ICS code(s): 43.080; 43.100)", "(ICS: 43.080)", "(43.080)", "(43.080, 43.100)"
const ICS_NOTE = /\(\s*(?:ICS(?:\s*code\(s\)|\s*codes?)?\s*[:：]?\s*)?(\d{2}\.\d{3}(?:\.\d{2})?(?:\s*[,;]\s*\d{2}\.\d{3}(?:\.\d{2})?)*)\s*\)/gi

/** Products text without the ICS codes it repeats in parentheses, and those codes. */
export function splitIcsNotes(products: string): { text: string; ics: string[] } {
  const ics: string[] = []
  const text = products
    .replace(ICS_NOTE, (_, codes: string) => {
      ics.push(...icsCodesOf(codes))
      return ' '
    })
    .replace(/\s+([.,;:])/g, '$1')
    .replace(/\s+/g, ' ')
    .trim()
  return { text, ics }
}

/**
 * `Objectives`: names ending in ` (TBT)` or ` (SPS)`, separated by `;`, `,` or line
 * breaks (the names hold commas themselves: "Consumer information, labelling (TBT)").
 */
export function objectivesOf(cell: string | null | undefined): string[] {
  const text = cleanCellText(cell)
  if (!text) return []
  const out: string[] = []
  const suffixed = [...text.matchAll(/(.+?)\s*\((?:TBT|SPS)\)\s*(?=[;,]|$)/g)]
  const names = suffixed.length ? suffixed.map((m) => m[1].replace(/^[\s;,]+/, '')) : text.split(/;/)
  for (const n of names.map((s) => s.trim()).filter(Boolean)) if (!out.includes(n)) out.push(n)
  return out
}

const listOf = (cell: string | null | undefined) => {
  const out: string[] = []
  for (const k of String(cell ?? '').split(/[;\r\n]+/).map(cleanCellText).filter(Boolean)) if (!out.includes(k)) out.push(k)
  return out
}

/** A date cell as read (`YYYY-MM-DD`), or a date written as text; `bad` when there is text but no date. */
function dateOf(cell: string | null | undefined): { date: string | null; bad: boolean } {
  const text = cleanCellText(cell)
  if (!text) return { date: null, bad: false }
  const date = toIsoDate(text)
  return { date, bad: !date }
}

/** The ePing URL of a notice is the same whichever way it came in. */
export const epingXlsxNoticeId = (symbols: string[]) => symbolKey(symbols)

/**
 * The rows of one notification (one per notifying member; a joint notification has
 * several with the same symbol list) as one notice. Throws, saying why, when the rows
 * cannot make a notice: no readable symbol, no title, a distribution date that is not
 * a date.
 */
export function parseEpingXlsxNotice(rows: EpingXlsxRow[], sourceId = 'eping'): ScrapedNotice {
  if (!rows.length) throw new Error('no rows')
  const first = <K extends keyof EpingXlsxRow>(k: K) => rows.map((r) => r[k]).find((v) => v != null && v !== '' && (!Array.isArray(v) || v.length)) ?? null
  const symbolText = cleanCellText(first('symbols') as string | null)
  if (!symbolText) throw new Error('Document symbol is empty')
  const symbols = splitSymbols(symbolText)
  const unreadable = symbols.filter((s) => !parseSymbol(s))
  if (!symbols.length || unreadable.length) throw new Error(`Document symbol "${unreadable[0] ?? symbolText}" is not a WTO document symbol`)
  const title = clean(first('title') as string | null)
  if (!title) throw new Error(`${symbols[0]}: Title is empty`)
  const distribution = dateOf(first('distributionDate') as string | null)
  if (distribution.bad) throw new Error(`${symbols[0]}: Distribution date "${cleanCellText(first('distributionDate') as string)}" is not a date`)
  // Often empty, now and then words ("60 days from notification"): no deadline then.
  const deadline = dateOf(first('commentDeadline') as string | null)

  const members = [...new Set(rows.map((r) => cleanCellText(r.member)).filter(Boolean))].sort((a, b) => a.localeCompare(b, 'en'))
  const parsed = parseSymbol(symbols[0])!
  const objectivesCell = first('objectives') as string | null
  const typeText = cleanCellText(first('notificationType') as string | null)
  const sps = parsed.agreement === 'SPS' || (parsed.legacy && (/\(SPS\)/.test(objectivesCell ?? '') || /\(SPS\)/.test(typeText)))
  const productsRaw = cleanCellText(first('products') as string | null)
  const { text: products, ics: icsInProducts } = splitIcsNotes(productsRaw)
  const hsCodes = normalizeHsCodes([...codesOfCell(first('hsCodes') as string | null, 'hs'), ...hsCodesInText(productsRaw)])
  const icsCodes = [...new Set([...codesOfCell(first('icsCodes') as string | null, 'ics'), ...icsInProducts])]
  const links: string[] = []
  for (const r of rows) for (const u of [...r.links.flatMap((l) => splitUrls(l)), ...splitUrls(r.notifiedDocument)]) if (!links.includes(u)) links.push(u)

  return {
    sourceId,
    sourceItemId: epingXlsxNoticeId(symbols),
    symbols,
    docType: docTypeOf(typeText, symbols),
    area: sps ? 'SPS' : 'TBT',
    // A joint notification's members, in one field: names hold commas ("Korea, Republic of").
    member: members.join('; ') || null,
    memberCode: parsed.legacy ? null : parsed.member,
    title,
    products: products || null,
    description: clean(first('description') as string | null),
    objectives: objectivesOf(objectivesCell),
    keywords: listOf(first('keywords') as string | null),
    hsCodes,
    icsCodes,
    // The bulk file's text is in the notifying member's language more often than not:
    // the classifier detects it.
    languageHint: null,
    distributionDate: distribution.date,
    commentDeadline: deadline.date,
    adoptionDate: null,
    adoptionText: null,
    entryIntoForceDate: null,
    entryIntoForceText: null,
    links,
    sourceUrl: epingNoticeUrl(symbols[0]),
  }
}

/** The raw body of one notification's rows: row numbers stay out, so the same rows in a later file store nothing new. */
export function epingXlsxBody(rows: EpingXlsxRow[]): string {
  const sorted = [...rows].map((r) => JSON.stringify(r)).sort()
  return `{"format":"${EPING_XLSX_FORMAT}","rows":[${sorted.join(',')}]}`
}

export function isEpingXlsxPage(page: Pick<Page, 'contentType'>): boolean {
  return (page.contentType ?? '').startsWith(EPING_XLSX_CONTENT_TYPE)
}

/** A stored raw response of the import: one notification's rows. */
export function parseEpingXlsxPage(page: Page, sourceId = 'eping'): ParseResult {
  let json: { format?: unknown; rows?: unknown }
  try {
    json = JSON.parse(page.body)
  } catch {
    throw new SourceError('layout-changed', `${page.url}: imported rows are not JSON`, false, page.url)
  }
  if (!json || json.format !== EPING_XLSX_FORMAT || !Array.isArray(json.rows)) {
    throw new SourceError('layout-changed', `${page.url}: not ${EPING_XLSX_FORMAT} rows`, false, page.url)
  }
  const notices: ScrapedNotice[] = []
  const errors: ItemError[] = []
  try {
    notices.push(parseEpingXlsxNotice(json.rows as EpingXlsxRow[], sourceId))
  } catch (err) {
    errors.push({ itemId: page.url, reason: (err as Error).message })
  }
  return { notices, errors }
}
