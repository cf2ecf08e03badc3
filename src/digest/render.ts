import { html, raw } from '../util/html.js'
import type { Level } from '../risk/score.js'

export interface DigestWarning {
  id: number
  level: Level
  score: number
  status: string
  categoryId: string
  categoryZh: string
  categoryEn: string
  measureKey: string
  title: string
  member: string | null
  marketZh: string | null
  marketEn: string | null
  commentDeadline: string | null
  daysLeft: number | null
  reasonZh: string
  reasonEn: string
  detailUrl: string
  sourceUrl: string | null
}

export interface DigestContent {
  lang: 'zh' | 'en'
  role: 'enterprise' | 'official'
  period: 'daily' | 'weekly'
  periodKey: string
  recipientName: string | null
  warnings: DigestWarning[]
  unsubscribeUrl: string
  baseUrl: string
}

const T = {
  zh: {
    daily: '每日',
    weekly: '每周',
    subjectEnterprise: (p: string, n: number, high: number) => `【TBT预警】${p}摘要：${n}条与您产品相关的技术性贸易措施${high ? `（高风险${high}条）` : ''}`,
    subjectOfficial: (k: string, n: number, high: number) => `【TBT风险周报】${k}：新增预警${n}条，高风险${high}条`,
    hello: (name: string | null) => `${name ?? '您好'}：`,
    introEnterprise: '以下是国外市场新通报、与您订阅的产品和市场相关的技术性贸易措施：',
    introOfficial: '本周北京主要出口产品面临的技术性贸易措施风险概况如下：',
    level: { high: '高', medium: '中', low: '低' } as Record<Level, string>,
    risk: '风险',
    deadline: (d: string | null, days: number | null) => (d ? (days !== null && days >= 0 ? `评议截止 ${d}（剩余${days}天）` : `评议已截止（${d}）`) : '未公布评议截止日期'),
    detail: '查看详情',
    source: '原文',
    byLevel: '按风险等级',
    byMarket: '按市场',
    byCategory: '按产品类别',
    top: '重点措施',
    unsub: '退订此类邮件',
    footer: '本邮件由 tbt-watch 技术性贸易措施预警系统自动发送。',
    unconfirmed: '（待分析师确认）',
  },
  en: {
    daily: 'Daily',
    weekly: 'Weekly',
    subjectEnterprise: (p: string, n: number, high: number) => `[TBT alert] ${p} digest: ${n} trade measure${n === 1 ? '' : 's'} affecting your products${high ? ` (${high} high risk)` : ''}`,
    subjectOfficial: (k: string, n: number, high: number) => `[TBT weekly risk report] ${k}: ${n} new warnings, ${high} high risk`,
    hello: (name: string | null) => `Dear ${name ?? 'subscriber'},`,
    introEnterprise: 'These technical trade measures newly notified by importing markets concern the products and markets you follow:',
    introOfficial: "This week's technical trade measure risks for Beijing's main exports:",
    level: { high: 'High', medium: 'Medium', low: 'Low' } as Record<Level, string>,
    risk: 'risk',
    deadline: (d: string | null, days: number | null) => (d ? (days !== null && days >= 0 ? `comments close ${d} (${days} days left)` : `comment period closed (${d})`) : 'no comment deadline published'),
    detail: 'Details',
    source: 'Source',
    byLevel: 'By risk level',
    byMarket: 'By market',
    byCategory: 'By product category',
    top: 'Top measures',
    unsub: 'Unsubscribe from these e-mails',
    footer: 'Sent automatically by tbt-watch, the technical trade measure early-warning system.',
    unconfirmed: ' (awaiting analyst review)',
  },
}

export interface RenderedMail {
  subject: string
  html: string
  text: string
}

const LEVEL_ORDER: Level[] = ['high', 'medium', 'low']
const COLORS: Record<Level, string> = { high: '#c0392b', medium: '#d68910', low: '#7f8c8d' }

