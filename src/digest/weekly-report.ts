import { html, raw, type Raw } from '../util/html.js'
import type { Level } from '../risk/score.js'
import { barChart, svgSize, trendChart, type StackRow } from './charts.js'
import type { CatalogWarning } from './match.js'
import { LEVEL_COLORS, LEVEL_ORDER, mailFrame, safeUrl, T as MAIL_T, type Lang, type MailLinks, type RenderedMail } from './render.js'

/** A measure with a date coming up (comment deadline or entry into force). */
export interface UpcomingMeasure {
  measureKey: string
  title: string
  marketZh: string | null
  marketEn: string | null
  member: string | null
  date: string
  daysLeft: number
  level: Level
  detailUrl: string
}

export interface WeeklyReportInput {
  week: string
  /** First and last day of the week covered (local dates). */
  from: string
  to: string
  /** The warnings this report is about. */
  warnings: CatalogWarning[]
  /** Warnings created per ISO week, the 12 weeks before `week` and `week` itself, oldest first. */
  history: { week: string; high: number; medium: number; low: number }[]
  deadlines: UpcomingMeasure[]
  entries: UpcomingMeasure[]
}

export interface CountRow extends StackRow {
  key: string
  zh: string
  en: string
}

export interface WeeklyReport extends WeeklyReportInput {
  total: number
  byLevel: Record<Level, number>
  byMarket: CountRow[]
  byCategory: CountRow[]
  trend: { current: number; avg4: number; avg12: number; change4: number | null; change12: number | null }
  top: { warning: CatalogWarning; categories: string[]; categoriesEn: string[] }[]
}

export type ReportCharts = { trend: string; markets: string; categories: string }
/** Chart labels: names in Chinese or English, or the market and category codes (ASCII). */
export type ChartLabels = Lang | 'codes'

const AVG_LABEL: Record<ChartLabels, (weeks: number) => string> = {
  zh: (n) => `前${n}周平均`,
  en: (n) => `${n}-week mean`,
  codes: (n) => `${n}w avg`,
}

/** The report's three charts (SVG), labelled in the reader's language or with codes. Pure. */
export function reportCharts(r: WeeklyReport, labels: ChartLabels): ReportCharts {
  const named = (rows: CountRow[]) => rows.map((row) => ({ ...row, label: labels === 'codes' ? row.key : row[labels] }))
  const weeks = r.history.map((h) => ({ label: h.week.slice(5), high: h.high, medium: h.medium, low: h.low }))
  return {
    trend: trendChart(weeks, { avg4: r.trend.avg4, avg12: r.trend.avg12 }, AVG_LABEL[labels]),
    markets: barChart(named(r.byMarket)),
    categories: barChart(named(r.byCategory)),
  }
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0)
const change = (cur: number, base: number) => (base > 0 ? Math.round(((cur - base) / base) * 100) : null)

/** Counts, trend, top measures and charts of one week. Pure. */
export function buildWeeklyReport(input: WeeklyReportInput): WeeklyReport {
  const byLevel: Record<Level, number> = { high: 0, medium: 0, low: 0 }
  const markets = new Map<string, CountRow>()
  const categories = new Map<string, CountRow>()
  const bump = (m: Map<string, CountRow>, key: string, zh: string, en: string, level: Level) => {
    const row = m.get(key) ?? { key, zh, en, label: key, high: 0, medium: 0, low: 0 }
    row[level]++
    m.set(key, row)
  }
  for (const w of input.warnings) {
    byLevel[w.level]++
    bump(markets, w.marketCode ?? w.memberCode ?? '?', w.marketZh ?? w.member ?? '其他', w.marketEn ?? w.member ?? 'other', w.level)
    bump(categories, w.categoryId, w.categoryZh, w.categoryEn, w.level)
  }
  const totals = input.history.map((h) => h.high + h.medium + h.low)
  const current = totals.at(-1) ?? input.warnings.length
  const prev = totals.slice(0, -1)
  const avg4 = mean(prev.slice(-4))
  const avg12 = mean(prev.slice(-12))
  const perMeasure = new Map<string, { warning: CatalogWarning; categories: string[]; categoriesEn: string[] }>()
  for (const w of [...input.warnings].sort((a, b) => b.score - a.score || a.id - b.id)) {
    const e = perMeasure.get(w.measureKey)
    if (e) {
      e.categories.push(w.categoryZh)
      e.categoriesEn.push(w.categoryEn)
    } else perMeasure.set(w.measureKey, { warning: w, categories: [w.categoryZh], categoriesEn: [w.categoryEn] })
  }
  const sortRows = (m: Map<string, CountRow>) => [...m.values()].sort((a, b) => b.high + b.medium + b.low - (a.high + a.medium + a.low) || a.key.localeCompare(b.key))
  const byMarket = sortRows(markets)
  const byCategory = sortRows(categories)
  return {
    ...input,
    total: input.warnings.length,
    byLevel,
    byMarket,
    byCategory,
    trend: { current, avg4, avg12, change4: change(current, avg4), change12: change(current, avg12) },
    top: [...perMeasure.values()].slice(0, 10),
  }
}

