import { describe, expect, it } from 'vitest'
import { deriveMeasure, type MeasureDocument } from '../../src/domain/measure.js'

const doc = (d: Partial<MeasureDocument>): MeasureDocument => ({
  docType: 'regular',
  title: 'Draft regulation on lithium-ion cells',
  description: null,
  member: 'United States',
  distributionDate: '2026-09-01',
  commentDeadline: '2026-10-31',
  adoptionDate: null,
  entryIntoForceDate: null,
  ...d,
})

describe('deriveMeasure', () => {
  it('moves the deadline when an addendum extends the comment period', () => {
    const s = deriveMeasure([
      doc({ docType: 'addendum', title: 'Comment period extended', distributionDate: '2026-10-20', commentDeadline: '2026-12-15' }),
      doc({}),
    ])
    expect(s.commentDeadline).toBe('2026-12-15')
    expect(s.title).toBe('Draft regulation on lithium-ion cells')
    expect(s.firstDistributionDate).toBe('2026-09-01')
    expect(s.status).toBe('open')
  })
  it('follows the lifecycle that addenda report', () => {
    expect(deriveMeasure([doc({}), doc({ docType: 'addendum', title: 'Notice of adoption', description: 'The final rule was published on 3 November 2026.', distributionDate: '2026-11-05' })]).status).toBe('adopted')
    expect(deriveMeasure([doc({}), doc({ docType: 'addendum', title: 'Addendum', description: 'The notified draft has been withdrawn.', distributionDate: '2026-11-05' })]).status).toBe('withdrawn')
    expect(deriveMeasure([doc({}), doc({ docType: 'addendum', title: '增补', description: '该技术法规草案已撤回。', distributionDate: '2026-11-05' })]).status).toBe('withdrawn')
  })
  it('does not read plans in the original notification as events', () => {
    expect(deriveMeasure([doc({ description: 'The regulation will be adopted and published in 2027.' })]).status).toBe('open')
  })
  it('lets a revision replace the title', () => {
    expect(deriveMeasure([doc({}), doc({ docType: 'revision', title: 'Revised draft', distributionDate: '2026-10-01' })]).title).toBe('Revised draft')
  })
})
