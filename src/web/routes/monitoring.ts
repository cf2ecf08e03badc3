import { createHash, timingSafeEqual } from 'node:crypto'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RoutePlugin } from '../app.js'
import { createMetrics, registerDbGauges, registerQueueGauges } from '../../ops/metrics.js'
import { STAGES } from '../../pipeline/stages.js'

const CHECK_TIMEOUT_MS = 2_000

/**
 * Monitoring endpoints, as one route plugin (the operations *page* is ops.ts):
 * - GET /readyz: 200 when the database (and Redis, when REDIS_URL is set) answer, else 503;
 * - GET /metrics: Prometheus text, per source, per queue, e-mails by status (see src/ops/metrics.ts);
 * - /admin/queues: the bull-board queue dashboard, for administrators only.
 * /healthz (liveness) stays in app.ts. The web process only watches the queues: it never
 * runs jobs, and nothing here imports jobs/.
 */
const monitoringRoutes: RoutePlugin = async (app, { ctx }) => {
  const { redisUrl } = ctx.config
  // A producer-style connection: fail fast when Redis is away, so /readyz answers quickly.
  const redis = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: CHECK_TIMEOUT_MS }) : undefined
  redis?.on('error', (err) => ctx.log.debug({ err: err.message }, 'redis (web) connection error'))
  const queues = redis ? STAGES.map((s) => new Queue(s, { connection: redis, prefix: ctx.config.queuePrefix })) : []
  for (const q of queues) q.on('error', () => {})
  app.addHook('onClose', async () => {
    redis?.disconnect()
    await Promise.all(queues.map((q) => withTimeout(q.close()).catch(() => {})))
  })

  const metrics = createMetrics()
  registerDbGauges(metrics.registry, ctx.db)
  if (queues.length) registerQueueGauges(metrics.registry, queues)

  // Anyone may ask whether the process is ready; why a check failed (host names, driver
  // messages) goes to the log, not to the caller.
  const check = (name: string, p: Promise<unknown>) =>
    withTimeout(p).then(
      () => 'ok',
      (err: Error) => {
        ctx.log.warn({ check: name, err: err.message }, 'readiness check failed')
        return 'failed'
      },
    )
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {}
    checks.database = await check('database', sql`select 1`.execute(ctx.db))
    checks.redis = redis ? await check('redis', redis.ping()) : 'not configured'
    const ok = Object.values(checks).every((c) => c === 'ok' || c === 'not configured')
    return reply.code(ok ? 200 : 503).send({ ok, checks })
  })

  const guesses = new GuessLimiter()
  // Metrics name every source, queue and count: for administrators (the admin token, as
  // Prometheus sends it, or an admin's session), or a scraper on this machine talking to
  // the process directly (loopback, no proxy in between).
  app.get('/metrics', async (req, reply) => {
    const auth = adminAuth(req, ctx.config.adminToken)
    if (auth === 'bad' && !guesses.fail(req.ip)) return tooManyGuesses(reply)
    if (!(auth === 'session' || auth === 'bearer' || auth === 'basic' || isDirectLocal(req))) {
      if (!guesses.allowed(req.ip)) return tooManyGuesses(reply)
      return reply.code(401).header('www-authenticate', 'Bearer realm="tbt-watch metrics"').type('text/plain; charset=utf-8').send('metrics need the admin token (Authorization: Bearer <TBT_ADMIN_TOKEN>) or a request from this machine\n')
    }
    const text = await metrics.registry.metrics()
    return reply.type(metrics.registry.contentType).send(text)
  })

  // The dashboard and its API: admins only.
  await app.register(async (admin) => {
    // bull-board's own buttons (retry, clean, pause) send no CSRF token. They are
    // admin-only, and the session cookie is SameSite, so a cross-site form cannot ride it.
    admin.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), csrf: false }
    })
    admin.addHook('onRequest', async (req, reply) => {
      // Token guesses are limited per client: after GuessLimiter.MAX wrong ones, 429 for a while.
      if (!guesses.allowed(req.ip)) return tooManyGuesses(reply)
      const auth = adminAuth(req, ctx.config.adminToken)
      if (auth === 'bad') {
        guesses.fail(req.ip)
        return denyAdmin(reply)
      }
      if (auth === 'none') return denyAdmin(reply)
      // A browser replays cached Basic credentials (and the session cookie, within the
      // site) on any request: a state change must come from a page of this site. Scripts
      // use the bearer token, which no browser sends by itself.
      if (STATE_CHANGING.has(req.method) && auth !== 'bearer' && !sameOrigin(req, ctx.config.publicBaseUrl)) {
        return reply.code(403).type('text/plain; charset=utf-8').send('cross-site request refused: send it from this site, or use Authorization: Bearer <token>\n')
      }
    })
    // bull-board's page runs its own script and styles; app.ts's strict CSP would blank it.
    // (Encapsulated hooks run after the root's, so this header wins here only.)
    admin.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; img-src 'self' data:; frame-ancestors 'none'")
      return payload
    })
    if (!queues.length) {
      admin.get('/admin/queues', async (_req, reply) => reply.code(503).type('text/plain; charset=utf-8').send('queue dashboard unavailable: REDIS_URL is not set\n'))
      return
    }
    const { createBullBoard } = await import('@bull-board/api')
    const { BullMQAdapter } = await import('@bull-board/api/bullMQAdapter')
    const { FastifyAdapter } = await import('@bull-board/fastify')
    const serverAdapter = new FastifyAdapter()
    serverAdapter.setBasePath('/admin/queues')
    // @bull-board/fastify pins its own copy of @bull-board/api's types; the objects agree at run time.
    createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'], options: { uiConfig: { boardTitle: 'tbt-watch queues' } } })
    await admin.register(serverAdapter.registerPlugin(), { prefix: '/admin/queues' })
  })
}

