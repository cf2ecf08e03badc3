import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseFedregItem } from '../../scrapers/us-fedreg/us-fedreg.parser.js'
import { bestLink, linkScore, titleSimilarity, type LinkDocument } from '../../src/domain/cross-source.js'
import type { ScrapedNotice } from '../../src/domain/notice.js'
import { upsertNotice } from '../../src/repositories/notice.repository.js'
import { linkAcrossSources } from '../../src/services/link.service.js'
import { seed } from '../../src/services/seed.service.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'
import { scrapedNotice } from '../helpers/notices.js'
import { fedregRecords } from './fedreg-server.js'

const NOW = '2026-11-28T04:00:00.000Z'
const fr = () => parseFedregItem(fedregRecords().find((r) => r.document_number === '2026-24117'), 'us-fedreg')
const wtoNotice = (over: Partial<ScrapedNotice> = {}): ScrapedNotice =>
  scrapedNotice({
    sourceItemId: '520001',
    symbols: ['G/TBT/N/USA/2301'],
    member: 'United States of America',
    memberCode: 'USA',
    title: 'Safety Standard for Lithium-ion Batteries Used in Micromobility Products',
    products: 'Lithium-ion batteries for e-bikes, e-scooters and self-balancing scooters (HS 8507.60)',
    description: 'The Consumer Product Safety Commission proposes performance and labelling requirements for lithium-ion batteries in micromobility products.',
    objectives: ['Protection of human health or safety'],
    hsCodes: ['850760'],
    distributionDate: '2026-12-02',
    commentDeadline: '2027-01-19',
    ...over,
  })
const asDoc = (n: ScrapedNotice): LinkDocument => ({ title: n.title, description: n.description, keywords: n.keywords, distributionDate: n.distributionDate, commentDeadline: n.commentDeadline })

describe('scoring a Federal Register rule against WTO notifications', () => {
  it('links the same draft and not a different rule of the same agency', () => {
    const good = linkScore(asDoc(fr()), asDoc(wtoNotice()))
    expect(good.score).toBeGreaterThanOrEqual(0.5)
    expect(good.reasons.join('; ')).toMatch(/agency Consumer Product Safety Commission.*title similarity.*same comment deadline/)
    const other = wtoNotice({ title: 'Standard for Infant Bath Seats', description: 'The Consumer Product Safety Commission proposes to update the infant bath seat standard.', commentDeadline: '2027-02-10' })
    expect(linkScore(asDoc(fr()), asDoc(other)).score).toBeLessThan(0.5)
    expect(bestLink(asDoc(fr()), [asDoc(other), asDoc(wtoNotice())])?.candidate.title).toBe(wtoNotice().title)
    // Too far apart in time: not the same draft.
    expect(linkScore(asDoc(fr()), asDoc(wtoNotice({ distributionDate: '2025-01-10' }))).score).toBeLessThan(0.5)
  })

  it('is decided by a RIN or docket quoted in the WTO text', () => {
    const quoted = wtoNotice({ title: 'Micromobility battery rule', description: 'See docket CPSC-2026-0031 for the proposal.', commentDeadline: null })
    expect(linkScore(asDoc(fr()), asDoc(quoted)).reasons[0]).toMatch(/quotes cpsc-2026-0031/)
    expect(linkScore(asDoc(fr()), asDoc(quoted)).score).toBeGreaterThanOrEqual(0.5)
  })

  it('title similarity is symmetric and within 0..1', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const s = titleSimilarity(a, b)
        expect(s).toBeGreaterThanOrEqual(0)
        expect(s).toBeLessThanOrEqual(1)
        expect(titleSimilarity(b, a)).toBeCloseTo(s)
      }),
    )
  })
})

describe.each(DIALECTS)('one measure across the Federal Register and ePing (%s)', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect)
    await seed(env.ctx, { subscribers: false })
  })
  afterEach(async () => env.cleanup())

  const measureOf = async (sourceId: string) => {
    const n = await env.ctx.db.selectFrom('notice').innerJoin('measure', 'measure.id', 'notice.measure_id').select(['measure.key', 'measure.id', 'measure.comment_deadline']).where('notice.source_id', '=', sourceId).executeTakeFirstOrThrow()
    return n
  }

  it('files the rule under the WTO symbol when the notification comes second', async () => {
    const a = await upsertNotice(env.ctx.db, fr(), null, NOW)
    expect((await linkAcrossSources(env.ctx.db, a.noticeId, NOW)).linked).toBe(false)
    expect((await measureOf('us-fedreg')).key).toBe('FR:2026-24117')
    const b = await upsertNotice(env.ctx.db, wtoNotice(), null, NOW)
    const link = await linkAcrossSources(env.ctx.db, b.noticeId, NOW)
    expect(link.linked).toBe(true)
    const m = await measureOf('us-fedreg')
    expect(m).toMatchObject({ key: 'G/TBT/N/USA/2301', id: b.measureId, comment_deadline: '2027-01-19' })
    expect((await measureOf('eping')).id).toBe(m.id)
    expect(await env.ctx.db.selectFrom('measure').select('key').execute()).toEqual([{ key: 'G/TBT/N/USA/2301' }])
    // Linking again, or re-storing the rule, changes nothing.
    expect((await linkAcrossSources(env.ctx.db, a.noticeId, NOW)).linked).toBe(false)
    await upsertNotice(env.ctx.db, { ...fr(), title: `${fr().title} (corrected)` }, null, NOW)
    expect((await measureOf('us-fedreg')).key).toBe('G/TBT/N/USA/2301')
  })

  it('files the rule under the WTO symbol when the notification comes first', async () => {
    await upsertNotice(env.ctx.db, wtoNotice(), null, NOW)
    const a = await upsertNotice(env.ctx.db, fr(), null, NOW)
    expect((await linkAcrossSources(env.ctx.db, a.noticeId, NOW)).linked).toBe(true)
    expect((await measureOf('us-fedreg')).key).toBe('G/TBT/N/USA/2301')
  })

  it('leaves an unrelated rule as its own measure', async () => {
    await upsertNotice(env.ctx.db, wtoNotice({ title: 'Energy labelling of refrigerators', description: 'Department of Energy test procedure.', commentDeadline: '2027-03-01' }), null, NOW)
    const a = await upsertNotice(env.ctx.db, fr(), null, NOW)
    expect((await linkAcrossSources(env.ctx.db, a.noticeId, NOW)).linked).toBe(false)
    expect((await measureOf('us-fedreg')).key).toBe('FR:2026-24117')
  })
})
