import { isUtf8 } from 'node:buffer'
import iconv from 'iconv-lite'
import robotsParserModule from 'robots-parser'
import type { Agent, Response } from 'undici'
import { OUTBOUND_BLOCKED, OutboundPolicy, type AddressKind } from './outbound-policy.js'
import { SourceError } from './types.js'

interface Robot {
  isDisallowed(url: string, ua?: string): boolean | undefined
  getCrawlDelay(ua?: string): number | undefined
}
// robots-parser is CommonJS whose typings declare an ES default export; at run time the
// default import is the parser function itself.
const robotsParser = robotsParserModule as unknown as (url: string, robotstxt: string) => Robot

export interface HttpClientOptions {
  userAgent: string
  timeoutMs: number
  /** Minimum gap between two requests to one host. */
  minDelayMs: number
  maxAttempts?: number
  maxBytes?: number
  /** Longest Retry-After we are willing to sleep through. */
  maxRetryAfterMs?: number
  /** Total rate-limited waits allowed for one request (they do not spend an attempt). */
  maxRateLimitedWaits?: number
  sleep?: (ms: number) => Promise<void>
  /** Honour each host's robots.txt (fetched once per host and cached). Off for bare transports in tests. */
  robots?: boolean
  /** How long a host's robots.txt is trusted before it is fetched again. */
  robotsTtlMs?: number
  /** Longest Crawl-delay we accept from a robots.txt (a larger one is capped, not refused). */
  maxCrawlDelayMs?: number
}

export interface HttpRequest {
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  etag?: string | null
  lastModified?: string | null
  /** Charset to decode with when neither the header nor a <meta> declares one. */
  encoding?: string
  /**
   * Where this request (and each redirect hop) may go: scrape.service passes its crawl's
   * policy for every source request. Without one, any http(s) URL and address.
   */
  policy?: OutboundPolicy
}

export interface HttpResponse {
  url: string
  status: number
  contentType: string | null
  etag: string | null
  lastModified: string | null
  body: string
  /** The response's Set-Cookie lines (the crawl's cookie jar keeps them). */
  setCookies?: string[]
}

// undici (fetch with a dispatcher whose DNS lookup the policy checks) is loaded on the
// first request: every CLI command builds an HttpClient, few of them fetch anything.
let undici: Promise<typeof import('undici')> | undefined
const loadUndici = () => (undici ??= import('undici'))

const RETRYABLE_STATUS = new Set([500, 502, 503, 504, 408])
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 5
const BLOCKED_STATUS = new Set([401, 403, 451])

/**
 * The HTTP engine's transport: polite (per-host spacing, one request at a time per host,
 * a descriptive User-Agent), bounded (timeouts, a size cap) and persistent (retries with
 * exponential backoff and jitter, Retry-After honoured on 429/503, conditional requests).
 */
export class HttpClient {
  private readonly hostQueue = new Map<string, Promise<void>>()
  private readonly lastRequestAt = new Map<string, number>()
  private readonly sleep: (ms: number) => Promise<void>
  private readonly robotsCache = new Map<string, { rules: RobotsRules | null; until: number }>()
  /** One connection pool per set of allowed address kinds: its DNS lookup refuses the rest. */
  private readonly agents = new Map<string, Agent>()

