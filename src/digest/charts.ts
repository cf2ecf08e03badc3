import { esc } from '../util/html.js'
import type { Level } from '../risk/score.js'

/**
 * Server-side charts as plain SVG strings: pure and deterministic. Labels come in the
 * reader's language; the caller passes codes instead where the PNG renderer has no CJK
 * font (see report.service `cjkFontAvailable`). Titles and legends live in the HTML.
 */

export const CHART_COLORS: Record<Level, string> = { high: '#c0392b', medium: '#d68910', low: '#95a5a6' }
const LEVELS: Level[] = ['high', 'medium', 'low']
const FONT = "font-family=\"DejaVu Sans, Arial, Helvetica, 'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif\""

export interface StackRow {
  label: string
  high: number
  medium: number
  low: number
}

const total = (r: StackRow) => r.high + r.medium + r.low

/** Wide characters (CJK, kana, Hangul, full-width forms) take about one em; the rest about 0.6. */
const WIDE = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u

/** Estimated advance width of a label at a font size, in px (no font metrics on the server). */
export function textWidth(s: string, size: number): number {
  let w = 0
  for (const ch of s) w += WIDE.test(ch) ? size : size * 0.6
  return w
}

/** The label cut to `max` px with an ellipsis, so a long name never runs off the chart. */
export function fitLabel(s: string, max: number, size: number): string {
  if (textWidth(s, size) <= max) return s
  let out = ''
  for (const ch of s) {
    if (textWidth(`${out}${ch}…`, size) > max) break
    out += ch
  }
  return `${out.trimEnd()}…`
}

