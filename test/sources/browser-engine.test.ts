import iconv from 'iconv-lite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ChromiumEngine } from '../../scrapers/browser/chromium.js'
import { RenderSession, renderPage, type SubFetch } from '../../scrapers/browser/render.js'
import { isRenderedSnapshot } from '../../scrapers/browser/snapshot.js'
import { HttpClient } from '../../scrapers/http-client.js'
import { SourceError } from '../../scrapers/types.js'
import { startServer } from '../helpers/http-server.js'

const engine = new ChromiumEngine({ executablePath: '/usr/bin/chromium' })
const http = new HttpClient({ userAgent: 'tbt-watch-test', timeoutMs: 3000, minDelayMs: 0, maxAttempts: 2, sleep: async () => {} })
const viaHttp: SubFetch = async (url, init) => {
  const r = await http.request(url, init)
  return { status: r.status, contentType: r.contentType, body: r.body, notModified: false }
}
const page = (body: string) => `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${body}</body></html>`

let site: Awaited<ReturnType<typeof startServer>>
let other: Awaited<ReturnType<typeof startServer>>
let otherHits = 0

beforeAll(async () => {
  other = await startServer((_req, res) => {
    otherHits++
    res.writeHead(200, { 'content-type': 'application/javascript' }).end('document.body.dataset.tracked = "yes"')
  })
  site = await startServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const html = (b: string) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(b))
    switch (u.pathname) {
      case '/rendered':
        return html(`<div id="app"></div><img src="/logo.png"><script src="${other.url}/track.js"></script>
          <script>fetch('/api/data').then(r => r.json()).then(d => { const h = document.createElement('h1'); h.className = 'ready'; h.textContent = d.title; document.getElementById('app').appendChild(h) })</script>`)
      case '/api/data':
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ title: '电动自行车 <safety>' }))
      case '/redesigned':
        return html(`<div id="app"></div><script>document.getElementById('app').innerHTML = '<h1 class="headline">New look</h1>'</script>`)
      case '/broken-api':
        return html(`<div id="app"></div><script>fetch('/api/fails').then(r => r.text()).then(t => { document.getElementById('app').textContent = t })</script>`)
      case '/api/fails':
        return res.writeHead(503).end()
      case '/busy':
        // Polls for ever and never shows the selector: still rendering when time is up.
        return html(`<div id="app"></div><script>setInterval(() => fetch('/api/data?' + Math.random()), 100)</script>`)
      case '/gbk':
        return res.writeHead(200, { 'content-type': 'text/html; charset=gbk' }).end(iconv.encode(page('<p class="ready">通报成员：美国</p>'), 'gbk'))
      case '/missing':
        return res.writeHead(404, { 'content-type': 'text/html' }).end('not here')
      case '/logo.png':
        return res.writeHead(200, { 'content-type': 'image/png' }).end('png')
    }
    res.writeHead(404).end()
  })
})
afterAll(async () => {
  await engine.close()
  await site?.close()
  await other?.close()
})

const render = async (path: string, waitFor: string, timeoutMs = 8000) =>
  renderPage(await engine.browser(), { url: `${site.url}${path}`, waitFor, timeoutMs, settleMs: 300, userAgent: 'tbt-watch-test', fetch: viaHttp })

describe('browser engine', () => {
  it('returns the rendered DOM without scripts; refuses images and other hosts', async () => {
    const before = site.hits.length
    const r = await render('/rendered', 'h1.ready')
    expect(r.status).toBe(200)
    expect(r.html).toContain('<h1 class="ready">电动自行车 &lt;safety&gt;</h1>')
    expect(r.html).not.toMatch(/<script/i)
    expect(isRenderedSnapshot(r.html)).toBe(true)
    expect(site.hits.slice(before)).toEqual(['GET /rendered', 'GET /api/data'])
    expect(otherHits).toBe(0)
    expect(r.html).not.toContain('data-tracked')
  })

  it('calls a 200 page that settles without the selector a layout change, quickly and not retryable', async () => {
    const started = Date.now()
    const err = await render('/redesigned', 'h1.ready', 20_000).catch((e) => e)
    expect(err).toBeInstanceOf(SourceError)
    expect(err).toMatchObject({ code: 'layout-changed', retryable: false })
    expect(err.message).toMatch(/h1\.ready/)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('reports a request the page needed that failed with its own error, not as a layout change', async () => {
    const err = await render('/broken-api', '#app:not(:empty)').catch((e) => e)
    expect(err).toMatchObject({ code: 'unavailable', retryable: true })
    expect(err.message).toMatch(/api\/fails/)
  })

  it('says a page still busy when time is up is unavailable (retryable)', async () => {
    const err = await render('/busy', 'h1.ready', 2500).catch((e) => e)
    expect(err).toMatchObject({ code: 'unavailable', retryable: true })
    expect(err.message).toMatch(/still rendering|did not load/)
  })

  it('passes the HTTP engine’s errors through: a 404 page is not retried', async () => {
    const err = await render('/missing', 'p').catch((e) => e)
    expect(err).toMatchObject({ code: 'unavailable', retryable: false })
  })

  it('shows a GBK page to the browser as the text the HTTP engine decoded', async () => {
    const r = await render('/gbk', 'p.ready')
    expect(r.html).toContain('通报成员：美国')
  })

  it('renders pages one after another in one session and launches one Chromium per process', async () => {
    const b1 = await engine.browser()
    const b2 = await engine.browser()
    expect(b1).toBe(b2)
    const session = await RenderSession.open(b1, { userAgent: 'tbt-watch-test' })
    try {
      const [a, b] = await Promise.all([
        session.render({ url: `${site.url}/rendered`, waitFor: 'h1.ready', timeoutMs: 8000, fetch: viaHttp }),
        session.render({ url: `${site.url}/gbk`, waitFor: 'p.ready', timeoutMs: 8000, fetch: viaHttp }),
      ])
      expect(a.html).toContain('h1 class="ready"')
      expect(b.html).toContain('通报成员')
    } finally {
      await session.close()
    }
    const closing = new ChromiumEngine({ executablePath: '/usr/bin/chromium' })
    const browser = await closing.browser()
    await closing.close()
    expect(browser.isConnected()).toBe(false)
  })

  it('says so when Chromium cannot start', async () => {
    const missing = new ChromiumEngine({ executablePath: '/nonexistent/chromium' })
    const err = await missing.browser().catch((e) => e)
    expect(err).toMatchObject({ code: 'unavailable', retryable: false })
    expect(err.message).toMatch(/Chromium could not start/)
  })

  it('keeps the sandbox where it can, and says once why it cannot', async () => {
    const warnings: string[] = []
    const auto = new ChromiumEngine({ executablePath: '/usr/bin/chromium', warn: (m) => warnings.push(m) })
    try {
      await auto.browser()
      const root = process.getuid?.() === 0
      // As root Chromium cannot sandbox itself; as another user it does where the kernel allows.
      if (root) {
        expect(auto.sandboxed).toBe(false)
        expect(warnings).toEqual([expect.stringMatching(/without its sandbox: the process runs as root/)])
      } else expect(auto.sandboxed === true || warnings.some((w) => /sandboxed launch failed/.test(w))).toBe(true)
    } finally {
      await auto.close()
    }
    if (process.getuid?.() === 0) {
      // Asked to keep it as root: it fails rather than run unsandboxed.
      const on = new ChromiumEngine({ executablePath: '/usr/bin/chromium', sandbox: 'on' })
      await expect(on.browser()).rejects.toMatchObject({ code: 'unavailable' })
    }
  })
})
