import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { RoutePlugin } from '../app.js'
import type { AppContext } from '../../app-context.js'
import type { SubscriberRow } from '../../db/schema.js'
import { W, STATUS_LABEL, type Lang } from '../../comments/words.js'
import { daysBetween, localDay } from '../../domain/dates.js'
import { matchWarnings } from '../../digest/match.js'
import { loadCatalog } from '../../services/digest.service.js'
import { CommentStateError, feedbackByEnterprise, feedbackOf, FeedbackInputError, saveFeedback, validateFeedback, windowOf, type Enterprise } from '../../services/comment.service.js'
import { addSubscriber, loadSubscriberPreferences, savePreferences, subscriberByEmail, SubscriberInputError, warningLinkTarget, type Preferences } from '../../services/subscriber.service.js'
import { getWarning, isPublished, mergedInto, type WarningDetail } from '../../services/warning.service.js'
import { html, type Raw } from '../../util/html.js'
import { requireRole } from '../auth.js'
import { enterpriseCategories, enterpriseWarning, feedbackFromForm, type Interest, feedbackProblemText, feedbackSection, feedbackValues } from '../enterprise-view.js'
import { formFields } from '../forms.js'
import { levelBadge, sendPage, T } from '../layout.js'
import { blankPreferences, preferencesForm, preferencesFromForm, problemText } from '../subscription-form.js'

/** Largest feedback body (bytes): every field at its limit in Chinese (3 bytes a character) fits. */
export const FEEDBACK_BODY_LIMIT = 160 * 1024
const FEED_MAX = 200


/**
 * The enterprise's pages: its home (`/me`: the published warnings its subscription
 * matches, the measures it commented on, its settings) and a warning with the feedback
 * form (`/me/warnings/:id`), for a logged-in enterprise or anyone holding the warning's
 * signed e-mail link (`?token=`; read-only what an enterprise may see, no login).
 */
