import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { Role, User } from '../services/user.service.js'
import { sendPage, T, type Lang } from './layout.js'
import { html } from '../util/html.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in user, or null. Set for every request before any route runs. */
    user: User | null
    /** The UI language: ?lang=, then the lang cookie, then the user's, then TBT_LANG. */
    lang: Lang
  }
}

export const SESSION_COOKIE = 'tbt_session'

/**
 * Where to go after a login or a form: a path of this site, or '/'. Refused: another
 * site in any spelling (`//evil`, `/\\evil`, `/%09/evil`, `/%2F%2Fevil`), control
 * characters, backslashes, and anything that decodes to one of those.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000) return '/'
  let s = next
  // Undo up to three layers of percent-encoding; each layer must be safe on its own, and
  // a fourth layer is refused outright.
  for (let layer = 0; ; layer++) {
    if (!/^\/(?![/\\])/.test(s) || /[\u0000-\u001f\u007f\\]/.test(s)) return '/'
    let decoded: string
    try {
      decoded = decodeURIComponent(s)
    } catch {
      return '/'
    }
    if (decoded === s) break
    if (layer === 3) return '/'
    s = decoded
  }
  try {
    const u = new URL(next, 'http://tbt.invalid')
    if (u.origin !== 'http://tbt.invalid') return '/'
  } catch {
    return '/'
  }
  return next
}

/** Requests from API clients get JSON errors; browsers get pages and redirects. */
export const wantsJson = (req: FastifyRequest) =>
  req.url.startsWith('/api/') || (/application\/json/.test(req.headers.accept ?? '') && !/text\/html/.test(req.headers.accept ?? ''))

/**
 * A preHandler that lets the request through only for a logged-in user with one of the
 * roles. Anonymous browsers go to the login page (and come back); API clients get 401.
 * A user with a one-time password must set a new one first.
 *
 *   app.get('/x', { preHandler: requireRole('admin', 'analyst') }, handler)
 */
export function requireRole(...roles: Role[]): preHandlerAsyncHookHandler {
  return async function (req: FastifyRequest, reply: FastifyReply) {
    const user = req.user
    if (!user) {
      if (wantsJson(req) || req.method !== 'GET') return reply.code(401).send({ error: 'login required' })
      return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`)
    }
    if (user.mustChangePassword) {
      if (wantsJson(req)) return reply.code(403).send({ error: 'set a new password first' })
      return reply.redirect('/account/password')
    }
    if (roles.length && !roles.includes(user.role)) {
      if (wantsJson(req)) return reply.code(403).send({ error: 'forbidden' })
      return sendPage(req, reply, { title: '403', status: 403, body: html`<h2>403</h2><p>${T[req.lang].forbidden}</p>` })
    }
  }
}

/** Roles that work the review queue. */
export const STAFF: Role[] = ['admin', 'analyst']
/** Roles that may read the queue. */
export const READERS: Role[] = ['admin', 'analyst', 'official']
