import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { startServer } from '../helpers/http-server.js'

export const PORTAL_FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'portal-labelled')

/**
 * Serves the portal fixtures as static files, byte for byte (GBK pages stay GBK), as
 * text/html without a charset, with ETags and 304 answers; unknown paths are 404.
 */
export async function startPortalServer(opts: { override?: Record<string, string | Buffer> } = {}) {
  const log: { path: string; status: number }[] = []
  const server = await startServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://fixture').pathname
    if (p === '/robots.txt') return res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nDisallow: /admin/\n')
    const file = path.join(PORTAL_FIXTURES, path.normalize(p).replace(/^(\.\.[/\\])+/, ''))
    const body = opts.override?.[p] ?? (file.startsWith(PORTAL_FIXTURES) && fs.existsSync(file) && fs.statSync(file).isFile() ? fs.readFileSync(file) : null)
    if (body == null) {
      log.push({ path: p, status: 404 })
      return res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>404</body></html>')
    }
    const etag = `"${createHash('sha1').update(body).digest('hex')}"`
    if (req.headers['if-none-match'] === etag) {
      log.push({ path: p, status: 304 })
      return res.writeHead(304, { etag }).end()
    }
    log.push({ path: p, status: 200 })
    res.writeHead(200, { 'content-type': 'text/html', etag }).end(body)
  })
  return { ...server, log }
}
