import { isoDay } from '../../src/domain/dates.js'
import { SourceError, type CrawlContext, type CrawlState, type Page, type Source } from '../types.js'
import { loadPortalDefinitions, type PortalDefinition } from './portal-definition.js'
import { isListUrl, listPageUrl, parsePortalDetail, parsePortalList } from './portal.parser.js'
import { crawlWindowStart } from '../window.js'


/**
 * A list/detail source described by a YAML file under scrapers/portals/: the crawl walks
 * the list pages (newest first), fetches each listed detail page and stops at a page
 * that holds only known items or items older than the window. List pages are kept but
 * never ingested; each detail page is one notice.
 */
export function createPortalSource(def: PortalDefinition): Source {
  return {
    id: def.id,
    name: def.name,
    engine: def.engine,
    defaultBaseUrl: def.baseUrl,
    enabled: def.enabled,
    allowHosts: def.allowHosts,

    async crawl(ctx: CrawlContext, state: CrawlState) {
      const today = isoDay(ctx.now())
      const from = crawlWindowStart(state, ctx.now())
      let newest = state.cursor
      const get = pageGetter(def, ctx)
      // A rendered page that settled without its selector (browser engine only).
      const unrenderedPage = (err: unknown): err is SourceError => def.engine === 'browser' && err instanceof SourceError && err.code === 'layout-changed'
      // Browser engine: detail pages that never rendered (removed notices, error pages).
      const unrendered: SourceError[] = []
      let details = 0
      for (let n = 1; n <= def.list.maxPages; n++) {
        let listPage: Page
        try {
          listPage = await get('list', listPageUrl(def, ctx.baseUrl, n))
        } catch (err) {
          // A rendered list page past the last one shows no items: the end of the list.
          if (n > 1 && unrenderedPage(err)) break
          throw err
        }
        const offsite: string[] = []
        const items = parsePortalList(def, listPage, offsite)
        if (offsite.length) ctx.log.warn({ url: listPage.url, links: offsite.length, first: offsite[0] }, 'portal list links to other hosts left out (outbound policy; see allowHosts)')
        if (!items.length) {
          if (n === 1) throw new SourceError('layout-changed', `${listPage.url}: the list selector "${def.list.item}" found no items`, false, listPage.url)
          break
        }
        const inWindow = items.filter((i) => !i.date || i.date >= from)
        const known = await ctx.known(inWindow.map((i) => i.id))
        const allKnown = inWindow.every((i) => known.has(i.id))
        // On a later run a page of known items means we have caught up: skip their details.
        const toFetch = state.cursor && allKnown ? [] : inWindow
        for (const item of toFetch) {
          details++
          let page: Page
          try {
            page = await get('detail', item.url)
          } catch (err) {
            // A detail link that redirects somewhere the outbound policy refuses: that item is skipped.
            if (err instanceof SourceError && err.code === 'refused') {
              ctx.log.warn({ url: item.url, err: err.message }, 'portal detail page refused by the outbound policy; skipped')
              continue
            }
            if (!unrenderedPage(err)) throw err
            // Over HTTP such a page is kept and quarantined at ingest; rendered, there is nothing to keep.
            unrendered.push(err)
            ctx.log.warn({ url: item.url, err: err.message }, 'portal detail page did not render; skipped')
            continue
          }
          try {
            for (const notice of parsePortalDetail(def, page).notices) {
              if (notice.distributionDate && (!newest || notice.distributionDate > newest)) newest = notice.distributionDate
            }
          } catch (err) {
            // A bad detail page is kept and quarantined at ingest; the crawl goes on.
            ctx.log.warn({ url: item.url, err: (err as Error).message }, 'portal detail page unreadable')
          }
        }
        if (inWindow.length < items.length) break // reached items older than the window
        if (allKnown && state.cursor) break
      }
      // One page gone is the portal's business; all of them is a layout change.
      if (unrendered.length && unrendered.length === details) throw unrendered[0]
      return { cursor: newest && newest > today ? today : newest }
    },

    parse(page: Page) {
      if (isListUrl(def, page.url)) return { notices: [], errors: [] }
      return parsePortalDetail(def, page, def.id)
    },
  }
}

/**
 * How the crawl loads a page: over HTTP, or with `engine: browser` rendered in Chromium
 * until the page shows its list items (or `list.ready`) or a labelled row inside the
 * detail container (or `detail.ready`). A page that settles without it is a layout change.
 * List pages are kept out of the raw material either way.
 */
function pageGetter(def: PortalDefinition, ctx: CrawlContext) {
  return (kind: 'list' | 'detail', url: string) => {
    const keep = kind === 'detail'
    if (def.engine === 'http') return ctx.fetch(url, { encoding: def.encoding, keep })
    if (!ctx.render) throw new Error(`${def.id}: engine browser, but this crawl has no browser engine`)
    const waitFor = kind === 'list' ? (def.list.ready ?? def.list.item) : (def.detail.ready ?? detailReady(def))
    return ctx.render(url, { waitFor, keep, encoding: def.encoding })
  }
}

/**
 * When a rendered detail page is ready, unless `detail.ready` says: its title element when
 * the title is read by selector, else a row inside the container that holds a label (so
 * navigation lists and footers, present before the notice renders, do not count).
 */
function detailReady(def: PortalDefinition): string {
  const { container, rows, label, fields } = def.detail
  if (fields.title.selector) return `:is(${container}) :is(${fields.title.selector})`
  return `:is(${container}) :is(${rows}):has(:is(${label}))`
}

/** One source per YAML definition under scrapers/portals/. */
export function loadPortalSources(dir?: string): Source[] {
  return loadPortalDefinitions(dir).map(createPortalSource)
}
