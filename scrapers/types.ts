import type { Logger } from 'pino'
import type { ParseResult } from '../src/domain/notice.js'

export type Engine = 'http' | 'browser'

/** A response as a source parser sees it, whichever engine fetched it. */
export interface Page {
  url: string
  status: number
  contentType: string | null
  body: string
}

export interface FetchedPage extends Page {
  fetchedAt: string
  /** True when the server answered 304 and `body` is the copy we already held. */
  notModified: boolean
  /** The raw_response row that holds this body. */
  rawId: number
  /** True when this body was not stored before. */
  isNew: boolean
}

export interface RequestOptions {
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Store the response as raw material for the ingest stage (default true). */
  keep?: boolean
  /** Charset to decode with when the response declares none (e.g. a GBK portal). */
  encoding?: string
}

/** How the browser engine loads a page. */
export interface RenderOptions {
  /**
   * A CSS selector that is present once the page has rendered its content. A page that
   * loads (HTTP 200) and settles without it is a layout change: never retried, alerted.
   */
  waitFor: string
  /** Longest wait for the page to load and the selector to appear (default from config). */
  timeoutMs?: number
  /** Store the snapshot as raw material for the ingest stage (default true). */
  keep?: boolean
  /** Other hosts the page may load from; everything else off the page's host is refused. */
  allowHosts?: string[]
  /** Charset for the page's responses that declare none (as RequestOptions.encoding). */
  encoding?: string
}

/** What a source gets to work with while crawling. It never sees the database. */
export interface CrawlContext {
  sourceId: string
  baseUrl: string
  fetch(url: string, opts?: RequestOptions): Promise<FetchedPage>
  /**
   * The browser engine: loads the page in Chromium (every request the page makes goes
   * through `fetch`, so politeness, conditional requests and errors are the HTTP
   * engine's) and stores the rendered DOM, scripts removed, as the page's body.
   */
  render?(url: string, opts: RenderOptions): Promise<FetchedPage>
  /** Of these source item ids, the ones already stored. */
  known(itemIds: string[]): Promise<Set<string>>
  /** Of these document symbols (or base symbols), the ones this source already holds. */
  knownSymbols?(symbols: string[]): Promise<Set<string>>
  log: Logger
  now(): Date
  /** The operator's cap on list pages in one run (TBT_MAX_PAGES_PER_RUN); each source has its own default. */
  maxPages?: number
}

export interface CrawlState {
  /** Where the previous run stopped (source-specific, e.g. a distribution date). */
  cursor: string | null
  /** Fetch nothing older than this date (YYYY-MM-DD), when given. */
  since: string | null
}

export interface CrawlOutcome {
  cursor: string | null
}

export interface Source {
  id: string
  name: string
  engine: Engine
  defaultBaseUrl: string
  /** False for a source that runs only once configured (e.g. a portal whose base URL must be set). */
  enabled?: boolean
  /** Hosts besides its base URL's that the crawl may request (see scrapers/outbound-policy.ts). */
  allowHosts?: string[]
  /** Fetches what is new since the cursor; every response goes through ctx.fetch. */
  crawl(ctx: CrawlContext, state: CrawlState): Promise<CrawlOutcome>
  /** Turns one stored response into notices: a pure function of the page. */
  parse(page: Page): ParseResult
}

/**
 * Errors a fetch can end in, with whether retrying can help. `blocked`: the site (or its
 * robots.txt) refuses us; `refused`: our outbound policy refuses the URL (another host,
 * an internal address: scrapers/outbound-policy.ts).
 */
export class SourceError extends Error {
  constructor(
    readonly code: 'blocked' | 'refused' | 'unavailable' | 'rate-limited' | 'layout-changed' | 'bad-response' | 'too-large',
    message: string,
    readonly retryable: boolean,
    readonly url?: string,
  ) {
    super(message)
    this.name = 'SourceError'
  }
}