/** A "nice" axis maximum: 1, 2, 5 x 10^n at or above the largest value. */
export function niceMax(v: number): number {
  if (v <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

/** What an empty chart says instead of a lone 0 (the PNG renderer without CJK fonts gets 'codes': English). */
export const noDataLabel = (lang: 'zh' | 'en' | 'codes') => (lang === 'zh' ? '暂无数据' : 'No data')

/**
 * The gridline values of a count axis from 0 to `max`: whole numbers only (a count of 12.5
 * means nothing), 4 or 5 steps when they divide evenly, else every whole step up to 5.
 */
export function countTicks(max: number): number[] {
  const m = Math.max(1, Math.ceil(max))
  const steps = [5, 4].find((n) => m % n === 0) ?? (m <= 5 ? m : [3, 2].find((n) => m % n === 0) ?? 1)
  return Array.from({ length: steps + 1 }, (_, i) => (m / steps) * i)
}

/** Weekly warnings as stacked columns (oldest left), with the 4- and 12-week means as dashed lines. */
export function trendChart(weeks: StackRow[], means: { avg4: number; avg12: number }, avgLabel: (weeks: number) => string = (n) => `${n}w avg`, width = 640, height = 240, empty = noDataLabel('en')): string {
  const pad = { l: 36, r: 12, t: 12, b: 36 }
  const w = width - pad.l - pad.r
  const h = height - pad.t - pad.b
  // Counts: whole-number gridlines (0-5 in steps of 1 at least; 5 steps for 5, 10, 50...; else 4).
  const max = niceMax(Math.max(4, ...weeks.map(total), means.avg4, means.avg12))
  const bw = w / Math.max(1, weeks.length)
  const y = (v: number) => pad.t + h - (v / max) * h
  const parts: string[] = []
  const nothing = weeks.every((r) => total(r) === 0)
  for (const v of countTicks(max)) {
    parts.push(`<line x1="${pad.l}" x2="${pad.l + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`)
    parts.push(`<text x="${pad.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#666" ${FONT}>${v}</text>`)
  }
  weeks.forEach((r, i) => {
    let base = 0
    const x = pad.l + i * bw + bw * 0.15
    for (const l of [...LEVELS].reverse()) {
      const v = r[l]
      if (v > 0) parts.push(`<rect x="${x.toFixed(1)}" y="${y(base + v).toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" height="${(y(base) - y(base + v)).toFixed(1)}" fill="${CHART_COLORS[l]}"/>`)
      base += v
    }
    if (i === weeks.length - 1 || i % 2 === (weeks.length - 1) % 2)
      parts.push(`<text x="${(x + bw * 0.35).toFixed(1)}" y="${pad.t + h + 16}" text-anchor="middle" font-size="10" fill="#444" ${FONT}>${esc(r.label)}</text>`)
    if (total(r) > 0) parts.push(`<text x="${(x + bw * 0.35).toFixed(1)}" y="${(y(total(r)) - 3).toFixed(1)}" text-anchor="middle" font-size="10" fill="#222" ${FONT}>${total(r)}</text>`)
  })
  if (nothing) {
    parts.push(`<text x="${(pad.l + w / 2).toFixed(1)}" y="${(pad.t + h / 2).toFixed(1)}" text-anchor="middle" font-size="14" fill="#888" ${FONT}>${esc(empty)}</text>`)
    parts.push(`<line x1="${pad.l}" x2="${pad.l + w}" y1="${pad.t + h}" y2="${pad.t + h}" stroke="#999"/>`)
    return svg(width, height, parts)
  }
  // The two labels sit at opposite ends so they never overlap when the means are close.
  for (const [v, dash, label, x, anchor] of [
    [means.avg4, '6 3', 4, pad.l + 4, 'start'],
    [means.avg12, '2 3', 12, pad.l + w * 0.5, 'middle'],
  ] as const) {
    parts.push(`<line x1="${pad.l}" x2="${pad.l + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#1f4e79" stroke-width="1.5" stroke-dasharray="${dash}"/>`)
    parts.push(`<text x="${x.toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="${anchor}" font-size="10" fill="#1f4e79" ${FONT}>${esc(avgLabel(label))} ${v.toFixed(1)}</text>`)
  }
  parts.push(`<line x1="${pad.l}" x2="${pad.l + w}" y1="${pad.t + h}" y2="${pad.t + h}" stroke="#999"/>`)
  return svg(width, height, parts)
}

/** Horizontal stacked bars, one row per label (markets, categories), largest first. */
export function barChart(rows: StackRow[], width = 640, rowHeight = 22, empty = noDataLabel('en')): string {
  // Largest first; ties keep the caller's order (the tables under the charts list them the same way).
  const sorted = [...rows].sort((a, b) => total(b) - total(a))
  const labelW = Math.ceil(Math.min(190, 12 + Math.max(28, ...sorted.map((r) => textWidth(r.label, 11)))))
  const pad = { l: labelW, r: 40, t: 8, b: 8 }
  const height = pad.t + pad.b + Math.max(1, sorted.length) * rowHeight
  const w = width - pad.l - pad.r
  const max = niceMax(Math.max(1, ...sorted.map(total)))
  const parts: string[] = []
  sorted.forEach((r, i) => {
    const yy = pad.t + i * rowHeight
    parts.push(`<text x="${pad.l - 6}" y="${yy + rowHeight * 0.68}" text-anchor="end" font-size="11" fill="#333" ${FONT}>${esc(fitLabel(r.label, labelW - 12, 11))}</text>`)
    let x = pad.l
    for (const l of LEVELS) {
      const bw = (r[l] / max) * w
      if (bw > 0) parts.push(`<rect x="${x.toFixed(1)}" y="${yy + 3}" width="${bw.toFixed(1)}" height="${rowHeight - 6}" fill="${CHART_COLORS[l]}"/>`)
      x += bw
    }
    parts.push(`<text x="${(x + 4).toFixed(1)}" y="${yy + rowHeight * 0.68}" font-size="11" fill="#222" ${FONT}>${total(r)}</text>`)
  })
  if (!sorted.length || sorted.every((r) => total(r) === 0)) {
    parts.length = 0
    parts.push(`<text x="${(width / 2).toFixed(1)}" y="${pad.t + rowHeight * 0.68}" text-anchor="middle" font-size="12" fill="#888" ${FONT}>${esc(empty)}</text>`)
  }
  return svg(width, height, parts)
}

function svg(width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"><rect width="100%" height="100%" fill="#ffffff"/>${parts.join('')}</svg>`
}

/** The height an SVG string declares (to size the <img> that shows its PNG). */
export const svgSize = (s: string) => {
  const m = /width="(\d+)" height="(\d+)"/.exec(s)
  return m ? { width: Number(m[1]), height: Number(m[2]) } : { width: 640, height: 240 }
}
