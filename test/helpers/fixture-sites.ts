import { createHash } from 'node:crypto'
import fs from 'node:fs'
import type http from 'node:http'
import path from 'node:path'
import { projectRoot } from '../../src/util/paths.js'
import { startServer } from './http-server.js'

const FIXTURES = path.join(projectRoot, 'test', 'fixtures')
const read = (f: string) => fs.readFileSync(path.join(FIXTURES, f), 'utf8')

export interface SiteHit {
  method: string
  path: string
  status: number
  conditional: boolean
}

export interface FixtureSite {
  url: string
  hits: SiteHit[]
  /** Serve the "redesigned" page (same data, other markup) from now on. */
  redesign(on: boolean): void
  close(): Promise<void>
}

type Send = (status: number, body: string, type: string, headers?: Record<string, string>) => void

/** A GET answered with an ETag, and 304 when the client already holds it. */
function responder(req: http.IncomingMessage, res: http.ServerResponse, hits: SiteHit[]): Send {
  return (status, body, type, headers = {}) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`
    const conditional = !!req.headers['if-none-match']
    const cacheable = req.method === 'GET' && status === 200 && !headers['set-cookie']
    if (cacheable && req.headers['if-none-match'] === etag) {
      hits.push({ method: req.method ?? 'GET', path: u.pathname + u.search, status: 304, conditional })
      res.writeHead(304, { etag }).end()
      return
    }
    hits.push({ method: req.method ?? 'GET', path: u.pathname + u.search, status, conditional })
    res.writeHead(status, { 'content-type': type, ...(cacheable ? { etag } : {}), ...headers }).end(body)
  }
}

const KEY = 'tbt-sps-2026'
/** The centre's detail payload "encryption" (XOR and base64): the page's script undoes it. */
export function encryptCnPayload(value: unknown): string {
  const bytes = Buffer.from(JSON.stringify(value), 'utf8')
  for (let i = 0; i < bytes.length; i++) bytes[i] ^= KEY.charCodeAt(i % KEY.length)
  return bytes.toString('base64')
}

/**
 * China's notification centre as the fixture files describe it: a session call that
 * sets a cookie, the list API that needs it, detail pages whose fields only a browser
 * sees (an encrypted payload decrypted by the page's script), ETags and 304s.
 */
export async function startCnTbtSite(): Promise<FixtureSite> {
  const list = JSON.parse(read('cn-tbt/list.json')) as Record<string, unknown>[]
  const details = JSON.parse(read('cn-tbt/details.json')) as Record<string, Record<string, unknown>>
  const hits: SiteHit[] = []
  let redesigned = false
  const s = await startServer((req, res, body) => {
    const send = responder(req, res, hits)
    const u = new URL(req.url ?? '/', 'http://x')
    const json = 'application/json;charset=UTF-8'
    if (u.pathname === '/robots.txt') return send(200, 'User-agent: *\nDisallow: /admin/\n', 'text/plain')
    if (u.pathname === '/login/getSession') {
      return send(200, JSON.stringify({ code: 200, msg: '操作成功', data: { logined: false } }), json, {
        'set-cookie': 'JSESSIONID=fx-7f3a9c; Path=/; HttpOnly',
        'cache-control': 'no-store',
      })
    }
    if (u.pathname === '/tbt/find' && req.method === 'POST') {
      if (!/JSESSIONID=fx-7f3a9c/.test(req.headers.cookie ?? '')) return send(401, JSON.stringify({ code: 401, msg: '会话已失效' }), json)
      const q = JSON.parse(body || '{}') as { startTbdate?: string; endTbdate?: string; page?: number; rows?: number }
      const rows = list.filter((r) => {
        const d = String(r.tbdate).slice(0, 10)
        return (!q.startTbdate || d >= q.startTbdate) && (!q.endTbdate || d <= q.endTbdate)
      })
      const size = q.rows ?? 20
      const page = q.page ?? 1
      return send(200, JSON.stringify({ code: 200, msg: '操作成功', data: { total: rows.length, page, rows: size, data: rows.slice((page - 1) * size, page * size) } }), json)
    }
    const detail = /^\/tbt\/(\d+)\/(\d+)$/.exec(u.pathname)
    if (detail && details[detail[2]]) {
      const html = read('cn-tbt/detail.html').replace('{{tbtype}}', detail[1]).replace('{{tbtid}}', detail[2])
      // The redesign renders into new markup: the old selectors find nothing on a 200 page.
      return send(200, redesigned ? html.replace(/id="tbtno"/, 'class="notice-symbol"').replace(/id="tbtitle"/, 'class="notice-title"') : html, 'text/html; charset=utf-8')
    }
    if (u.pathname === '/tbt/getTbtDetail') {
      const d = details[u.searchParams.get('id') ?? '']
      if (!d) return send(200, JSON.stringify({ code: 404, msg: '通报不存在' }), json)
      return send(200, JSON.stringify({ code: 200, msg: '操作成功', data: encryptCnPayload(d) }), json)
    }
    if (u.pathname === '/static/js/tbt-detail.js') return send(200, read('cn-tbt/tbt-detail.js'), 'application/javascript')
    if (u.pathname === '/static/css/detail.css') return send(200, read('cn-tbt/detail.css'), 'text/css')
    send(404, '<html><body>404</body></html>', 'text/html')
  })
  return { url: s.url, hits, redesign: (on) => void (redesigned = on), close: s.close }
}

const PAGE_SIZE = 3

/**
 * EU TRIS as a JavaScript application: one shell for every route, with the route's data
 * embedded as transfer state and rendered by main.js; ETags and 304s.
 */
export async function startTrisSite(): Promise<FixtureSite> {
  const all = JSON.parse(read('eu-tris/notifications.json')) as { internalId: number; notificationDate: string }[]
  const newestFirst = [...all].sort((a, b) => isoOf(b.notificationDate).localeCompare(isoOf(a.notificationDate)))
  const hits: SiteHit[] = []
  let redesigned = false
  const shell = (state: unknown) => read('eu-tris/shell.html').replace('{{STATE}}', JSON.stringify(state).replace(/</g, '\\u003c'))
  const s = await startServer((req, res) => {
    const send = responder(req, res, hits)
    const u = new URL(req.url ?? '/', 'http://x')
    const html = 'text/html; charset=utf-8'
    if (u.pathname === '/robots.txt') return send(200, 'User-agent: *\nAllow: /\n', 'text/plain')
    if (u.pathname === '/en/search') {
      const page = Math.max(1, Number(u.searchParams.get('page') ?? 1))
      const items = newestFirst.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)
      return send(200, shell({ route: 'search', page, size: PAGE_SIZE, total: all.length, items }), html)
    }
    const detail = /^\/en\/notification\/(\d+)$/.exec(u.pathname)
    const n = detail && all.find((x) => String(x.internalId) === detail[1])
    if (n) return send(200, shell({ route: 'notification', notification: n }), html)
    if (u.pathname === '/assets/main.js') {
      const js = read('eu-tris/main.js')
      return send(200, redesigned ? js.replace("el('main', { class: 'notification-detail' })", "el('section', { class: 'ntf-view' })") : js, 'application/javascript')
    }
    if (u.pathname === '/assets/styles.css') return send(200, read('eu-tris/styles.css'), 'text/css')
    send(404, shell({ route: 'not-found' }), html)
  })
  return { url: s.url, hits, redesign: (on) => void (redesigned = on), close: s.close }
}

const isoOf = (dmy: string) => dmy.split('/').reverse().join('-')
