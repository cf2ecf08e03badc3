import type { Browser, BrowserContext, Page as PwPage, Route } from 'playwright-core'
import type { OutboundPolicy } from '../outbound-policy.js'
import { SourceError } from '../types.js'
import { SNAPSHOT_META } from './snapshot.js'

/** What the page's own requests are answered with: the HTTP engine's response. */
export interface SubResponse {
  status: number
  contentType: string | null
  body: string
  notModified: boolean
}

export type SubFetch = (url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }) => Promise<SubResponse>

export interface RenderRequest {
  url: string
  waitFor: string
  timeoutMs: number
  /** Quiet time after the network went idle before a missing selector counts as a layout change. */
  settleMs?: number
  allowHosts?: string[]
  /**
   * The crawl's outbound policy (scrape.service always gives one): every request the page
   * makes is checked against it before it is answered; `allowHosts` adds to it. Without
   * one, the page's own host and `allowHosts` only.
   */
  policy?: OutboundPolicy
  fetch: SubFetch
  /** Scripts and stylesheets already fetched in this crawl, by URL: asked for once per crawl. */
  assetCache?: Map<string, SubResponse>
}

export interface RenderResult {
  url: string
  status: number
  /** The rendered DOM, scripts and styles removed. */
  html: string
  /** True when every request the page made was answered from what we held (304 or cache). */
  notModified: boolean
}

// Nothing a parser reads comes in these: refusing them spares the site and the crawl.
const REFUSED_TYPES = new Set(['image', 'media', 'font', 'manifest', 'websocket', 'eventsource', 'texttrack', 'ping', 'other'])
const FORWARDED_HEADERS = ['accept', 'content-type', 'x-requested-with']

// A string, not a function: the test runner's transpiler may wrap functions in helpers
// that do not exist inside the page.
const SERIALISE_DOM = `(() => {
  const root = document.documentElement.cloneNode(true)
  root.querySelectorAll('script, noscript, style, template, link[rel="stylesheet"], link[rel="preload"], link[rel="modulepreload"]').forEach((e) => e.remove())
  let head = root.querySelector('head')
  if (!head) { head = document.createElement('head'); root.insertBefore(head, root.firstChild) }
  head.insertAdjacentHTML('afterbegin', ${JSON.stringify(SNAPSHOT_META)})
  return '<!DOCTYPE html>\\n' + root.outerHTML
})()`

/**
 * Loads pages in one browser context of the shared Chromium and returns their rendered
 * DOM. A crawl opens one session and renders its pages one after another in the same
 * tab (a new tab costs a renderer process, about a second on a small machine); the
 * session is closed when the crawl ends, so nothing outlives it.
 *
 * Every request a page makes is answered through `fetch` (the HTTP engine: per-host
 * spacing, robots.txt, retries, conditional requests, storage); requests to other hosts
 * and for images, fonts and media are refused.
 *
 * Errors follow the HTTP engine's taxonomy: a request that failed fails the render with
 * its own error; a page that loaded and settled without `waitFor` is 'layout-changed'
 * (never retried); a page still busy when the time is up is 'unavailable' (retryable).
 */
