import { describe, expect, it } from 'vitest'
import { localDay } from '../../src/domain/dates.js'
import { firstMondayFrom, isComplete, isPeriodKey, isReportDue, lastCompletePeriod, periodOf, periodRange, periodSeries, shiftPeriod } from '../../src/domain/periods.js'
import { periodKey } from '../../src/services/digest.service.js'

const TZ = 'Asia/Shanghai'

describe('report periods (pure)', () => {
  it('takes the last complete ISO week at Monday 08:00 Beijing time, not the week just begun', () => {
    // Monday 2026-11-30 08:00 in Beijing is 00:00 UTC.
    const monday = new Date('2026-11-30T00:00:00Z')
    expect(localDay(monday, TZ)).toBe('2026-11-30')
    expect(periodKey('weekly', monday, TZ)).toBe('2026-W48')
    expect(periodRange('weekly', '2026-W48')).toEqual({ from: '2026-11-23', to: '2026-11-29' })
    // Sunday 23:30 Beijing time is still in W48: its last complete week is W47.
    expect(periodKey('weekly', new Date('2026-11-29T15:30:00Z'), TZ)).toBe('2026-W47')
    // ...while at 00:00 UTC on Monday it is already Monday 08:00 in Beijing (UTC would still say Sunday).
    expect(periodKey('weekly', new Date('2026-11-29T16:00:00Z'), TZ)).toBe('2026-W48')
    expect(periodKey('daily', new Date('2026-11-29T16:00:00Z'), TZ)).toBe('2026-11-30')
  })

  it('knows ISO week 53 and the weeks across a year change', () => {
    // 2026 ends on a Thursday: it has 53 ISO weeks, and W53 runs into 2027.
    expect(periodRange('weekly', '2026-W53')).toEqual({ from: '2026-12-28', to: '2027-01-03' })
    expect(isPeriodKey('weekly', '2026-W53')).toBe(true)
    expect(isPeriodKey('weekly', '2027-W53')).toBe(false) // 2027 has 52
    expect(isPeriodKey('weekly', '2026-W00')).toBe(false)
    expect(shiftPeriod('weekly', '2026-W53', 1)).toBe('2027-W01')
    expect(shiftPeriod('weekly', '2027-W01', -1)).toBe('2026-W53')
    expect(periodOf('weekly', '2027-01-03')).toBe('2026-W53')
    expect(periodOf('weekly', '2027-01-04')).toBe('2027-W01')
    // On Monday 2027-01-04 the weekly report is 2026-W53; the monthly one December 2026, the quarterly one 2026-Q4.
    const jan4 = new Date('2027-01-04T00:00:00Z')
    expect(periodKey('weekly', jan4, TZ)).toBe('2026-W53')
    expect(periodKey('monthly', jan4, TZ)).toBe('2026-12')
    expect(periodKey('quarterly', jan4, TZ)).toBe('2026-Q4')
    // A week that starts in December and belongs to the next ISO year.
    expect(periodOf('weekly', '2024-12-30')).toBe('2025-W01')
    expect(periodRange('weekly', '2025-W01')).toEqual({ from: '2024-12-30', to: '2025-01-05' })
    expect(periodSeries('weekly', '2027-W02', 4)).toEqual(['2026-W52', '2026-W53', '2027-W01', '2027-W02'])
  })

  it('has months and quarters, across a year change and February', () => {
    expect(periodRange('monthly', '2028-02')).toEqual({ from: '2028-02-01', to: '2028-02-29' })
    expect(periodRange('monthly', '2026-12')).toEqual({ from: '2026-12-01', to: '2026-12-31' })
    expect(periodRange('quarterly', '2026-Q4')).toEqual({ from: '2026-10-01', to: '2026-12-31' })
    expect(periodRange('quarterly', '2027-Q1')).toEqual({ from: '2027-01-01', to: '2027-03-31' })
    expect(shiftPeriod('monthly', '2027-01', -1)).toBe('2026-12')
    expect(shiftPeriod('quarterly', '2027-Q1', -1)).toBe('2026-Q4')
    expect(periodSeries('quarterly', '2027-Q1', 13)[0]).toBe('2024-Q1')
    expect(lastCompletePeriod('monthly', '2027-01-01')).toBe('2026-12')
    for (const bad of ['2026-13', '2026-00', 'x', '2026-W48']) expect(isPeriodKey('monthly', bad)).toBe(false)
    for (const bad of ['2026-Q5', '2026-Q0', '2026-11']) expect(isPeriodKey('quarterly', bad)).toBe(false)
  })

  it('sends monthly and quarterly reports from the first Monday of the new period on (a late run catches up)', () => {
    expect(firstMondayFrom('2026-12-01')).toBe('2026-12-07') // a Tuesday
    expect(firstMondayFrom('2026-11-30')).toBe('2026-11-30') // a Monday
    expect(isReportDue('monthly', '2026-12-06')).toBe(false)
    expect(isReportDue('monthly', '2026-12-07')).toBe(true)
    expect(isReportDue('monthly', '2026-12-15')).toBe(true) // sent late: still the November report
    expect(periodKey('monthly', new Date('2026-12-15T00:00:00Z'), TZ)).toBe('2026-11')
    expect(isReportDue('quarterly', '2027-01-03')).toBe(false)
    expect(isReportDue('quarterly', '2027-01-04')).toBe(true)
    expect(isReportDue('quarterly', '2027-02-20')).toBe(true)
    expect(isReportDue('weekly', '2026-12-02')).toBe(true)
    expect(isComplete('weekly', '2026-W48', '2026-11-30')).toBe(true)
    expect(isComplete('weekly', '2026-W49', '2026-11-30')).toBe(false)
  })
})
