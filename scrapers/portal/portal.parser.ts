import { createRequire } from 'node:module'
import type * as Cheerio from 'cheerio'
import { addDays, toIsoDate } from '../../src/domain/dates.js'
import { normalizeHsCode } from '../../src/domain/hs.js'
import type { ParseResult, ScrapedNotice } from '../../src/domain/notice.js'
import { docTypeOf, parseSymbol, splitSymbols } from '../../src/domain/symbols.js'
import { htmlToText, splitUrls } from '../../src/util/text.js'
import { icsCodesOf } from '../eping/eping.parser.js'
import { SourceError, type Page } from '../types.js'
import type { PortalDefinition, PortalField } from './portal-definition.js'

// cheerio costs most of a second to load; every CLI command builds the source registry,
// so it is loaded on the first page parsed, not at start-up.
const require = createRequire(import.meta.url)
let cheerioModule: typeof Cheerio | undefined
const cheerio = { load: (html: string) => (cheerioModule ??= require('cheerio') as typeof Cheerio).load(html) }

export interface PortalListItem {
  id: string
  url: string
  date: string | null
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export function listPageUrl(def: PortalDefinition, base: string, page: number): string {
  const rel = page === 1 && def.list.firstPageUrl ? def.list.firstPageUrl : def.list.url.replace('{page}', String(page))
  return new URL(rel, `${base.replace(/\/+$/, '')}/`).toString()
}

/** Whether a stored response is a list page (holds no notice itself). */
export function isListUrl(def: PortalDefinition, url: string): boolean {
  const path = (u: string) => {
    const x = new URL(u, 'http://portal.invalid/')
    return x.pathname.replace(/^\/+/, '') + x.search
  }
  const target = path(url)
  const pattern = new RegExp(`${escapeRe(path(def.list.url.replace('{page}', 'PAGE'))).replace('PAGE', '\\d+')}$`)
  return pattern.test(target) || (!!def.list.firstPageUrl && target.endsWith(path(def.list.firstPageUrl)))
}

export function itemIdOf(def: PortalDefinition, url: string): string {
  if (def.list.idPattern) {
    const m = new RegExp(def.list.idPattern).exec(url)
    if (m?.[1]) return m[1]
  }
  const u = new URL(url)
  return u.pathname + u.search
}

/**
 * Whether a list page may send the crawl to `url`: the page's own host (same port, or
 * both default) or one of the definition's allowHosts. (The crawl's outbound policy
 * checks every request again, with the addresses; this keeps foreign links out of the list.)
 */
export function portalLinkAllowed(def: Pick<PortalDefinition, 'allowHosts'>, pageUrl: string, url: string): boolean {
  const u = new URL(url)
  const p = new URL(pageUrl)
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false
  const port = (x: URL) => x.port || (x.protocol === 'https:' ? '443' : '80')
  const isDefault = (x: string) => x === '80' || x === '443'
  if (u.hostname === p.hostname && (port(u) === port(p) || (isDefault(port(u)) && isDefault(port(p))))) return true
  return def.allowHosts.some((pattern) => {
    const [h, pp] = pattern.toLowerCase().split(':')
    if (pp ? port(u) !== pp : !isDefault(port(u))) return false
    return h.startsWith('*.') ? u.hostname.endsWith(h.slice(1)) : u.hostname === h
  })
}

/**
 * The detail links of one list page, with their ids and list dates. Links to other hosts
 * (not the page's, not in allowHosts) are left out; `skipped` collects them.
 */
export function parsePortalList(def: PortalDefinition, page: Page, skipped?: string[]): PortalListItem[] {
  const $ = cheerio.load(page.body)
  const out: PortalListItem[] = []
  $(def.list.item).each((_, el) => {
    const a = $(el).find(def.list.link).addBack(def.list.link).filter('[href]').first()
    const href = a.attr('href')?.trim()
    if (!href || /^(javascript:|#|mailto:)/i.test(href)) return
    let url: string
    try {
      url = new URL(href, page.url).toString()
    } catch {
      return
    }
    if (!portalLinkAllowed(def, page.url, url)) {
      skipped?.push(url)
      return
    }
    const date = def.list.date ? parsePortalDate($(el).find(def.list.date).first().text(), def.dateFormats) : null
    const id = itemIdOf(def, url)
    if (!out.some((o) => o.id === id)) out.push({ id, url, date })
  })
  return out
}

/** A date in one of the definition's formats (YYYY, MM/M, DD/D and separators), or any form toIsoDate reads. */
export function parsePortalDate(text: string | null | undefined, formats: string[]): string | null {
  const s = (text ?? '').replace(/\s+/g, ' ').trim()
  if (!s) return null
  for (const f of formats) {
    const order: string[] = []
    const re = escapeRe(f)
      .replace(/YYYY|MM|M|DD|D/g, (t) => {
        order.push(t[0])
        return t === 'YYYY' ? '(\\d{4})' : t.length === 2 ? '(\\d{2})' : '(\\d{1,2})'
      })
      .replace(/ /g, '\\s*')
    const m = new RegExp(`(?:^|[^\\d])${re}(?:$|[^\\d])`).exec(s)
    if (!m) continue
    const part = (k: string) => m[order.indexOf(k) + 1]
    const iso = toIsoDate(`${part('Y')}-${part('M')}-${part('D')}`)
    if (iso) return iso
  }
  return toIsoDate(s)
}

/** "通报后60天" / "60 days after notification": a deadline counted from distribution. */
export function relativeDeadline(text: string | null, distributionDate: string | null): string | null {
  if (!text || !distributionDate) return null
  const m = /(?:通报|通告|发布)后\s*(\d{1,3})\s*[天日]|(\d{1,3})\s*days?\s+(?:after|from)\s+(?:the\s+)?(?:notification|distribution|publication)/i.exec(text)
  const days = Number(m?.[1] ?? m?.[2])
  return m && days > 0 ? addDays(distributionDate, days) : null
}

const normLabel = (s: string) => s.replace(/[\s:：]+/g, '').toLowerCase()

/** A value's lines: <br>, paragraphs and list items separate entries. */
function lines(html: string): string[] {
  return html
    .split(/<br\s*\/?>|<\/(?:p|li|div|tr)>/i)
    .flatMap((part) => htmlToText(part).split(/[；;]|\n/))
    .map((s) => s.trim())
    .filter(Boolean)
}

interface Value {
  text: string
  html: string
}

/**
 * Parses one detail page into a notice. A page none of whose fields can be found is a
 * layout change; a page carrying one of the definition's error texts is a bad response;
 * a page missing the symbols or a title is an item error.
 */
export function parsePortalDetail(def: PortalDefinition, page: Page, sourceId = def.id): ParseResult {
  const $ = cheerio.load(page.body)
  const root = $(def.detail.container).first()
  const bodyText = htmlToText($('body').html() ?? page.body)
  const errorText = def.errorPatterns.find((p) => bodyText.includes(p))
  const labelled = new Map<string, Value>()
  if (root.length) {
    root.find(def.detail.rows).each((_, row) => {
      const r = $(row)
      const labelEl = r.find(def.detail.label).first()
      if (!labelEl.length) return
      const label = normLabel(labelEl.text())
      if (!label || labelled.has(label)) return
      const valueEl = r.find(def.detail.value).not(labelEl).filter((_, v) => !$(v).find(labelEl).length).first()
      let html: string
      if (valueEl.length) html = valueEl.html() ?? ''
      else {
        const clone = r.clone()
        clone.find(def.detail.label).first().remove()
        html = clone.html() ?? ''
      }
      labelled.set(label, { text: htmlToText(html), html })
    })
  }
  const read = (field: PortalField): Value | null => {
    const spec = def.detail.fields[field]
    if (!spec) return null
    if (spec.selector) {
      const el = root.find(spec.selector).first().length ? root.find(spec.selector).first() : $(spec.selector).first()
      if (!el.length) return null
      if (spec.attr) {
        const v = el.attr(spec.attr) ?? ''
        return v ? { text: v.trim(), html: v } : null
      }
      const html = el.html() ?? ''
      const text = htmlToText(html)
      return text ? { text, html } : null
    }
    const want = normLabel(spec.label!)
    const v = labelled.get(want) ?? [...labelled].find(([k]) => k.startsWith(want))?.[1] ?? null
    return v && v.text ? v : null
  }
  const fields = Object.fromEntries((Object.keys(def.detail.fields) as PortalField[]).map((f) => [f, read(f)])) as Record<PortalField, Value | null>
  const found = Object.values(fields).filter(Boolean).length
  if (errorText && (found === 0 || !fields.symbols)) {
    throw new SourceError('bad-response', `${page.url}: the page says "${errorText}"`, false, page.url)
  }
  if (found === 0) {
    throw new SourceError('layout-changed', `${page.url}: none of the ${def.id} detail fields were found`, false, page.url)
  }
  const itemId = itemIdOf(def, page.url)
  try {
    return { notices: [noticeOf(def, page, sourceId, itemId, fields, $, root)], errors: [] }
  } catch (err) {
    return { notices: [], errors: [{ itemId, reason: (err as Error).message }] }
  }
}

function noticeOf(
  def: PortalDefinition,
  page: Page,
  sourceId: string,
  itemId: string,
  f: Record<PortalField, Value | null>,
  $: Cheerio.CheerioAPI,
  root: ReturnType<Cheerio.CheerioAPI>,
): ScrapedNotice {
  // Portals print "待定" or a national number where a WTO symbol is missing: keep WTO symbols only.
  const symbols = splitSymbols(f.symbols?.text.replace(/[、\s]+(?=G\/)/g, ',')).filter((s) => parseSymbol(s))
  if (!symbols.length) throw new Error(`${itemId}: no document symbol`)
  const parsed = symbols.map(parseSymbol).find(Boolean)
  const title = f.title?.text || f.products?.text || null
  if (!title) throw new Error(`${itemId} (${symbols[0]}): no title`)
  const distributionDate = parsePortalDate(f.distributionDate?.text, def.dateFormats)
  const deadlineText = f.commentDeadline?.text ?? null
  const hsCodes = [
    ...new Set(
      (f.hsCodes ? lines(f.hsCodes.html) : [])
        .flatMap((l) => l.split(/[,，、]/))
        .map((l) => /^\s*(?:HS\s*)?(\d{2}(?:[\d.]*\d)?)/i.exec(l)?.[1])
        .map((c) => (c ? normalizeHsCode(c) : null))
        .filter((c): c is string => !!c),
    ),
  ]
  const links = def.detail.links
    ? root
        .find(def.detail.links)
        .map((_, a) => $(a).attr('href'))
        .get()
        .map((h) => {
          try {
            return new URL(h, page.url).toString()
          } catch {
            return ''
          }
        })
        .flatMap((u) => splitUrls(u))
        .filter((u, i, all) => all.indexOf(u) === i)
    : []
  const areaText = f.area?.text ?? ''
  return {
    sourceId,
    sourceItemId: itemId,
    symbols,
    docType: docTypeOf(null, symbols),
    area: /sps/i.test(areaText) || parsed?.agreement === 'SPS' ? 'SPS' : 'TBT',
    member: f.member?.text || null,
    memberCode: parsed && !parsed.legacy ? parsed.member : null,
    title,
    products: f.products?.text || null,
    description: f.description?.text || null,
    objectives: f.objectives ? lines(f.objectives.html).map((o) => o.replace(/\s*\((TBT|SPS)\)\s*$/, '')) : [],
    keywords: f.keywords ? lines(f.keywords.html).flatMap((k) => k.split(/[,，、]/)).map((k) => k.trim()).filter(Boolean) : [],
    hsCodes,
    icsCodes: f.icsCodes ? icsCodesOf(f.icsCodes.text) : [],
    languageHint: def.language ?? null,
    distributionDate,
    commentDeadline: parsePortalDate(deadlineText, def.dateFormats) ?? relativeDeadline(deadlineText, distributionDate),
    adoptionDate: parsePortalDate(f.adoptionDate?.text, def.dateFormats),
    adoptionText: f.adoptionDate?.text || null,
    entryIntoForceDate: parsePortalDate(f.entryIntoForceDate?.text, def.dateFormats),
    entryIntoForceText: f.entryIntoForceDate?.text || null,
    links,
    sourceUrl: page.url,
  }
}
