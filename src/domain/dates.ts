/** Date helpers. Dates travel as `YYYY-MM-DD` strings; anything unparseable becomes null. */

const MIN_YEAR = 1995 // the WTO's first year: earlier dates on a notice are typos
const MAX_YEAR_AHEAD = 30

export function toIsoDate(value: unknown, now: Date = new Date()): string | null {
  if (value == null || value === '') return null
  const s = String(value).trim()
  let y: number, m: number, d: number
  let match = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(s)
  if (match) {
    ;[y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])]
  } else if ((match = /^(\d{4})[/.年](\d{1,2})[/.月](\d{1,2})日?$/.exec(s))) {
    ;[y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])]
  } else if ((match = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(s))) {
    // Day first, as the WTO and most national portals write it.
    ;[d, m, y] = [Number(match[1]), Number(match[2]), Number(match[3])]
  } else {
    return null
  }
  if (m < 1 || m > 12 || d < 1 || d > 31) return null
  if (y < MIN_YEAR || y > now.getUTCFullYear() + MAX_YEAR_AHEAD) return null
  const date = new Date(Date.UTC(y, m - 1, d))
  if (date.getUTCMonth() !== m - 1) return null // 31 February
  return date.toISOString().slice(0, 10)
}

export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

/** Whole days from `from` to `to` (dates), negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)
}

export const isoDay = (d: Date) => d.toISOString().slice(0, 10)

/** ISO week key such as `2026-W48` for the week holding `d` (Monday first). */
export function isoWeekKey(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))
  const day = t.getUTCDay() || 7
  t.setUTCDate(t.getUTCDate() + 4 - day)
  const yearStart = new Date(Date.UTC(t.getUTCFullYear(), 0, 1))
  const week = Math.ceil(((t.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7)
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
}

/** The local calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function localDay(d: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
}

/** The instant (ISO) at which a local day starts in `timeZone`. */
export function zonedMidnightIso(day: string, timeZone: string): string {
  const guess = Date.parse(`${day}T00:00:00Z`)
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(guess))
      .map((p) => [p.type, p.value]),
  )
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second))
  return new Date(guess - (wall - guess)).toISOString()
}
