import { describe, expect, it } from 'vitest'
import { deadlineState, lifecycleStatus } from '../../src/domain/measure.js'

const m = (over: Partial<Parameters<typeof lifecycleStatus>[0]>) => ({ stated: 'open', commentDeadline: '2026-11-29', adoptionDate: null, entryIntoForceDate: null, ...over })

describe("a measure's lifecycle (pure)", () => {
  it('is open through its comment deadline day, then closed', () => {
    expect(lifecycleStatus(m({}), '2026-11-28')).toBe('open')
    expect(lifecycleStatus(m({}), '2026-11-29')).toBe('open') // the whole last day
    expect(lifecycleStatus(m({}), '2026-11-30')).toBe('closed')
    expect(lifecycleStatus(m({ commentDeadline: null }), '2030-01-01')).toBe('open')
  })
  it('moves to adopted or in force when a date comes, after the comment period', () => {
    expect(lifecycleStatus(m({ adoptionDate: '2026-12-10' }), '2026-12-09')).toBe('closed')
    expect(lifecycleStatus(m({ adoptionDate: '2026-12-10' }), '2026-12-10')).toBe('adopted')
    expect(lifecycleStatus(m({ adoptionDate: '2026-12-10', entryIntoForceDate: '2027-06-01' }), '2027-06-01')).toBe('in_force')
    // a date inside the comment period does not cut it short
    expect(lifecycleStatus(m({ adoptionDate: '2026-11-01' }), '2026-11-20')).toBe('open')
    // no deadline: the dates alone
    expect(lifecycleStatus(m({ commentDeadline: null, entryIntoForceDate: '2026-01-01' }), '2026-02-01')).toBe('in_force')
  })
  it('follows what a follow-up says: adopted, in force, withdrawn', () => {
    expect(lifecycleStatus(m({ stated: 'adopted' }), '2026-11-01')).toBe('adopted')
    expect(lifecycleStatus(m({ stated: 'adopted', entryIntoForceDate: '2026-12-01' }), '2026-12-01')).toBe('in_force')
    expect(lifecycleStatus(m({ stated: 'in_force' }), '2026-11-01')).toBe('in_force')
    expect(lifecycleStatus(m({ stated: 'withdrawn', entryIntoForceDate: '2026-01-01' }), '2026-12-01')).toBe('withdrawn')
  })
  it('tells a deadline passed, due within 7 days, and later', () => {
    expect(deadlineState('2026-11-29', '2026-11-30')).toBe('past')
    expect(deadlineState('2026-11-30', '2026-11-30')).toBe('soon')
    expect(deadlineState('2026-12-07', '2026-11-30')).toBe('soon')
    expect(deadlineState('2026-12-08', '2026-11-30')).toBe('later')
    expect(deadlineState(null, '2026-11-30')).toBeNull()
  })
})
