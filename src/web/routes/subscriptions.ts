import type { FastifyInstance, FastifyReply } from 'fastify'
import type { AppContext } from '../../app-context.js'
import { MailError } from '../../mail/mailer.js'
import { mailLinks, sendConfirmation, withMailRetries } from '../../services/digest.service.js'
import {
  addSubscriber,
  confirmByToken,
  loadSubscriberPreferences,
  parseEmail,
  savePreferences,
  SubscriberInputError,
  validatePreferences,
  type Preferences,
} from '../../services/subscriber.service.js'
import { html, type Raw } from '../../util/html.js'
import { verifyToken } from '../../util/tokens.js'
import { all, checkFormNonce, first, formFields, formNonce, formPage, pageCsp, splitList } from '../forms.js'

type Lang = 'zh' | 'en'

const T = {
  zh: {
    signup: '订阅技术性贸易措施预警',
    manage: '管理您的订阅',
    email: '电子邮箱',
    name: '单位或姓名（可选）',
    categories: '北京出口产品类别',
    hs: 'HS编码前缀（如 8517 8542，空格或逗号分隔）',
    markets: '目标市场（不选即全部市场）',
    keywords: '关键词（可选，满足其一即可）',
    level: '最低风险等级',
    levels: { low: '低及以上', medium: '中及以上', high: '仅高风险' } as Record<string, string>,
    frequency: '发送频率',
    frequencies: { immediate: '高风险即时提醒，其余每日汇总', daily: '每日摘要', weekly: '每周摘要' } as Record<string, string>,
    lang: '邮件语言',
    langs: { zh: '中文', en: 'English' } as Record<string, string>,
    productsHint: '类别和HS编码都不选即接收全部产品的预警。',
    submit: '订阅',
    save: '保存',
    checkMail: '请查收确认邮件：点击邮件中的链接后订阅才会生效。',
    confirmed: '订阅已确认。您将按所选频率收到预警邮件。',
    badLink: '链接无效或已过期。',
    saved: '已保存您的订阅设置。',
    expired: '表单已过期，请刷新页面后重试。',
    mailDown: '暂时无法发送确认邮件，请稍后再试。',
    unsubscribed: '此地址目前已退订；保存设置不会恢复订阅。如需恢复，请重新订阅并确认。',
    unsub: '退订全部邮件',
    manageLink: '管理订阅设置',
  },
  en: {
    signup: 'Subscribe to trade-measure alerts',
    manage: 'Manage your subscription',
    email: 'E-mail',
    name: 'Organisation or name (optional)',
    categories: "Beijing export categories",
    hs: 'HS code prefixes (e.g. 8517 8542, separated by spaces or commas)',
    markets: 'Markets (none ticked: all markets)',
    keywords: 'Keywords (optional; any one matches)',
    level: 'Minimum risk level',
    levels: { low: 'Low and above', medium: 'Medium and above', high: 'High only' } as Record<string, string>,
    frequency: 'Frequency',
    frequencies: { immediate: 'High risk at once, the rest daily', daily: 'Daily digest', weekly: 'Weekly digest' } as Record<string, string>,
    lang: 'E-mail language',
    langs: { zh: '中文', en: 'English' } as Record<string, string>,
    productsHint: 'No category and no HS prefix: warnings for every product.',
    submit: 'Subscribe',
    save: 'Save',
    checkMail: 'Please check your mailbox: the subscription starts once you follow the link in the confirmation e-mail.',
    confirmed: 'Your subscription is confirmed. Alerts will arrive at the frequency you chose.',
    badLink: 'This link is invalid or has expired.',
    saved: 'Your subscription settings are saved.',
    expired: 'This form has expired; reload the page and try again.',
    mailDown: 'The confirmation e-mail cannot be sent just now; please try again later.',
    unsubscribed: 'This address is unsubscribed; saving settings does not resume it. Subscribe again and confirm to resume.',
    unsub: 'Unsubscribe from everything',
    manageLink: 'Manage your settings',
  },
}

const send = (reply: FastifyReply, code: number, body: string) => reply.code(code).type('text/html; charset=utf-8').send(body)

/**
 * Subscription pages that need no login: a public sign-up form (double opt-in), the
 * confirmation link, and a preferences form reached through the signed link every
 * e-mail carries. POSTs carry a per-form HMAC nonce (and, for preferences, the signed
 * token), so a cross-site form cannot submit them.
 */