  constructor(private readonly opts: HttpClientOptions) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)))
  }

  async request(url: string, req: HttpRequest = {}): Promise<HttpResponse> {
    req.policy?.check(url)
    const host = new URL(url).host
    // Chain requests per host so that concurrency per host is one and the spacing holds.
    const previous = this.hostQueue.get(host) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((r) => (release = r))
    this.hostQueue.set(host, previous.then(() => mine))
    await previous
    try {
      if (this.opts.robots) await this.checkRobots(url, host, req)
      return await this.withRetries(url, host, req)
    } finally {
      release()
    }
  }

  private async withRetries(url: string, host: string, req: HttpRequest): Promise<HttpResponse> {
    const maxAttempts = this.opts.maxAttempts ?? 4
    let attempt = 0
    let rateLimitedWaits = 0
    for (;;) {
      await this.space(host)
      try {
        return await this.once(url, req)
      } catch (err) {
        const e = err instanceof SourceError ? err : toSourceError(err, url)
        if (e.code === 'rate-limited' && rateLimitedWaits < (this.opts.maxRateLimitedWaits ?? 5)) {
          rateLimitedWaits++
          await this.sleep((e as RateLimitedError).retryAfterMs ?? backoff(rateLimitedWaits))
          continue
        }
        attempt++
        if (!e.retryable || attempt >= maxAttempts) throw e
        await this.sleep(backoff(attempt))
      }
    }
  }

  /**
   * A URL the host's robots.txt disallows for our User-Agent is never fetched: it ends
   * in a 'blocked' error that is not retried. A missing robots.txt (4xx) allows all;
   * one we cannot read right now (5xx, network) allows this request but is not cached,
   * so the next request asks again.
   */
  private async checkRobots(url: string, host: string, req: HttpRequest) {
    const rules = await this.robotsFor(url, host, req)
    if (rules && rules.robot.isDisallowed(url, this.opts.userAgent)) {
      throw new SourceError('blocked', `${url}: disallowed by ${rules.url}`, false, url)
    }
  }

  private async robotsFor(url: string, host: string, req?: HttpRequest): Promise<RobotsRules | null> {
    const cached = this.robotsCache.get(host)
    if (cached && cached.until > Date.now()) return cached.rules
    const robotsUrl = new URL('/robots.txt', url).toString()
    const ttl = this.opts.robotsTtlMs ?? 6 * 3600_000
    let rules: RobotsRules | null = null
    try {
      await this.space(host)
      const res = await this.once(robotsUrl, { headers: { accept: 'text/plain, */*;q=0.5' }, policy: req?.policy })
      rules = { url: robotsUrl, robot: robotsParser(robotsUrl, res.body) }
    } catch (err) {
      const e = err instanceof SourceError ? err : toSourceError(err, robotsUrl)
      // 'unavailable' with retryable=false is a 4xx: no robots.txt, everything allowed.
      if (e.retryable || e.code === 'rate-limited') return null
    }
    this.robotsCache.set(host, { rules, until: Date.now() + ttl })
    const delay = rules?.robot.getCrawlDelay(this.opts.userAgent)
    if (delay && delay > 0) {
      this.crawlDelayMs.set(host, Math.min(delay * 1000, this.opts.maxCrawlDelayMs ?? 30_000))
    }
    return rules
  }

  private readonly crawlDelayMs = new Map<string, number>()

  private async space(host: string) {
    const last = this.lastRequestAt.get(host)
    const gap = Math.max(this.opts.minDelayMs, this.crawlDelayMs.get(host) ?? 0)
    const wait = last === undefined ? 0 : last + gap - Date.now()
    if (wait > 0) await this.sleep(wait)
    this.lastRequestAt.set(host, Date.now())
  }

  /** Closes the connection pools (the process's context closes it). */
  async close(): Promise<void> {
    const agents = [...this.agents.values()]
    this.agents.clear()
    await Promise.all(agents.map((a) => a.close().catch(() => {})))
  }

  private agentFor(u: typeof import('undici'), kinds: ReadonlySet<AddressKind> | undefined): Agent {
    const key = kinds ? [...kinds].sort().join(',') : '*'
    let agent = this.agents.get(key)
    if (!agent) {
      agent = new u.Agent(kinds ? { connect: { lookup: OutboundPolicy.connectLookup(kinds) } } : {})
      this.agents.set(key, agent)
    }
    return agent
  }

  private async once(url: string, req: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      'user-agent': this.opts.userAgent,
      accept: 'application/json, text/html;q=0.9, */*;q=0.5',
      ...req.headers,
    }
    if (req.etag) headers['if-none-match'] = req.etag
    if (req.lastModified) headers['if-modified-since'] = req.lastModified
    // Redirects are followed here, hop by hop, so each target passes the policy first.
    let target = url
    let method = req.method ?? 'GET'
    let body = req.body
    let res: Response
    const u = await loadUndici()
    for (let hop = 0; ; hop++) {
      res = await u.fetch(target, {
        method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        dispatcher: this.agentFor(u, req.policy?.kinds),
      })
      const location = REDIRECT_STATUS.has(res.status) ? res.headers.get('location') : null
      if (!location) break
      await res.body?.cancel()
      if (hop >= MAX_REDIRECTS) throw new SourceError('bad-response', `${url}: more than ${MAX_REDIRECTS} redirects`, false, url)
      let next: string
      try {
        next = new URL(location, target).toString()
      } catch {
        throw new SourceError('bad-response', `${target}: redirect to an invalid URL`, false, url)
      }
      if (req.policy) {
        const why = req.policy.refusal(next)
        if (why) throw new SourceError('refused', `${url}: redirect to ${next} refused by the outbound policy: ${why}`, false, url)
      } else if (!/^https?:$/.test(new URL(next).protocol)) {
        throw new SourceError('bad-response', `${target}: redirect to a non-http URL`, false, url)
      }
      // As browsers do: 303 (and 301/302 after a POST) continue as a GET without the body.
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET'
        body = undefined
        delete headers['content-type']
      }
      target = next
    }
    if (res.status === 429 || (res.status === 503 && res.headers.get('retry-after'))) {
      await res.body?.cancel()
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'))
      if (retryAfterMs !== undefined && retryAfterMs > (this.opts.maxRetryAfterMs ?? 120_000)) {
        throw new SourceError('rate-limited', `${url}: asked to wait ${Math.round(retryAfterMs / 1000)} s`, false, url)
      }
      throw new RateLimitedError(url, res.status, retryAfterMs)
    }
    if (BLOCKED_STATUS.has(res.status)) {
      await res.body?.cancel()
      throw new SourceError('blocked', `${url}: HTTP ${res.status}`, false, url)
    }
    if (RETRYABLE_STATUS.has(res.status)) {
      await res.body?.cancel()
      throw new SourceError('unavailable', `${url}: HTTP ${res.status}`, true, url)
    }
    const base = {
      url: target,
      status: res.status,
      contentType: res.headers.get('content-type'),
      etag: res.headers.get('etag'),
      lastModified: res.headers.get('last-modified'),
      setCookies: res.headers.getSetCookie(),
    }
    if (res.status === 304) return { ...base, body: '' }
    if (res.status >= 400) {
      await res.body?.cancel()
      throw new SourceError('unavailable', `${url}: HTTP ${res.status}`, false, url)
    }
    const bytes = await readCapped(res, this.opts.maxBytes ?? 5 * 1024 * 1024, url)
    return { ...base, body: decode(bytes, base.contentType, req.encoding) }
  }
}

