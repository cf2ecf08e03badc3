import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/database.js'
import type { ScrapedNotice } from '../../src/domain/notice.js'
import { symbolKey } from '../../src/domain/symbols.js'
import { upsertNotice, upsertNotices, type UpsertOutcome } from '../../src/repositories/notice.repository.js'
import { seed } from '../../src/services/seed.service.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'
import { dumpState } from '../helpers/dump.js'
import { scrapedNotice } from '../helpers/notices.js'

const NOW = '2026-11-28T04:00:00.000Z'
const LATER = '2026-11-29T04:00:00.000Z'

const notice = (sourceItemId: string, symbols: string[], over: Partial<ScrapedNotice> = {}): ScrapedNotice =>
  scrapedNotice({
    sourceItemId,
    symbols,
    docType: symbols[0].includes('/Add') ? 'addendum' : 'regular',
    member: symbols[0].split('/')[3],
    memberCode: symbols[0].split('/')[3],
    title: `Technical regulation ${sourceItemId}`,
    products: 'lithium-ion batteries',
    description: `Safety requirements, notice ${sourceItemId}.`,
    objectives: ['Protection of human health or safety'],
    hsCodes: ['850760'],
    icsCodes: ['29.220'],
    distributionDate: '2026-11-20',
    commentDeadline: '2027-01-20',
    ...over,
  })

/** What is stored before the page comes: measures the page's notices join, change and merge. */
const STORED: ScrapedNotice[] = [
  notice('1', ['G/TBT/N/EU/200']),
  notice('2', ['G/TBT/N/BRA/400']),
  notice('3', ['G/TBT/N/CAN/500']),
  notice('4', ['G/TBT/N/USA/600']),
  // An import names a notice by its symbols; a scrape of the same document finds it.
  notice(symbolKey(['G/TBT/N/VNM/700']), ['G/TBT/N/VNM/700']),
]

/** A page with every case the one-by-one path knows. */
const PAGE: ScrapedNotice[] = [
  notice('10', ['G/TBT/N/KOR/100']), // new
  notice('1', ['G/TBT/N/EU/200']), // unchanged
  notice('4', ['G/TBT/N/USA/600'], { title: 'Revised regulation 4', commentDeadline: '2027-02-20' }), // changed
  notice('11', ['G/TBT/N/EU/200/Add.1']), // follows a stored measure
  notice('12', ['G/TBT/N/JPN/300/Add.1']), // a follow-up before its base, both in the page
  notice('13', ['G/TBT/N/JPN/300']),
  notice('14', ['G/TBT/N/BRA/400/Add.1', 'G/TBT/N/CAN/500/Add.1']), // joint: the two stored measures become one
  notice('15', ['G/TBT/N/IND/800']), // the same item twice, changed the second time
  notice('16', ['G/TBT/N/SAU/900'], { hsCodes: [], icsCodes: [] }),
  notice('15', ['G/TBT/N/IND/800'], { title: 'Technical regulation 15, corrected' }),
  notice('17', ['G/TBT/N/VNM/700']), // the import's row
  ...Array.from({ length: 40 }, (_, i) => notice(String(100 + i), [`G/TBT/N/GBR/${1000 + i}`])),
]

async function state(db: Db) {
  const symbols = await db.selectFrom('notice_symbol').innerJoin('notice', 'notice.id', 'notice_symbol.notice_id').select(['notice.source_item_id', 'notice_symbol.symbol', 'notice_symbol.base_symbol']).execute()
  const ics = await db.selectFrom('notice_ics').innerJoin('notice', 'notice.id', 'notice_ics.notice_id').select(['notice.source_item_id', 'notice_ics.code']).execute()
  const changes = await db.selectFrom('notice_change').innerJoin('notice', 'notice.id', 'notice_change.notice_id').select(['notice.source_item_id', 'notice_change.changes']).execute()
  const baseline = await db.selectFrom('notice').select(['source_item_id', 'baseline', 'raw_response_id']).execute()
  const sort = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort()
  return { ...(await dumpState(db)), symbols: sort(symbols), ics: sort(ics), changes: sort(changes), baseline: sort(baseline) }
}

