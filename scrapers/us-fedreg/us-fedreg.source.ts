import { addDays, isoDay } from '../../src/domain/dates.js'
import type { CrawlContext, CrawlState, Page, Source } from '../types.js'
import { FEDREG_FIELDS, parseFedregPage } from './us-fedreg.parser.js'
import { crawlWindowStart } from '../window.js'

/** Agencies whose proposed rules are typically technical regulations notified to the WTO TBT Committee. */
export const FEDREG_AGENCIES = [
  'consumer-product-safety-commission',
  'energy-department',
  'environmental-protection-agency',
  'federal-communications-commission',
  'food-and-drug-administration',
  'national-highway-traffic-safety-administration',
]

export const FEDREG_PER_PAGE = 100
/** The API stops paging a query after this many results: a busier window is split. */
export const FEDREG_MAX_PER_QUERY = 2000
/** Re-read this much before the cursor: comment periods are reopened, corrections published. */
const CURSOR_OVERLAP_DAYS = 14
const MAX_PAGES_PER_WINDOW = FEDREG_MAX_PER_QUERY / FEDREG_PER_PAGE

/**
 * US Federal Register proposed rules from TBT-relevant agencies. Queries run over
 * calendar-month windows, so a later run asks for the same URLs and an unchanged month
 * costs a 304; a window holding more than the API will page through is halved.
 */
export const usFedregSource: Source = {
  id: 'us-fedreg',
  name: 'US Federal Register (proposed rules)',
  engine: 'http',
  defaultBaseUrl: 'https://www.federalregister.gov',

  async crawl(ctx: CrawlContext, state: CrawlState) {
    const today = isoDay(ctx.now())
    const from = crawlWindowStart(state, ctx.now(), { overlapDays: CURSOR_OVERLAP_DAYS })
    let newest = state.cursor
    const windows = monthWindows(from, today)
    // When the user named a start date, the first window starts there exactly.
    if (state.since && windows.length) windows[0] = { from: state.since, to: windows[0].to }
    const queue = [...windows]
    while (queue.length) {
      const w = queue.shift()!
      for (let page = 1; page <= MAX_PAGES_PER_WINDOW; page++) {
        const fetched = await ctx.fetch(documentsUrl(ctx.baseUrl, { ...w, page }))
        const parsed = parseFedregPage(fetched, this.id)
        if (page === 1 && parsed.count != null && parsed.count > FEDREG_MAX_PER_QUERY && w.from < w.to) {
          const mid = addDays(w.from, Math.floor((Date.parse(w.to) - Date.parse(w.from)) / 86_400_000 / 2))
          queue.unshift({ from: w.from, to: mid }, { from: addDays(mid, 1), to: w.to })
          ctx.log.debug({ window: w, count: parsed.count }, 'federal register window split')
          break
        }
        for (const n of parsed.notices) if (n.distributionDate && (!newest || n.distributionDate > newest)) newest = n.distributionDate
        ctx.log.debug({ window: w, page, results: parsed.resultCount }, 'federal register page')
        if (parsed.resultCount < FEDREG_PER_PAGE || !parsed.nextPageUrl) break
      }
    }
    return { cursor: newest && newest > today ? today : newest }
  },

  parse(page: Page) {
    const { notices, errors } = parseFedregPage(page, this.id)
    return { notices, errors }
  },
}

/** Calendar months from the month of `from` to the month of `to`, each whole (stable URLs). */
export function monthWindows(from: string, to: string): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = []
  let y = Number(from.slice(0, 4))
  let m = Number(from.slice(5, 7))
  const endKey = to.slice(0, 7)
  for (let i = 0; i < 600; i++) {
    const start = `${y}-${String(m).padStart(2, '0')}-01`
    if (start.slice(0, 7) > endKey) break
    const last = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10)
    out.push({ from: start, to: last })
    m++
    if (m > 12) {
      m = 1
      y++
    }
  }
  return out
}

export function documentsUrl(base: string, q: { from: string; to: string; page: number }): string {
  const u = new URL(`${base}/api/v1/documents.json`)
  for (const f of FEDREG_FIELDS) u.searchParams.append('fields[]', f)
  u.searchParams.append('conditions[type][]', 'PRORULE')
  for (const a of FEDREG_AGENCIES) u.searchParams.append('conditions[agencies][]', a)
  u.searchParams.set('conditions[publication_date][gte]', q.from)
  u.searchParams.set('conditions[publication_date][lte]', q.to)
  u.searchParams.set('order', 'newest')
  u.searchParams.set('per_page', String(FEDREG_PER_PAGE))
  u.searchParams.set('page', String(q.page))
  return u.toString()
}