const R = {
  zh: {
    subject: (week: string, n: number, high: number) => `【TBT风险周报】${week}：新增预警${n}项，其中高风险${high}项`,
    title: (week: string) => `技术性贸易措施风险周报 ${week}`,
    period: (from: string, to: string) => `统计期间：${from} 至 ${to}`,
    intro: '本周北京主要出口产品面临的国外技术性贸易措施风险概况如下。',
    summary: '概况',
    newWarnings: '新增预警',
    trend: '趋势',
    vs: (avg: number, weeks: number, pct: number | null) => `前${weeks}周平均 ${avg.toFixed(1)} 项${pct === null ? '' : `（${pct >= 0 ? '+' : ''}${pct}%）`}`,
    trendChart: '近13周预警数量（按风险等级）',
    byLevel: '按风险等级',
    byMarket: '按市场',
    byCategory: '按产品类别',
    top: '重点措施',
    deadlines: '即将截止评议的措施（30天内）',
    entries: '即将生效的措施（90天内）',
    none: '无',
    measure: '措施',
    market: '市场',
    category: '产品类别',
    count: '数量',
    date: '日期',
    days: (d: number) => `${d}天后`,
    web: '在浏览器中查看或打印（PDF）',
    legend: '图例：红色＝高风险，橙色＝中风险，灰色＝低风险',
  },
  en: {
    subject: (week: string, n: number, high: number) => `[TBT weekly risk report] ${week}: ${n} new warnings, ${high} high risk`,
    title: (week: string) => `Trade-measure risk report, week ${week}`,
    period: (from: string, to: string) => `Period: ${from} to ${to}`,
    intro: "This week's foreign technical trade measure risks for Beijing's main exports.",
    summary: 'Summary',
    newWarnings: 'New warnings',
    trend: 'Trend',
    vs: (avg: number, weeks: number, pct: number | null) => `previous ${weeks} weeks' mean ${avg.toFixed(1)}${pct === null ? '' : ` (${pct >= 0 ? '+' : ''}${pct}%)`}`,
    trendChart: 'Warnings per week, last 13 weeks (by level)',
    byLevel: 'By risk level',
    byMarket: 'By market',
    byCategory: 'By product category',
    top: 'Top measures',
    deadlines: 'Comment deadlines in the next 30 days',
    entries: 'Entries into force in the next 90 days',
    none: 'None',
    measure: 'Measure',
    market: 'Market',
    category: 'Category',
    count: 'Count',
    date: 'Date',
    days: (d: number) => `in ${d} days`,
    web: 'View in a browser or print (PDF)',
    legend: 'Legend: red = high, orange = medium, grey = low risk',
  },
}

export interface ReportTarget {
  /** `email`: charts as <img src="cid:..."> (PNG attachments); `web`: inline SVG. */
  kind: 'email' | 'web'
  webUrl: string
  links?: MailLinks
  recipientName?: string | null
}

export const CHART_CIDS = { trend: 'trend@tbt-watch', markets: 'markets@tbt-watch', categories: 'categories@tbt-watch' } as const