/** Outcomes by natural key: the item and the key of its measure. */
async function named(db: Db, outcomes: UpsertOutcome[]) {
  const notices = new Map((await db.selectFrom('notice').select(['id', 'source_item_id']).execute()).map((n) => [n.id, n.source_item_id]))
  const measures = new Map((await db.selectFrom('measure').select(['id', 'key']).execute()).map((m) => [m.id, m.key]))
  return outcomes.map((o) => [notices.get(o.noticeId), measures.get(o.measureId) ?? 'gone', o.outcome])
}

describe.each(DIALECTS)('a page stored set-based (%s)', (dialect) => {
  let one: TestEnv
  let many: TestEnv
  beforeEach(async () => {
    one = await createTestEnv(dialect)
    many = await createTestEnv(dialect)
    for (const env of [one, many]) {
      await seed(env.ctx, { subscribers: false })
      for (const n of STORED) await upsertNotice(env.ctx.db, n, null, NOW)
    }
  })
  afterEach(async () => {
    await one?.cleanup()
    await many?.cleanup()
  })

  it('ends as storing its notices one by one in page order, with the same outcomes', async () => {
    const baseline = (i: number) => i % 3 === 0
    const oneByOne: UpsertOutcome[] = []
    for (const [i, n] of PAGE.entries()) oneByOne.push(await upsertNotice(one.ctx.db, n, null, LATER, { baseline: baseline(i) }))
    const together = await upsertNotices(many.ctx.db, PAGE.map((n, i) => ({ notice: n, baseline: baseline(i) })), null, LATER)
    expect(await named(many.ctx.db, together)).toEqual(await named(one.ctx.db, oneByOne))
    expect(together.map((o) => o.outcome)).toEqual(['new', 'unchanged', 'changed', 'new', 'new', 'new', 'new', 'new', 'new', 'changed', 'changed', ...PAGE.slice(11).map(() => 'new')])
    expect(await state(many.ctx.db)).toEqual(await state(one.ctx.db))
    // The joint notice merged the two stored measures; the follow-up filed under its base.
    const keys = (await many.ctx.db.selectFrom('measure').select('key').execute()).map((m) => m.key)
    expect(keys).toContain('G/TBT/N/BRA/400')
    expect(keys).not.toContain('G/TBT/N/CAN/500')
    expect(keys).toContain('G/TBT/N/JPN/300')

    // The same page again changes nothing, on both paths.
    const before = await state(many.ctx.db)
    const again = await upsertNotices(many.ctx.db, PAGE.map((n, i) => ({ notice: n, baseline: baseline(i) })), null, LATER)
    expect(again.map((o) => o.outcome)).toEqual(PAGE.map((_, i) => (i === 7 || i === 9 ? 'changed' : 'unchanged')))
    // (Item 15 comes twice with two contents: each storing of the page flips it there and back, and records both changes.)
    expect(await state(many.ctx.db)).toEqual({ ...before, changes: (await state(many.ctx.db)).changes })
  })

  it('stores a page of new notices in a few statements, not several per notice', async () => {
    let statements = 0
    let measureWrites = 0
    const counted = many.ctx.db.withPlugin({
      transformQuery: (a) => {
        statements++
        const node = a.node as { kind: string; into?: { table: { identifier: { name: string } } }; table?: { table: { identifier: { name: string } } } }
        const target = node.kind === 'InsertQueryNode' ? node.into?.table.identifier.name : node.kind === 'UpdateQueryNode' ? node.table?.table?.identifier.name : undefined
        if (target === 'measure') measureWrites++
        return a.node
      },
      transformResult: async (a) => a.result,
    })
    const page = Array.from({ length: 100 }, (_, i) => ({ notice: notice(String(5000 + i), [`G/TBT/N/KOR/${5000 + i}`]), baseline: false }))
    const r = await upsertNotices(counted, page, null, LATER)
    expect(r.every((o) => o.outcome === 'new')).toBe(true)
    expect(new Set(r.map((o) => o.measureId)).size).toBe(100)
    // Before: about nine round trips per notice (900 here).
    expect(statements).toBeLessThan(20)
    // A new measure is written whole when it is made: the refresh at the page's end finds
    // nothing to change (before, it rewrote every row it had just inserted, and its indexes).
    expect(measureWrites).toBe(1)
    const m = await many.ctx.db.selectFrom('measure').selectAll().where('id', '=', r[0].measureId).executeTakeFirstOrThrow()
    expect(m).toMatchObject({ key: 'G/TBT/N/KOR/5000', area: 'TBT', title: 'Technical regulation 5000', comment_deadline: '2027-01-20', first_distribution_date: '2026-11-20' })
    expect(await many.ctx.db.selectFrom('measure_member').select('member_code').where('measure_id', '=', r[0].measureId).execute()).toEqual([{ member_code: 'KOR' }])
  })

  it('stores an import\'s notices (named by their symbols) set-based where they are new to their source, as one by one otherwise', async () => {
    const imported = (symbols: string[]) => notice(symbolKey(symbols), symbols)
    const IMPORT: ScrapedNotice[] = [
      imported(['G/TBT/N/KOR/7100']), // new
      imported(['G/TBT/N/BRA/400']), // the scraped row of the same document
      imported(['G/TBT/N/VNM/700']), // the import's own row, unchanged
      imported(['G/TBT/N/EU/200/Add.2']), // follows a stored measure
      imported(['G/TBT/N/MEX/7200/Add.1']), // a follow-up before its base, both in the page
      imported(['G/TBT/N/MEX/7200']),
      imported(['G/TBT/N/KEN/7300', 'G/TBT/N/UGA/7300']), // joint
      ...Array.from({ length: 30 }, (_, i) => imported([`G/TBT/N/CHL/${7400 + i}`])),
    ]
    // one stored response per notification, as an import keeps them
    const rawOf = (i: number) => 9000 + i
    const oneByOne: UpsertOutcome[] = []
    for (const [i, n] of IMPORT.entries()) oneByOne.push(await upsertNotice(one.ctx.db, n, rawOf(i), LATER))
    let inserts = 0
    const counted = many.ctx.db.withPlugin({
      transformQuery: (a) => {
        const node = a.node as { kind: string; into?: { table: { identifier: { name: string } } } }
        if (node.kind === 'InsertQueryNode' && node.into?.table.identifier.name === 'notice') inserts++
        return a.node
      },
      transformResult: async (a) => a.result,
    })
    const together = await upsertNotices(counted, IMPORT.map((n, i) => ({ notice: n, baseline: false, rawId: rawOf(i) })), null, LATER)
    expect(await named(many.ctx.db, together)).toEqual(await named(one.ctx.db, oneByOne))
    expect(together.map((o) => o.outcome).slice(0, 3)).toEqual(['new', 'changed', 'unchanged'])
    expect(await state(many.ctx.db)).toEqual(await state(one.ctx.db))
    // the new ones went in multi-row statements: far fewer inserts than notices
    expect(inserts).toBeLessThan(10)
  })
})

