import { z } from 'zod'
import type { RoutePlugin } from '../app.js'
import { changePassword, createSession, endSession, login, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, SESSION_TTL_MS, UserError, type PasswordWeakness } from '../../services/user.service.js'
import { html } from '../../util/html.js'
import { requireRole, safeNext, SESSION_COOKIE, wantsJson } from '../auth.js'
import { sendPage, T, type Lang } from '../layout.js'

export { safeNext }

/** Words of the account pages not in layout.ts. */
const A: Record<Lang, { current: string; wrongCurrent: string; locked: (min: number) => string; weak: Record<PasswordWeakness, string> }> = {
  zh: {
    current: '当前密码',
    wrongCurrent: '当前密码不正确。',
    locked: (min) => `此账号登录失败次数过多，已暂时锁定，请约 ${min} 分钟后再试。`,
    weak: {
      short: `密码至少需要 ${MIN_PASSWORD_LENGTH} 个字符。`,
      long: `密码最多 ${MAX_PASSWORD_LENGTH} 个字符。`,
      common: '这是常见密码（或与当前密码相同），请换一个。',
      email: '密码不能是邮箱地址。',
      repetitive: '密码不能只重复一两个字符。',
    },
  },
  en: {
    current: 'Current password',
    wrongCurrent: 'The current password is not correct.',
    locked: (min) => `Too many failed logins for this account: it is locked for about ${min} minutes.`,
    weak: {
      short: `A password needs at least ${MIN_PASSWORD_LENGTH} characters.`,
      long: `A password takes ${MAX_PASSWORD_LENGTH} characters at most.`,
      common: 'This is a common password (or the current one): choose another.',
      email: 'A password must not be the e-mail address.',
      repetitive: 'A password must not repeat one or two characters.',
    },
  },
}

const LoginBody = z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024), next: z.string().optional() })

const authRoutes: RoutePlugin = async (app, { ctx, web }) => {
  const secure = ctx.config.publicBaseUrl.startsWith('https:')

  const loginPage = (req: Parameters<typeof sendPage>[0], reply: Parameters<typeof sendPage>[1], next: string, error?: string, status = 200) => {
    const t = T[req.lang]
    return sendPage(req, reply, {
      title: t.login,
      status,
      body: html`<section class="narrow"><h2>${t.login}</h2>${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/login" class="stack">
<input type="hidden" name="_csrf" value="${reply.generateCsrf()}"><input type="hidden" name="next" value="${next}">
<label>${t.email}<input type="email" name="email" autocomplete="username" required autofocus></label>
<label>${t.password}<input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">${t.login}</button></form></section>`,
    })
  }

  app.get<{ Querystring: { next?: string } }>('/login', async (req, reply) => loginPage(req, reply, safeNext(req.query.next)))

  app.post(
    '/login',
    { config: { rateLimit: { max: web.loginAttemptsPerMinute, timeWindow: '1 minute' } } },
    async (req, reply) => {
      const body = LoginBody.safeParse(req.body)
      const next = safeNext(body.success ? body.data.next : undefined)
      const result = body.success ? await login(ctx.db, body.data.email, body.data.password, ctx.clock()) : ({ ok: false, reason: 'wrong' } as const)
      if (!result.ok) {
        if (result.reason === 'locked') {
          const message = A[req.lang].locked(Math.ceil(result.retryAfterS / 60))
          reply.header('retry-after', String(result.retryAfterS))
          if (wantsJson(req)) return reply.code(429).send({ error: message })
          return loginPage(req, reply, next, message, 429)
        }
        if (wantsJson(req)) return reply.code(401).send({ error: 'wrong e-mail or password' })
        return loginPage(req, reply, next, T[req.lang].badLogin, 401)
      }
      const user = result.user
      const old = req.cookies[SESSION_COOKIE] && req.unsignCookie(req.cookies[SESSION_COOKIE]!)
      if (old && old.valid && old.value) await endSession(ctx.db, old.value)
      const sid = await createSession(ctx.db, user.id, ctx.clock())
      reply.setCookie(SESSION_COOKIE, sid, { path: '/', httpOnly: true, sameSite: 'lax', secure, signed: true, maxAge: SESSION_TTL_MS / 1000 })
      ctx.log.info({ userId: user.id, role: user.role }, 'login')
      if (wantsJson(req)) return reply.send({ ok: true, user: { id: user.id, email: user.email, role: user.role } })
      return reply.redirect(user.mustChangePassword ? '/account/password' : next, 303)
    },
  )

  app.post('/logout', async (req, reply) => {
    const c = req.cookies[SESSION_COOKIE]
    const u = c ? req.unsignCookie(c) : undefined
    if (u?.valid && u.value) await endSession(ctx.db, u.value)
    reply.clearCookie(SESSION_COOKIE, { path: '/' })
    return reply.redirect('/login', 303)
  })

  const passwordPage = (req: Parameters<typeof sendPage>[0], reply: Parameters<typeof sendPage>[1], error?: string, status = 200) => {
    const t = T[req.lang]
    return sendPage(req, reply, {
      title: t.changePassword,
      status,
      body: html`<section class="narrow"><h2>${t.changePassword}</h2>${req.user?.mustChangePassword ? html`<p>${t.mustChange}</p>` : ''}
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/account/password" class="stack"><input type="hidden" name="_csrf" value="${reply.generateCsrf()}">
<label>${A[req.lang].current}<input type="password" name="current" autocomplete="current-password" required></label>
<label>${t.newPassword}<input type="password" name="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" maxlength="${MAX_PASSWORD_LENGTH}" required></label>
<button type="submit">${t.save}</button></form></section>`,
    })
  }
  // Reachable with a one-time password (requireRole would send the user back here).
  const loggedIn = async (req: Parameters<typeof sendPage>[0], reply: Parameters<typeof sendPage>[1]) => {
    if (!req.user) return reply.redirect('/login?next=/account/password')
  }
  app.get('/account/password', { preHandler: loggedIn }, async (req, reply) => passwordPage(req, reply))
  app.post('/account/password', { preHandler: loggedIn }, async (req, reply) => {
    const b = (req.body ?? {}) as { password?: unknown; current?: unknown }
    const str = (v: unknown) => (typeof v === 'string' ? v : '')
    try {
      await changePassword(ctx.db, req.user!.id, str(b.current), str(b.password))
    } catch (err) {
      if (err instanceof UserError && err.code === 'PASSWORD_WRONG') return passwordPage(req, reply, A[req.lang].wrongCurrent, 400)
      if (err instanceof UserError && err.reason) return passwordPage(req, reply, A[req.lang].weak[err.reason], 400)
      if (err instanceof UserError) return passwordPage(req, reply, err.message, 400)
      throw err
    }
    // The change ended every session (other browsers, a stolen cookie): start a fresh one for this browser.
    const sid = await createSession(ctx.db, req.user!.id, ctx.clock())
    reply.setCookie(SESSION_COOKIE, sid, { path: '/', httpOnly: true, sameSite: 'lax', secure, signed: true, maxAge: SESSION_TTL_MS / 1000 })
    return reply.redirect('/', 303)
  })

  app.get('/api/me', { preHandler: requireRole() }, async (req) => ({ user: req.user }))
  app.get('/api/csrf', async (_req, reply) => ({ token: reply.generateCsrf() }))
}

export default authRoutes
