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
  validatePreferences,
  type InputProblem,
  type Preferences,
} from '../../services/subscriber.service.js'
import { html, type Raw } from '../../util/html.js'
import { all, first, formFields, formPage, pageCsp, PUBLIC_FORM_BODY_LIMIT, splitList } from '../forms.js'

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
    expired: '表单已过期或已提交过，请刷新页面后重试（需允许本站 Cookie）。',
    tooMany: '提交次数过多，请一小时后再试。',
    tooLarge: '提交的内容过长，请减少所选项目或文字后重试。',
    failed: '暂时无法处理您的请求，请稍后再试。',
    badForm: '提交的内容无法识别，请刷新页面后重新填写。',
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
    expired: 'This form has expired or was already sent; reload the page and try again (cookies for this site must be allowed).',
    tooMany: 'Too many submissions; please try again in an hour.',
    tooLarge: 'What you sent is too long; choose fewer items or shorter text and try again.',
    failed: 'Your request cannot be handled just now; please try again later.',
    badForm: 'What was sent is not this form; reload the page and fill it in again.',
    unsubscribed: 'This address is unsubscribed; saving settings does not resume it. Subscribe again and confirm to resume.',
    unsub: 'Unsubscribe from everything',
    manageLink: 'Manage your settings',
  },
}

/** A subscriber input problem in the page's language. */
function problemText(lang: Lang, p: InputProblem): string {
  const v = (p.values ?? []).join(lang === 'zh' ? '、' : ', ')
  const zh: Record<string, string> = {
    'email:invalid': '请输入有效的电子邮箱地址。',
    'name:too-long': `单位或姓名最多${p.max}个字符。`,
    'categories:unknown': `未知的产品类别：${v}`,
    'categories:too-many': `产品类别最多选择${p.max}个。`,
    'categories:too-long': '产品类别编号无效。',
    'hs:invalid': 'HS编码前缀应为2到10位数字，不含小数点。',
    'hs:too-many': `HS编码前缀最多${p.max}个。`,
    'markets:unknown': `未知的市场：${v}`,
    'markets:too-many': `目标市场最多选择${p.max}个。`,
    'markets:too-long': '市场代码无效。',
    'keywords:too-long': `每个关键词最多${p.max}个字符。`,
    'keywords:too-many': `关键词最多${p.max}个。`,
    'minLevel:invalid': '请选择有效的最低风险等级。',
    'frequency:invalid': '请选择有效的发送频率。',
    'lang:invalid': '请选择有效的邮件语言。',
  }
  const en: Record<string, string> = {
    'email:invalid': 'Please enter a valid e-mail address.',
    'name:too-long': `The organisation or name takes ${p.max} characters at most.`,
    'categories:unknown': `Unknown categories: ${v}`,
    'categories:too-many': `Choose ${p.max} categories at most.`,
    'categories:too-long': 'A category id is not valid.',
    'hs:invalid': 'HS prefixes are 2 to 10 digits, without dots.',
    'hs:too-many': `${p.max} HS prefixes at most.`,
    'markets:unknown': `Unknown markets: ${v}`,
    'markets:too-many': `Choose ${p.max} markets at most.`,
    'markets:too-long': 'A market code is not valid.',
    'keywords:too-long': `Each keyword takes ${p.max} characters at most.`,
    'keywords:too-many': `${p.max} keywords at most.`,
    'minLevel:invalid': 'Choose a valid minimum level.',
    'frequency:invalid': 'Choose a valid frequency.',
    'lang:invalid': 'Choose a valid e-mail language.',
  }
  return (lang === 'zh' ? zh : en)[`${p.field}:${p.kind}`] ?? (lang === 'zh' ? '提交的内容无效，请检查后重试。' : 'Something in the form is not valid; please check it and try again.')
}

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
<p><label>${t.hs}<br><input type="text" name="hs" maxlength="600" value="${p.hs.join(' ')}"></label></p><p class="muted">${t.productsHint}</p></fieldset>
<fieldset><legend>${t.markets}</legend>${ctx.markets.map((m) => html`<label class="opt"><input type="checkbox" name="markets" value="${m.code}"${checked(p.markets.includes(m.code))}> ${lang === 'zh' ? m.zh : m.en}</label>`)}</fieldset>
<p><label>${t.keywords}<br><input type="text" name="keywords" maxlength="4000" value="${p.keywords.join(', ')}"></label></p>
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

  const manageForm = (req: FastifyRequest, reply: FastifyReply, lang: Lang, token: string, sub: { id: number; token_version: number }, p: Preferences, unsubscribed: boolean, message?: Raw) => {
    const t = T[lang]
    const links = mailLinks(ctx, sub)
    const note = unsubscribed ? html`<p class="err">${t.unsubscribed}</p>` : ''
    return formPage(lang, t.manage, html`${note}${form(lang, `/subscriptions${lang === 'en' ? '?lang=en' : ''}`, p, { token, nonce: forms.nonce(req, reply, 'manage', String(sub.id)) }, { submit: t.save, message })}
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
