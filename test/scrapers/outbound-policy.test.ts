import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpClient } from '../../scrapers/http-client.js'
import { addressKind, OutboundPolicy, type Lookup } from '../../scrapers/outbound-policy.js'
import { parsePortalDefinition } from '../../scrapers/portal/portal-definition.js'
import { createPortalSource } from '../../scrapers/portal/portal.source.js'
import { SourceError } from '../../scrapers/types.js'
import { ingestRaw } from '../../src/services/ingest.service.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { createTestEnv, DIALECTS } from '../helpers/db.js'

/** A server that records every request and WebSocket upgrade, and answers from a table. */
async function site(routes: (port: number) => Record<string, { status?: number; headers?: Record<string, string>; body?: string }>) {
  const hits: string[] = []
  let table: ReturnType<typeof routes> = {}
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`)
    const r = table[(req.url ?? '/').split('?')[0]]
    if (!r) return res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>404</body></html>')
    res.writeHead(r.status ?? 200, { 'content-type': 'text/html; charset=utf-8', ...r.headers }).end(r.body ?? '')
  })
  server.on('upgrade', (req, socket) => {
    hits.push(`UPGRADE ${req.url}`)
    socket.destroy()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  table = routes(port)
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  }
}

const DETAIL = (symbol: string, title: string) =>
  `<html><body><h1>${title}</h1><table><tr><th>文档编号</th><td>${symbol}</td></tr><tr><th>通告成员</th><td>欧盟</td></tr></table></body></html>`

const portal = (id: string, base: string, engine: 'http' | 'browser', extra = '') =>
  parsePortalDefinition(
    `id: ${id}
name: SSRF test portal
engine: ${engine}
baseUrl: ${base}
${extra}
list:
  firstPageUrl: list.html
  url: list_{page}.html
  maxPages: 1
  item: ul.l > li
detail:
  rows: tr
  label: th
  value: td
  fields:
    title: { selector: h1 }
    symbols: 文档编号
    member: 通告成员
`,
    `${id}.yaml`,
  )

const publicLookup: Lookup = async () => [{ address: '93.184.216.34', family: 4 }]

describe('the outbound policy: addresses and hosts', () => {
  it('knows loopback, private, link-local and public addresses, IPv4 and IPv6', () => {
    expect(addressKind('127.0.0.1')).toBe('loopback')
    expect(addressKind('::1')).toBe('loopback')
    expect(addressKind('::ffff:127.0.0.1')).toBe('loopback')
    expect(addressKind('10.1.2.3')).toBe('private')
    expect(addressKind('172.31.0.1')).toBe('private')
    expect(addressKind('192.168.1.1')).toBe('private')
    expect(addressKind('100.64.0.1')).toBe('private')
    expect(addressKind('fd00::1')).toBe('private')
    expect(addressKind('169.254.169.254')).toBe('link-local')
    expect(addressKind('fe80::1')).toBe('link-local')
    expect(addressKind('0.0.0.0')).toBe('unspecified')
    expect(addressKind('224.0.0.1')).toBe('multicast')
    expect(addressKind('93.184.216.34')).toBe('public')
    expect(addressKind('2606:4700::1111')).toBe('public')
    expect(addressKind('not-an-ip')).toBe('reserved')
  })

  it('a public source may reach its own host only, and never an internal address, in any spelling', async () => {
    const p = await OutboundPolicy.forBase('https://portal.example/tbt/', ['docs.example.org', '*.cdn.example', '10.0.0.1'], publicLookup)
    expect(p.refusal('https://portal.example/a?b=1')).toBeNull()
    expect(p.refusal('http://portal.example/a')).toBeNull() // default ports
    expect(p.refusal('https://docs.example.org/x.pdf')).toBeNull()
    expect(p.refusal('https://a.cdn.example/app.js')).toBeNull()
    expect(p.refusal('https://portal.example:8443/a')).toMatch(/host portal\.example:8443/)
    expect(p.refusal('https://evil.example/')).toMatch(/neither the source/)
    expect(p.refusal('https://cdn.example/')).toMatch(/neither the source/)
    for (const u of ['http://127.0.0.1/', 'http://0x7f000001/', 'http://2130706433/', 'http://[::1]/', 'http://169.254.169.254/latest/meta-data/', 'http://localhost/']) expect(p.refusal(u), u).not.toBeNull()
    expect(p.refusal('http://10.0.0.1/')).toMatch(/address 10\.0\.0\.1 is private/) // allowed host, internal address
    expect(p.refusal('file:///etc/passwd')).toMatch(/scheme/)
    expect(p.refusal('gopher://portal.example/')).toMatch(/scheme/)
  })

  it('a source on this machine (tests, the demo) may reach loopback, but not the link-local metadata address', async () => {
    const p = await OutboundPolicy.forBase('http://127.0.0.1:5000', ['169.254.169.254'])
    expect(p.kinds.has('loopback')).toBe(true)
    expect(p.refusal('http://127.0.0.1:5000/list.html')).toBeNull()
    expect(p.refusal('http://127.0.0.1:6379/')).toMatch(/host 127\.0\.0\.1:6379/) // another port is another host
    expect(p.refusal('http://169.254.169.254/')).toMatch(/link-local/)
  })
})

describe('the HTTP engine under the policy: redirects and DNS', () => {
  let a: Awaited<ReturnType<typeof site>>
  let b: Awaited<ReturnType<typeof site>>
  const client = new HttpClient({ userAgent: 'test', timeoutMs: 5000, minDelayMs: 0, maxAttempts: 1 })
  beforeAll(async () => {
    b = await site(() => ({ '/secret': { body: 'internal secret' } }))
    a = await site((port) => ({
      '/ok': { body: 'fine' },
      '/to-self': { status: 302, headers: { location: '/ok' } },
      '/to-other-port': { status: 302, headers: { location: `${b.url}/secret` } },
      '/to-other-name': { status: 301, headers: { location: `http://localhost:${port}/ok` } },
      '/to-file': { status: 302, headers: { location: 'file:///etc/passwd' } },
      '/loop': { status: 302, headers: { location: '/loop' } },
    }))
  })
  afterAll(async () => {
    await client.close()
    await a?.close()
    await b?.close()
  })

  it('follows redirects on the same host and refuses, before connecting, one to anywhere else', async () => {
    const policy = await OutboundPolicy.forBase(a.url)
    const ok = await client.request(`${a.url}/to-self`, { policy })
    expect(ok).toMatchObject({ status: 200, body: 'fine', url: `${a.url}/ok` })
    for (const path of ['/to-other-port', '/to-other-name', '/to-file']) {
      const err = await client.request(`${a.url}${path}`, { policy }).catch((e: unknown) => e)
      expect(err, path).toBeInstanceOf(SourceError)
      expect(err).toMatchObject({ code: 'refused', retryable: false })
    }
    await expect(client.request(`${a.url}/loop`, { policy })).rejects.toMatchObject({ code: 'bad-response' })
    await expect(client.request(`${b.url}/secret`, { policy })).rejects.toMatchObject({ code: 'refused' })
    expect(b.hits).toEqual([])
  })

  it('checks the address a host name resolves to when it connects: a public source cannot reach localhost by name', async () => {
    // The portal is public (its name resolves to a public address); its definition allows
    // a second host whose name resolves to 127.0.0.1, as a rebinding attacker's would.
    const policy = await OutboundPolicy.forBase('https://portal.example', [`localhost:${a.port}`], publicLookup)
    expect(policy.refusal(`http://localhost:${a.port}/ok`)).toBeNull() // the name passes...
    const before = a.hits.length
    const err = await client.request(`http://localhost:${a.port}/ok`, { policy }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'refused', retryable: false }) // ...its address does not
    expect((err as Error).message).toMatch(/127\.0\.0\.1 \(loopback\)/)
    expect(a.hits.length).toBe(before)
  })
})

