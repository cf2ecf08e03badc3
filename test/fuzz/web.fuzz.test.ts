import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { buildApp } from '../../src/web/app.js'
import { seed } from '../../src/services/seed.service.js'
import { createTestEnv, DIALECTS, logProblems, REDIS_URL, type TestEnv } from '../helpers/db.js'
import { addUsers, Agent, PASSWORDS } from '../helpers/web.js'

const ADMIN_TOKEN = 'fuzz-admin-token-0123456789'
const CONTENT_TYPES = ['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/octet-stream']

/**
 * Every route the app serves, from Fastify's own route tree: a route added later is
 * fuzzed without anyone listing it here.
 */
function routesOf(app: FastifyInstance): { path: string; methods: string[] }[] {
  const out: { path: string; methods: string[] }[] = []
  const stack: { depth: number; path: string }[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│├└─]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line)
    const seg = m ? m[2] : /^([\s│├└─]*)(\S.*)$/.exec(line)?.[2]
    if (!seg) continue
    const depth = (m ? m[1] : /^([\s│├└─]*)/.exec(line)![1]).length
    while (stack.length && stack.at(-1)!.depth >= depth) stack.pop()
    const parent = stack.at(-1)?.path ?? ''
    // A radix tree: a child continues its parent's text (`/me` + `trics` is `/metrics`, `/queue` + `.csv`).
    const path = parent === '' ? seg : parent.endsWith('/') || seg.startsWith('/') ? `${parent.replace(/\/$/, '')}/${seg.replace(/^\//, '')}` : `${parent}${seg}`
    stack.push({ depth, path })
    if (m) out.push({ path, methods: m[3].split(', ') })
  }
  return out
}

// Values a hostile or careless client puts in a query string or a path.
const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', '%00', '\u0000', '\u0007', '\t', 'a\r\nSet-Cookie: x=1', '99999999999999999999', '-1', '0', '1e308', 'NaN', 'Infinity', '2147483648', '[]', '{}', '../../etc/passwd', '<script>alert(1)</script>', "' OR 1=1 --", '\uFFFF', '𠀀𠀁', 'x'.repeat(3000), '2026-W99', '1000-W01', '/%09/evil.example', '//evil.example', 'high,low,,', 'USA,EU', 'new'),
)
const KEYS = ['lang', 'token', 'page', 'size', 'status', 'level', 'category', 'market', 'source', 'language', 'assignee', 'deadline', 'q', 'sort', 'dir', 'next', 'id', 'nonce', 'email']
const query = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), fc.oneof(hostile, fc.array(hostile, { maxLength: 3 })), { maxKeys: 5 }).map((d) => {
    const p = new URLSearchParams()
    for (const [k, v] of Object.entries(d)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x)
    return p.toString()
  }),
  // Raw, sometimes broken, encodings.
  fc.constantFrom('page=%', 'q=%zz', 'status=%E0%A4%A', 'lang=en&lang=zh', 'page[]=1', 'page[a]=1', 'a=1&a=2&a=3', '%00=1', 'deadline=%2B1', '&&&', '=', 'size=1&page=100000'),
)
const param = (name: string) =>
  ({
    id: fc.oneof(fc.constantFrom('1', '2', '3', '999999', '0', '-1', '1.5', 'abc', '%00', '99999999999999999999'), fc.string({ maxLength: 8 }).map(encodeURIComponent)),
    action: fc.constantFrom('confirm', 'dismiss', 'escalate', 'review', 'reopen', 'delete', 'x'),
    week: fc.constantFrom('2026-W48', '2026-W01', '2026-W53', '1000-W01', '9999-W52', '2026-W00', 'abc', '%00'),
    file: fc.constantFrom('app.js', 'app.css', '..%2F..%2Fpackage.json', 'x'),
    queueName: fc.constantFrom('scrape', 'deliver', 'nope', '%00'),
    jobId: fc.constantFrom('1', 'x', '%00'),
    queueStatus: fc.constantFrom('failed', 'completed', 'x'),
    schedulerId: fc.constantFrom('digest-daily', 'x'),
  })[name] ?? fc.string({ maxLength: 8 }).map(encodeURIComponent)

const body = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.dictionary(fc.oneof(fc.constantFrom('email', 'password', 'current', 'note', 'reason', 'ids', 'action', 'level', 'categories', 'assignee', 'next', 'nonce', 'token', 'hs'), fc.string({ maxLength: 8 })), hostile).map((d) => new URLSearchParams(d).toString()),
  fc.record({ note: hostile, reason: hostile, ids: fc.array(fc.integer(), { maxLength: 3 }), action: fc.constantFrom('confirm', 'dismiss', 'x'), level: hostile, categories: fc.array(hostile, { maxLength: 3 }) }).map((v) => JSON.stringify(v)),
)

