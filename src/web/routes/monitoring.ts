import { timingSafeEqual } from 'node:crypto'
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

  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {}
    checks.database = await withTimeout(sql`select 1`.execute(ctx.db)).then(
      () => 'ok',
      (err: Error) => `failed: ${err.message}`,
    )
    checks.redis = redis
      ? await withTimeout(redis.ping()).then(
          () => 'ok',
          (err: Error) => `failed: ${err.message}`,
        )
      : 'not configured'
    const ok = Object.values(checks).every((c) => c === 'ok' || c === 'not configured')
    reply.code(ok ? 200 : 503).send({ ok, checks })
  })

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics()
    reply.type(metrics.registry.contentType).send(text)
  })

  // The dashboard and its API: admins only.
  await app.register(async (admin) => {
    // bull-board's own buttons (retry, clean, pause) send no CSRF token. They are
    // admin-only, and the session cookie is SameSite, so a cross-site form cannot ride it.
    admin.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), csrf: false }
    })
    admin.addHook('onRequest', async (req, reply) => {
      if (!isAdmin(req, ctx.config.adminToken)) return denyAdmin(reply)
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

/**
 * An administrator: a signed-in user with the admin role (the session of app.ts), or,
 * for operators' scripts and Prometheus-style tooling, the TBT_ADMIN_TOKEN as a bearer
 * token or as the password of user `admin` (so a browser's Basic-auth prompt works too).
 */
export function isAdmin(req: FastifyRequest, token: string | undefined): boolean {
  if (req.user?.role === 'admin' && !req.user.mustChangePassword) return true
  if (!token) return false
  const auth = req.headers.authorization ?? ''
  let presented: string | undefined
  if (auth.startsWith('Bearer ')) presented = auth.slice(7).trim()
  else if (auth.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8')
    const i = decoded.indexOf(':')
    if (i >= 0 && decoded.slice(0, i) === 'admin') presented = decoded.slice(i + 1)
  }
  if (!presented) return false
  const a = Buffer.from(presented)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function denyAdmin(reply: FastifyReply) {
  return reply.code(401).header('www-authenticate', 'Basic realm="tbt-watch admin", charset="UTF-8"').type('text/plain; charset=utf-8').send('administrators only\n')
}