describe.each(DIALECTS)('a portal page cannot make the crawler fetch another host (%s)', (dialect) => {
  let a: Awaited<ReturnType<typeof site>>
  let b: Awaited<ReturnType<typeof site>>
  beforeAll(async () => {
    b = await site(() => ({ '/secret.html': { body: DETAIL('G/TBT/N/SECRET/1', 'internal secret') } }))
    a = await site((port) => ({
      '/robots.txt': { body: '' },
      '/list.html': {
        body: `<html><body><ul class="l">
<li><a href="/d/1.html">ok</a></li>
<li><a href="${b.url}/secret.html">another port</a></li>
<li><a href="http://localhost:${port}/d/2.html">another host name</a></li>
<li><a href="http://169.254.169.254/latest/meta-data/">metadata</a></li>
<li><a href="/d/redirect.html">a redirect off the host</a></li>
</ul></body></html>`,
      },
      '/d/1.html': { body: DETAIL('G/TBT/N/EU/1', 'a real notice') },
      '/d/2.html': { body: DETAIL('G/TBT/N/EU/2', 'reached by another name') },
      '/d/redirect.html': { status: 302, headers: { location: `${b.url}/secret.html` } },
    }))
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
  })

  it('keeps the same-host notice and never asks the other server, directly or through a redirect', async () => {
    const def = portal('ssrf-http', a.url, 'http')
    const env = await createTestEnv(dialect, {}, { sources: [createPortalSource(def)], clock: () => new Date('2026-11-28T04:00:00Z') })
    try {
      await seed(env.ctx, { subscribers: false })
      const r = await scrapeSource(env.ctx, 'ssrf-http', { since: '2026-01-01' })
      expect(r.status).toBe('ok')
      for (const id of r.pendingRawIds) await ingestRaw(env.ctx, id)
      expect(b.hits).toEqual([])
      expect(a.hits).not.toContain('GET /d/2.html')
      const notices = await env.ctx.db.selectFrom('notice').select(['symbol', 'title']).execute()
      expect(notices.map((n) => n.symbol)).toEqual(['G/TBT/N/EU/1'])
      const raw = await env.ctx.db.selectFrom('raw_response').select('body').execute()
      expect(raw.some((x) => x.body.includes('internal secret'))).toBe(false)
    } finally {
      await env.cleanup()
    }
  })
})

