import { describe, expect, it } from 'vitest'
import { deriveMeasure, type MeasureDocument } from '../../src/domain/measure.js'

const doc = (over: Partial<MeasureDocument>): MeasureDocument => ({
  docType: 'regular',
  title: 'Safety standard for portable power stations',
  description: null,
  member: 'United States of America',
  distributionDate: '2026-09-02',
  commentDeadline: null,
  adoptionDate: null,
  entryIntoForceDate: null,
  language: 'eng',
  ...over,
})

describe('a measure with a Chinese rendering of its notification', () => {
  it('keeps the notified title whichever document comes first', () => {
    const zh = doc({ title: '便携式电站安全标准', member: '美国', language: 'zho' })
    expect(deriveMeasure([zh, doc({})]).title).toBe('Safety standard for portable power stations')
    expect(deriveMeasure([doc({}), zh]).title).toBe('Safety standard for portable power stations')
    expect(deriveMeasure([zh]).title).toBe('便携式电站安全标准')
    // A revision in the notified language still replaces the title.
    expect(deriveMeasure([zh, doc({}), doc({ docType: 'revision', title: 'Revised standard', distributionDate: '2026-10-01' })]).title).toBe('Revised standard')
  })
})
