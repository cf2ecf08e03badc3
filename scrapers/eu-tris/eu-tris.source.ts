import { isoDay } from '../../src/domain/dates.js'
import { SourceError, type CrawlContext, type CrawlState, type Page, type Source } from '../types.js'
import { TRIS_DETAIL_READY, TRIS_LIST_READY, parseTrisDetail, parseTrisList, parseTrisPage, type TrisListRow } from './eu-tris.parser.js'
import { crawlWindowStart } from '../window.js'

const MAX_PAGES = 30

/**
 * EU TRIS (Directive (EU) 2015/1535). The site is a JavaScript application with no
 * feed: the search page and each notification page are rendered in Chromium and read
 * from the DOM. A notification that names its WTO symbol joins that measure; otherwise
 * its measure is keyed `TRIS:YYYY/NNNN/CC`.
 */
export const euTrisSource: Source = {
  id: 'eu-tris',
  name: 'EU TRIS (Directive 2015/1535)',
  engine: 'browser',
  defaultBaseUrl: 'https://technical-regulation-information-system.ec.europa.eu',

  async crawl(ctx: CrawlContext, state: CrawlState) {
    if (!ctx.render) throw new SourceError('unavailable', 'eu-tris needs the browser engine, which this crawl does not have', false)
    const today = isoDay(ctx.now())
    const from =
      crawlWindowStart(state, ctx.now())
    const queue: TrisListRow[] = []
    let newest = state.cursor
    for (let page = 1; page <= (ctx.maxPages ?? MAX_PAGES); page++) {
      const listed = await ctx.render(searchUrl(ctx.baseUrl, page), { waitFor: TRIS_LIST_READY, keep: false })
      const { rows, hasNext } = parseTrisList(listed)
      for (const r of rows.filter((x) => !x.notificationDate || (x.notificationDate >= from && x.notificationDate <= today))) {
        if (!queue.some((q) => q.internalId === r.internalId)) queue.push(r)
        if (r.notificationDate && (!newest || r.notificationDate > newest)) newest = r.notificationDate
      }
      if (!rows.length || !hasNext) break
      if (rows.every((r) => r.notificationDate && r.notificationDate < from)) break
    }
    for (const row of queue) {
      const page = await ctx.render(`${ctx.baseUrl}/en/notification/${row.internalId}`, { waitFor: TRIS_DETAIL_READY })
      const notice = parseTrisDetail(page, this.id)
      if (notice.sourceItemId !== row.number) ctx.log.warn({ listed: row.number, page: notice.sourceItemId }, 'TRIS page shows another number than its list row')
    }
    return { cursor: newest && newest > today ? today : newest }
  },

  parse(page: Page) {
    return parseTrisPage(page, this.id)
  },
}

export const searchUrl = (base: string, page: number) => `${base}/en/search?page=${page}`
