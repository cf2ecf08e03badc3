import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { parseSymbol, splitSymbols } from '../domain/symbols.js'
import { projectRoot } from '../util/paths.js'

export const DEFAULT_REPLAY_DIR = path.join(projectRoot, 'seeds', 'replay')

export interface ReplayManifest {
  since: string
  sources: Record<string, string>
}

export interface ReplayServer {
  url: string
  manifest: ReplayManifest
  /** Every request served, for tests that count conditional requests. */
  requests: { method: string; url: string; status: number }[]
  close(): Promise<void>
}

export function readManifest(dir: string): ReplayManifest {
  const file = path.join(dir, 'manifest.json')
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ReplayManifest
}

type Rec = Record<string, unknown>

/**
 * Serves a recorded snapshot of source responses the way the live services answer:
 * ePing's list endpoint with its date filters, descending order and paging, the
 * related-notifications endpoint, ETags with 304 answers, and a robots.txt. `npm run
 * demo` and the tests point the sources at it with TBT_SOURCE_<ID>_BASE_URL.
 */
export async function startReplayServer(dir = DEFAULT_REPLAY_DIR, opts: { port?: number } = {}): Promise<ReplayServer> {
  const manifest = readManifest(dir)
  const epingFile = manifest.sources.eping
  const eping: Rec[] = epingFile ? JSON.parse(fs.readFileSync(path.join(dir, epingFile), 'utf8')) : []
  const requests: ReplayServer['requests'] = []

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replay')
    const send = (status: number, body: string, type = 'application/json; charset=utf-8') => {
      const etag = `"${createHash('sha1').update(body).digest('hex')}"`
      if (status === 200 && req.headers['if-none-match'] === etag) {
        requests.push({ method: req.method ?? 'GET', url: url.pathname + url.search, status: 304 })
        res.writeHead(304, { etag })
        res.end()
        return
      }
      requests.push({ method: req.method ?? 'GET', url: url.pathname + url.search, status })
      res.writeHead(status, { 'content-type': type, etag })
      res.end(body)
    }
    if (url.pathname === '/robots.txt') return send(200, 'User-agent: *\nAllow: /\n', 'text/plain')
    // The keyed API answers the same records; without the subscription key it refuses.
    const keyed = url.pathname === '/eping/notifications/search'
    if (keyed && !req.headers['ocp-apim-subscription-key']) return send(401, JSON.stringify({ statusCode: 401, message: 'Access denied due to missing subscription key.' }))
    if (url.pathname === '/api/v1/azureSearch/getAll' || keyed) {
      const q = url.searchParams
      const from = q.get('distributionDateFrom')
      const to = q.get('distributionDateTo')
      const compact = (s: string) => s.replace(/\s+/g, '').toLowerCase()
      const text = q.get('freeText') ?? q.get('documentSymbol')
      const page = Math.max(1, Number(q.get('page') ?? 1))
      const size = Math.min(100, Math.max(1, Number(q.get('pageSize') ?? 20)))
      const day = (r: Rec) => String(r.distributionDate ?? '').slice(0, 10)
      // domainIds 1 = TBT, 2 = SPS (repeatable); none: both.
      const areas = q.getAll('domainIds').flatMap((d) => d.split(',')).map((d) => ({ '1': 'TBT', '2': 'SPS' })[d.trim()])
      const areaOf = (r: Rec) => (String(r.area ?? '').toUpperCase() === 'SPS' || String(r.documentSymbol ?? '').includes('G/SPS/') ? 'SPS' : 'TBT')
      const items = eping
        .filter((r) => !areas.length || areas.includes(areaOf(r)))
        .filter((r) => (!from || day(r) >= from) && (!to || day(r) <= to))
        .filter((r) => !text || compact(String(r.documentSymbol ?? '')).includes(compact(text)))
        .sort((a, b) => day(b).localeCompare(day(a)) || Number(b.id) - Number(a.id))
      const slice = items.slice((page - 1) * size, page * size)
      return send(200, JSON.stringify({ items: slice, totalCount: items.length, endRow: Math.min(items.length, page * size), isCountExceeded: false }))
    }
    if (url.pathname === '/api/v1/notifications/getRelatedNotifications') {
      const base = parseSymbol(url.searchParams.get('documentSymbol') ?? '')?.base
      const related = eping
        .flatMap((r) => splitSymbols(String(r.documentSymbol ?? '')))
        .filter((s) => base && parseSymbol(s)?.base === base)
      return send(200, JSON.stringify([...new Set(related)].sort()))
    }
    send(404, JSON.stringify({ error: 'not found' }))
  })
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    manifest,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
