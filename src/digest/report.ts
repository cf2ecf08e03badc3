import type { Level } from '../risk/score.js'
import { html, raw, type Raw } from '../util/html.js'
import { MEASURE_STATUS_LABEL, localTimeLabelled } from '../domain/i18n.js'
import type { PeriodKind } from '../domain/periods.js'
import { barChart, noDataLabel, svgSize, trendChart, type StackRow } from './charts.js'
import type { CatalogWarning, NamedRef } from './match.js'
import { LEVEL_COLORS, LEVEL_ORDER, mailFrame, safeUrl, sourceLinkLabels, T as MAIL_T, type Lang, type MailLinks, type RenderedMail } from './render.js'

/**
 * The officials' report for one period (an ISO week, a month, a quarter): built once from
 * the database when the period is complete (services/report.service), stored as this JSON
 * snapshot, and rendered from it by the e-mail and the web page alike. Names are kept in
 * both languages; links are paths, joined to PUBLIC_BASE_URL when rendered.
 */
export const SNAPSHOT_VERSION = 1

export interface ReportMeasure {
  warningId: number
  measureKey: string
  symbols: string[]
  title: string
  level: Level
  score: number
  /** the warning's review status */
  status: string
  measureStatus: string
  categories: { id: string; zh: string; en: string }[]
  markets: NamedRef[]
  members: NamedRef[]
  commentDeadline: string | null
  entryIntoForce: string | null
  reasonZh: string
  reasonEn: string
  path: string
  sourceUrls: string[]
}

/** A measure with a date coming up (comment deadline or entry into force), as of the day after the period. */
export interface UpcomingMeasure extends ReportMeasure {
  date: string
  daysLeft: number
}

export interface CountRow extends StackRow {
  key: string
  zh: string
  en: string
}

/**
 * 评议 (enterprise comments on notified drafts) for the period: filled in by the comment
 * feed (issue 13) through report.service `loadCommentFigures`; null until then, and the
 * report then shows no comments section at all.
 */
export interface CommentFigures {
  /** comments submitted during the period */
  submitted: number
  /** comments being drafted at the end of the period */
  drafting: number
  /** warned measures whose comment deadline passed during the period without a comment */
  missedDeadline: number
  /** the Beijing export value the commented measures concern, when known */
  exportValue: { amount: number; currency: string; basis: string } | null
}

export interface ReportSnapshot {
  version: number
  kind: PeriodKind
  key: string
  /** first and last local day of the period */
  from: string
  to: string
  /** the day upcoming dates are counted from: the day after the period */
  asOf: string
  generatedAt: string
  timeZone: string
  /** measures newly warned during the period (not dismissed) */
  total: number
  byLevel: Record<Level, number>
  /** a measure counts once in every market (and category) it touches */
  byMarket: CountRow[]
  byCategory: CountRow[]
  /** measures warned per period: the 12 before and this one, oldest first */
  history: { key: string; high: number; medium: number; low: number }[]
  trend: { current: number; avg4: number; avg12: number; change4: number | null; change12: number | null }
  top: ReportMeasure[]
  /** comment deadlines in the 30 days from asOf, open measures */
  deadlines: UpcomingMeasure[]
  /** entries into force in the 90 days from asOf, with counts per market and category */
  entries: UpcomingMeasure[]
  entriesByMarket: CountRow[]
  entriesByCategory: CountRow[]
  comments: CommentFigures | null
}

export interface ReportInput {
  kind: PeriodKind
  key: string
  from: string
  to: string
  asOf: string
  generatedAt: string
  timeZone: string
  /** the warnings created during the period (one per measure) */
  warnings: CatalogWarning[]
  history: { key: string; high: number; medium: number; low: number }[]
  deadlines: CatalogWarning[]
  entries: CatalogWarning[]
  comments: CommentFigures | null
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0)
const change = (cur: number, base: number) => (base > 0 ? Math.round(((cur - base) / base) * 100) : null)
const round1 = (v: number) => Math.round(v * 10) / 10
const days = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)
const OPEN_RANK: Record<string, number> = { open: 0, adopted: 1, in_force: 1, closed: 2, withdrawn: 3 }

