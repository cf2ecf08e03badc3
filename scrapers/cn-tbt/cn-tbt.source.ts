import { isoDay } from '../../src/domain/dates.js'
import { SourceError, type CrawlContext, type CrawlState, type Page, type Source } from '../types.js'
import { CN_TBT_DETAIL_READY, cnTbtDetailPath, parseCnTbtDetail, parseCnTbtList, parseCnTbtPage, type CnTbtListRow } from './cn-tbt.parser.js'
import { crawlWindowStart } from '../window.js'

export const CN_TBT_ROWS = 20
const MAX_PAGES = 50
/** Related notices (xgList) outside the date window rendered per run, at most. */
const MAX_RELATED = 20

/**
 * China's WTO/TBT-SPS notification and enquiry centre. The list comes from its JSON API
 * inside a session; the detail API is encrypted, so each notice is read from its public
 * page as Chromium renders it. Related notices the page links (xgList) are fetched too,
 * so a corrigendum's original is not missed because it fell outside the window.
 */
export const cnTbtSource: Source = {
  id: 'cn-tbt',
  name: 'China WTO/TBT-SPS notification centre',
  engine: 'browser',
  defaultBaseUrl: 'http://www.tbtsps.cn',

  async crawl(ctx: CrawlContext, state: CrawlState) {
    if (!ctx.render) throw new SourceError('unavailable', 'cn-tbt needs the browser engine, which this crawl does not have', false)
    const today = isoDay(ctx.now())
    const from =
      crawlWindowStart(state, ctx.now())
    // The list API answers only inside a session; the jar keeps its cookie for the calls after.
    await ctx.fetch(`${ctx.baseUrl}/login/getSession?v=${ctx.now().getTime()}`, { keep: false })

    const queue: CnTbtListRow[] = []
    let newest = state.cursor
    for (let page = 1; page <= (ctx.maxPages ?? MAX_PAGES); page++) {
      const res = await ctx.fetch(`${ctx.baseUrl}/tbt/find`, {
        method: 'POST',
        headers: { 'content-type': 'application/json;charset=UTF-8', 'x-requested-with': 'XMLHttpRequest' },
        body: JSON.stringify(listQuery({ from, to: today, page })),
        keep: false,
      })
      const { rows, total } = parseCnTbtList(res)
      // The API's own date filter is not trusted: filter and stop on our side.
      const inWindow = rows.filter((r) => !r.tbdate || (r.tbdate >= from && r.tbdate <= today))
      for (const r of inWindow) {
        if (!queue.some((q) => q.tbtid === r.tbtid && q.tbtype === r.tbtype)) queue.push(r)
        if (r.tbdate && (!newest || r.tbdate > newest)) newest = r.tbdate
      }
      ctx.log.debug({ page, rows: rows.length, inWindow: inWindow.length }, 'cn-tbt list page')
      if (rows.length && rows.every((r) => r.tbdate && r.tbdate < from)) break
      if (total != null && page * CN_TBT_ROWS >= total) break
      if (rows.length < CN_TBT_ROWS) break
    }

    const seen = new Set(queue.map((r) => `${r.tbtype}/${r.tbtid}`))
    const related: { tbtype: string; tbtid: string }[] = []
    const render = async (tbtype: string, tbtid: string) => {
      const page = await ctx.render!(`${ctx.baseUrl}${cnTbtDetailPath(tbtype, tbtid)}`, { waitFor: CN_TBT_DETAIL_READY })
      return parseCnTbtDetail(page, this.id)
    }
    for (const row of queue) {
      const detail = await render(row.tbtype, row.tbtid)
      for (const r of detail.related) {
        if (!r.tbtid || !r.tbtype || seen.has(`${r.tbtype}/${r.tbtid}`)) continue
        seen.add(`${r.tbtype}/${r.tbtid}`)
        related.push({ tbtype: r.tbtype, tbtid: r.tbtid })
      }
    }
    const known = related.length ? await ctx.known(related.map((r) => `${r.tbtype}/${r.tbtid}`)) : new Set<string>()
    for (const r of related.filter((x) => !known.has(`${x.tbtype}/${x.tbtid}`)).slice(0, MAX_RELATED)) {
      await render(r.tbtype, r.tbtid)
    }
    return { cursor: newest && newest > today ? today : newest }
  },

  parse(page: Page) {
    return parseCnTbtPage(page, this.id)
  },
}

/** The list API's query: every filter empty but the dates, TBT (type 1), newest first. */
export function listQuery(q: { from: string; to: string; page: number }) {
  return {
    keyword: '',
    productsCovered: '',
    members: '',
    hsCode: '',
    purposeReason: '',
    icsCode: '',
    startTbdate: q.from,
    endTbdate: q.to,
    page: q.page,
    type: 1,
    rows: CN_TBT_ROWS,
  }
}
