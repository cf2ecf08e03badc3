import iconv from 'iconv-lite'
import { afterEach, describe, expect, it } from 'vitest'
import { HttpClient } from '../../scrapers/http-client.js'
import { SourceError } from '../../scrapers/types.js'
import { startServer } from '../helpers/http-server.js'

const sleeps: number[] = []
const client = (over: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) =>
  new HttpClient({ userAgent: 'tbt-watch-test', timeoutMs: 2000, minDelayMs: 0, sleep: async (ms) => void sleeps.push(ms), ...over })

let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
  sleeps.length = 0
})

describe('HttpClient', () => {
  it('retries 5xx with backoff and then succeeds', async () => {
    let n = 0
    const s = await startServer((_req, res) => {
      n++
      if (n < 3) return res.writeHead(502).end()
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
    close = s.close
    const r = await client().request(`${s.url}/x`)
    expect(r.body).toBe('{"ok":true}')
    expect(n).toBe(3)
    expect(sleeps).toHaveLength(2)
    expect(sleeps[1]).toBeGreaterThanOrEqual(sleeps[0] / 2) // exponential, jittered
  })

  it('gives up after the attempts and says the source is unavailable', async () => {
    const s = await startServer((_req, res) => res.writeHead(500).end())
    close = s.close
    const err = await client({ maxAttempts: 3 }).request(`${s.url}/x`).catch((e) => e)
    expect(err).toBeInstanceOf(SourceError)
    expect(err.code).toBe('unavailable')
    expect(s.hits).toHaveLength(3)
  })

  it('honours Retry-After on 429 without spending an attempt', async () => {
    let n = 0
    const s = await startServer((_req, res) => {
      n++
      if (n <= 3) return res.writeHead(429, { 'retry-after': '2' }).end()
      res.writeHead(200).end('fine')
    })
    close = s.close
    const r = await client({ maxAttempts: 1 }).request(`${s.url}/x`)
    expect(r.body).toBe('fine')
    expect(sleeps.slice(0, 3)).toEqual([2000, 2000, 2000])
  })

  it('does not retry a block', async () => {
    const s = await startServer((_req, res) => res.writeHead(403).end('go away'))
    close = s.close
    const err = await client().request(`${s.url}/x`).catch((e) => e)
    expect(err.code).toBe('blocked')
    expect(s.hits).toHaveLength(1)
  })

  it('sends conditional headers and passes a 304 through', async () => {
    const s = await startServer((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304).end()
      res.writeHead(200, { etag: '"v1"' }).end('body')
    })
    close = s.close
    const c = client()
    const first = await c.request(`${s.url}/x`)
    expect(first.etag).toBe('"v1"')
    const second = await c.request(`${s.url}/x`, { etag: first.etag })
    expect(second.status).toBe(304)
  })

  it('caps the response size', async () => {
    const s = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('x'.repeat(200_000))
    })
    close = s.close
    const err = await client({ maxBytes: 100_000 }).request(`${s.url}/x`).catch((e) => e)
    expect(err.code).toBe('too-large')
  })

  it('decodes GBK pages by their declared or meta charset', async () => {
    const text = '技术性贸易措施通报'
    const s = await startServer((req, res) => {
      if (req.url === '/meta') {
        res.writeHead(200, { 'content-type': 'text/html' })
        return res.end(Buffer.concat([Buffer.from('<html><head><meta charset="gb2312"></head><body>'), iconv.encode(text, 'gbk'), Buffer.from('</body></html>')]))
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=GBK' }).end(iconv.encode(text, 'gbk'))
    })
    close = s.close
    expect((await client().request(`${s.url}/header`)).body).toBe(text)
    expect((await client().request(`${s.url}/meta`)).body).toContain(text)
  })

  it('stops a redirect loop with a clear error', async () => {
    const s = await startServer((req, res) => res.writeHead(302, { location: req.url === '/a' ? '/b' : '/a' }).end())
    close = s.close
    const err = await client().request(`${s.url}/a`).catch((e) => e)
    expect(err).toBeInstanceOf(SourceError)
    expect(err.retryable).toBe(false)
  })
})

describe('HttpClient and robots.txt', () => {
  it('refuses a disallowed URL as blocked, without fetching it, and reads robots.txt once per host', async () => {
    const s = await startServer((req, res) => {
      if (req.url === '/robots.txt') return res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nDisallow: /private/\n\nUser-agent: other-bot\nDisallow: /\n')
      res.writeHead(200).end('ok')
    })
    close = s.close
    const c = client({ robots: true })
    expect((await c.request(`${s.url}/public/a`)).body).toBe('ok')
    const err = await c.request(`${s.url}/private/b`).catch((e) => e)
    expect(err).toBeInstanceOf(SourceError)
    expect(err.code).toBe('blocked')
    expect(err.retryable).toBe(false)
    expect(err.message).toMatch(/robots\.txt/)
    expect((await c.request(`${s.url}/public/c`)).body).toBe('ok')
    expect(s.hits).toEqual(['GET /robots.txt', 'GET /public/a', 'GET /public/c'])
  })

  it('applies rules written for our User-Agent', async () => {
    const s = await startServer((req, res) => {
      if (req.url === '/robots.txt') return res.writeHead(200).end('User-agent: tbt-watch-test\nDisallow: /\n\nUser-agent: *\nAllow: /\n')
      res.writeHead(200).end('ok')
    })
    close = s.close
    const err = await client({ robots: true }).request(`${s.url}/anything`).catch((e) => e)
    expect(err.code).toBe('blocked')
  })

  it('treats a missing robots.txt as allow-all', async () => {
    const s = await startServer((req, res) => {
      if (req.url === '/robots.txt') return res.writeHead(404).end()
      res.writeHead(200).end('ok')
    })
    close = s.close
    const c = client({ robots: true })
    expect((await c.request(`${s.url}/a`)).body).toBe('ok')
    expect((await c.request(`${s.url}/b`)).body).toBe('ok')
    expect(s.hits).toEqual(['GET /robots.txt', 'GET /a', 'GET /b'])
  })

  it('asks again later when robots.txt could not be read, and does not block meanwhile', async () => {
    let n = 0
    const s = await startServer((req, res) => {
      if (req.url === '/robots.txt') return ++n === 1 ? res.writeHead(500).end() : res.writeHead(200).end('User-agent: *\nDisallow: /b\n')
      res.writeHead(200).end('ok')
    })
    close = s.close
    const c = client({ robots: true, maxAttempts: 1 })
    expect((await c.request(`${s.url}/a`)).body).toBe('ok')
    expect((await c.request(`${s.url}/b`).catch((e) => e)).code).toBe('blocked')
  })

  it('spaces requests by a Crawl-delay larger than the configured delay', async () => {
    const s = await startServer((req, res) => {
      if (req.url === '/robots.txt') return res.writeHead(200).end('User-agent: *\nCrawl-delay: 3\n')
      res.writeHead(200).end('ok')
    })
    close = s.close
    const c = client({ robots: true })
    await c.request(`${s.url}/a`)
    await c.request(`${s.url}/b`)
    expect(sleeps.some((ms) => ms > 2000 && ms <= 3000)).toBe(true)
  })
})