describe.each(DIALECTS)('fuzz: every route, every role, hostile query strings, paths and bodies (%s)', (dialect) => {
  let env: TestEnv
  let app: FastifyInstance
  let replay: ReplayServer
  const who: Record<string, Agent> = {}
  let csrf: Record<string, string> = {}

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv(dialect, { TBT_ADMIN_TOKEN: ADMIN_TOKEN, TBT_SOURCE_EPING_BASE_URL: replay.url, REDIS_URL, TBT_QUEUE_PREFIX: `fuzz${dialect}${process.pid}` }, { clock: () => new Date('2026-11-28T04:00:00Z'), captureLog: true })
    await seed(env.ctx)
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    await addUsers(env.ctx)
    app = await buildApp(env.ctx, { loginAttemptsPerMinute: 100_000, publicForms: { floorMs: 0, perClientPerHour: 100_000 } })
    for (const role of ['admin', 'analyst', 'official', 'enterprise'] as const) {
      who[role] = new Agent(app)
      await who[role].login(`${role}@example.com`, PASSWORDS[role])
      csrf[role] = (await who[role].get('/api/csrf')).json().token
    }
    who.anonymous = new Agent(app)
    csrf.anonymous = ''
  }, 240_000)
  afterAll(async () => {
    await app?.close()
    const redis = new Redis(REDIS_URL)
    const keys = await redis.keys(`${env.config.queuePrefix}:*`)
    if (keys.length) await redis.del(...keys)
    redis.disconnect()
    await env?.cleanup()
    await replay?.close()
  })

  it('never answers 5xx (except /readyz saying a dependency is down) and never loses a subscriber by accident', async () => {
    // (POST /logout would end the fuzzing agents' sessions: it has its own tests.)
    const routes = routesOf(app).filter((r) => r.path !== '/logout')
    expect(routes.length).toBeGreaterThan(40)
    for (const p of ['/api/warnings', '/warnings/:id', '/subscribe', '/unsubscribe', '/reports/:kind/:key', '/metrics', '/account/password']) expect(routes.map((r) => r.path)).toContain(p)
    const before = await env.ctx.db.selectFrom('subscriber').select(['email', 'unsubscribed_at']).orderBy('email').execute()
    const request = fc.constantFrom(...routes).chain((r) =>
      fc.record({
        method: fc.constantFrom(...r.methods),
        path: fc.tuple(...r.path.split('/').map((s) => (s.startsWith(':') ? param(s.slice(1)) : s === '*' ? fc.constantFrom('x', 'static/x.js') : fc.constant(s)))).map((parts) => parts.join('/')),
        query,
        body,
        type: fc.constantFrom(...CONTENT_TYPES),
        role: fc.constantFrom('anonymous', 'enterprise', 'official', 'analyst', 'admin', 'bearer'),
        withCsrf: fc.boolean(),
      }),
    )
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, query: q, body: payload, type, role, withCsrf }) => {
        const url = `/${path.replace(/^\/+/, '')}?${q}`
        const agent = role === 'bearer' ? who.anonymous : who[role]
        const headers: Record<string, string> = { 'content-type': type }
        if (role === 'bearer') headers.authorization = `Bearer ${ADMIN_TOKEN}`
        if (withCsrf && csrf[role]) headers['x-csrf-token'] = csrf[role]
        const hasBody = method !== 'GET' && method !== 'HEAD'
        const r = await app.inject({ method: method as 'GET', url, payload: hasBody ? payload : undefined, headers: { cookie: agent.cookieHeader, ...headers } })
        if (r.statusCode >= 500) expect(url.startsWith('/readyz') && r.statusCode === 503, `${role} ${method} ${url} -> ${r.statusCode}: ${r.body.slice(0, 300)}`).toBe(true)
        expect(r.body, `${method} ${url}`).not.toMatch(/SQLITE_|violates|syntax error at|invalid byte sequence|at [\w.]+ \(\/.*:\d+:\d+\)/)
      }),
      { numRuns: 400 },
    )
    await app.publicFormsSettled()
    // Random unsubscribe tokens never unsubscribed anyone: tokens are signed. (The logged-in
    // enterprise may have subscribed its own address from its home page: a new row, not a loss.)
    const after = await env.ctx.db.selectFrom('subscriber').select(['email', 'unsubscribed_at']).orderBy('email').execute()
    expect(after.filter((a) => before.some((b) => b.email === a.email))).toEqual(before)
    expect(after.filter((a) => !before.some((b) => b.email === a.email)).every((a) => a.email === 'enterprise@example.com')).toBe(true)
    expect(logProblems(env.logLines)).toEqual([])
  }, 300_000)
})