export default monitoringRoutes

function withTimeout<T>(p: Promise<T>, ms = CHECK_TIMEOUT_MS): Promise<T> {
  let t: NodeJS.Timeout
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)))]).finally(() => clearTimeout(t))
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * How a request proves it is an administrator's: `session` (a signed-in admin), `bearer`
 * or `basic` (the TBT_ADMIN_TOKEN as a bearer token, or as the password of user `admin`,
 * so a browser's Basic prompt works too), `bad` (credentials presented, wrong), `none`.
 */
export function adminAuth(req: FastifyRequest, token: string | undefined): 'session' | 'bearer' | 'basic' | 'bad' | 'none' {
  const auth = req.headers.authorization ?? ''
  let presented: string | undefined
  let kind: 'bearer' | 'basic' | undefined
  if (/^Bearer /i.test(auth)) {
    presented = auth.slice(7).trim()
    kind = 'bearer'
  } else if (/^Basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8')
    const i = decoded.indexOf(':')
    presented = i >= 0 && decoded.slice(0, i) === 'admin' ? decoded.slice(i + 1) : ''
    kind = 'basic'
  }
  if (kind && token && presented) {
    const a = createHash('sha256').update(presented).digest()
    const b = createHash('sha256').update(token).digest()
    if (timingSafeEqual(a, b)) return kind
  }
  if (req.user?.role === 'admin' && !req.user.mustChangePassword) return 'session'
  return kind ? 'bad' : 'none'
}

/** An administrator (see adminAuth). */
export const isAdmin = (req: FastifyRequest, token: string | undefined) => ['session', 'bearer', 'basic'].includes(adminAuth(req, token))

/** Whether a browser sent this from a page of this site: Origin (or Sec-Fetch-Site) says so. */
export function sameOrigin(req: FastifyRequest, publicBaseUrl: string): boolean {
  const origin = req.headers.origin
  if (origin && origin !== 'null') {
    try {
      const o = new URL(origin)
      return o.origin === new URL(publicBaseUrl).origin || o.host === req.headers.host
    } catch {
      return false
    }
  }
  return req.headers['sec-fetch-site'] === 'same-origin'
}

/** A request from this machine straight to the process (no proxy header): a local Prometheus. */
function isDirectLocal(req: FastifyRequest): boolean {
  const ip = req.socket.remoteAddress ?? ''
  const local = ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1'
  return local && !req.headers['x-forwarded-for'] && !req.headers.forwarded && !req.headers['x-real-ip']
}

/** Wrong admin credentials per client IP: MAX in WINDOW_MS, then refused until the window ends. */
class GuessLimiter {
  static readonly MAX = 10
  static readonly WINDOW_MS = 10 * 60_000
  private readonly failures = new Map<string, { start: number; n: number }>()
  allowed(ip: string): boolean {
    const f = this.failures.get(ip)
    return !f || Date.now() - f.start >= GuessLimiter.WINDOW_MS || f.n < GuessLimiter.MAX
  }
  /** Records a wrong guess; false once the client is over the limit. */
  fail(ip: string): boolean {
    const now = Date.now()
    let f = this.failures.get(ip)
    if (!f || now - f.start >= GuessLimiter.WINDOW_MS) {
      if (this.failures.size > 10_000) this.failures.clear()
      f = { start: now, n: 0 }
      this.failures.set(ip, f)
    }
    f.n++
    return f.n <= GuessLimiter.MAX
  }
}

function tooManyGuesses(reply: FastifyReply) {
  return reply.code(429).header('retry-after', String(GuessLimiter.WINDOW_MS / 1000)).type('text/plain; charset=utf-8').send('too many wrong admin credentials from this address; try again later\n')
}

function denyAdmin(reply: FastifyReply) {
  return reply.code(401).header('www-authenticate', 'Basic realm="tbt-watch admin", charset="UTF-8"').type('text/plain; charset=utf-8').send('administrators only\n')
}