export function reportMeasure(w: CatalogWarning): ReportMeasure {
  return {
    warningId: w.id,
    measureKey: w.measureKey,
    symbols: w.symbols,
    title: w.title,
    level: w.level,
    score: w.score,
    status: w.status,
    measureStatus: w.measureStatus,
    categories: w.categories.map((c) => ({ id: c.id, zh: c.zh, en: c.en })),
    markets: w.markets.map((m) => ({ code: m.code, zh: m.zh, en: m.en })),
    members: w.members,
    commentDeadline: w.commentDeadline,
    entryIntoForce: w.entryIntoForce,
    reasonZh: w.reasonZh,
    reasonEn: w.reasonEn,
    path: w.path,
    sourceUrls: w.sourceUrls,
  }
}

function counts(ws: CatalogWarning[], by: 'market' | 'category'): CountRow[] {
  const m = new Map<string, CountRow>()
  for (const w of ws) {
    const refs = by === 'market' ? w.markets.map((x) => ({ key: x.code, zh: x.zh, en: x.en, level: w.level })) : w.categories.map((c) => ({ key: c.id, zh: c.zh, en: c.en, level: c.level }))
    if (!refs.length && by === 'market') refs.push({ key: '?', zh: '其他', en: 'other', level: w.level })
    for (const r of refs) {
      const row = m.get(r.key) ?? { key: r.key, zh: r.zh, en: r.en, label: r.key, high: 0, medium: 0, low: 0 }
      row[r.level]++
      m.set(r.key, row)
    }
  }
  return [...m.values()].sort((a, b) => b.high + b.medium + b.low - (a.high + a.medium + a.low) || a.key.localeCompare(b.key))
}

/** Counts, trend, top measures and coming dates of one period. Pure. */
export function buildReport(input: ReportInput): ReportSnapshot {
  const byLevel: Record<Level, number> = { high: 0, medium: 0, low: 0 }
  for (const w of input.warnings) byLevel[w.level]++
  const totals = input.history.map((h) => h.high + h.medium + h.low)
  const current = input.warnings.length
  const prev = totals.slice(0, -1)
  const avg4 = round1(mean(prev.slice(-4)))
  const avg12 = round1(mean(prev.slice(-12)))
  const upcoming = (ws: CatalogWarning[], date: (w: CatalogWarning) => string | null): UpcomingMeasure[] =>
    ws
      .filter((w) => date(w))
      .map((w) => ({ ...reportMeasure(w), date: date(w)!, daysLeft: days(input.asOf, date(w)!) }))
      .sort((a, b) => a.date.localeCompare(b.date) || a.measureKey.localeCompare(b.measureKey))
  return {
    version: SNAPSHOT_VERSION,
    kind: input.kind,
    key: input.key,
    from: input.from,
    to: input.to,
    asOf: input.asOf,
    generatedAt: input.generatedAt,
    timeZone: input.timeZone,
    total: current,
    byLevel,
    byMarket: counts(input.warnings, 'market'),
    byCategory: counts(input.warnings, 'category'),
    history: input.history,
    trend: { current, avg4, avg12, change4: change(current, avg4), change12: change(current, avg12) },
    top: [...input.warnings]
      .sort((a, b) => (OPEN_RANK[a.measureStatus] ?? 0) - (OPEN_RANK[b.measureStatus] ?? 0) || b.score - a.score || a.id - b.id)
      .slice(0, 10)
      .map(reportMeasure),
    deadlines: upcoming(input.deadlines, (w) => w.commentDeadline),
    entries: upcoming(input.entries, (w) => w.entryIntoForce),
    entriesByMarket: counts(input.entries, 'market'),
    entriesByCategory: counts(input.entries, 'category'),
    comments: input.comments,
  }
}

// ---------------------------------------------------------------------------------------
// Words

const KIND_ZH: Record<PeriodKind, string> = { weekly: '周报', monthly: '月报', quarterly: '季报' }
const KIND_EN: Record<PeriodKind, string> = { weekly: 'weekly', monthly: 'monthly', quarterly: 'quarterly' }
const UNIT_ZH: Record<PeriodKind, string> = { weekly: '周', monthly: '个月', quarterly: '个季度' }
const UNIT_EN: Record<PeriodKind, [string, string]> = { weekly: ['week', 'weeks'], monthly: ['month', 'months'], quarterly: ['quarter', 'quarters'] }
const QUARTER_ZH = ['一', '二', '三', '四']
const MONTH_EN = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']