describe('two transactions filing notices of one measure at once (postgres)', () => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv('postgres')
    await seed(env.ctx, { subscribers: false })
  })
  afterEach(async () => {
    await env?.cleanup()
  })

  it('files a follow-up under the joint measure a transaction still open is creating, never beside it', async () => {
    // A worker restarted after a crash ingests the page with a joint notification while
    // another ingests the page with a follow-up of one of its symbols.
    const joint = notice('20', ['G/TBT/N/BDI/612', 'G/TBT/N/KEN/1847', 'G/TBT/N/UGA/2001'])
    const followUp = notice('21', ['G/TBT/N/KEN/1847/Add.1'])
    let opened!: () => void
    const jointOpen = new Promise<void>((resolve) => (opened = resolve))
    const first = env.ctx.db.transaction().execute(async (tx) => {
      await upsertNotices(tx, [{ notice: joint, baseline: false }], null, NOW)
      opened()
      // Still uncommitted while the other page is stored.
      await new Promise((r) => setTimeout(r, 400))
    })
    await jointOpen
    const second = upsertNotices(env.ctx.db, [{ notice: followUp, baseline: false }], null, NOW)
    await Promise.all([first, second])
    const measures = await env.ctx.db.selectFrom('measure').select('key').execute()
    expect(measures.map((m) => m.key)).toEqual(['G/TBT/N/BDI/612'])
    const filed = await env.ctx.db.selectFrom('notice').select(['source_item_id', 'measure_id']).orderBy('source_item_id').execute()
    expect(new Set(filed.map((n) => n.measure_id)).size).toBe(1)
  })
})
