import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js'
import type { AppContext } from '../app-context.js'
import { addDays, localDay, zonedMidnightIso } from '../domain/dates.js'
import { isComplete, lastCompletePeriod, periodOf, periodRange, periodSeries, shiftPeriod, type PeriodKind } from '../domain/periods.js'
import { buildReport, CHART_CIDS, reportCharts, SNAPSHOT_VERSION, type ChartLabels, type CommentFigures, type ReportSnapshot } from '../digest/report.js'
import type { Lang } from '../digest/render.js'
import type { Logger } from '../logger.js'
import type { Level } from '../risk/score.js'
import { loadCatalog } from './digest.service.js'
import { commentFigures } from './comment.service.js'
import { lifecycleFresh } from './lifecycle.service.js'

export const WEEK_RE = /^(\d{4})-W(\d{2})$/

/** Monday and Sunday (dates) of an ISO week key such as `2026-W48`. */
export const weekRange = (week: string) => periodRange('weekly', week)
export const shiftWeek = (week: string, n: number) => shiftPeriod('weekly', week, n)

const OPEN_WARNING = ['new', 'in_review', 'confirmed', 'escalated']

/** A report asked for a period that has not ended yet (its figures would still change). */
export class ReportNotReadyError extends Error {
  readonly code = 'REPORT_NOT_READY'
  readonly retryable = false
}

export interface ReportPeriod {
  kind: PeriodKind
  key: string
  /** first and last local day */
  from: string
  to: string
  /** the instants the period starts and ends at in TBT_TIMEZONE (end exclusive) */
  start: string
  end: string
}

export function reportPeriod(ctx: Pick<AppContext, 'config'>, kind: PeriodKind, key: string): ReportPeriod {
  const tz = ctx.config.schedule.timezone
  const { from, to } = periodRange(kind, key)
  return { kind, key, from, to, start: zonedMidnightIso(from, tz), end: zonedMidnightIso(addDays(to, 1), tz) }
}

/** The last complete period of a kind on today's local date: the report an official opens first. */
export const latestReportKey = (ctx: Pick<AppContext, 'clock' | 'config'>, kind: PeriodKind) => lastCompletePeriod(kind, localDay(ctx.clock(), ctx.config.schedule.timezone))

/**
 * 评议 figures for a period (comments submitted, in drafting, deadlines passed without a
 * comment, export value concerned) from the comment service (issue 13).
 */
export async function loadCommentFigures(ctx: AppContext, period: ReportPeriod): Promise<CommentFigures | null> {
  const f = await commentFigures(ctx, period.from, period.to)
  return {
    submitted: f.submitted,
    drafting: f.drafting,
    missedDeadline: f.missedDeadline,
    exportValue: f.exportValue > 0 ? { amount: f.exportValue, currency: 'CNY', basis: '企业评议意见填报 / as reported in enterprise feedback' } : null,
  }
}

/**
 * Computes a period's report from the database as it stands: the warnings created during
 * the period (one per measure, dismissed ones left out), the 12 periods before for the
 * trend, and the comment deadlines (30 days) and entries into force (90 days) coming up
 * from the day after the period.
 */
export async function computeReport(ctx: AppContext, kind: PeriodKind, key: string): Promise<ReportSnapshot> {
  await lifecycleFresh(ctx)
  const tz = ctx.config.schedule.timezone
  const p = reportPeriod(ctx, kind, key)
  const warnings = await loadCatalog(ctx, { audience: 'official', createdFrom: p.start, createdBefore: p.end })

  const series = periodSeries(kind, key, 13)
  const first = reportPeriod(ctx, kind, series[0])
  const hist = await ctx.db
    .selectFrom('warning')
    .select(['created_at', 'level'])
    .where('created_at', '>=', first.start)
    .where('created_at', '<', p.end)
    .where('status', '!=', 'dismissed')
    .execute()
  const history = series.map((k) => ({ key: k, high: 0, medium: 0, low: 0 }))
  const index = new Map(series.map((k, i) => [k, i]))
  for (const h of hist) {
    const i = index.get(periodOf(kind, localDay(new Date(h.created_at), tz)))
    if (i !== undefined) history[i][h.level as Level]++
  }
  const asOf = addDays(p.to, 1)
  const deadlines = await loadCatalog(ctx, { audience: 'official', deadlineBetween: [asOf, addDays(asOf, 30)], measureStatuses: ['open'] })
  const entries = await loadCatalog(ctx, { audience: 'official', entryIntoForceBetween: [asOf, addDays(asOf, 90)], notMeasureStatuses: ['withdrawn'] })
  return buildReport({
    kind,
    key,
    from: p.from,
    to: p.to,
    asOf,
    generatedAt: ctx.clock().toISOString(),
    timeZone: tz,
    warnings,
    history,
    deadlines: deadlines.filter((w) => OPEN_WARNING.includes(w.status)),
    entries: entries.filter((w) => OPEN_WARNING.includes(w.status)),
    comments: await loadCommentFigures(ctx, p),
  })
}

