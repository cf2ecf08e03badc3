import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/web/app.js'
import { seed } from '../../src/services/seed.service.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'

/** Every route the app serves today, and some it does not. */
const PATHS = ['/', '/warnings/1', '/warnings/abc', '/unsubscribe', '/healthz', '/readyz', '/metrics', '/admin/queues', '/admin/queues/api/queues', '/login', '/logout', '/review', '/api/warnings', '/subscribe']
const CONTENT_TYPES = ['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/octet-stream']

const segment = fc.oneof(fc.constantFrom(...PATHS), fc.webPath(), fc.constantFrom('/warnings/'), fc.string({ maxLength: 30 }).map((s) => `/warnings/${encodeURIComponent(s)}`))
const query = fc.dictionary(fc.constantFrom('lang', 'token', 'page', 'status', 'q', 'id', fc.string({ maxLength: 5 }) as never), fc.string({ maxLength: 40 }), { maxKeys: 4 })
const body = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 })).map((d) => new URLSearchParams(d).toString()),
)

describe('fuzz: web forms, API bodies, paths and query strings', () => {
  let env: TestEnv
  let app: FastifyInstance

  beforeAll(async () => {
    env = await createTestEnv('sqlite', { TBT_ADMIN_TOKEN: 'fuzz-admin-token-0123456789' })
    await seed(env.ctx)
    app = await buildApp(env.ctx)
  })
  afterAll(async () => {
    await app?.close()
    await env?.cleanup()
  })

  it('never answers 5xx (except /readyz saying a dependency is down) and never loses a subscriber by accident', async () => {
    const before = await env.ctx.db.selectFrom('subscriber').select(['email', 'unsubscribed_at']).orderBy('email').execute()
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'), segment, query, body, fc.constantFrom(...CONTENT_TYPES), async (method, path, q, payload, type) => {
        // (A leading // reads as a protocol-relative URL to inject itself, not to the app.)
        const url = `/${path.replace(/^\/+/, '')}?${new URLSearchParams(q).toString()}`
        const r = await app.inject({ method: method as 'GET', url, payload: method === 'GET' || method === 'HEAD' ? undefined : payload, headers: { 'content-type': type } })
        if (r.statusCode >= 500) expect(url.startsWith('/readyz') && r.statusCode === 503, `${method} ${url} -> ${r.statusCode}: ${r.body.slice(0, 300)}`).toBe(true)
      }),
      { numRuns: 400 },
    )
    // Random unsubscribe tokens never unsubscribed anyone: tokens are signed.
    expect(await env.ctx.db.selectFrom('subscriber').select(['email', 'unsubscribed_at']).orderBy('email').execute()).toEqual(before)
  }, 120_000)
})
