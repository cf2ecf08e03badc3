import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { startServer } from '../helpers/http-server.js'

export const FEDREG_FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'us-fedreg')
export type FedregRecord = Record<string, unknown> & { document_number: string; publication_date: string; type: string; agencies: { slug: string }[] }
export const fedregRecords = (): FedregRecord[] => JSON.parse(fs.readFileSync(path.join(FEDREG_FIXTURES, 'documents.json'), 'utf8'))

/**
 * The Federal Register API as the fixture server answers it: filters on type, agencies
 * and the publication-date window, newest first, paged, trimmed to the requested
 * `fields[]` (so `comments_close_on` is there only when asked for).
 */
export function fedregResponse(records: FedregRecord[], url: URL, opts: { countFor?: (from: string, to: string, n: number) => number } = {}) {
  const q = url.searchParams
  const types = q.getAll('conditions[type][]')
  const agencies = q.getAll('conditions[agencies][]')
  const gte = q.get('conditions[publication_date][gte]') ?? ''
  const lte = q.get('conditions[publication_date][lte]') ?? '9999'
  const fields = q.getAll('fields[]')
  const perPage = Number(q.get('per_page') ?? 20)
  const page = Number(q.get('page') ?? 1)
  const typeName: Record<string, string> = { PRORULE: 'Proposed Rule', RULE: 'Rule', NOTICE: 'Notice' }
  const hits = records
    .filter((r) => !types.length || types.some((t) => typeName[t] === r.type))
    .filter((r) => !agencies.length || r.agencies.some((a) => agencies.includes(a.slug)))
    .filter((r) => r.publication_date >= gte && r.publication_date <= lte)
    .sort((a, b) => b.publication_date.localeCompare(a.publication_date))
  const slice = hits.slice((page - 1) * perPage, page * perPage)
  const trimmed = slice.map((r) => (fields.length ? Object.fromEntries(fields.filter((f) => f in r).map((f) => [f, r[f]])) : r))
  const count = opts.countFor ? opts.countFor(gte, lte, hits.length) : hits.length
  const next = page * perPage < hits.length ? new URL(url.toString().replace(/([?&])page=\d+/, `$1page=${page + 1}`)).toString() : null
  const body: Record<string, unknown> = { count, description: 'Proposed rules', total_pages: Math.ceil(hits.length / perPage) }
  if (trimmed.length) body.results = trimmed
  if (next) body.next_page_url = next
  return JSON.stringify(body)
}

export async function startFedregServer(opts: { records?: FedregRecord[]; robots?: string; countFor?: (from: string, to: string, n: number) => number } = {}) {
  const records = opts.records ?? fedregRecords()
  const log: { url: URL; status: number }[] = []
  const server = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture')
    if (url.pathname === '/robots.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(opts.robots ?? 'User-agent: *\nDisallow: /documents/search\nAllow: /api/\n')
      return
    }
    if (url.pathname !== '/api/v1/documents.json') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":404,"message":"Not Found"}')
      return
    }
    const body = fedregResponse(records, url, opts)
    const etag = `W/"${createHash('sha1').update(body).digest('hex')}"`
    if (req.headers['if-none-match'] === etag) {
      log.push({ url, status: 304 })
      res.writeHead(304, { etag }).end()
      return
    }
    log.push({ url, status: 200 })
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', etag }).end(body)
  })
  return { ...server, log }
}