describe('a rendered page cannot make Chromium reach another host', () => {
  let a: Awaited<ReturnType<typeof site>>
  let b: Awaited<ReturnType<typeof site>>
  beforeAll(async () => {
    b = await site(() => ({ '/leak': { body: 'leaked' }, '/secret.html': { body: DETAIL('G/TBT/N/SECRET/1', 'internal secret') } }))
    a = await site((port) => ({
      '/robots.txt': { body: '' },
      '/list.html': { body: `<html><body><ul class="l"></ul><script src="/app.js"></script></body></html>` },
      '/app.js': {
        headers: { 'content-type': 'text/javascript' },
        body: `
fetch('${b.url}/leak').catch(() => {})
fetch('http://localhost:${port}/d/1.html').catch(() => {})
new Image().src = '${b.url}/img.png'
try { new WebSocket('ws://127.0.0.1:${b.port}/ws') } catch (e) {}
const f = document.createElement('iframe'); f.src = '${b.url}/secret.html'; document.body.appendChild(f)
document.querySelector('ul.l').innerHTML = '<li><a href="/d/1.html">ok</a></li><li><a href="${b.url}/secret.html">off</a></li>'`,
      },
      '/d/1.html': { body: DETAIL('G/TBT/N/EU/1', 'a real notice') },
    }))
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
  })

  it('answers only the requests the policy allows: fetch, images, frames and WebSockets elsewhere never leave', async () => {
    const def = portal('ssrf-browser', a.url, 'browser')
    const env = await createTestEnv('sqlite', { TBT_BROWSER_TIMEOUT_MS: '10000' }, { sources: [createPortalSource(def)], clock: () => new Date('2026-11-28T04:00:00Z') })
    try {
      await seed(env.ctx, { subscribers: false })
      const r = await scrapeSource(env.ctx, 'ssrf-browser', { since: '2026-01-01' })
      expect(r.status).toBe('ok')
      for (const id of r.pendingRawIds) await ingestRaw(env.ctx, id)
      expect(b.hits).toEqual([])
      const notices = await env.ctx.db.selectFrom('notice').select('symbol').execute()
      expect(notices.map((n) => n.symbol)).toEqual(['G/TBT/N/EU/1'])
    } finally {
      await env.cleanup()
    }
  })
})