export default async function subscriptionRoutes(app: FastifyInstance, opts: { ctx: AppContext }) {
  const { ctx } = opts
  const secret = ctx.config.secret
  // These forms carry their own CSRF defence (an HMAC nonce bound to the form, plus the
  // signed token for preferences): they work without the session cookie the app's CSRF needs.
  const own = { config: { csrf: false }, onSend: pageCsp }
  const page = { onSend: pageCsp }
  const langOf = (q: unknown, fallback?: string): Lang => {
    const l = (q as { lang?: string })?.lang ?? fallback
    return l === 'en' ? 'en' : l === 'zh' ? 'zh' : ctx.config.lang
  }

  function form(lang: Lang, action: string, p: Preferences, hidden: Record<string, string>, opts: { email?: string; submit: string; message?: Raw }): Raw {
    const t = T[lang]
    const checked = (on: boolean) => (on ? html` checked` : '')
    const radio = (name: string, values: Record<string, string>, current: string) =>
      html`${Object.entries(values).map(([v, label]) => html`<label class="opt"><input type="radio" name="${name}" value="${v}"${checked(current === v)}> ${label}</label>`)}`
    return html`${opts.message ?? ''}<form method="post" action="${action}">
${Object.entries(hidden).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
${opts.email === undefined ? '' : html`<p><label>${t.email}<br><input type="email" name="email" required maxlength="254" value="${opts.email}"></label></p>`}
<p><label>${t.name}<br><input type="text" name="name" maxlength="200" value="${p.name ?? ''}"></label></p>
<fieldset><legend>${t.categories}</legend>${ctx.categories.map((c) => html`<label class="opt"><input type="checkbox" name="categories" value="${c.id}"${checked(p.categories.includes(c.id))}> ${lang === 'zh' ? c.zh : c.en}</label>`)}
<p><label>${t.hs}<br><input type="text" name="hs" value="${p.hs.join(' ')}"></label></p><p class="muted">${t.productsHint}</p></fieldset>
<fieldset><legend>${t.markets}</legend>${ctx.markets.map((m) => html`<label class="opt"><input type="checkbox" name="markets" value="${m.code}"${checked(p.markets.includes(m.code))}> ${lang === 'zh' ? m.zh : m.en}</label>`)}</fieldset>
<p><label>${t.keywords}<br><input type="text" name="keywords" value="${p.keywords.join(', ')}"></label></p>
<fieldset><legend>${t.level}</legend>${radio('minLevel', t.levels, p.minLevel)}</fieldset>
<fieldset><legend>${t.frequency}</legend>${radio('frequency', t.frequencies, p.frequency)}</fieldset>
<fieldset><legend>${t.lang}</legend>${radio('lang', t.langs, p.lang)}</fieldset>
<p><button type="submit">${opts.submit}</button></p></form>`
  }

  const fromForm = (f: Map<string, string[]>, role: Preferences['role']) =>
    validatePreferences(ctx, {
      name: first(f, 'name') || null,
      role,
      lang: (first(f, 'lang') || 'zh') as Lang,
      frequency: (first(f, 'frequency') || 'daily') as Preferences['frequency'],
      minLevel: (first(f, 'minLevel') || 'low') as Preferences['minLevel'],
      categories: all(f, 'categories'),
      hs: splitList(first(f, 'hs')),
      markets: all(f, 'markets'),
      keywords: first(f, 'keywords').split(/[,，;；\n]+/).map((s) => s.trim()).filter(Boolean),
    })
  const blank = (lang: Lang): Preferences => ({ name: null, role: 'enterprise', lang, frequency: 'daily', minLevel: 'low', categories: [], hs: [], markets: [], keywords: [] })
  const err = (m: string) => html`<p class="err">${m}</p>`

  app.get<{ Querystring: { lang?: string } }>('/subscribe', page, async (req, reply) => {
    const lang = langOf(req.query)
    const t = T[lang]
    send(reply, 200, formPage(lang, t.signup, form(lang, `/subscribe${lang === 'en' ? '?lang=en' : ''}`, blank(lang), { nonce: formNonce(secret, 'subscribe', ctx.clock()) }, { email: '', submit: t.submit })))
  })

  app.post<{ Querystring: { lang?: string } }>('/subscribe', own, async (req, reply) => {
    const f = formFields(req.body)
    const lang = langOf(req.query, first(f, 'lang'))
    const t = T[lang]
    const again = (code: number, message: Raw, p: Preferences = blank(lang)) =>
      send(reply, code, formPage(lang, t.signup, form(lang, `/subscribe${lang === 'en' ? '?lang=en' : ''}`, p, { nonce: formNonce(secret, 'subscribe', ctx.clock()) }, { email: first(f, 'email'), submit: t.submit, message })))
    if (!checkFormNonce(secret, 'subscribe', first(f, 'nonce'), ctx.clock())) return again(403, err(t.expired))
    let prefs: Preferences
    let email: string
    try {
      email = parseEmail(first(f, 'email'))
      prefs = fromForm(f, 'enterprise')
    } catch (e) {
      if (e instanceof SubscriberInputError) return again(400, err(e.message))
      throw e
    }
    // An active address is left as it is (a stranger must not change someone's
    // settings); the page says the same whatever the address, so it reveals nothing.
    const existing = await ctx.db.selectFrom('subscriber').select(['id', 'confirmed_at', 'unsubscribed_at']).where('email', '=', email).executeTakeFirst()
    if (!existing || !existing.confirmed_at || existing.unsubscribed_at) {
      const r = await addSubscriber(ctx, email, prefs)
      try {
        await withMailRetries(ctx, () => sendConfirmation(ctx, r.id))
      } catch (e) {
        if (e instanceof MailError) return again(503, err(t.mailDown), prefs)
        throw e
      }
    }
    send(reply, 200, formPage(lang, t.signup, html`<p class="ok">${t.checkMail}</p>`))
  })

  app.get<{ Querystring: { token?: string; lang?: string } }>('/subscribe/confirm', page, async (req, reply) => {
    const r = await confirmByToken(ctx, req.query.token)
    const lang = langOf(req.query, r?.lang)
    const t = T[lang]
    if (!r) return send(reply, 400, formPage(lang, t.signup, err(t.badLink)))
    const links = mailLinks(ctx, r.id)
    send(reply, 200, formPage(lang, t.signup, html`<p class="ok">${t.confirmed}</p><p><a href="${links.manageUrl}">${t.manageLink}</a></p>`))
  })

  const manageTarget = (token: unknown) => {
    const payload = typeof token === 'string' && token ? verifyToken(secret, 'manage', token) : null
    const id = payload ? Number(payload) : NaN
    return Number.isInteger(id) ? id : null
  }

  const manageForm = (lang: Lang, token: string, id: number, p: Preferences, unsubscribed: boolean, message?: Raw) => {
    const t = T[lang]
    const links = mailLinks(ctx, id)
    const note = unsubscribed ? html`<p class="err">${t.unsubscribed}</p>` : ''
    return formPage(lang, t.manage, html`${note}${form(lang, `/subscriptions${lang === 'en' ? '?lang=en' : ''}`, p, { token, nonce: formNonce(secret, `manage:${id}`, ctx.clock()) }, { submit: t.save, message })}
<p class="muted"><a href="${links.unsubscribeUrl}">${t.unsub}</a></p>`)
  }

  app.get<{ Querystring: { token?: string; lang?: string } }>('/subscriptions', page, async (req, reply) => {
    const id = manageTarget(req.query.token)
    const loaded = id === null ? null : await loadSubscriberPreferences(ctx, id)
    const lang = langOf(req.query, loaded?.sub.lang)
    if (!loaded) return send(reply, 400, formPage(lang, T[lang].manage, err(T[lang].badLink)))
    send(reply, 200, manageForm(lang, req.query.token!, loaded.sub.id, loaded.prefs, !!loaded.sub.unsubscribed_at))
  })

  app.post<{ Querystring: { lang?: string } }>('/subscriptions', own, async (req, reply) => {
    const f = formFields(req.body)
    const token = first(f, 'token')
    const id = manageTarget(token)
    const loaded = id === null ? null : await loadSubscriberPreferences(ctx, id)
    const lang = langOf(req.query, loaded?.sub.lang)
    const t = T[lang]
    if (!loaded) return send(reply, 400, formPage(lang, t.manage, err(t.badLink)))
    const unsub = !!loaded.sub.unsubscribed_at
    if (!checkFormNonce(secret, `manage:${loaded.sub.id}`, first(f, 'nonce'), ctx.clock())) return send(reply, 403, manageForm(lang, token, loaded.sub.id, loaded.prefs, unsub, err(t.expired)))
    let prefs: Preferences
    try {
      prefs = fromForm(f, loaded.prefs.role)
    } catch (e) {
      if (e instanceof SubscriberInputError) return send(reply, 400, manageForm(lang, token, loaded.sub.id, loaded.prefs, unsub, err(e.message)))
      throw e
    }
    await savePreferences(ctx, loaded.sub.id, prefs)
    const after = langOf({ lang: prefs.lang })
    send(reply, 200, manageForm(after, token, loaded.sub.id, prefs, unsub, html`<p class="ok">${T[after].saved}</p>`))
  })
}