interface RobotsRules {
  url: string
  robot: Robot
}

class RateLimitedError extends SourceError {
  constructor(url: string, status: number, readonly retryAfterMs: number | undefined) {
    super('rate-limited', `${url}: HTTP ${status} (rate limited)`, true, url)
  }
}

function backoff(attempt: number): number {
  const base = Math.min(30_000, 500 * 2 ** (attempt - 1))
  return base / 2 + Math.random() * (base / 2) // "equal jitter"
}

export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

async function readCapped(res: Response, maxBytes: number, url: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'))
  if (declared > maxBytes) {
    await res.body?.cancel()
    throw new SourceError('too-large', `${url}: response of ${declared} bytes exceeds the ${maxBytes} byte cap`, false, url)
  }
  const chunks: Buffer[] = []
  let total = 0
  if (!res.body) return Buffer.alloc(0)
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength
    if (total > maxBytes) {
      throw new SourceError('too-large', `${url}: response exceeds the ${maxBytes} byte cap`, false, url)
    }
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks)
}

/**
 * Decodes by the declared charset, else a <meta charset>, else the hint, else UTF-8 (GB2312/GBK
 * pages too). JSON without a charset is UTF-8 (RFC 8259) whatever the hint when its bytes are
 * valid UTF-8: a GBK portal's pages may need the hint while its API answers in UTF-8, and an
 * API that sends GBK JSON anyway still gets the hint.
 */
export function decode(bytes: Buffer, contentType: string | null, hint?: string): string {
  let charset = /charset=["']?([\w-]+)/i.exec(contentType ?? '')?.[1]
  if (!charset && /[/+]json\b/i.test(contentType ?? '') && isUtf8(bytes)) charset = 'utf-8'
  if (!charset) {
    const head = bytes.subarray(0, 2048).toString('latin1')
    charset = /<meta[^>]+charset=["']?([\w-]+)/i.exec(head)?.[1]
  }
  const cs = (charset ?? hint ?? 'utf-8').toLowerCase()
  const name = cs === 'gb2312' ? 'gbk' : cs
  return iconv.encodingExists(name) ? iconv.decode(bytes, name) : bytes.toString('utf8')
}

function toSourceError(err: unknown, url: string): SourceError {
  const e = err as Error & { cause?: { code?: string; message?: string } }
  if (e.cause?.code === OUTBOUND_BLOCKED) return new SourceError('refused', `${url}: ${e.cause.message}`, false, url)
  const detail = e.cause?.code ?? e.cause?.message ?? e.message
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new SourceError('unavailable', `${url}: timed out`, true, url)
  if (/redirect/i.test(detail ?? '')) return new SourceError('bad-response', `${url}: ${detail}`, false, url)
  return new SourceError('unavailable', `${url}: ${detail}`, true, url)
}
