import { toIsoDate } from '../../src/domain/dates.js'
import { hsCodesInText, normalizeHsCodes } from '../../src/domain/hs.js'
import type { ParseResult, ScrapedNotice } from '../../src/domain/notice.js'
import { docTypeOf, parseSymbol, splitSymbols } from '../../src/domain/symbols.js'
import { splitUrls } from '../../src/util/text.js'
import { icsCodesOf } from '../eping/eping.parser.js'
import { isRenderedSnapshot } from '../browser/snapshot.js'
import { loadHtml } from '../html.js'
import { SourceError, type Page } from '../types.js'
import { parseCnDate } from './cn-dates.js'
import { cnMemberCode } from './members.js'

/** One row of `POST /tbt/find` (`data.data[]`). */
export interface CnTbtListRow {
  tbtid: string
  tbtno: string
  tbdate: string | null
  tbtitle: string
  areaName: string | null
  tbtype: string
}

export interface CnTbtRelated {
  tbtno: string
  /** The related notice's public page, when the centre links it. */
  url: string | null
  tbtype: string | null
  tbtid: string | null
}

/** What the selector wait of the browser engine looks for: the rendered symbol. */
export const CN_TBT_DETAIL_READY = '#tbtno:not(:empty)'

export const cnTbtDetailPath = (tbtype: string, tbtid: string) => `/tbt/${encodeURIComponent(tbtype)}/${encodeURIComponent(tbtid)}`

const DETAIL_PATH = /\/tbt\/(\w+)\/(\w+)\/?$/

/**
 * Parses the list API's answer. A body that is not the expected envelope is a layout
 * change; an envelope with an error code (the session expired) is a retryable failure.
 */
export function parseCnTbtList(page: Page): { rows: CnTbtListRow[]; total: number | null; skipped: number } {
  let json: unknown
  try {
    json = JSON.parse(page.body)
  } catch {
    throw new SourceError('layout-changed', `${page.url}: list response is not JSON`, false, page.url)
  }
  const env = json as { code?: unknown; msg?: unknown; data?: { data?: unknown; total?: unknown } | null }
  if (env && typeof env === 'object' && env.code !== undefined && env.code !== 200 && env.code !== 0 && env.code !== '200' && !env.data) {
    throw new SourceError('unavailable', `${page.url}: the centre answered code ${String(env.code)} (${String(env.msg ?? '')})`, true, page.url)
  }
  if (!env || typeof env !== 'object' || !env.data || typeof env.data !== 'object' || !Array.isArray(env.data.data)) {
    throw new SourceError('layout-changed', `${page.url}: no data.data[] array in the list response`, false, page.url)
  }
  const rows: CnTbtListRow[] = []
  let skipped = 0
  for (const r of env.data.data as Record<string, unknown>[]) {
    const tbtid = str(r?.tbtid)
    const tbtno = str(r?.tbtno)?.trim()
    if (!tbtid || !/^\w+$/.test(tbtid) || !tbtno) {
      skipped++
      continue
    }
    rows.push({
      tbtid,
      tbtno,
      tbdate: toIsoDate(str(r.tbdate)?.slice(0, 10)),
      tbtitle: clean(str(r.tbtitle)),
      areaName: clean(str(r.areaName)) || null,
      tbtype: str(r.tbtype) && /^\w+$/.test(str(r.tbtype)!) ? str(r.tbtype)! : '1',
    })
  }
  const total = Number(env.data.total)
  return { rows, total: Number.isFinite(total) ? total : null, skipped }
}

/**
 * Parses a detail page as Chromium rendered it (`/tbt/{tbtype}/{tbtid}`): a pure
 * function of the HTML, so a stored snapshot parses again without a browser. The title
 * and text are the centre's Chinese; the English of the same document comes from ePing
 * and both end up under one measure through the symbol.
 */
