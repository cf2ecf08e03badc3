import { html, raw, type Raw } from '../util/html.js'
import { MEASURE_STATUS_LABEL } from '../domain/i18n.js'
import type { Level } from '../risk/score.js'
import type { CatalogWarning, Match } from './match.js'

export type Lang = 'zh' | 'en'

/** A warning as a digest shows it (a catalog warning; kept as a name for callers). */
export type DigestWarning = CatalogWarning

/** Links every e-mail carries: manage preferences and one-click unsubscribe. */
export interface MailLinks {
  baseUrl: string
  unsubscribeUrl: string
  manageUrl: string
}

export interface RenderedMail {
  subject: string
  html: string
  text: string
}

export const LEVEL_ORDER: Level[] = ['high', 'medium', 'low']
export const LEVEL_COLORS: Record<Level, string> = { high: '#c0392b', medium: '#d68910', low: '#7f8c8d' }

export const T = {
  zh: {
    daily: '每日',
    weekly: '每周',
    subjectDigest: (p: string, key: string, n: number, high: number) =>
      `【TBT预警】${p}摘要 ${key}：${n}项与您产品相关的技术性贸易措施${high ? `，其中高风险${high}项` : ''}`,
    subjectImmediate: (market: string, cat: string, key: string) => `【TBT高风险预警】${market} · ${cat}：${key}`,
    subjectReminder: (key: string, deadline: string, days: number) => `【TBT评议提醒】${key} 评议将于${deadline}截止（剩余${days}天）`,
    subjectConfirm: '【tbt-watch】请确认订阅技术性贸易措施预警',
    hello: (name: string | null) => `${name ?? '您好'}：`,
    introDigest: '以下是国外市场新通报、与您订阅的产品和市场相关的技术性贸易措施：',
    introImmediate: '一项与您订阅的产品和市场相关的技术性贸易措施被评为高风险：',
    introReminder: (days: number) => `您关注的以下措施仍在征求意见，评议期将在${days}天后结束。如需提交评议意见，请尽快准备：`,
    introConfirm: '感谢订阅 tbt-watch 技术性贸易措施预警。请点击下面的链接确认您的邮箱地址，确认之后才会收到预警邮件：',
    confirm: '确认订阅',
    confirmIgnore: '如果这不是您本人的操作，请忽略本邮件，您不会收到任何预警。',
    level: { high: '高', medium: '中', low: '低' } as Record<Level, string>,
    risk: '风险',
    why: '风险说明',
    deadline: (d: string | null, days: number | null) => (d ? (days !== null && days >= 0 ? `评议截止 ${d}（${days === 0 ? '今天截止' : `剩余${days}天`}）` : `评议期已于${d}结束`) : '未公布评议截止日期'),
    categories: '产品类别',
    members: '通报成员',
    status: '措施状态',
    detail: '查看详情',
    source: '原文',
    matched: '匹配您的订阅',
    matchKinds: { all: '全部', category: '产品类别', hs: 'HS编码', market: '市场', keyword: '关键词' } as Record<string, string>,
    manage: '管理订阅',
    unsub: '退订此类邮件',
    footer: '本邮件由 tbt-watch 技术性贸易措施预警系统自动发送。',
    unconfirmed: '（待分析师确认）',
    sep: '；',
  },
  en: {
    daily: 'Daily',
    weekly: 'Weekly',
    subjectDigest: (p: string, key: string, n: number, high: number) =>
      `[TBT alert] ${p} digest ${key}: ${n} trade measure${n === 1 ? '' : 's'} affecting your products${high ? `, ${high} high risk` : ''}`,
    subjectImmediate: (market: string, cat: string, key: string) => `[TBT high-risk alert] ${market} · ${cat}: ${key}`,
    subjectReminder: (key: string, deadline: string, days: number) => `[TBT comment reminder] ${key}: comments close ${deadline} (${days} days left)`,
    subjectConfirm: '[tbt-watch] Please confirm your subscription to trade-measure alerts',
    hello: (name: string | null) => `Dear ${name ?? 'subscriber'},`,
    introDigest: 'These technical trade measures newly notified by importing markets concern the products and markets you follow:',
    introImmediate: 'A technical trade measure concerning the products and markets you follow has been rated high risk:',
    introReminder: (days: number) => `The comment period of this measure you follow closes in ${days} days. If you mean to comment, now is the time:`,
    introConfirm: 'Thank you for subscribing to tbt-watch trade-measure alerts. Please confirm your address with the link below; no alert is sent before you do:',
    confirm: 'Confirm my subscription',
    confirmIgnore: 'If you did not ask for this, ignore this e-mail and you will receive nothing.',
    level: { high: 'High', medium: 'Medium', low: 'Low' } as Record<Level, string>,
    risk: 'risk',
    why: 'Why it matters',
    deadline: (d: string | null, days: number | null) => (d ? (days !== null && days >= 0 ? `comments close ${d} (${days === 0 ? 'today' : `${days} day${days === 1 ? '' : 's'} left`})` : `comment period closed on ${d}`) : 'no comment deadline published'),
    categories: 'Categories',
    members: 'Notified by',
    status: 'Measure status',
    detail: 'Details',
    source: 'Source',
    matched: 'Matches your subscription',
    matchKinds: { all: 'all', category: 'category', hs: 'HS', market: 'market', keyword: 'keyword' } as Record<string, string>,
    manage: 'Manage your subscription',
    unsub: 'Unsubscribe from these e-mails',
    footer: 'Sent automatically by tbt-watch, the technical trade measure early-warning system.',
    unconfirmed: ' (awaiting analyst review)',
    sep: '; ',
  },
}