/** The stored report of a period, if it was computed. */
export async function storedReport(ctx: AppContext, kind: PeriodKind, key: string): Promise<ReportSnapshot | undefined> {
  const row = await ctx.db.selectFrom('report').select('snapshot').where('kind', '=', kind).where('period_key', '=', key).executeTakeFirst()
  return row ? (JSON.parse(row.snapshot) as ReportSnapshot) : undefined
}

/**
 * A period's report: the stored snapshot, or, for a complete period never computed, one
 * computed now and stored (the first writer wins a race; everyone renders the stored one).
 * A period not yet over has no report (ReportNotReadyError).
 */
export async function ensureReport(ctx: AppContext, kind: PeriodKind, key: string): Promise<ReportSnapshot> {
  const stored = await storedReport(ctx, kind, key)
  if (stored) return stored
  if (!isComplete(kind, key, localDay(ctx.clock(), ctx.config.schedule.timezone))) throw new ReportNotReadyError(`the ${kind} period ${key} has not ended yet`)
  const snapshot = await computeReport(ctx, kind, key)
  await ctx.db
    .insertInto('report')
    .values({ kind, period_key: key, snapshot: JSON.stringify(snapshot), version: SNAPSHOT_VERSION, created_at: ctx.clock().toISOString() })
    .onConflict((oc) => oc.columns(['kind', 'period_key']).doNothing())
    .execute()
  ctx.log.info({ kind, key, total: snapshot.total }, 'report computed and stored')
  return (await storedReport(ctx, kind, key))!
}

export interface ReportListItem {
  kind: PeriodKind
  key: string
  from: string
  to: string
  total: number
  high: number
  createdAt: string
}

/** Every stored report of a kind, newest period first. */
export async function listReports(ctx: AppContext, kind: PeriodKind): Promise<ReportListItem[]> {
  const rows = await ctx.db.selectFrom('report').select(['kind', 'period_key', 'snapshot', 'created_at']).where('kind', '=', kind).orderBy('period_key', 'desc').execute()
  return rows.map((r) => {
    const s = JSON.parse(r.snapshot) as ReportSnapshot
    return { kind, key: r.period_key, from: s.from, to: s.to, total: s.total, high: s.byLevel.high, createdAt: r.created_at }
  })
}

/**
 * The report's charts as PNG inline attachments (2x for sharp screens), for mail clients
 * that show no SVG, labelled in the reader's language. Chinese labels need a CJK font on
 * this machine (fonts-wqy-microhei in the Docker image); without one they fall back to the
 * market and category codes, which the tables under each chart also show.
 */
export function chartAttachments(r: ReportSnapshot, lang: Lang, log?: Logger): { filename: string; content: Buffer; contentType: string; cid: string }[] {
  let labels: ChartLabels = lang
  if (lang === 'zh' && !cjkFontAvailable()) {
    labels = 'codes'
    if (!warnedNoCjk) log?.warn('no CJK font for the weekly report charts: PNG labels are codes (install fonts-wqy-microhei)')
    warnedNoCjk = true
  }
  // Every official of a period gets the same charts: rendered once per snapshot and labels
  // (the PNG rendering is CPU work that holds the worker's event loop).
  const cacheKey = `${r.kind}|${r.key}|${r.generatedAt}|${labels}`
  const cached = pngCache.get(cacheKey)
  if (cached) return cached.map((a) => ({ ...a }))
  const charts = reportCharts(r, labels)
  const out = (Object.keys(CHART_CIDS) as (keyof typeof CHART_CIDS)[]).map((k) => ({
    filename: `${k}.png`,
    content: svgToPng(charts[k]),
    contentType: 'image/png',
    cid: CHART_CIDS[k],
  }))
  pngCache.set(cacheKey, out)
  if (pngCache.size > 12) pngCache.delete(pngCache.keys().next().value!)
  return out.map((a) => ({ ...a }))
}
const pngCache = new Map<string, { filename: string; content: Buffer; contentType: string; cid: string }[]>()
let warnedNoCjk = false

const RESVG_FONTS: ResvgRenderOptions['font'] = { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }

export function svgToPng(svg: string): Buffer {
  const m = /width="(\d+)"/.exec(svg)
  const resvg = new Resvg(svg, { fitTo: { mode: 'width', value: 2 * Number(m?.[1] ?? 640) }, font: RESVG_FONTS, background: '#ffffff' })
  return resvg.render().asPng()
}

/**
 * Whether the PNG renderer, with these font options, finds a font with Chinese glyphs. Two
 * different characters drawn without one come out as the same missing-glyph box (or as
 * nothing), so their pixels match.
 */
export function probeCjkFont(font: ResvgRenderOptions['font']): boolean {
  const draw = (ch: string) => new Resvg(`<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48"><text x="4" y="40" font-size="40">${ch}</text></svg>`, { font, background: '#ffffff' }).render().pixels
  return !draw('中').equals(draw('国'))
}
let cjk: boolean | undefined
/** `probeCjkFont` for the fonts svgToPng uses, once per process. */
export const cjkFontAvailable = () => (cjk ??= probeCjkFont(RESVG_FONTS))
