import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { RoutePlugin } from '../app.js'
import { mailLinks, sendConfirmation, withMailRetries } from '../../services/digest.service.js'
import {
  confirmByToken,
  loadSubscriberPreferences,
  parseEmail,
  requestSubscription,
  savePreferences,
  subscriberByToken,
  SubscriberInputError,
  type Preferences,
} from '../../services/subscriber.service.js'
import { html, type Raw } from '../../util/html.js'
import { first, formFields, formPage, pageCsp, PUBLIC_FORM_BODY_LIMIT } from '../forms.js'
import { blankPreferences, preferencesForm, preferencesFromForm, problemText, T, type Lang } from '../subscription-form.js'

const send = (reply: FastifyReply, code: number, body: string) => reply.code(code).type('text/html; charset=utf-8').send(body)

/**
 * Subscription pages that need no login: a public sign-up form (double opt-in), the
 * confirmation link, and a preferences form reached through the signed link every
 * e-mail carries. Both forms follow the public-form rule of forms.ts (client-bound
 * single-use nonces, per-client limits, bounded input, steady answers); the preferences
 * form also needs the signed, unexpired manage token of the subscriber's current version.
 */
const subscriptionRoutes: RoutePlugin = async (app, { ctx, web }) => {
  const { forms } = web
  const langOf = (q: unknown, fallback?: string): Lang => {
    const l = (q as { lang?: string })?.lang ?? fallback
    return l === 'en' ? 'en' : l === 'zh' ? 'zh' : ctx.config.lang
  }
  // A body too large, of the wrong type, or any other failure: the page with a message, never a bare status.
  const publicError = (title: (t: (typeof T)['zh']) => string) => (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    if (status === 500) ctx.log.error({ err, path: req.routeOptions.url }, 'public form failed')
    const lang = langOf(req.query)
    const t = T[lang]
    const message = status === 413 ? t.tooLarge : status === 500 ? t.failed : t.badForm
    const back = req.routeOptions.url === '/subscribe' ? html`<p><a href="${signupAction(lang)}">${t.signup}</a></p>` : ''
    return send(reply, status, formPage(lang, title(t), html`<p class="err">${message}</p>${back}`))
  }
  // These forms carry their own CSRF defence (the public-form rule): they work without the
  // session cookie the app's CSRF needs.
  const own = { config: { csrf: false }, onSend: pageCsp, bodyLimit: PUBLIC_FORM_BODY_LIMIT }
  const page = { onSend: pageCsp }
  const signupAction = (lang: Lang) => `/subscribe${lang === 'en' ? '?lang=en' : ''}`

  const form = (lang: Lang, action: string, p: Preferences, hidden: Record<string, string>, opts: { email?: string; submit: string; message?: Raw }) => preferencesForm(ctx, lang, action, p, hidden, opts)
  const fromForm = (f: Map<string, string[]>, role: Preferences['role']) => preferencesFromForm(ctx, f, role)
  const blank = blankPreferences
  const err = (m: string) => html`<p class="err">${m}</p>`

  app.get<{ Querystring: { lang?: string } }>('/subscribe', page, async (req, reply) => {
    const lang = langOf(req.query)
    const t = T[lang]
    return send(reply, 200, formPage(lang, t.signup, form(lang, signupAction(lang), blank(lang), { nonce: forms.nonce(req, reply, 'subscribe') }, { email: '', submit: t.submit })))
  })

  app.post<{ Querystring: { lang?: string } }>('/subscribe', { ...own, errorHandler: publicError((t) => t.signup) }, async (req, reply) => {
    const f = formFields(req.body)
    const lang = langOf(req.query, first(f, 'lang'))
    const t = T[lang]
    const again = (code: number, message: Raw, p: Preferences = blank(lang)) =>
      send(reply, code, formPage(lang, t.signup, form(lang, signupAction(lang), p, { nonce: forms.nonce(req, reply, 'subscribe') }, { email: first(f, 'email').slice(0, 254), submit: t.submit, message })))
    let prefs: Preferences
    let email: string
    try {
      email = parseEmail(first(f, 'email'))
      prefs = fromForm(f, 'enterprise')
    } catch (e) {
      if (e instanceof SubscriberInputError) return again(400, err(problemText(lang, e.problem)))
      throw e
    }
    const verdict = await forms.accept(req, 'subscribe', first(f, 'nonce'))
    if (verdict === 'too-many') return again(429, err(t.tooMany), prefs)
    if (verdict === 'expired') return again(403, err(t.expired), prefs)
    // The same page, after the same time, whatever the address: new, pending, active,
    // unsubscribed or over its daily requests. Nothing here changes an existing
    // subscriber; the confirmation link applies these choices.
    await forms.steady(async () => {
      const r = await requestSubscription(ctx, email, prefs)
      if (r.outcome === 'requested') await withMailRetries(ctx, () => sendConfirmation(ctx, r.subscriberId, r.requestId))
    })
    return send(reply, 200, formPage(lang, t.signup, html`<p class="ok">${t.checkMail}</p>`))
  })

  app.get<{ Querystring: { token?: string; lang?: string } }>('/subscribe/confirm', page, async (req, reply) => {
    const r = await confirmByToken(ctx, req.query.token)
    const lang = langOf(req.query, r?.lang)
    const t = T[lang]
    if (!r) return send(reply, 400, formPage(lang, t.signup, err(t.badLink)))
    const links = mailLinks(ctx, r)
    return send(reply, 200, formPage(lang, t.signup, html`<p class="ok">${t.confirmed}</p><p><a href="${links.manageUrl}">${t.manageLink}</a></p>`))
  })

  const manageForm = (req: FastifyRequest, reply: FastifyReply, lang: Lang, token: string, sub: { id: number; token_version: number; email: string }, p: Preferences, unsubscribed: boolean, message?: Raw) => {
    const t = T[lang]
    const links = mailLinks(ctx, sub)
    const note = unsubscribed ? html`<p class="err">${t.unsubscribed}</p>` : ''
    return formPage(lang, t.manage, html`<p id="managed-address">${t.address(sub.email)}</p>${note}${form(lang, `/subscriptions${lang === 'en' ? '?lang=en' : ''}`, p, { token, nonce: forms.nonce(req, reply, 'manage', String(sub.id)) }, { submit: t.save, message })}
<p class="muted"><a href="${links.unsubscribeUrl}">${t.unsub}</a></p>`)
  }

  app.get<{ Querystring: { token?: string; lang?: string } }>('/subscriptions', page, async (req, reply) => {
    const sub = await subscriberByToken(ctx, 'manage', req.query.token)
    const loaded = sub ? await loadSubscriberPreferences(ctx, sub.id) : null
    const lang = langOf(req.query, loaded?.sub.lang)
    if (!loaded) return send(reply, 400, formPage(lang, T[lang].manage, err(T[lang].badLink)))
    return send(reply, 200, manageForm(req, reply, lang, req.query.token!, loaded.sub, loaded.prefs, !!loaded.sub.unsubscribed_at))
  })

  app.post<{ Querystring: { lang?: string } }>('/subscriptions', { ...own, errorHandler: publicError((t) => t.manage) }, async (req, reply) => {
    const f = formFields(req.body)
    const token = first(f, 'token')
    const sub = await subscriberByToken(ctx, 'manage', token)
    const loaded = sub ? await loadSubscriberPreferences(ctx, sub.id) : null
    const lang = langOf(req.query, loaded?.sub.lang)
    const t = T[lang]
    if (!loaded) return send(reply, 400, formPage(lang, t.manage, err(t.badLink)))
    const unsub = !!loaded.sub.unsubscribed_at
    const verdict = await forms.accept(req, 'manage', first(f, 'nonce'), String(loaded.sub.id))
    if (verdict !== 'ok') return send(reply, verdict === 'too-many' ? 429 : 403, manageForm(req, reply, lang, token, loaded.sub, loaded.prefs, unsub, err(verdict === 'too-many' ? t.tooMany : t.expired)))
    let prefs: Preferences
    try {
      prefs = fromForm(f, loaded.prefs.role)
    } catch (e) {
      if (e instanceof SubscriberInputError) return send(reply, 400, manageForm(req, reply, lang, token, loaded.sub, loaded.prefs, unsub, err(problemText(lang, e.problem))))
      throw e
    }
    await savePreferences(ctx, loaded.sub.id, prefs)
    const after = langOf({ lang: prefs.lang })
    return send(reply, 200, manageForm(req, reply, after, token, loaded.sub, prefs, unsub, html`<p class="ok">${T[after].saved}</p>`))
  })
}

export default subscriptionRoutes