/** The period in words: `2026年第48周（2026-11-23 至 2026-11-29）`, `2026年11月`, `2026年第四季度`. */
export function periodLabel(lang: Lang, kind: PeriodKind, key: string, from: string, to: string): string {
  const [y, n] = [Number(key.slice(0, 4)), Number(key.replace(/^\d{4}-W?Q?/, ''))]
  if (lang === 'zh') {
    if (kind === 'weekly') return `${y}年第${n}周（${from} 至 ${to}）`
    if (kind === 'monthly') return `${y}年${n}月`
    return `${y}年第${QUARTER_ZH[n - 1]}季度（${from} 至 ${to}）`
  }
  if (kind === 'weekly') return `week ${key} (${from} to ${to})`
  if (kind === 'monthly') return `${MONTH_EN[n - 1]} ${y}`
  return `Q${n} ${y} (${from} to ${to})`
}

/** Short labels for the trend chart: W48, 26-11, 26-Q4. */
export const historyLabel = (kind: PeriodKind, key: string) => (kind === 'weekly' ? key.slice(5) : key.slice(2))

const R = {
  zh: {
    kind: (k: PeriodKind) => KIND_ZH[k],
    subject: (k: PeriodKind, label: string, n: number, high: number) => `【TBT风险${KIND_ZH[k]}】${label}：新增预警措施${n}项，其中高风险${high}项`,
    title: (k: PeriodKind) => `技术性贸易措施风险${KIND_ZH[k]}`,
    period: (label: string) => `统计期间：${label}`,
    generated: (t: string) => `生成时间：${t}`,
    intro: (k: PeriodKind) => `本${k === 'weekly' ? '周' : k === 'monthly' ? '月' : '季度'}北京主要出口产品面临的国外技术性贸易措施风险概况如下。每项措施只计一次；一项措施涉及多个市场或产品类别时，在每个相关市场、类别中各计一次。`,
    summary: '概况',
    newWarnings: '新增预警措施',
    trend: '趋势',
    vs: (k: PeriodKind, avg: number, n: number, pct: number | null) => `前${n}${UNIT_ZH[k]}平均 ${avg.toFixed(1)} 项${pct === null ? '' : `（${pct >= 0 ? '+' : ''}${pct}%）`}`,
    trendChart: (k: PeriodKind) => `近13${UNIT_ZH[k]}预警措施数量（按风险等级）`,
    avgLabel: (k: PeriodKind) => (n: number) => `前${n}${UNIT_ZH[k]}平均`,
    byLevel: '按风险等级',
    byMarket: '按市场',
    byCategory: '按产品类别',
    top: '重点措施',
    deadlines: '即将截止评议的措施（30天内）',
    entries: '即将生效的措施（90天内）',
    entriesBy: '即将生效的措施：按市场和产品类别',
    comments: '企业评议',
    commentsSubmitted: '已提交评议',
    commentsDrafting: '正在起草',
    commentsMissed: '评议期已过、未提交评议的措施',
    commentsValue: '涉及出口额',
    none: '无',
    measure: '措施',
    market: '市场',
    category: '产品类别',
    members: '通报成员',
    count: '数量',
    date: '日期',
    status: '状态',
    days: (d: number) => (d === 0 ? '当天' : `${d}天后`),
    web: '在浏览器中查看或打印（PDF）',
    legend: '图例：红色＝高风险，橙色＝中风险，灰色＝低风险',
    unit: '项',
    colon: '：',
    semi: '；',
  },
  en: {
    kind: (k: PeriodKind) => KIND_EN[k],
    subject: (k: PeriodKind, label: string, n: number, high: number) => `[TBT ${KIND_EN[k]} risk report] ${label}: ${n} newly warned measure${n === 1 ? '' : 's'}, ${high} high risk`,
    title: (k: PeriodKind) => `Trade-measure risk report (${KIND_EN[k]})`,
    period: (label: string) => `Period: ${label}`,
    generated: (t: string) => `Generated ${t}`,
    intro: (k: PeriodKind) =>
      `Foreign technical trade measures concerning Beijing's main exports this ${UNIT_EN[k][0]}. Each measure counts once; a measure that concerns several markets or product categories counts once in each.`,
    summary: 'Summary',
    newWarnings: 'Newly warned measures',
    trend: 'Trend',
    vs: (k: PeriodKind, avg: number, n: number, pct: number | null) => `previous ${n} ${UNIT_EN[k][1]}' mean ${avg.toFixed(1)}${pct === null ? '' : ` (${pct >= 0 ? '+' : ''}${pct}%)`}`,
    trendChart: (k: PeriodKind) => `Warned measures per ${UNIT_EN[k][0]}, last 13 ${UNIT_EN[k][1]} (by level)`,
    avgLabel: (k: PeriodKind) => (n: number) => `${n}-${UNIT_EN[k][0]} mean`,
    byLevel: 'By risk level',
    byMarket: 'By market',
    byCategory: 'By product category',
    top: 'Top measures',
    deadlines: 'Comment deadlines in the next 30 days',
    entries: 'Entries into force in the next 90 days',
    entriesBy: 'Entries into force in the next 90 days, by market and product category',
    comments: 'Enterprise comments',
    commentsSubmitted: 'Comments submitted',
    commentsDrafting: 'Comments in drafting',
    commentsMissed: 'Measures whose deadline passed without a comment',
    commentsValue: 'Export value concerned',
    none: 'None',
    measure: 'Measure',
    market: 'Market',
    category: 'Category',
    members: 'Notified by',
    count: 'Count',
    date: 'Date',
    status: 'Status',
    days: (d: number) => (d === 0 ? 'today' : `in ${d} days`),
    web: 'View in a browser or print (PDF)',
    legend: 'Legend: red = high, orange = medium, grey = low risk',
    unit: '',
    colon: ': ',
    semi: '; ',
  },
}