const TH = 'style="text-align:left;padding:4px 8px;border-bottom:1px solid #ccc;background:#f6f6f6"'
const TD = 'style="padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top"'

function chart(charts: ReportCharts, target: ReportTarget, which: keyof ReportCharts, alt: string): Raw {
  const svg = charts[which]
  if (target.kind === 'web') return html`<figure class="chart" aria-label="${alt}">${raw(svg)}</figure>`
  const { width, height } = svgSize(svg)
  return html`<img src="cid:${CHART_CIDS[which]}" width="${width}" height="${height}" alt="${alt}" style="display:block;max-width:100%;height:auto;border:0">`
}

/** The report as subject, HTML and text; the same body serves the e-mail and the web page. Pure. */
export function renderWeeklyReport(lang: Lang, r: WeeklyReport, target: ReportTarget): RenderedMail {
  const t = R[lang]
  const lt = MAIL_T[lang]
  const name = (x: { zh: string; en: string }) => (lang === 'zh' ? x.zh : x.en)
  const mkt = (x: { marketZh: string | null; marketEn: string | null; member: string | null }) => (lang === 'zh' ? x.marketZh : x.marketEn) ?? x.member ?? '—'
  const subject = t.subject(r.week, r.total, r.byLevel.high)
  // Web pages are drawn by the reader's browser; e-mail PNGs come from chartAttachments,
  // in the same language (the <img> only needs the size, which labels do not change).
  const charts = reportCharts(r, lang)
  const levelCell = (l: Level) => html`<span style="display:inline-block;padding:0 6px;border-radius:3px;color:#fff;background:${LEVEL_COLORS[l]}">${lt.level[l]}</span>`
  const countTable = (rows: CountRow[], head: string) => html`<table style="border-collapse:collapse;width:100%;font-size:13px" class="counts">
<tr><th ${raw(TH)}>${head}</th>${LEVEL_ORDER.map((l) => html`<th ${raw(TH)}>${lt.level[l]}</th>`)}<th ${raw(TH)}>${t.count}</th></tr>
${rows.map((row) => html`<tr><td ${raw(TD)}>${name(row)} <span style="color:#888">${row.key}</span></td>${LEVEL_ORDER.map((l) => html`<td ${raw(TD)}>${row[l]}</td>`)}<td ${raw(TD)}><strong>${row.high + row.medium + row.low}</strong></td></tr>`)}
</table>`
  const upcoming = (rows: UpcomingMeasure[]) =>
    rows.length
      ? html`<table style="border-collapse:collapse;width:100%;font-size:13px"><tr><th ${raw(TH)}>${t.date}</th><th ${raw(TH)}>${t.measure}</th><th ${raw(TH)}>${t.market}</th></tr>
${rows.map((u) => html`<tr><td ${raw(TD)}>${u.date}<br><span style="color:#888">${t.days(u.daysLeft)}</span></td><td ${raw(TD)}>${levelCell(u.level)} <a href="${u.detailUrl}">${u.measureKey}</a><br>${u.title}</td><td ${raw(TD)}>${mkt(u)}</td></tr>`)}</table>`
      : html`<p>${t.none}</p>`
  const trendLine = html`${t.newWarnings} <strong>${r.trend.current}</strong> · ${t.vs(r.trend.avg4, 4, r.trend.change4)} · ${t.vs(r.trend.avg12, 12, r.trend.change12)}`

  const body = html`${target.kind === 'email' ? html`<p>${lt.hello(target.recipientName ?? null)}</p>` : ''}
<h1 style="font-size:20px;margin:8px 0">${t.title(r.week)}</h1>
<p style="color:#666">${t.period(r.from, r.to)}${target.kind === 'email' ? html` · <a href="${target.webUrl}">${t.web}</a>` : ''}</p>
<p>${t.intro}</p>
<h2 style="font-size:16px;margin:18px 0 6px">${t.summary}</h2>
<p>${t.byLevel}：${LEVEL_ORDER.map((l) => html`${levelCell(l)} ${r.byLevel[l]} `)}</p>
<p>${t.trend}：${trendLine}</p>
<h3 style="font-size:14px;margin:14px 0 4px">${t.trendChart}</h3>
${chart(charts, target, 'trend', t.trendChart)}
<p style="color:#888;font-size:12px">${t.legend}</p>
<h2 style="font-size:16px;margin:18px 0 6px">${t.byMarket}</h2>
${chart(charts, target, 'markets', t.byMarket)}
${countTable(r.byMarket, t.market)}
<h2 style="font-size:16px;margin:18px 0 6px">${t.byCategory}</h2>
${chart(charts, target, 'categories', t.byCategory)}
${countTable(r.byCategory, t.category)}
<h2 style="font-size:16px;margin:18px 0 6px">${t.top}</h2>
${r.top.length
  ? html`<ol style="padding-left:20px">${r.top.map((x) => html`<li style="margin-bottom:10px">${levelCell(x.warning.level)} <strong>${Math.round(x.warning.score)}</strong> <a href="${x.warning.detailUrl}">${x.warning.measureKey}</a> · ${mkt(x.warning)}<br>${x.warning.title}<br>
<span style="color:#555">${t.category}：${(lang === 'zh' ? x.categories : x.categoriesEn).join('、')}；${lang === 'zh' ? x.warning.reasonZh : x.warning.reasonEn}</span><br>
<span style="color:#555">${lt.deadline(x.warning.commentDeadline, x.warning.daysLeft)}</span>${x.warning.sourceUrls.slice(0, 2).map((u) => html` · <a href="${safeUrl(u)}">${lt.source}</a>`)}</li>`)}</ol>`
  : html`<p>${t.none}</p>`}
<h2 style="font-size:16px;margin:18px 0 6px">${t.deadlines}</h2>
${upcoming(r.deadlines)}
<h2 style="font-size:16px;margin:18px 0 6px">${t.entries}</h2>
${upcoming(r.entries)}`

  const lines: string[] = []
  if (target.kind === 'email') lines.push(lt.hello(target.recipientName ?? null), '')
  lines.push(t.title(r.week), t.period(r.from, r.to), `${t.web}: ${target.webUrl}`, '', t.intro, '')
  lines.push(`${t.byLevel}: ${LEVEL_ORDER.map((l) => `${lt.level[l]} ${r.byLevel[l]}`).join(' · ')}`)
  lines.push(`${t.trend}: ${t.newWarnings} ${r.trend.current} · ${t.vs(r.trend.avg4, 4, r.trend.change4)} · ${t.vs(r.trend.avg12, 12, r.trend.change12)}`)
  lines.push(`${t.byMarket}: ${r.byMarket.map((m) => `${name(m)} ${m.high + m.medium + m.low}`).join(' · ') || t.none}`)
  lines.push(`${t.byCategory}: ${r.byCategory.map((m) => `${name(m)} ${m.high + m.medium + m.low}`).join(' · ') || t.none}`, '', `${t.top}:`)
  r.top.forEach((x, i) => lines.push(`${i + 1}. [${lt.level[x.warning.level]} ${Math.round(x.warning.score)}] ${x.warning.measureKey} ${x.warning.title} (${mkt(x.warning)}) ${x.warning.detailUrl}`))
  lines.push('', `${t.deadlines}:`, ...(r.deadlines.length ? r.deadlines.map((u) => `- ${u.date} ${u.measureKey} ${u.title} (${mkt(u)})`) : [t.none]))
  lines.push('', `${t.entries}:`, ...(r.entries.length ? r.entries.map((u) => `- ${u.date} ${u.measureKey} ${u.title} (${mkt(u)})`) : [t.none]))
  if (target.links) lines.push('', '--', lt.footer, `${lt.manage}: ${target.links.manageUrl}`, `${lt.unsub}: ${target.links.unsubscribeUrl}`)

  const htmlOut = target.kind === 'email' ? mailFrame(lang, subject, body, target.links ?? null, true) : body.html
  return { subject, html: htmlOut, text: lines.join('\n') }
}
