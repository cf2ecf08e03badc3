import { addDays, isoWeekKey } from './dates.js'

/**
 * Report periods: ISO weeks (`2026-W48`, Monday to Sunday), calendar months (`2026-11`)
 * and quarters (`2026-Q4`), all as local dates in TBT_TIMEZONE. Pure.
 */
export type PeriodKind = 'weekly' | 'monthly' | 'quarterly'
export const PERIOD_KINDS: PeriodKind[] = ['weekly', 'monthly', 'quarterly']

const RE: Record<PeriodKind, RegExp> = {
  weekly: /^(\d{4})-W(\d{2})$/,
  monthly: /^(\d{4})-(\d{2})$/,
  quarterly: /^(\d{4})-Q([1-4])$/,
}

export class PeriodError extends RangeError {
  readonly code = 'PERIOD_INVALID'
}

const pad = (n: number) => String(n).padStart(2, '0')
const utc = (day: string) => new Date(`${day}T00:00:00Z`)

/** First and last day (local dates) of a period key; throws PeriodError for a key that names no period. */
export function periodRange(kind: PeriodKind, key: string): { from: string; to: string } {
  const m = RE[kind]?.exec(key)
  if (!m) throw new PeriodError(`not a ${kind} period: ${key}`)
  const year = Number(m[1])
  if (year < 1995 || year > 2200) throw new PeriodError(`not a ${kind} period: ${key}`)
  if (kind === 'weekly') {
    const jan4 = new Date(Date.UTC(year, 0, 4))
    const monday = new Date(jan4)
    monday.setUTCDate(jan4.getUTCDate() - ((jan4.getUTCDay() || 7) - 1) + (Number(m[2]) - 1) * 7)
    if (Number(m[2]) < 1 || isoWeekKey(monday) !== key) throw new PeriodError(`not an ISO week: ${key}`)
    const from = monday.toISOString().slice(0, 10)
    return { from, to: addDays(from, 6) }
  }
  const first = kind === 'monthly' ? Number(m[2]) : (Number(m[2]) - 1) * 3 + 1
  if (first < 1 || first > 12) throw new PeriodError(`not a month: ${key}`)
  const months = kind === 'monthly' ? 1 : 3
  const from = `${year}-${pad(first)}-01`
  const next = new Date(Date.UTC(year, first - 1 + months, 1))
  return { from, to: addDays(next.toISOString().slice(0, 10), -1) }
}

export function isPeriodKey(kind: PeriodKind, key: string): boolean {
  // Years a report can mean (others would ask the database for centuries of periods).
  const year = Number(key.slice(0, 4))
  if (!(year >= 2000 && year <= 2100)) return false
  try {
    periodRange(kind, key)
    return true
  } catch {
    return false
  }
}

/** The key of the period holding a local day. */
export function periodOf(kind: PeriodKind, day: string): string {
  const [y, mo] = day.split('-').map(Number)
  if (kind === 'weekly') return isoWeekKey(utc(day))
  if (kind === 'monthly') return `${y}-${pad(mo)}`
  return `${y}-Q${Math.floor((mo - 1) / 3) + 1}`
}

/** The key n periods after (before, for negative n) a key. */
export function shiftPeriod(kind: PeriodKind, key: string, n: number): string {
  const { from } = periodRange(kind, key)
  if (kind === 'weekly') return periodOf(kind, addDays(from, 7 * n))
  const [y, mo] = from.split('-').map(Number)
  const d = new Date(Date.UTC(y, mo - 1 + n * (kind === 'monthly' ? 1 : 3), 1))
  return periodOf(kind, d.toISOString().slice(0, 10))
}

/** The last complete period on a local day: last ISO week, last month, last quarter. */
export function lastCompletePeriod(kind: PeriodKind, today: string): string {
  return shiftPeriod(kind, periodOf(kind, today), -1)
}

/** Whether a period has ended by a local day (its last day is before `today`). */
export const isComplete = (kind: PeriodKind, key: string, today: string) => periodRange(kind, key).to < today

/** The first Monday on or after a local day. */
export function firstMondayFrom(day: string): string {
  const dow = utc(day).getUTCDay() // 0 Sunday .. 6 Saturday
  return addDays(day, (8 - dow) % 7)
}

/**
 * Whether the report of the last complete period is due on a local day: weekly reports
 * every week; monthly and quarterly ones from the first Monday of the new month or quarter
 * on (the weekly run that day sends them; a later run catches up a missed one).
 */
export function isReportDue(kind: PeriodKind, today: string): boolean {
  if (kind === 'weekly') return true
  return today >= firstMondayFrom(periodRange(kind, periodOf(kind, today)).from)
}

/** `n` keys ending with `key` (oldest first). */
export function periodSeries(kind: PeriodKind, key: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => shiftPeriod(kind, key, i - n + 1))
}