export type ReportCharts = { trend: string; markets: string; categories: string }
/** Chart labels: names in Chinese or English, or the market and category codes (ASCII). */
export type ChartLabels = Lang | 'codes'

/** The report's three charts (SVG), labelled in the reader's language or with codes. Pure. */
export function reportCharts(r: ReportSnapshot, labels: ChartLabels): ReportCharts {
  const named = (rows: CountRow[]) => rows.map((row) => ({ ...row, label: labels === 'codes' ? row.key : row[labels] }))
  const series = r.history.map((h) => ({ label: historyLabel(r.kind, h.key), high: h.high, medium: h.medium, low: h.low }))
  const avg = labels === 'codes' ? (n: number) => `${n}p avg` : R[labels].avgLabel(r.kind)
  return {
    trend: trendChart(series, { avg4: r.trend.avg4, avg12: r.trend.avg12 }, avg, undefined, undefined, noDataLabel(labels)),
    markets: barChart(named(r.byMarket), undefined, undefined, noDataLabel(labels)),
    categories: barChart(named(r.byCategory), undefined, undefined, noDataLabel(labels)),
  }
}

export interface ReportTarget {
  /** `email`: charts as <img src="cid:..."> (PNG attachments); `web`: inline SVG. */
  kind: 'email' | 'web'
  /** PUBLIC_BASE_URL: the snapshot's paths are joined to it */
  baseUrl: string
  webUrl: string
  links?: MailLinks
  recipientName?: string | null
}

export const CHART_CIDS = { trend: 'trend@tbt-watch', markets: 'markets@tbt-watch', categories: 'categories@tbt-watch' } as const

const TH = 'style="text-align:left;padding:4px 8px;border-bottom:1px solid #ccc;background:#f6f6f6"'
const TD = 'style="padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top"'
const H2 = 'style="font-size:16px;margin:20px 0 6px"'

function chart(charts: ReportCharts, target: ReportTarget, which: keyof ReportCharts, alt: string): Raw {
  const svg = charts[which]
  if (target.kind === 'web') return html`<figure class="chart" aria-label="${alt}">${raw(svg)}</figure>`
  const { width, height } = svgSize(svg)
  return html`<img src="cid:${CHART_CIDS[which]}" width="${width}" height="${height}" alt="${alt}" style="display:block;width:100%;max-width:${width}px;height:auto;border:0">`
}

