import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js'
import type { AppContext } from '../app-context.js'
import { addDays, daysBetween, isoWeekKey } from '../domain/dates.js'
import { marketOfMember } from '../domain/markets.js'
import { CHART_CIDS, buildWeeklyReport, reportCharts, type ChartLabels, type UpcomingMeasure, type WeeklyReport } from '../digest/weekly-report.js'
import type { Lang } from '../digest/render.js'
import type { Logger } from '../logger.js'
import type { CatalogWarning } from '../digest/match.js'
import type { Level } from '../risk/score.js'
import { LEVEL_RANK } from '../risk/score.js'
import { loadCatalog, localDay, zonedMidnightIso } from './digest.service.js'

export const WEEK_RE = /^(\d{4})-W(\d{2})$/

/** Monday and Sunday (dates) of an ISO week key such as `2026-W48`. */
export function weekRange(week: string): { from: string; to: string } {
  const m = WEEK_RE.exec(week)
  if (!m) throw new RangeError(`not an ISO week: ${week}`)
  const year = Number(m[1])
  const jan4 = new Date(Date.UTC(year, 0, 4))
  const monday = new Date(jan4)
  monday.setUTCDate(jan4.getUTCDate() - ((jan4.getUTCDay() || 7) - 1) + (Number(m[2]) - 1) * 7)
  const from = monday.toISOString().slice(0, 10)
  if (isoWeekKey(monday) !== week) throw new RangeError(`not an ISO week: ${week}`)
  return { from, to: addDays(from, 6) }
}

export const shiftWeek = (week: string, n: number) => isoWeekKey(new Date(`${addDays(weekRange(week).from, 7 * n)}T00:00:00Z`))

const OPEN_WARNING = ['new', 'in_review', 'confirmed', 'escalated']

/**
 * The officials' report for one ISO week: by default the warnings created during the
 * week (local time); the weekly e-mail passes the warnings it carries instead.
 */
export async function loadWeeklyReport(ctx: AppContext, week: string, opts: { warnings?: CatalogWarning[] } = {}): Promise<WeeklyReport> {
  const tz = ctx.config.schedule.timezone
  const { from, to } = weekRange(week)
  const start = zonedMidnightIso(from, tz)
  const end = zonedMidnightIso(addDays(to, 1), tz)
  const warnings = opts.warnings ?? (await loadCatalog(ctx, { audience: 'official', createdFrom: start, createdBefore: end }))

  const first = shiftWeek(week, -12)
  const hist = await ctx.db
    .selectFrom('warning')
    .select(['created_at', 'level'])
    .where('created_at', '>=', zonedMidnightIso(weekRange(first).from, tz))
    .where('created_at', '<', end)
    .where('status', '!=', 'dismissed')
    .execute()
  const history = Array.from({ length: 13 }, (_, i) => ({ week: shiftWeek(first, i), high: 0, medium: 0, low: 0 }))
  const index = new Map(history.map((h, i) => [h.week, i]))
  for (const h of hist) {
    const k = isoWeekKey(new Date(`${localDay(new Date(h.created_at), tz)}T00:00:00Z`))
    const i = index.get(k)
    if (i !== undefined) history[i][h.level as Level]++
  }

  // What was coming up as seen from the report's week: today for the current week,
  // the week's last day for an archived one.
  const today = localDay(ctx.clock(), tz)
  const ref = today < to ? today : to
  const upcoming = async (column: 'comment_deadline' | 'entry_into_force_date', days: number): Promise<UpcomingMeasure[]> => {
    let q = ctx.db
      .selectFrom('measure')
      .innerJoin('warning', 'warning.measure_id', 'measure.id')
      .select(['measure.id', 'measure.key', 'measure.title', 'measure.member', `measure.${column} as date`, 'warning.level'])
      .where(`measure.${column}`, '>=', ref)
      .where(`measure.${column}`, '<=', addDays(ref, days))
      .where('warning.status', 'in', OPEN_WARNING)
    if (column === 'comment_deadline') q = q.where('measure.status', '=', 'open')
    else q = q.where('measure.status', '!=', 'withdrawn')
    const rows = await q.orderBy(`measure.${column}`).orderBy('measure.key').execute()
    const ids = [...new Set(rows.map((r) => r.id))]
    const codes = ids.length
      ? await ctx.db.selectFrom('notice').select(['measure_id', 'member_code', 'symbol']).where('measure_id', 'in', ids).orderBy('id').execute()
      : []
    const byMeasure = new Map<number, UpcomingMeasure>()
    for (const r of rows) {
      const e = byMeasure.get(r.id)
      if (e) {
        if (LEVEL_RANK[r.level as Level] > LEVEL_RANK[e.level]) e.level = r.level as Level
        continue
      }
      const n = codes.filter((c) => c.measure_id === r.id)
      const market = marketOfMember(ctx.markets, n.map((c) => c.member_code).find(Boolean) ?? n[0]?.symbol.split('/')[3] ?? null)
      byMeasure.set(r.id, {
        measureKey: r.key,
        title: r.title ?? '',
        member: r.member,
        marketZh: market?.zh ?? null,
        marketEn: market?.en ?? null,
        date: r.date as string,
        daysLeft: daysBetween(ref, r.date as string),
        level: r.level as Level,
        detailUrl: `${ctx.config.publicBaseUrl}/warnings/by-measure/${encodeURIComponent(r.key)}`,
      })
    }
    return [...byMeasure.values()]
  }
  // Detail links go to the first warning of the measure (the page every e-mail links to).
  const fixLinks = async (xs: UpcomingMeasure[]) => {
    for (const x of xs) {
      const w = await ctx.db
        .selectFrom('warning')
        .innerJoin('measure', 'measure.id', 'warning.measure_id')
        .select('warning.id')
        .where('measure.key', '=', x.measureKey)
        .orderBy('warning.score', 'desc')
        .orderBy('warning.id')
        .executeTakeFirst()
      if (w) x.detailUrl = `${ctx.config.publicBaseUrl}/warnings/${w.id}`
    }
    return xs
  }
  return buildWeeklyReport({
    week,
    from,
    to,
    warnings,
    history,
    deadlines: await fixLinks(await upcoming('comment_deadline', 30)),
    entries: await fixLinks(await upcoming('entry_into_force_date', 90)),
  })
}

/**
 * The report's charts as PNG inline attachments (2x for sharp screens), for mail clients
 * that show no SVG, labelled in the reader's language. Chinese labels need a CJK font on
 * this machine (fonts-wqy-microhei in the Docker image); without one they fall back to the
 * market and category codes, which the tables under each chart also show.
 */
export function chartAttachments(r: WeeklyReport, lang: Lang, log?: Logger): { filename: string; content: Buffer; contentType: string; cid: string }[] {
  let labels: ChartLabels = lang
  if (lang === 'zh' && !cjkFontAvailable()) {
    labels = 'codes'
    if (!warnedNoCjk) log?.warn('no CJK font for the weekly report charts: PNG labels are codes (install fonts-wqy-microhei)')
    warnedNoCjk = true
  }
  const charts = reportCharts(r, labels)
  return (Object.keys(CHART_CIDS) as (keyof typeof CHART_CIDS)[]).map((k) => ({
    filename: `${k}.png`,
    content: svgToPng(charts[k]),
    contentType: 'image/png',
    cid: CHART_CIDS[k],
  }))
}
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
