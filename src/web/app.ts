import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import fastifyRateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import type { AppContext } from '../app-context.js'
import { loggableUrl } from '../logger.js'
import { sessionUser } from '../services/user.service.js'
import { esc, html } from '../util/html.js'
import { safeNext, SESSION_COOKIE, wantsJson } from './auth.js'
import { BadRequestError, checkInput } from './errors.js'
import { PublicForms, type PublicFormOptions } from './forms.js'
import { sendPage, T, type Lang } from './layout.js'

export { requireRole, STAFF, READERS } from './auth.js'

// No inline script or style anywhere: the UI's one script and stylesheet are same-origin files.
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

export interface WebOptions {
  /** Log each request (method, path without its query, status, time) through ctx.log; default true (false: the app logs nothing through Fastify). */
  logger?: boolean
  /** login attempts allowed per client IP and minute */
  loginAttemptsPerMinute?: number
  /** The public forms' limits (sign-up, preferences): see forms.ts. */
  publicForms?: PublicFormOptions
}

/** Options every route plugin in src/web/routes/ receives. */
export interface RouteOptions {
  ctx: AppContext
  web: Required<Pick<WebOptions, 'loginAttemptsPerMinute'>> & { forms: PublicForms }
}
export type RoutePlugin = FastifyPluginAsync<RouteOptions>

declare module 'fastify' {
  interface FastifyInstance {
    /** Resolves when the work public forms still run after answering (a confirmation e-mail) is done. */
    publicFormsSettled(): Promise<void>
  }
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
  // Requests are logged through the app's logger (which redacts tokens and addresses) by
  // path only: the query string is where signed tokens travel.
  const loggerInstance = ctx.log.child(
    { component: 'web' },
    {
      ...(opts.logger === false ? { level: 'silent' } : {}),
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: loggableUrl(req.url ?? ''), remoteAddress: req.ip }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
  )
  const app = Fastify({ loggerInstance: loggerInstance as FastifyBaseLogger, trustProxy: false }) as unknown as FastifyInstance
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

  // Input every route may rely on: printable query values and path parameters, no NUL in
  // a body (PostgreSQL text cannot hold one): otherwise 400 with a message.
  app.addHook('preHandler', async (req) => {
    const bad = checkInput(req.query, req.params, req.body)
    if (bad) throw bad
  })

  // CSRF on every state-changing request, whatever plugin defines the route.
  app.addHook('preHandler', (req, reply, done) => {
    if (!STATE_CHANGING.has(req.method) || req.routeOptions.config?.csrf === false) return done()
    app.csrfProtection(req, reply, done)
  })

  app.addHook('onSend', async (_req, reply, payload) => {
    // A route may set a policy of its own first (e-mail-like pages styled inline).
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CSP)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('x-frame-options', 'DENY')
    reply.header('referrer-policy', 'same-origin')
    reply.header('cross-origin-opener-policy', 'same-origin')
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    // Served over https (PUBLIC_BASE_URL): browsers must never fall back to http.
    if (secure) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains')
    return payload
  })

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) ctx.log.error({ err, method: req.method, url: loggableUrl(req.url) }, 'web request failed')
    const lang: Lang = req.lang ?? ctx.config.lang
    const t = T[lang]
    const message =
      err instanceof BadRequestError
        ? err.messages[lang]
        : status === 429
          ? t.tooMany
          : err.code?.startsWith('FST_CSRF')
            ? t.csrf
            : status === 404
              ? t.notFound
              : status === 413
                ? TOO_LARGE[lang]
                : status >= 500
                  ? INTERNAL[lang]
                  : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || /^FST_ERR_CTP|^FST_ERR_VALIDATION/.test(err.code ?? '')
                    ? BAD_BODY[lang]
                    : err.message
    if (wantsJson(req)) return reply.code(status).send({ error: message, code: err.code, ...(err instanceof BadRequestError && err.param ? { param: err.param } : {}) })
    // A bad query string: offer the same page without it.
    const back = err instanceof BadRequestError && req.method === 'GET' ? html`<p><a href="${safeNext(req.url.split('?')[0])}">${lang === 'zh' ? '去掉这些参数重新打开' : 'Open it without these parameters'}</a></p>` : ''
    return sendPage(req, reply, { title: String(status), status, body: html`<h2>${status}</h2><p>${message}</p>${back}` })
  })
  app.setNotFoundHandler((req, reply) => {
    if (wantsJson(req)) return reply.code(404).send({ error: 'not found' })
    return sendPage(req, reply, { title: '404', status: 404, body: html`<h2>404</h2><p>${T[req.lang].notFound}</p>` })
  })

  // The public forms' rule (forms.ts), one per app: work a form still runs after its answer
  // finishes before the app closes; app.publicFormsSettled() waits for it (tests, shutdown).
  const forms = new PublicForms(ctx, opts.publicForms)
  app.addHook('onClose', async () => forms.drain())
  app.decorate('publicFormsSettled', () => forms.drain())
  const routeOpts: RouteOptions = { ctx, web: { loginAttemptsPerMinute: opts.loginAttemptsPerMinute ?? 10, forms } }
  for (const file of routeFiles()) {
    const mod = (await import(pathToFileURL(path.join(ROUTES_DIR, file)).href)) as { default?: RoutePlugin }
    if (typeof mod.default !== 'function') throw new Error(`src/web/routes/${file} has no default export (a Fastify plugin)`)
    await app.register(mod.default, routeOpts)
  }
  // A plugin (metrics, health checks) may define its own /healthz; this is the fallback.
  if (!app.hasRoute({ method: 'GET', url: '/healthz' })) app.get('/healthz', async () => ({ ok: true }))
  return app
}

const TOO_LARGE: Record<Lang, string> = { zh: '提交的内容过长，请删减后重试。', en: 'What you sent is too large; shorten it and try again.' }
const INTERNAL: Record<Lang, string> = { zh: '服务器内部错误，请稍后再试。', en: 'Internal error; please try again later.' }
const BAD_BODY: Record<Lang, string> = { zh: '请求内容的格式无法识别。', en: 'The request body is not in a format this page accepts.' }

function routeFiles(): string[] {
  return fs
    .readdirSync(ROUTES_DIR)
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !/\.(d|test)\.ts$/.test(f))
    .sort()
}

export { esc }
