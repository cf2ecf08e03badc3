import { isoDay } from '../../src/domain/dates.js'
import type { ScrapedNotice } from '../../src/domain/notice.js'
import { parseSymbol } from '../../src/domain/symbols.js'
import type { CrawlContext, CrawlState, Page, Source } from '../types.js'
import { parseEpingPage } from './eping.parser.js'
import { isEpingXlsxPage, parseEpingXlsxPage } from './eping-xlsx.parser.js'
import { crawlWindowStart } from '../window.js'

export const EPING_PAGE_SIZE = 100
/** List pages one run reads at most, unless the operator sets TBT_MAX_PAGES_PER_RUN (a backfill). */
const MAX_PAGES = 200
/** Follow-ups whose base we lack, looked up per run (each costs one or two requests). */
const MAX_RELATED_LOOKUPS = 50

/**
 * ePing's domains: 1 TBT, 2 SPS. China counts sanitary and phytosanitary measures among
 * technical trade measures, so a run lists both, each as its own list (the API may ignore
 * a filter it does not know; one list per domain cannot mix them up). Each list has its
 * own page cap.
 */
export const EPING_DOMAINS = [
  { id: '1', area: 'TBT' },
  { id: '2', area: 'SPS' },
] as const

/** The domain a symbol's search goes to. */
const domainOfSymbol = (symbol: string) => (parseSymbol(symbol)?.agreement === 'SPS' ? '2' : '1')

interface EpingFlavour {
  listUrl(base: string, q: { from: string; to: string; page: number; domain: string }): string
  /** A search for one document symbol, whatever its date. */
  symbolUrl(base: string, symbol: string): string
  headers?: Record<string, string>
  /** The public site has the related-notifications endpoint; the keyed API does not document one. */
  related: boolean
}

/**
 * The ePing crawl shared by the public JSON and the keyed API. The API may ignore filters
 * or order by relevance, so we filter and order on our side and stop on what we already
 * hold, not on a page count. Follow-ups whose base notification is older than the window
 * bring their base (and its other follow-ups) in through the related-notifications lookup.
 */
async function crawlEping(sourceId: string, flavour: EpingFlavour, ctx: CrawlContext, state: CrawlState) {
  const today = isoDay(ctx.now())
  const from =
    crawlWindowStart(state, ctx.now())
  const headers = flavour.headers
  let newest = state.cursor
  // Only what the base lookup needs is kept of each notice: a backfill may list 100,000.
  const seen: Pick<ScrapedNotice, 'docType' | 'symbols'>[] = []
  const maxPages = ctx.maxPages ?? MAX_PAGES
  for (const domain of EPING_DOMAINS) {
    for (let page = 1; page <= maxPages; page++) {
      const url = flavour.listUrl(ctx.baseUrl, { from, to: today, page, domain: domain.id })
      const fetched = await ctx.fetch(url, { headers })
      const parsed = parseEpingPage(fetched, sourceId)
      const inWindow = parsed.notices.filter((n) => !n.distributionDate || n.distributionDate >= from)
      for (const n of inWindow) seen.push({ docType: n.docType, symbols: n.symbols })
      for (const n of inWindow) if (n.distributionDate && (!newest || n.distributionDate > newest)) newest = n.distributionDate
      if (!parsed.notices.length && !parsed.errors.length) break
      const known = await ctx.known(inWindow.map((n) => n.sourceItemId))
      const allKnown = inWindow.every((n) => known.has(n.sourceItemId))
      const allOlder = parsed.notices.length > 0 && parsed.notices.every((n) => n.distributionDate && n.distributionDate < from)
      ctx.log.debug({ domain: domain.area, page, items: parsed.notices.length, known: known.size }, 'eping page')
      if (allOlder) break
      if (allKnown && state.cursor) break
      if (parsed.endRow != null && parsed.totalCount != null && parsed.endRow >= parsed.totalCount) break
      if (parsed.notices.length + parsed.errors.length < EPING_PAGE_SIZE) break
      if (page === maxPages) ctx.log.warn({ domain: domain.area, maxPages, from }, 'page cap reached: older notices of the window were not read (raise TBT_MAX_PAGES_PER_RUN or narrow --since)')
    }
  }
  await fetchMissingBases(sourceId, flavour, ctx, seen)
  return { cursor: newest && newest > today ? today : newest }
}

async function fetchMissingBases(sourceId: string, flavour: EpingFlavour, ctx: CrawlContext, seen: Pick<ScrapedNotice, 'docType' | 'symbols'>[]) {
  const have = new Set(seen.flatMap((n) => n.symbols))
  const bases = [
    ...new Set(
      seen
        .filter((n) => n.docType !== 'regular')
        .flatMap((n) => n.symbols.map((s) => parseSymbol(s)?.base))
        .filter((b): b is string => !!b && !have.has(b)),
    ),
  ].slice(0, MAX_RELATED_LOOKUPS)
  if (!bases.length || !ctx.knownSymbols) return
  const held = await ctx.knownSymbols(bases)
  for (const base of bases.filter((b) => !held.has(b) && !have.has(b))) {
    let wanted = [base]
    if (flavour.related) {
      const url = relatedUrl(ctx.baseUrl, base)
      try {
        const page = await ctx.fetch(url, { headers: flavour.headers, keep: false })
        // The answer lists what the site holds (the original included): a base it does
        // not list is not there to fetch.
        wanted = parseRelated(page.body).filter((s) => !have.has(s))
      } catch (err) {
        ctx.log.warn({ base, err: (err as Error).message }, 'related notifications unavailable')
      }
    }
    const heldToo = await ctx.knownSymbols(wanted)
    for (const symbol of wanted.filter((s) => !heldToo.has(s) && !have.has(s))) {
      const page = await ctx.fetch(flavour.symbolUrl(ctx.baseUrl, symbol), { headers: flavour.headers })
      for (const n of parseEpingPage(page, sourceId).notices) n.symbols.forEach((s) => have.add(s))
      have.add(symbol)
    }
  }
}

