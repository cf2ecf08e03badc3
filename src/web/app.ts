import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import fastifyRateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import type { AppContext } from '../app-context.js'
import { sessionUser } from '../services/user.service.js'
import { esc, html } from '../util/html.js'
import { SESSION_COOKIE, wantsJson } from './auth.js'
import { sendPage, T, type Lang } from './layout.js'

export { requireRole, STAFF, READERS } from './auth.js'

// No inline script or style anywhere: the UI's one script and stylesheet are same-origin files.
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

export interface WebOptions {
  logger?: boolean
  /** login attempts allowed per client IP and minute */
  loginAttemptsPerMinute?: number
}

/** Options every route plugin in src/web/routes/ receives. */
export interface RouteOptions {
  ctx: AppContext
  web: Required<Pick<WebOptions, 'loginAttemptsPerMinute'>>
}
export type RoutePlugin = FastifyPluginAsync<RouteOptions>

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route takes state-changing requests without a CSRF token (RFC 8058 one-click). */
    csrf?: boolean
  }
}

const ROUTES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'routes')
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * The web app as a Fastify instance; server.ts only listens. Every file in
 * src/web/routes/ is a route plugin (default export) registered here in name order:
 * drop a file there to add routes. See src/web/README.md.
 */
export async function buildApp(ctx: AppContext, opts: WebOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false, trustProxy: false })
  const secure = ctx.config.publicBaseUrl.startsWith('https:')

  await app.register(fastifyCookie, { secret: ctx.config.secret })
  await app.register(fastifyFormbody)
  await app.register(fastifyCsrf, { cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, signed: true, secure } })
  await app.register(fastifyRateLimit, { global: false })

  app.decorateRequest('user', null)
  app.decorateRequest('lang', 'zh')

  app.addHook('onRequest', async (req, reply) => {
    const cookie = req.cookies[SESSION_COOKIE]
    if (cookie) {
      const unsigned = req.unsignCookie(cookie)
      req.user = unsigned.valid && unsigned.value ? ((await sessionUser(ctx.db, unsigned.value, ctx.clock())) ?? null) : null
    }
    const asked = (req.query as { lang?: string } | undefined)?.lang
    if (asked === 'zh' || asked === 'en') {
      req.lang = asked
      reply.setCookie('tbt_lang', asked, { path: '/', sameSite: 'lax', httpOnly: true, secure, maxAge: 365 * 86400 })
    } else {
      const c = req.cookies.tbt_lang
      req.lang = c === 'zh' || c === 'en' ? c : (req.user?.lang ?? ctx.config.lang)
    }
  })

  // CSRF on every state-changing request, whatever plugin defines the route.
  app.addHook('preHandler', (req, reply, done) => {
    if (!STATE_CHANGING.has(req.method) || req.routeOptions.config?.csrf === false) return done()
    app.csrfProtection(req, reply, done)
  })

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('x-frame-options', 'DENY')
    reply.header('referrer-policy', 'same-origin')
    reply.header('cross-origin-opener-policy', 'same-origin')
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    return payload
  })

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500
    if (status >= 500) ctx.log.error({ err, url: req.url }, 'web request failed')
    const t = T[req.lang ?? ctx.config.lang]
    const message =
      status === 429 ? t.tooMany : err.code?.startsWith('FST_CSRF') ? t.csrf : status === 404 ? t.notFound : status >= 500 ? 'internal error' : err.message
    if (wantsJson(req)) return reply.code(status).send({ error: message, code: err.code })
    return sendPage(req, reply, { title: String(status), status, body: html`<h2>${status}</h2><p>${message}</p>` })
  })
  app.setNotFoundHandler((req, reply) => {
    if (wantsJson(req)) return reply.code(404).send({ error: 'not found' })
    return sendPage(req, reply, { title: '404', status: 404, body: html`<h2>404</h2><p>${T[req.lang].notFound}</p>` })
  })

  const routeOpts: RouteOptions = { ctx, web: { loginAttemptsPerMinute: opts.loginAttemptsPerMinute ?? 10 } }
  for (const file of routeFiles()) {
    const mod = (await import(pathToFileURL(path.join(ROUTES_DIR, file)).href)) as { default?: RoutePlugin }
    if (typeof mod.default !== 'function') throw new Error(`src/web/routes/${file} has no default export (a Fastify plugin)`)
    await app.register(mod.default, routeOpts)
  }
  // A plugin (metrics, health checks) may define its own /healthz; this is the fallback.
  if (!app.hasRoute({ method: 'GET', url: '/healthz' })) app.get('/healthz', async () => ({ ok: true }))
  return app
}

function routeFiles(): string[] {
  return fs
    .readdirSync(ROUTES_DIR)
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !/\.(d|test)\.ts$/.test(f))
    .sort()
}

export { esc }
