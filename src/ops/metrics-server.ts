import { createHash, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

export interface MetricsServerOptions {
  /** Where to listen (default 127.0.0.1: this machine only). */
  host?: string
  /** TBT_ADMIN_TOKEN: required as `Authorization: Bearer …` when the host is not a loopback address. */
  token?: string
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/**
 * A bare HTTP server for a worker process: GET /metrics (Prometheus text) and /healthz.
 * Bound to 127.0.0.1 unless told otherwise; bound elsewhere, /metrics needs the admin
 * token (and the server refuses to start without one).
 */
export async function startMetricsServer(registry: Registry, port: number, opts: MetricsServerOptions | string = {}): Promise<{ port: number; close(): Promise<void> }> {
  const { host = '127.0.0.1', token } = typeof opts === 'string' ? { host: opts } : opts
  const needsToken = !LOOPBACK.has(host)
  if (needsToken && !token) throw new Error(`metrics on ${host} (not loopback) need TBT_ADMIN_TOKEN: /metrics is then served to bearers of that token only`)
  const want = token ? createHash('sha256').update(token).digest() : undefined
  const authorised = (req: http.IncomingMessage) => {
    if (!needsToken) return true
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')
    return !!m && !!want && timingSafeEqual(createHash('sha256').update(m[1].trim()).digest(), want)
  }
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      if (!authorised(req)) return void res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="tbt-watch metrics"' }).end('metrics need the admin token\n')
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
      )
      return
    }
    if (req.method === 'GET' && req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  }
}