/** The report as subject, HTML and text; the same body serves the e-mail and the web page. Pure. */
export function renderReport(lang: Lang, r: ReportSnapshot, target: ReportTarget): RenderedMail {
  const t = R[lang]
  const lt = MAIL_T[lang]
  const name = (x: { zh: string; en: string }) => (lang === 'zh' ? x.zh : x.en)
  const names = (xs: { zh: string; en: string }[]) => xs.map(name).join(lang === 'zh' ? '、' : ', ')
  const url = (p: string) => `${target.baseUrl}${p}`
  const label = periodLabel(lang, r.kind, r.key, r.from, r.to)
  const subject = t.subject(r.kind, label, r.total, r.byLevel.high)
  const charts = reportCharts(r, lang)
  const levelCell = (l: Level) => html`<span style="display:inline-block;padding:0 6px;border-radius:3px;color:#fff;background:${LEVEL_COLORS[l]};white-space:nowrap">${lt.level[l]}</span>`
  const status = (s: string) => MEASURE_STATUS_LABEL[lang][s] ?? s
  const countTable = (rows: CountRow[], head: string) =>
    rows.length
      ? html`<table style="border-collapse:collapse;width:100%;font-size:13px" class="counts">
<tr><th ${raw(TH)}>${head}</th>${LEVEL_ORDER.map((l) => html`<th ${raw(TH)}>${lt.level[l]}</th>`)}<th ${raw(TH)}>${t.count}</th></tr>
${rows.map((row) => html`<tr><td ${raw(TD)}>${name(row)}</td>${LEVEL_ORDER.map((l) => html`<td ${raw(TD)}>${row[l]}</td>`)}<td ${raw(TD)}><strong>${row.high + row.medium + row.low}</strong></td></tr>`)}
</table>`
      : html`<p>${t.none}</p>`
  const upcoming = (rows: UpcomingMeasure[]) =>
    rows.length
      ? html`<table style="border-collapse:collapse;width:100%;font-size:13px" class="upcoming"><tr><th ${raw(TH)}>${t.date}</th><th ${raw(TH)}>${t.measure}</th><th ${raw(TH)}>${t.market}</th></tr>
${rows.map((u) => html`<tr><td ${raw(TD)}><span style="white-space:nowrap">${u.date}</span><br><span style="color:#888">${t.days(u.daysLeft)}</span></td><td ${raw(TD)}>${levelCell(u.level)} <a href="${url(u.path)}">${u.symbols.join(', ')}</a><br>${u.title}<br><span style="color:#555">${t.category}${t.colon}${names(u.categories)}</span></td><td ${raw(TD)}>${names(u.markets) || '—'}</td></tr>`)}</table>`
      : html`<p>${t.none}</p>`
  const trendLine = html`${t.newWarnings} <strong>${r.trend.current}</strong> · ${t.vs(r.kind, r.trend.avg4, 4, r.trend.change4)} · ${t.vs(r.kind, r.trend.avg12, 12, r.trend.change12)}`
  const comments = r.comments
    ? html`<h2 ${raw(H2)}>${t.comments}</h2><table style="border-collapse:collapse;width:100%;font-size:13px" class="comments">
<tr><td ${raw(TD)}>${t.commentsSubmitted}</td><td ${raw(TD)}><strong>${r.comments.submitted}</strong></td></tr>
<tr><td ${raw(TD)}>${t.commentsDrafting}</td><td ${raw(TD)}><strong>${r.comments.drafting}</strong></td></tr>
<tr><td ${raw(TD)}>${t.commentsMissed}</td><td ${raw(TD)}><strong>${r.comments.missedDeadline}</strong></td></tr>
${r.comments.exportValue ? html`<tr><td ${raw(TD)}>${t.commentsValue}</td><td ${raw(TD)}><strong>${r.comments.exportValue.amount.toLocaleString('en-US')} ${r.comments.exportValue.currency}</strong> <span style="color:#888">${r.comments.exportValue.basis}</span></td></tr>` : ''}</table>`
    : ''

  const body = html`${target.kind === 'email' ? html`<p>${lt.hello(target.recipientName ?? null)}</p>` : ''}
<h1 style="font-size:20px;margin:8px 0">${t.title(r.kind)}</h1>
<p style="color:#666">${t.period(label)}<br>${t.generated(localTimeLabelled(lang, r.generatedAt, r.timeZone))}${target.kind === 'email' ? html`<br><a href="${target.webUrl}">${t.web}</a>` : ''}</p>
<p>${t.intro(r.kind)}</p>
<h2 ${raw(H2)}>${t.summary}</h2>
<p class="totals">${t.newWarnings}${t.colon}<strong class="total">${r.total}</strong>${t.unit ? ` ${t.unit}` : ''}</p>
<p>${t.byLevel}${t.colon}${LEVEL_ORDER.map((l) => html`${levelCell(l)} <span class="lv-${l}">${r.byLevel[l]}</span> `)}</p>
<p>${t.trend}${t.colon}${trendLine}</p>
<h3 style="font-size:14px;margin:14px 0 4px">${t.trendChart(r.kind)}</h3>
${chart(charts, target, 'trend', t.trendChart(r.kind))}
<p style="color:#888;font-size:12px">${t.legend}</p>
<h2 ${raw(H2)}>${t.byMarket}</h2>
${r.byMarket.length ? chart(charts, target, 'markets', t.byMarket) : ''}
${countTable(r.byMarket, t.market)}
<h2 ${raw(H2)}>${t.byCategory}</h2>
${r.byCategory.length ? chart(charts, target, 'categories', t.byCategory) : ''}
${countTable(r.byCategory, t.category)}
<h2 ${raw(H2)}>${t.top}</h2>
${r.top.length
  ? html`<ol style="padding-left:20px" class="top">${r.top.map((x) => html`<li style="margin-bottom:12px">${levelCell(x.level)} <strong>${Math.round(x.score)}</strong> <a href="${url(x.path)}">${x.symbols.join(', ')}</a> · ${names(x.members) || '—'} · ${status(x.measureStatus)}<br>${x.title}<br>
<span style="color:#555">${t.category}${t.colon}${names(x.categories)}${t.semi}${lang === 'zh' ? x.reasonZh : x.reasonEn}</span><br>
<span style="color:#555">${lt.deadline(x.commentDeadline, x.commentDeadline ? days(r.asOf, x.commentDeadline) : null)}</span>${sourceLinkLabels(x.sourceUrls.slice(0, 2), lang).map((label, i) => html` · <a href="${safeUrl(x.sourceUrls[i])}">${label}</a>`)}</li>`)}</ol>`
  : html`<p>${t.none}</p>`}
<h2 ${raw(H2)}>${t.deadlines}</h2>
${upcoming(r.deadlines)}
<h2 ${raw(H2)}>${t.entries}</h2>
${upcoming(r.entries)}
<h3 style="font-size:14px;margin:14px 0 4px">${t.entriesBy}</h3>
${countTable(r.entriesByMarket, t.market)}
<div style="height:8px"></div>
${countTable(r.entriesByCategory, t.category)}
${comments}`

  const lines: string[] = []
  if (target.kind === 'email') lines.push(lt.hello(target.recipientName ?? null), '')
  lines.push(t.title(r.kind), t.period(label), t.generated(localTimeLabelled(lang, r.generatedAt, r.timeZone)), `${t.web}: ${target.webUrl}`, '', t.intro(r.kind), '')
  lines.push(`${t.newWarnings}: ${r.total}`)
  lines.push(`${t.byLevel}: ${LEVEL_ORDER.map((l) => `${lt.level[l]} ${r.byLevel[l]}`).join(' · ')}`)
  lines.push(`${t.trend}: ${t.newWarnings} ${r.trend.current} · ${t.vs(r.kind, r.trend.avg4, 4, r.trend.change4)} · ${t.vs(r.kind, r.trend.avg12, 12, r.trend.change12)}`)
  lines.push(`${t.byMarket}: ${r.byMarket.map((m) => `${name(m)} ${m.high + m.medium + m.low}`).join(' · ') || t.none}`)
  lines.push(`${t.byCategory}: ${r.byCategory.map((m) => `${name(m)} ${m.high + m.medium + m.low}`).join(' · ') || t.none}`, '', `${t.top}:`)
  r.top.forEach((x, i) => lines.push(`${i + 1}. [${lt.level[x.level]} ${Math.round(x.score)}] ${x.symbols.join(', ')} ${x.title} (${names(x.members)}; ${status(x.measureStatus)}) ${url(x.path)}`))
  if (!r.top.length) lines.push(t.none)
  lines.push('', `${t.deadlines}:`, ...(r.deadlines.length ? r.deadlines.map((u) => `- ${u.date} ${u.symbols.join(', ')} ${u.title} (${names(u.markets)})`) : [t.none]))
  lines.push('', `${t.entries}:`, ...(r.entries.length ? r.entries.map((u) => `- ${u.date} ${u.symbols.join(', ')} ${u.title} (${names(u.markets)})`) : [t.none]))
  if (r.comments) lines.push('', `${t.comments}: ${t.commentsSubmitted} ${r.comments.submitted} · ${t.commentsDrafting} ${r.comments.drafting} · ${t.commentsMissed} ${r.comments.missedDeadline}`)
  if (target.links) lines.push('', '--', lt.footer, `${lt.manage}: ${target.links.manageUrl}`, `${lt.unsub}: ${target.links.unsubscribeUrl}`)

  const htmlOut = target.kind === 'email' ? mailFrame(lang, subject, body, target.links ?? null, true) : body.html
  return { subject, html: htmlOut, text: lines.join('\n') }
}