const enterpriseRoutes: RoutePlugin = async (app, { ctx, web }) => {
  const { forms } = web
  const enterpriseOnly = requireRole('enterprise')

  async function homeBody(req: FastifyRequest, reply: FastifyReply, message?: Raw, formPrefs?: Preferences): Promise<Raw> {
    const lang = req.lang
    const t = T[lang]
    const c = W[lang]
    const email = req.user!.email
    const sub = await subscriberByEmail(ctx, email)
    const loaded = sub ? await loadSubscriberPreferences(ctx, sub.id) : null
    const prefs = loaded?.prefs
    // The feed follows the saved preferences (also while e-mails are paused); none saved: nothing matches yet.
    const catalog = prefs ? await loadCatalog(ctx, { audience: 'enterprise', minLevel: prefs.minLevel }) : []
    const matches = prefs ? matchWarnings(catalog, prefs).sort((a, b) => b.warning.createdAt.localeCompare(a.warning.createdAt) || b.warning.id - a.warning.id).slice(0, FEED_MAX) : []
    const name = (x: { zh: string; en: string }) => (lang === 'zh' ? x.zh : x.en)
    const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
    const feed = matches.length
      ? html`<table class="feed"><thead><tr><th>${c.level}</th><th>${c.market}</th><th>${c.measure}</th><th>${t.products}</th><th>${c.deadline}</th><th>${c.daysLeft}</th></tr></thead><tbody>
${matches.map(({ warning: w }) => {
  const hs = prefs!.hs.length ? w.hsCodes.filter((h) => prefs!.hs.some((p) => h.startsWith(p) || p.startsWith(h))) : []
  const days = w.commentDeadline ? daysBetween(today, w.commentDeadline) : null
  return html`<tr data-warning="${w.id}"><td>${levelBadge(t, w.level)}</td><td>${w.markets.map(name).join(lang === 'zh' ? '、' : ', ') || '—'}</td>
<td class="m"><a href="/me/warnings/${w.id}" class="key">${w.symbols[0] ?? w.measureKey}</a><div class="title">${w.title}</div></td>
<td>${enterpriseCategories(w.categories, prefs, ctx.categoryIndex).map((x) => html`<span class="chip">${name(x)}</span>`)}${hs.length ? html`<div class="hint">HS ${hs.slice(0, 6).join(', ')}</div>` : ''}</td>
<td class="nowrap"><span class="m-label">${c.deadline}${t.colon}</span>${w.commentDeadline ?? '—'}</td><td class="nowrap">${days === null ? '—' : t.daysLeft(days)}</td></tr>`
})}</tbody></table>`
      : html`<p class="hint" id="feed-empty">${prefs ? c.feedEmpty : c.noSubscription}</p>`
    const mine = await feedbackByEnterprise(ctx, email)
    const commented = mine.length
      ? html`<ul class="commented">${mine.map((m) => html`<li>${m.warningId ? html`<a href="/me/warnings/${m.warningId}#feedback" class="key">${m.measureKey}</a>` : html`<span class="key">${m.measureKey}</span>`} ${m.title ?? ''} · ${c.status}${t.colon}${STATUS_LABEL[lang][m.commentStatus ?? 'none']}${m.commentDeadline ? html` · ${c.deadline}${t.colon}${m.commentDeadline}` : ''}</li>`)}</ul>`
      : html`<p class="hint">${c.myCommentsEmpty}</p>`
    const p = formPrefs ?? prefs ?? blankPreferences(lang)
    const note = !sub || !prefs ? html`<p class="hint">${c.noSubscription}</p>` : sub.unsubscribed_at ? html`<p class="hint">${c.unsubscribedNote}</p>` : ''
    const settings = html`<details id="settings"${message ? html` open` : ''}><summary>${c.settings}</summary><p id="managed-address">${c.settingsIntro(email)}</p>${note}
${preferencesForm(ctx, lang, '/me/settings', p, { _csrf: reply.generateCsrf() }, { submit: t.save, message })}</details>`
    return html`<h2>${c.home}</h2><section><h3>${c.feed}</h3>${feed}</section><section><h3>${c.myComments}</h3>${commented}</section><section>${settings}</section>`
  }

  app.get('/me', { preHandler: enterpriseOnly }, async (req, reply) => sendPage(req, reply, { title: W[req.lang].home, body: await homeBody(req, reply) }))

  app.post('/me/settings', { preHandler: enterpriseOnly, bodyLimit: 64 * 1024 }, async (req, reply) => {
    const lang = req.lang
    const f = formFields(req.body)
    let prefs: Preferences
    try {
      prefs = preferencesFromForm(ctx, f, 'enterprise')
    } catch (e) {
      if (!(e instanceof SubscriberInputError)) throw e
      return sendPage(req, reply, { title: W[lang].home, status: 400, body: await homeBody(req, reply, html`<p class="err">${problemText(lang, e.problem)}</p>`) })
    }
    // The account's address is known (the user logged in with it): no double opt-in.
    const sub = await subscriberByEmail(ctx, req.user!.email)
    if (sub) {
      await savePreferences(ctx, sub.id, prefs)
      const now = ctx.clock().toISOString()
      if (!sub.confirmed_at || sub.unsubscribed_at) await ctx.db.updateTable('subscriber').set({ confirmed_at: sub.confirmed_at ?? now, unsubscribed_at: null }).where('id', '=', sub.id).execute()
    } else await addSubscriber(ctx, req.user!.email, prefs, { confirmed: true })
    return sendPage(req, reply, { title: W[lang].home, body: await homeBody(req, reply, html`<p class="ok" id="settings-saved">${W[lang].settingsSaved}</p>`) })
  })

  // ---------------------------------------------------------------------------------
  // A warning with the feedback form.

  interface Viewer {
    who: Enterprise
    /** null: logged in; else the e-mail link's subscriber and token. */
    link: { sub: SubscriberRow; token: string } | null
    lang: Lang
    interest: Interest | null
  }

  /** Who is looking (a logged-in enterprise or a valid e-mail link), or an answer already sent. */
  async function viewer(req: FastifyRequest<{ Params: { id: string }; Querystring: { token?: string; lang?: string } }>, reply: FastifyReply, id: number): Promise<Viewer | null> {
    const token = req.query.token
    if (token !== undefined) {
      const sub = await warningLinkTarget(ctx, token, id)
      const lang: Lang = req.query.lang === 'en' || req.query.lang === 'zh' ? req.query.lang : sub?.lang === 'en' ? 'en' : sub?.lang === 'zh' ? 'zh' : ctx.config.lang
      if (!sub) {
        req.lang = lang
        sendPage(req, reply, { title: W[lang].feedback, status: 400, body: html`<p class="err" id="bad-link">${W[lang].badLink}</p><p><a href="/login">${T[lang].login}</a></p>` })
        return null
      }
      const prefs = await loadSubscriberPreferences(ctx, sub.id)
      return { who: { email: sub.email, subscriberId: sub.id }, link: { sub, token }, lang, interest: prefs?.prefs ?? null }
    }
    await enterpriseOnly.call(app, req, reply)
    if (reply.sent) return null
    const sub = await subscriberByEmail(ctx, req.user!.email)
    const prefs = sub ? await loadSubscriberPreferences(ctx, sub.id) : null
    return { who: { email: req.user!.email, userId: req.user!.id, subscriberId: sub?.id ?? null }, link: null, lang: req.lang, interest: prefs?.prefs ?? null }
  }

  async function published(reply: FastifyReply, id: number): Promise<WarningDetail | null> {
    const w = Number.isSafeInteger(id) && id > 0 ? await getWarning(ctx, id) : undefined
    if (!w && Number.isSafeInteger(id) && id > 0) {
      const into = await mergedInto(ctx.db, id)
      if (into) {
        // The token names the old warning: the merged one is shown under its own id only after a login.
        reply.redirect(`/warnings/${into}`, 301)
        return null
      }
    }
    if (!w || !isPublished(ctx, w)) {
      reply.callNotFound()
      return null
    }
    return w
  }

  async function render(req: FastifyRequest, reply: FastifyReply, v: Viewer, w: WarningDetail, extra: { status?: number; values?: ReturnType<typeof feedbackFromForm>; saved?: boolean; message?: Raw } = {}) {
    const lang = v.lang
    const win = await windowOf(ctx, w.measureId)
    const own = await feedbackOf(ctx, w.measureId, v.who.email)
    const scope = v.link ? `s${v.link.sub.id}.w${w.id}` : `u${v.who.userId}.w${w.id}`
    // The answer opens at the form (its message), not at the top of a long page.
    const action = `/me/warnings/${w.id}/feedback${v.link ? `?token=${encodeURIComponent(v.link.token)}${lang === 'en' ? '&lang=en' : ''}` : ''}#feedback`
    const offered = [...ctx.markets.filter((m) => m.watched), ...w.members.map((m) => ctx.markets.find((x) => x.members.includes(m.code))).filter((m): m is (typeof ctx.markets)[number] => !!m)]
    const markets = offered.filter((m, i) => offered.findIndex((x) => x.code === m.code) === i)
    const section = feedbackSection(
      lang,
      { action, hidden: { nonce: forms.nonce(req, reply, 'feedback', scope) }, window: win, values: extra.values ?? (own ? feedbackValues(own) : null), saved: !!extra.saved, message: extra.message, markets },
      own,
    )
    const jump = win.open ? html`<a href="#feedback" id="to-feedback">${W[lang].open}</a>` : ''
    const body = html`<p>${v.link ? '' : html`<a href="/me">${W[lang].home}</a> · `}${jump}</p>${enterpriseWarning(ctx, lang, w, v.interest, win.internalDeadline)}${section}`
    req.lang = lang
    return sendPage(req, reply, { title: w.measureKey, status: extra.status, body })
  }

  type RG = { Params: { id: string }; Querystring: { token?: string; lang?: string } }
  app.get<RG>('/me/warnings/:id', async (req, reply) => {
    const id = Number(req.params.id)
    const v = await viewer(req, reply, id)
    if (!v) return reply
    const w = await published(reply, id)
    if (!w) return reply
    return render(req, reply, v, w)
  })

  // The form carries its own CSRF defence (the public-form rule of forms.ts: a client-bound
  // single-use nonce), for both the logged-in enterprise and the e-mail link, which has no session.
  const feedbackError = (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    if (status === 500) ctx.log.error({ err, path: req.routeOptions.url }, 'feedback form failed')
    const lang: Lang = (req.query as { lang?: string }).lang === 'en' ? 'en' : ctx.config.lang
    const msg = status === 413 ? (lang === 'zh' ? '提交的内容过长，请删减后重试。' : 'What you sent is too long; shorten it and try again.') : status === 500 ? (lang === 'zh' ? '暂时无法处理您的请求，请稍后再试。' : 'Your request cannot be handled just now; please try again later.') : W[lang].expired
    req.lang = lang
    return sendPage(req, reply, { title: W[lang].feedback, status, body: html`<p class="err" id="feedback-error">${msg}</p>` })
  }
  app.post<RG>('/me/warnings/:id/feedback', { config: { csrf: false }, bodyLimit: FEEDBACK_BODY_LIMIT, errorHandler: feedbackError }, async (req, reply) => {
    const id = Number(req.params.id)
    const v = await viewer(req, reply, id)
    if (!v) return reply
    const w = await published(reply, id)
    if (!w) return reply
    const lang = v.lang
    const f = formFields(req.body)
    const values = feedbackFromForm(f)
    const err = (m: string) => html`<p class="err" id="feedback-error">${m}</p>`
    const scope = v.link ? `s${v.link.sub.id}.w${w.id}` : `u${v.who.userId}.w${w.id}`
    const verdict = await forms.accept(req, 'feedback', f.get('nonce')?.[0], scope)
    if (verdict !== 'ok') return render(req, reply, v, w, { status: verdict === 'too-many' ? 429 : 403, values, message: err(verdict === 'too-many' ? T[lang].tooMany : W[lang].expired) })
    try {
      await saveFeedback(ctx, w.measureId, v.who, validateFeedback(ctx, values))
    } catch (e) {
      if (e instanceof FeedbackInputError) return render(req, reply, v, w, { status: 400, values, message: err(feedbackProblemText(lang, e.problem)) })
      if (e instanceof CommentStateError) return render(req, reply, v, w, { status: 409, values })
      throw e
    }
    ctx.log.info({ measureId: w.measureId, via: v.link ? 'link' : 'session' }, 'enterprise feedback saved')
    return render(req, reply, v, w, { saved: true })
  })
}

export default enterpriseRoutes
