import { addDays, toIsoDate } from '../../src/domain/dates.js'

export interface CnDate {
  /** The day it comes to, when it comes to one. */
  date: string | null
  /** The text as the centre wrote it, kept whenever it is not a plain date. */
  text: string | null
}

const TBD = /^(待定|未定|待确定|暂无|无|不详|未知|tbd|to be determined|n\/?a)$/i

/**
 * Dates as China's centre writes them: `2000/02/15`, `2026-10-12`, `2023年10月1日`,
 * a month (`2023年10月` → its first day, the earliest it can mean), a year
 * (`2024年` → kept as text only), `待定` (to be determined), and periods counted from
 * the notification (`通报后60天`, `通报之日起90日`, `通报后3个月`) when that date is known.
 * Anything else is kept as text with no date.
 */
export function parseCnDate(raw: string | null | undefined, notifiedOn: string | null = null): CnDate {
  const text = (raw ?? '').replace(/\s+/g, ' ').trim()
  if (!text || /^[-—–/]+$/.test(text)) return { date: null, text: null }
  if (TBD.test(text)) return { date: null, text }
  const day = toIsoDate(text.replace(/\s/g, '').replace(/日$/, '').replace(/^(\d{4})年(\d{1,2})月(\d{1,2})$/, '$1-$2-$3'))
  if (day) return { date: day, text: null }
  const withTime = /^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2})[ T]\d{1,2}:\d{2}(?::\d{2})?$/.exec(text)
  if (withTime) {
    const d = toIsoDate(withTime[1].replace(/[/.]/g, '-'))
    if (d) return { date: d, text: null }
  }
  const month = /^(\d{4})\s*(?:年|[-/.])\s*(\d{1,2})\s*月?$/.exec(text)
  if (month) {
    const d = toIsoDate(`${month[1]}-${month[2]}-01`)
    if (d) return { date: d, text }
  }
  const relative = /^(?:自|从)?通报(?:之日)?(?:后|起)\s*(\d{1,3})\s*(天|日|个月|月)(?:内|后|之后|以内)?$/.exec(text.replace(/\s/g, ''))
  if (relative && notifiedOn) {
    const n = Number(relative[1])
    const date = relative[2].endsWith('月') ? addMonths(notifiedOn, n) : addDays(notifiedOn, n)
    return { date, text }
  }
  return { date: null, text }
}

function addMonths(isoDate: string, months: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`)
  const day = d.getUTCDate()
  d.setUTCDate(1)
  d.setUTCMonth(d.getUTCMonth() + months)
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
  d.setUTCDate(Math.min(day, last))
  return d.toISOString().slice(0, 10)
}
