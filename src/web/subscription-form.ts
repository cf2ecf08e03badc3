import type { AppContext } from '../app-context.js'
import { validatePreferences, type InputProblem, type Preferences } from '../services/subscriber.service.js'
import { html, type Raw } from '../util/html.js'
import { all, first, splitList } from './forms.js'

// The subscription preferences form and its words, shared by the public pages
// (routes/subscriptions.ts) and the enterprise home (routes/enterprise.ts).

export type Lang = 'zh' | 'en'

export const T = {
  zh: {
    signup: '订阅技术性贸易措施预警',
    manage: '管理您的订阅',
    address: (e: string) => `订阅地址：${e}`,
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
    address: (e: string) => `Subscribed address: ${e}`,
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
export function problemText(lang: Lang, p: InputProblem): string {
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

/** The preferences form (sign-up, manage page, enterprise home): products, markets, keywords, level, frequency, language. */
export function preferencesForm(ctx: AppContext, lang: Lang, action: string, p: Preferences, hidden: Record<string, string>, opts: { email?: string; submit: string; message?: Raw }): Raw {
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

/** The preferences a submitted form gives, validated (SubscriberInputError names what is wrong). */
export const preferencesFromForm = (ctx: AppContext, f: Map<string, string[]>, role: Preferences['role']) =>
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
export const blankPreferences = (lang: Lang): Preferences => ({ name: null, role: 'enterprise', lang, frequency: 'daily', minLevel: 'low', categories: [], hs: [], markets: [], keywords: [] })
