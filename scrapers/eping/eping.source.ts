import { addDays, isoDay } from '../../src/domain/dates.js'
import type { CrawlContext, CrawlState, Page, Source } from '../types.js'
import { parseEpingPage } from './eping.parser.js'

export const EPING_PAGE_SIZE = 100
/** How far back a source's first run looks when no --since is given. */
export const FIRST_RUN_LOOKBACK_DAYS = 90
/** Re-read this many days before the cursor: notices can be published late. */
const CURSOR_OVERLAP_DAYS = 7
const MAX_PAGES = 200

/**
 * WTO ePing's public JSON (no key). The API may ignore filters or order by relevance,
 * so we filter and order on our side and stop on what we already hold, not on a page
 * count.
 */
export const epingSource: Source = {
  id: 'eping',
  name: 'WTO ePing (public)',
  engine: 'http',
  defaultBaseUrl: 'https://epingalert.org',

  async crawl(ctx: CrawlContext, state: CrawlState) {
    const today = isoDay(ctx.now())
    const from =
      state.since ?? (state.cursor ? addDays(state.cursor, -CURSOR_OVERLAP_DAYS) : addDays(today, -FIRST_RUN_LOOKBACK_DAYS))
    let newest = state.cursor
    for (let page = 1; page <= MAX_PAGES; page++) {
      const url = listUrl(ctx.baseUrl, { from, to: today, page })
      const fetched = await ctx.fetch(url)
      const parsed = parseEpingPage(fetched, this.id)
      const inWindow = parsed.notices.filter((n) => !n.distributionDate || n.distributionDate >= from)
      for (const n of inWindow) if (n.distributionDate && (!newest || n.distributionDate > newest)) newest = n.distributionDate
      if (!parsed.notices.length && !parsed.errors.length) break
      const known = await ctx.known(inWindow.map((n) => n.sourceItemId))
      const allKnown = inWindow.every((n) => known.has(n.sourceItemId))
      const allOlder = parsed.notices.length > 0 && parsed.notices.every((n) => n.distributionDate && n.distributionDate < from)
      ctx.log.debug({ page, items: parsed.notices.length, known: known.size }, 'eping page')
      if (allOlder) break
      if (allKnown && state.cursor) break
      if (parsed.endRow != null && parsed.totalCount != null && parsed.endRow >= parsed.totalCount) break
      if (parsed.notices.length + parsed.errors.length < EPING_PAGE_SIZE) break
    }
    return { cursor: newest && newest > today ? today : newest }
  },

  parse(page: Page) {
    const { notices, errors } = parseEpingPage(page, this.id)
    return { notices, errors }
  },
}

export function listUrl(base: string, q: { from: string; to: string; page: number }): string {
  const u = new URL(`${base}/api/v1/azureSearch/getAll`)
  u.searchParams.set('language', '1')
  u.searchParams.set('domainIds', '1')
  u.searchParams.set('distributionDateFrom', q.from)
  u.searchParams.set('distributionDateTo', q.to)
  u.searchParams.set('sortBy', 'distributionDate')
  u.searchParams.set('sortDirection', 'desc')
  u.searchParams.set('page', String(q.page))
  u.searchParams.set('pageSize', String(EPING_PAGE_SIZE))
  return u.toString()
}