export class RenderSession {
  private current: { allowed: (url: URL) => boolean; failure?: SourceError; notModified: boolean; fetch: SubFetch; cache: Map<string, SubResponse> } | undefined
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly context: BrowserContext,
    private readonly page: PwPage,
  ) {}

  static async open(browser: Browser, opts: { userAgent: string }): Promise<RenderSession> {
    const context = await browser.newContext({ userAgent: opts.userAgent, serviceWorkers: 'block', acceptDownloads: false })
    try {
      const page = await context.newPage()
      const session = new RenderSession(context, page)
      await context.route('**/*', (route) => session.answer(route))
      // WebSockets bypass request routing: refuse every one before it connects.
      await context.routeWebSocket(/.*/, (ws) => ws.close({ code: 1008, reason: 'refused by the crawler' }))
      return session
    } catch (err) {
      await context.close().catch(() => {})
      throw err
    }
  }

  /** Renders one page; calls are served one at a time. */
  render(req: RenderRequest): Promise<RenderResult> {
    const run = this.queue.then(() => this.renderNow(req))
    this.queue = run.catch(() => {})
    return run
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => {})
  }

  private async answer(route: Route) {
    const state = this.current
    const r = route.request()
    const url = r.url()
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return route.abort('blockedbyclient')
    }
    const method = r.method()
    const type = r.resourceType()
    if (!state || REFUSED_TYPES.has(type) || !/^https?:$/.test(parsed.protocol) || !state.allowed(parsed) || (method !== 'GET' && method !== 'POST')) {
      return route.abort('blockedbyclient')
    }
    try {
      const asset = method === 'GET' && (type === 'script' || type === 'stylesheet')
      let res = asset ? state.cache.get(url) : undefined
      if (!res) {
        const headers: Record<string, string> = {}
        for (const [k, v] of Object.entries(r.headers())) if (FORWARDED_HEADERS.includes(k.toLowerCase())) headers[k.toLowerCase()] = v
        res = await state.fetch(url, { method, headers, body: r.postData() ?? undefined })
        if (asset) state.cache.set(url, res)
        if (!res.notModified) state.notModified = false
      }
      await route.fulfill({ status: res.status, contentType: asUtf8(res.contentType), body: res.body })
    } catch (err) {
      // A missing stylesheet changes nothing a parser reads; anything else the page needed does.
      if (type !== 'stylesheet') {
        state.failure ??= err instanceof SourceError ? err : new SourceError('unavailable', `${url}: ${(err as Error).message}`, true, url)
      }
      await route.abort('failed').catch(() => {})
    }
  }

  private async renderNow(req: RenderRequest): Promise<RenderResult> {
    const started = Date.now()
    req.policy?.withHosts(req.allowHosts).check(req.url)
    const page = this.page
    // Stop whatever the previous page was still doing before this one's requests count.
    this.current = undefined
    await page.goto('about:blank').catch(() => {})
    const policy = req.policy?.withHosts(req.allowHosts)
    const hosts = new Set([new URL(req.url).host, ...(req.allowHosts ?? [])])
    const state = {
      allowed: policy ? (u: URL) => policy.refusal(u.href) === null : (u: URL) => hosts.has(u.host),
      notModified: true,
      fetch: req.fetch,
      cache: req.assetCache ?? new Map<string, SubResponse>(),
      failure: undefined as SourceError | undefined,
    }
    this.current = state
    try {
      let status = 0
      try {
        const response = await page.goto(req.url, { waitUntil: 'domcontentloaded', timeout: req.timeoutMs })
        status = response?.status() ?? 0
      } catch (err) {
        if (state.failure) throw state.failure
        throw new SourceError('unavailable', `${req.url}: page did not load (${firstLine(err)})`, true, req.url)
      }
      if (state.failure) throw state.failure
      const outcome = await waitForContent(page, req.waitFor, Math.max(1, req.timeoutMs - (Date.now() - started)), req.settleMs ?? 1000)
      if (state.failure) throw state.failure
      if (outcome === 'timeout') {
        throw new SourceError('unavailable', `${req.url}: still rendering after ${req.timeoutMs} ms`, true, req.url)
      }
      if (outcome === 'missing') {
        throw new SourceError('layout-changed', `${req.url}: rendered HTTP ${status} page has no ${req.waitFor}`, false, req.url)
      }
      const html = (await page.evaluate(SERIALISE_DOM)) as string
      return { url: req.url, status, html, notModified: state.notModified }
    } finally {
      this.current = undefined
    }
  }
}

/** One page in a session of its own. */
export async function renderPage(browser: Browser, req: RenderRequest & { userAgent: string }): Promise<RenderResult> {
  const session = await RenderSession.open(browser, { userAgent: req.userAgent })
  try {
    return await session.render(req)
  } finally {
    await session.close()
  }
}

/**
 * Waits until the selector is in the DOM, or the page has gone quiet (no network for
 * 500 ms, then `settleMs` for late timers) without it — so a changed layout is known in
 * about a second, not after the whole timeout.
 */
async function waitForContent(page: PwPage, selector: string, timeoutMs: number, settleMs: number): Promise<'found' | 'missing' | 'timeout'> {
  const appeared = page.waitForSelector(selector, { state: 'attached', timeout: timeoutMs }).then(
    () => 'found' as const,
    () => 'timeout' as const,
  )
  const settled = page
    .waitForLoadState('networkidle', { timeout: timeoutMs })
    .then(() => new Promise((r) => setTimeout(r, settleMs)))
    .then(
      () => 'settled' as const,
      () => 'timeout' as const,
    )
  const first = await Promise.race([appeared, settled])
  if (first === 'found') return 'found'
  if (first === 'settled') return (await page.$(selector).catch(() => null)) ? 'found' : 'missing'
  // One of the two timed out; the other may still have an answer.
  const [a, b] = await Promise.all([appeared, settled])
  if (a === 'found') return 'found'
  if (b === 'settled') return (await page.$(selector).catch(() => null)) ? 'found' : 'missing'
  return 'timeout'
}

/** The body reaches the browser as a JS string: whatever charset the site declared, it is UTF-8 now. */
function asUtf8(contentType: string | null): string {
  const type = (contentType ?? 'application/octet-stream').split(';')[0].trim() || 'application/octet-stream'
  return `${type}; charset=utf-8`
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]