export function parseCnTbtDetail(page: Page, sourceId = 'cn-tbt'): { notice: ScrapedNotice; related: CnTbtRelated[] } {
  const path = new URL(page.url, 'http://x').pathname
  const m = DETAIL_PATH.exec(path)
  if (!m) throw new SourceError('bad-response', `${page.url}: not a detail page address`, false, page.url)
  const [, tbtype, tbtid] = m
  const $ = loadHtml(page.body)
  if (!$('#tbtno').length || !$('#tbtitle').length) {
    throw new SourceError('layout-changed', `${page.url}: no #tbtno/#tbtitle on the detail page`, false, page.url)
  }
  const field = (id: string) => clean($(`#${id}`).first().text()) || null
  const symbols = splitSymbols(field('tbtno'))
  if (!symbols.length) throw new Error(`${tbtype}/${tbtid} has no notification number`)
  const title = field('tbtitle')
  if (!title) throw new Error(`${tbtype}/${tbtid} (${symbols[0]}) has no title`)
  const areaName = field('areaName')
  const parsed = parseSymbol(symbols[0])
  const distributionDate = parseCnDate(field('tbdate')).date
  const products = field('productscovered')
  const hsField = field('hscode') ?? ''
  const hsCodes = normalizeHsCodes([...hsField.split(/[,;，；、\s]+/).filter(Boolean), ...hsCodesInText(products ?? '')])
  const adoption = parseCnDate(field('napprdate'), distributionDate)
  const entry = parseCnDate(field('neffedate'), distributionDate)
  const deadline = parseCnDate(field('stopfeedbackdate'), distributionDate)
  const base = new URL(page.url, 'http://x')
  const links = $('#fileList a[href], #attachments a[href]')
    .map((_, a) => absolute($(a).attr('href'), base))
    .get()
    .flatMap((u) => splitUrls(u))
  const related: CnTbtRelated[] = $('#xgList li, #xgList tr')
    .map((_, li) => {
      const a = $(li).find('a').first()
      const tbtno = clean(a.text() || $(li).find('.tbtno').text() || $(li).text()).split(/\s/)[0]
      const href = a.attr('href')
      const url = href ? absolute(href, base) : null
      const rm = url ? DETAIL_PATH.exec(new URL(url).pathname) : null
      return { tbtno, url, tbtype: rm?.[1] ?? null, tbtid: rm?.[2] ?? null }
    })
    .get()
    .filter((r) => parseSymbol(r.tbtno))
  const area = symbols[0].startsWith('G/SPS/') || tbtype === '2' ? 'SPS' : 'TBT'
  const notice: ScrapedNotice = {
    sourceId,
    sourceItemId: `${tbtype}/${tbtid}`,
    symbols,
    docType: docTypeOf(null, symbols),
    area,
    member: areaName,
    memberCode: parsed && !parsed.legacy ? parsed.member : cnMemberCode(areaName),
    title,
    products,
    description: field('purposereason'),
    objectives: [],
    keywords: [],
    hsCodes,
    icsCodes: icsCodesOf(field('icscode') ?? ''),
    languageHint: 'zho',
    distributionDate,
    commentDeadline: deadline.date,
    adoptionDate: adoption.date,
    adoptionText: adoption.text,
    entryIntoForceDate: entry.date,
    entryIntoForceText: entry.text,
    links: [...new Set(links)],
    sourceUrl: page.url,
  }
  return { notice, related }
}

/** The source's `parse`: detail snapshots give notices; the session and list calls give none. */
export function parseCnTbtPage(page: Page, sourceId = 'cn-tbt'): ParseResult {
  const path = new URL(page.url, 'http://x').pathname
  if (!DETAIL_PATH.test(path) || !isRenderedSnapshot(page.body)) return { notices: [], errors: [] }
  try {
    return { notices: [parseCnTbtDetail(page, sourceId).notice], errors: [] }
  } catch (err) {
    if (err instanceof SourceError) throw err
    return { notices: [], errors: [{ itemId: DETAIL_PATH.exec(path)!.slice(1).join('/'), reason: (err as Error).message }] }
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null)
const clean = (s: string | null | undefined) => (s ?? '').replace(/[\s\u00a0\u3000]+/g, ' ').trim()

function absolute(href: string | undefined, base: URL): string {
  if (!href) return ''
  try {
    return new URL(href, base).toString()
  } catch {
    return ''
  }
}
