import type { CheerioAPI } from 'cheerio'
import { toIsoDate } from '../../src/domain/dates.js'
import { hsCodesInText } from '../../src/domain/hs.js'
import type { ParseResult, ScrapedNotice } from '../../src/domain/notice.js'
import { parseSymbol } from '../../src/domain/symbols.js'
import { isRenderedSnapshot } from '../browser/snapshot.js'
import { loadHtml } from '../html.js'
import { SourceError, type Page } from '../types.js'
import { TRIS_MEMBER_STATES } from './member-states.js'

/** `YYYY/NNNN/CC`: year, serial, notifying state. */
export const TRIS_NUMBER = /\b((?:19|20)\d{2})\/(\d{4})\/([A-Z]{2})\b/

/** The measure key of a TRIS notification that names no WTO symbol. */
export const trisKey = (number: string) => `TRIS:${number}`

export const TRIS_LIST_READY = 'table.tris-results'
export const TRIS_DETAIL_READY = 'main.notification-detail dl dd'

export interface TrisListRow {
  internalId: string
  number: string
  notificationDate: string | null
}

const DETAIL_PATH = /\/notification\/(\d+)\/?$/

/** A rendered search page: one row per notification, newest first. */
export function parseTrisList(page: Page): { rows: TrisListRow[]; hasNext: boolean } {
  const $ = loadHtml(page.body)
  const table = $(TRIS_LIST_READY)
  if (!table.length) throw new SourceError('layout-changed', `${page.url}: no ${TRIS_LIST_READY} on the search page`, false, page.url)
  const rows: TrisListRow[] = []
  table.find('tr.tris-row').each((_, tr) => {
    const a = $(tr).find('a[href*="/notification/"]').first()
    const id = DETAIL_PATH.exec(a.attr('href') ?? '')?.[1]
    const number = TRIS_NUMBER.exec(a.text())?.[0]
    if (!id || !number) return
    rows.push({ internalId: id, number, notificationDate: trisDate($(tr).find('.notification-date').text()) })
  })
  return { rows, hasNext: $('a.next-page, [rel="next"]').length > 0 }
}

/**
 * A rendered notification page (`/en/notification/{internalId}`). Fields are found by
 * their labels, the way a reader finds them; a page without a notification number is a
 * layout change. When the page names the WTO notification (`G/TBT/N/EU/...`), the
 * notice carries that symbol too, so it joins the ePing record's measure.
 */
export function parseTrisDetail(page: Page, sourceId = 'eu-tris'): ScrapedNotice {
  const $ = loadHtml(page.body)
  const number = TRIS_NUMBER.exec(labelled($, /notification\s*(number|no\.?)/i) ?? '')?.[0] ?? TRIS_NUMBER.exec($('#notificationNumber, .notification-number').first().text())?.[0]
  if (!number) throw new SourceError('layout-changed', `${page.url}: no notification number on the page`, false, page.url)
  const title = labelled($, /^title$/i)
  if (!title) throw new Error(`${number} has no title`)
  const state = TRIS_MEMBER_STATES[number.slice(-2)]
  const memberText = labelled($, /member\s*state|notifying\s*(member|country)/i)
  const products = labelled($, /products?|services?/i)
  const description = labelled($, /abstract|summary|description/i)
  const status = labelled($, /^status$/i)
  const base = new URL(page.url, 'http://x')
  const text = $('main').text() || $('body').text()
  const wto = [...text.matchAll(/G\s*\/\s*TBT\s*\/\s*N\s*\/\s*EU\s*\/\s*\d+(?:\s*\/\s*(?:Add|Corr|Rev|Suppl)\.?\s*\d+)*/gi)]
    .map((m) => parseSymbol(m[0])?.base)
    .filter((s): s is string => !!s)
  const links = $('main a[href*="/text/"], a.notification-text[href]')
    .map((_, a) => new URL($(a).attr('href')!, base).toString())
    .get()
  return {
    sourceId,
    sourceItemId: number,
    symbols: [trisKey(number), ...new Set(wto)],
    docType: 'regular',
    area: 'TBT',
    member: memberText ?? state?.name ?? null,
    memberCode: state?.code ?? null,
    title,
    products,
    description,
    objectives: [],
    keywords: [],
    hsCodes: hsCodesInText(`${products ?? ''} ${description ?? ''}`),
    icsCodes: [],
    languageHint: /^\/en\//.test(base.pathname) ? 'eng' : null,
    distributionDate: trisDate(labelled($, /notification\s*date|date\s*of\s*notification|received/i)),
    // The standstill is the window for comments and detailed opinions.
    commentDeadline: trisDate(labelled($, /standstill/i)),
    adoptionDate: null,
    adoptionText: null,
    entryIntoForceDate: null,
    entryIntoForceText: null,
    links: [...new Set(links)],
    sourceUrl: page.url,
    sourceStatus: status,
  }
}

export function parseTrisPage(page: Page, sourceId = 'eu-tris'): ParseResult {
  const path = new URL(page.url, 'http://x').pathname
  if (!DETAIL_PATH.test(path) || !isRenderedSnapshot(page.body)) return { notices: [], errors: [] }
  try {
    return { notices: [parseTrisDetail(page, sourceId)], errors: [] }
  } catch (err) {
    if (err instanceof SourceError) throw err
    return { notices: [], errors: [{ itemId: DETAIL_PATH.exec(path)![1], reason: (err as Error).message }] }
  }
}

/** The text of the field whose label (a `dt`, `th` or `.label`) matches, or null. */
function labelled($: CheerioAPI, label: RegExp): string | null {
  let out: string | null = null
  $('dt, th, .label').each((_, el) => {
    const name = clean($(el).text()).replace(/[:：]\s*$/, '')
    if (!label.test(name)) return
    const value = el.tagName === 'dt' ? $(el).nextAll('dd').first() : el.tagName === 'th' ? $(el).next('td') : $(el).next()
    const v = clean(value.text())
    if (v) {
      out = v
      return false
    }
  })
  return out
}

function trisDate(s: string | null | undefined): string | null {
  const t = clean(s)
  return toIsoDate(t) ?? toIsoDate(/\d{1,2}\/\d{1,2}\/\d{4}|\d{4}-\d{2}-\d{2}/.exec(t)?.[0])
}

const clean = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim()