/** The related-notifications answer: an array of symbols (or of records holding one). */
export function parseRelated(body: string): string[] {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return []
  }
  const list = Array.isArray(json) ? json : json && typeof json === 'object' && Array.isArray((json as { items?: unknown }).items) ? (json as { items: unknown[] }).items : []
  return list
    .map((x) => (typeof x === 'string' ? x : x && typeof x === 'object' ? (x as { documentSymbol?: unknown }).documentSymbol : null))
    .filter((s): s is string => typeof s === 'string')
    .map((s) => parseSymbol(s)?.symbol)
    .filter((s): s is string => !!s)
}

const isRelatedUrl = (url: string) => /\/getRelatedNotifications\b/i.test(url)

export const epingSource: Source = {
  id: 'eping',
  name: 'WTO ePing (public)',
  engine: 'http',
  defaultBaseUrl: 'https://epingalert.org',

  crawl(ctx: CrawlContext, state: CrawlState) {
    return crawlEping(this.id, { listUrl, symbolUrl: (base, symbol) => searchUrl(base, symbol), related: true }, ctx, state)
  },

  parse(page: Page) {
    // Related-notification lists hold symbols, not notices.
    if (isRelatedUrl(page.url)) return { notices: [], errors: [] }
    // Rows of ePing's Excel export, stored by `tbt-watch import eping-xlsx`.
    if (isEpingXlsxPage(page)) return parseEpingXlsxPage(page, this.id)
    const { notices, errors } = parseEpingPage(page, this.id)
    return { notices, errors }
  },
}

/**
 * The keyed WTO API (api.wto.org), used instead of the public JSON when
 * TBT_EPING_API_KEY is set. The key travels in a header and is never stored.
 */
export function createEpingApiSource(apiKey: string): Source {
  const headers = { 'Ocp-Apim-Subscription-Key': apiKey }
  return {
    id: 'eping-api',
    name: 'WTO ePing (keyed API)',
    engine: 'http',
    defaultBaseUrl: 'https://api.wto.org',
    crawl(ctx, state) {
      return crawlEping(this.id, { listUrl: apiListUrl, symbolUrl: apiSymbolUrl, headers, related: false }, ctx, state)
    },
    parse(page: Page) {
      const { notices, errors } = parseEpingPage(page, this.id)
      return { notices, errors }
    },
  }
}

export function listUrl(base: string, q: { from: string; to: string; page: number; domain?: string }): string {
  const u = new URL(`${base}/api/v1/azureSearch/getAll`)
  u.searchParams.set('language', '1')
  u.searchParams.set('domainIds', q.domain ?? '1')
  u.searchParams.set('distributionDateFrom', q.from)
  u.searchParams.set('distributionDateTo', q.to)
  u.searchParams.set('sortBy', 'distributionDate')
  u.searchParams.set('sortDirection', 'desc')
  u.searchParams.set('page', String(q.page))
  u.searchParams.set('pageSize', String(EPING_PAGE_SIZE))
  return u.toString()
}

export function searchUrl(base: string, symbol: string): string {
  const u = new URL(`${base}/api/v1/azureSearch/getAll`)
  u.searchParams.set('language', '1')
  u.searchParams.set('domainIds', domainOfSymbol(symbol))
  u.searchParams.set('freeText', symbol)
  u.searchParams.set('page', '1')
  u.searchParams.set('pageSize', String(EPING_PAGE_SIZE))
  return u.toString()
}

export function relatedUrl(base: string, symbol: string): string {
  const u = new URL(`${base}/api/v1/notifications/getRelatedNotifications`)
  u.searchParams.set('documentSymbol', symbol)
  u.searchParams.set('includeOriginal', 'true')
  return u.toString()
}

export function apiListUrl(base: string, q: { from: string; to: string; page: number; domain?: string }): string {
  const u = new URL(`${base}/eping/notifications/search`)
  u.searchParams.set('language', '1')
  u.searchParams.set('domainIds', q.domain ?? '1')
  u.searchParams.set('distributionDateFrom', q.from)
  u.searchParams.set('distributionDateTo', q.to)
  u.searchParams.set('page', String(q.page))
  u.searchParams.set('pageSize', String(EPING_PAGE_SIZE))
  return u.toString()
}

export function apiSymbolUrl(base: string, symbol: string): string {
  const u = new URL(`${base}/eping/notifications/search`)
  u.searchParams.set('language', '1')
  // Which domainIds value the keyed API gives SPS was never recorded: a search by symbol
  // names one document, so it goes without a domain filter.
  u.searchParams.set('documentSymbol', symbol)
  u.searchParams.set('page', '1')
  u.searchParams.set('pageSize', String(EPING_PAGE_SIZE))
  return u.toString()
}