const cat = (lang: Lang, w: CatalogWarning) => (lang === 'zh' ? w.categoryZh : w.categoryEn)
const nameOf = (lang: Lang, x: { zh: string; en: string }) => (lang === 'zh' ? x.zh : x.en)
const sepOf = (lang: Lang) => (lang === 'zh' ? '、' : ', ')
const market = (lang: Lang, w: CatalogWarning) => (lang === 'zh' ? w.marketZh : w.marketEn) ?? w.member ?? '—'
/** Every category of the measure, top first. */
const cats = (lang: Lang, w: CatalogWarning) => (w.categories?.length ? w.categories.map((c) => nameOf(lang, c)) : [cat(lang, w)]).join(sepOf(lang))
/** Every member that notified the measure (a joint notification names several). */
const members = (lang: Lang, w: CatalogWarning) => (w.members?.length ? w.members.map((m) => nameOf(lang, m)).join(sepOf(lang)) : (w.member ?? '—'))
const symbols = (w: CatalogWarning) => (w.symbols?.length ? w.symbols.join(', ') : w.measureKey)
/** What a "matched by" value means to the reader: a category's or market's name, not its id. */
function matchValue(lang: Lang, w: CatalogWarning, kind: string, value: string): string {
  if (kind === 'category') {
    const c = w.categories?.find((x) => x.id === value)
    return c ? nameOf(lang, c) : value === w.categoryId ? cat(lang, w) : value
  }
  if (kind === 'market') {
    const m = [...(w.markets ?? []), ...(w.members ?? [])].find((x) => x.code === value.toUpperCase())
    return m ? nameOf(lang, m) : value
  }
  return value
}
const reason = (lang: Lang, w: CatalogWarning) => (lang === 'zh' ? w.reasonZh : w.reasonEn)
/** Only http(s) links from scraped data reach an e-mail. */
export const safeUrl = (u: string) => (/^https?:\/\//i.test(u) ? u : '#')

/**
 * Names for a warning's source links that tell adjacent links apart (two links both called
 * 原文 said nothing): the WTO document, the ePing page, the source's page, further documents;
 * a name used twice is numbered.
 */
export function sourceLinkLabels(urls: string[], lang: 'zh' | 'en'): string[] {
  const host = (u: string) => {
    try {
      return new URL(u).hostname.toLowerCase()
    } catch {
      return ''
    }
  }
  const words = lang === 'zh' ? { wto: 'WTO 通报原文', eping: 'ePing 通报页面', page: '来源页面', doc: '相关文件' } : { wto: 'WTO document', eping: 'ePing page', page: 'Source page', doc: 'Related document' }
  let pageSeen = false
  const base = urls.map((u) => {
    const h = host(u)
    if (h === 'docs.wto.org' || h.endsWith('.docs.wto.org')) return words.wto
    if (h === 'epingalert.org' || h.endsWith('.epingalert.org')) return words.eping
    if (!pageSeen) {
      pageSeen = true
      return words.page
    }
    return words.doc
  })
  const seen = new Map<string, number>()
  return base.map((label) => {
    const n = base.filter((x) => x === label).length
    if (n === 1) return label
    const i = (seen.get(label) ?? 0) + 1
    seen.set(label, i)
    return `${label} ${i}`
  })
}

/** The frame every e-mail shares: greeting, body, footer with manage and unsubscribe links. */
export function mailFrame(lang: Lang, subject: string, body: Raw, links: MailLinks | null, wide = false): string {
  const t = T[lang]
  return html`<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${subject}</title></head>
<body style="margin:0;padding:16px;font-family:-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',Arial,sans-serif;font-size:14px;line-height:1.5;color:#222;background:#fff">
<div style="max-width:${wide ? 760 : 680}px;margin:0 auto">
${body}
<hr style="border:none;border-top:1px solid #ddd;margin:24px 0 8px">
<p style="color:#888;font-size:12px">${t.footer}${links ? html` <a href="${links.manageUrl}" style="color:#555">${t.manage}</a> · <a href="${links.unsubscribeUrl}" style="color:#555">${t.unsub}</a>` : ''}</p>
</div></body></html>`.html
}

function textFooter(lang: Lang, links: MailLinks | null): string[] {
  const t = T[lang]
  return ['', '--', t.footer, ...(links ? [`${t.manage}: ${links.manageUrl}`, `${t.unsub}: ${links.unsubscribeUrl}`] : [])]
}

function badge(lang: Lang, w: CatalogWarning): Raw {
  const t = T[lang]
  return html`<span style="display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;background:${LEVEL_COLORS[w.level]};font-size:12px">${t.level[w.level]}${lang === 'zh' ? '' : ' '}${t.risk} ${Math.round(w.score)}</span>`
}

function itemHtml(lang: Lang, m: Match | CatalogWarning): Raw {
  const t = T[lang]
  const w = 'warning' in m ? m.warning : m
  const matchedBy = 'warning' in m ? m.matchedBy.filter((x) => x.kind !== 'all') : []
  const colon = lang === 'zh' ? '：' : ': '
  return html`<li style="margin:0 0 14px">
${badge(lang, w)} <strong>${symbols(w)}</strong> ${w.title}${w.status === 'confirmed' ? '' : t.unconfirmed}<br>
<span style="color:#444">${t.members}${colon}${members(lang, w)} · ${t.categories}${colon}${cats(lang, w)}</span><br>
<span style="color:#444">${t.why}${colon}${reason(lang, w) || '—'}</span><br>
<span style="color:#444">${t.deadline(w.commentDeadline, w.daysLeft)}${w.measureStatus && w.measureStatus !== 'open' && w.measureStatus !== 'closed' ? ` · ${t.status}${colon}${MEASURE_STATUS_LABEL[lang][w.measureStatus] ?? w.measureStatus}` : ''}</span>${matchedBy.length ? html`<br><span style="color:#888;font-size:12px">${t.matched}${colon}${matchedBy.map((x) => `${t.matchKinds[x.kind]} ${matchValue(lang, w, x.kind, x.value)}`).join(t.sep)}</span>` : ''}<br>
<a href="${w.detailUrl}">${t.detail}</a>${sourceLinkLabels(w.sourceUrls, lang).map((label, i) => html` · <a href="${safeUrl(w.sourceUrls[i])}">${label}</a>`)}
</li>`
}

function itemText(lang: Lang, m: Match | CatalogWarning): string {
  const t = T[lang]
  const w = 'warning' in m ? m.warning : m
  return [
    `- [${t.level[w.level]} ${Math.round(w.score)}] ${symbols(w)} ${w.title}${w.status === 'confirmed' ? '' : t.unconfirmed}`,
    `  ${t.members}: ${members(lang, w)} · ${t.categories}: ${cats(lang, w)}`,
    `  ${t.why}: ${reason(lang, w) || '—'}`,
    `  ${t.deadline(w.commentDeadline, w.daysLeft)}`,
    `  ${t.detail}: ${w.detailUrl}`,
    ...sourceLinkLabels(w.sourceUrls, lang).map((label, i) => `  ${label}: ${safeUrl(w.sourceUrls[i])}`),
  ].join('\n')
}

/** Groups matches by top category and market, largest risk first: each measure once, in the group of its top category. Pure. */
export function groupMatches(lang: Lang, matches: Match[]): [string, Match[]][] {
  const sorted = [...matches].sort((a, b) => b.warning.score - a.warning.score || a.warning.id - b.warning.id)
  const groups = new Map<string, Match[]>()
  for (const m of sorted) {
    const key = `${cat(lang, m.warning)} · ${market(lang, m.warning)}`
    groups.set(key, [...(groups.get(key) ?? []), m])
  }
  return [...groups]
}

export interface DigestContent {
  lang: Lang
  period: 'daily' | 'weekly'
  periodKey: string
  recipientName: string | null
  matches: Match[]
  links: MailLinks
}

/** An enterprise digest: subject, HTML and plain text. Pure; every scraped string is escaped. */
export function renderDigest(c: DigestContent): RenderedMail {
  const t = T[c.lang]
  const high = c.matches.filter((m) => m.warning.level === 'high').length
  const subject = t.subjectDigest(c.period === 'daily' ? t.daily : t.weekly, c.periodKey, c.matches.length, high)
  const groups = groupMatches(c.lang, c.matches)
  const body = html`<p>${t.hello(c.recipientName)}</p><p>${t.introDigest}</p>
${groups.map(([g, ms]) => html`<h3 style="margin:18px 0 8px;font-size:15px;border-bottom:1px solid #eee">${g}（${ms.length}）</h3><ul style="padding-left:18px">${ms.map((m) => itemHtml(c.lang, m))}</ul>`)}`
  const lines = [t.hello(c.recipientName), '', t.introDigest, '']
  for (const [g, ms] of groups) lines.push(`== ${g} (${ms.length}) ==`, ...ms.map((m) => itemText(c.lang, m)), '')
  lines.push(...textFooter(c.lang, c.links))
  return { subject, html: mailFrame(c.lang, subject, body, c.links), text: lines.join('\n') }
}

/** One high-risk warning, sent as soon as it is published. */
export function renderImmediate(c: { lang: Lang; recipientName: string | null; match: Match; links: MailLinks }): RenderedMail {
  const t = T[c.lang]
  const w = c.match.warning
  const subject = t.subjectImmediate(market(c.lang, w), cat(c.lang, w), symbols(w))
  const body = html`<p>${t.hello(c.recipientName)}</p><p>${t.introImmediate}</p><ul style="padding-left:18px">${itemHtml(c.lang, c.match)}</ul>`
  const text = [t.hello(c.recipientName), '', t.introImmediate, '', itemText(c.lang, c.match), ...textFooter(c.lang, c.links)].join('\n')
  return { subject, html: mailFrame(c.lang, subject, body, c.links), text }
}

/** A reminder that the comment period of a measure the subscriber was told about closes soon. */
export function renderReminder(c: { lang: Lang; recipientName: string | null; warnings: CatalogWarning[]; links: MailLinks }): RenderedMail {
  const t = T[c.lang]
  const w = c.warnings[0]
  const days = w.daysLeft ?? 0
  const subject = t.subjectReminder(w.measureKey, w.commentDeadline ?? '', days)
  const body = html`<p>${t.hello(c.recipientName)}</p><p>${t.introReminder(days)}</p><ul style="padding-left:18px">${c.warnings.map((x) => itemHtml(c.lang, x))}</ul>`
  const text = [t.hello(c.recipientName), '', t.introReminder(days), '', ...c.warnings.map((x) => itemText(c.lang, x)), ...textFooter(c.lang, c.links)].join('\n')
  return { subject, html: mailFrame(c.lang, subject, body, c.links), text }
}

/** The double opt-in e-mail. */
export function renderConfirmation(c: { lang: Lang; recipientName: string | null; confirmUrl: string }): RenderedMail {
  const t = T[c.lang]
  const subject = t.subjectConfirm
  const body = html`<p>${t.hello(c.recipientName)}</p><p>${t.introConfirm}</p>
<p><a href="${c.confirmUrl}" style="display:inline-block;padding:8px 16px;background:#1f6feb;color:#fff;border-radius:4px;text-decoration:none">${t.confirm}</a></p>
<p style="color:#666">${t.confirmIgnore}</p>`
  const text = [t.hello(c.recipientName), '', t.introConfirm, '', c.confirmUrl, '', t.confirmIgnore, ...textFooter(c.lang, null)].join('\n')
  return { subject, html: mailFrame(c.lang, subject, body, null), text }
}

export { raw }