/** Renders a digest to subject, HTML and plain text. Pure; every scraped string is escaped. */
export function renderDigest(c: DigestContent): RenderedMail {
  const t = T[c.lang]
  const high = c.warnings.filter((w) => w.level === 'high').length
  const periodName = c.period === 'daily' ? t.daily : t.weekly
  const subject = c.role === 'official' ? t.subjectOfficial(c.periodKey, c.warnings.length, high) : t.subjectEnterprise(periodName, c.warnings.length, high)
  const sorted = [...c.warnings].sort((a, b) => b.score - a.score || a.id - b.id)
  const cat = (w: DigestWarning) => (c.lang === 'zh' ? w.categoryZh : w.categoryEn)
  const market = (w: DigestWarning) => (c.lang === 'zh' ? w.marketZh : w.marketEn) ?? w.member ?? '—'
  const reason = (w: DigestWarning) => (c.lang === 'zh' ? w.reasonZh : w.reasonEn)

  const groups = new Map<string, DigestWarning[]>()
  for (const w of sorted) {
    const key = `${cat(w)} · ${market(w)}`
    groups.set(key, [...(groups.get(key) ?? []), w])
  }
  const counts = (f: (w: DigestWarning) => string) => {
    const m = new Map<string, number>()
    for (const w of c.warnings) m.set(f(w), (m.get(f(w)) ?? 0) + 1)
    return [...m].sort((a, b) => b[1] - a[1])
  }

  const item = (w: DigestWarning) => html`<li style="margin:0 0 12px">
<span style="display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;background:${COLORS[w.level]}">${t.level[w.level]}${c.lang === 'zh' ? '' : ' '}${t.risk} ${w.score}</span>
<strong>${w.measureKey}</strong> ${w.title}${w.status === 'confirmed' ? '' : t.unconfirmed}<br>
<span style="color:#555">${reason(w)}；${t.deadline(w.commentDeadline, w.daysLeft)}</span><br>
<a href="${w.detailUrl}">${t.detail}</a>${w.sourceUrl ? html` · <a href="${w.sourceUrl}">${t.source}</a>` : ''}
</li>`

  const summary =
    c.role === 'official'
      ? html`<h3>${t.byLevel}</h3><p>${LEVEL_ORDER.map((l) => `${t.level[l]} ${c.warnings.filter((w) => w.level === l).length}`).join(' · ')}</p>
<h3>${t.byMarket}</h3><p>${counts(market).map(([k, n]) => `${k} ${n}`).join(' · ')}</p>
<h3>${t.byCategory}</h3><p>${counts(cat).map(([k, n]) => `${k} ${n}`).join(' · ')}</p>
<h3>${t.top}</h3>`
      : ''
  const body =
    c.role === 'official'
      ? html`<ul>${sorted.slice(0, 10).map(item)}</ul>`
      : [...groups].map(([g, ws]) => html`<h3 style="margin:16px 0 8px">${g}</h3><ul>${ws.map(item)}</ul>`)

  const htmlOut = html`<!doctype html><html lang="${c.lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><title>${subject}</title></head>
<body style="font-family:-apple-system,'PingFang SC','Microsoft YaHei',Arial,sans-serif;font-size:14px;color:#222;max-width:720px">
<p>${t.hello(c.recipientName)}</p>
<p>${c.role === 'official' ? t.introOfficial : t.introEnterprise}</p>
${summary}${body}
<hr><p style="color:#888;font-size:12px">${t.footer} <a href="${c.unsubscribeUrl}">${t.unsub}</a></p>
</body></html>`.html

  const lines: string[] = [t.hello(c.recipientName), '', c.role === 'official' ? t.introOfficial : t.introEnterprise, '']
  if (c.role === 'official') {
    lines.push(`${t.byLevel}: ${LEVEL_ORDER.map((l) => `${t.level[l]} ${c.warnings.filter((w) => w.level === l).length}`).join(' · ')}`)
    lines.push(`${t.byMarket}: ${counts(market).map(([k, n]) => `${k} ${n}`).join(' · ')}`)
    lines.push(`${t.byCategory}: ${counts(cat).map(([k, n]) => `${k} ${n}`).join(' · ')}`, '', `${t.top}:`)
  }
  const textItem = (w: DigestWarning) =>
    [
      `- [${t.level[w.level]} ${w.score}] ${w.measureKey} ${w.title}${w.status === 'confirmed' ? '' : t.unconfirmed}`,
      `  ${reason(w)}; ${t.deadline(w.commentDeadline, w.daysLeft)}`,
      `  ${t.detail}: ${w.detailUrl}${w.sourceUrl ? `\n  ${t.source}: ${w.sourceUrl}` : ''}`,
    ].join('\n')
  if (c.role === 'official') lines.push(...sorted.slice(0, 10).map(textItem))
  else for (const [g, ws] of groups) lines.push(`== ${g} ==`, ...ws.map(textItem), '')
  lines.push('', `${t.footer}`, `${t.unsub}: ${c.unsubscribeUrl}`)
  return { subject, html: raw(htmlOut).html, text: lines.join('\n') }
}
