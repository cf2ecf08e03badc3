import { CompiledQuery, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedQueue } from '../../bench/queue-data.js'
import * as m710 from '../../src/db/migrations/2026-11-30-710-search-index.js'
import * as m720 from '../../src/db/migrations/2026-11-30-720-short-search.js'
import * as m740 from '../../src/db/migrations/2026-12-01-740-measure-search-key.js'
import { distinctValues, searchCondition, searchIndex } from '../../src/repositories/warning-query.js'
import { allWarnings, listWarnings, plannerOff, queueNeighbours, queueSql, STATUSES, type QueueFilter } from '../../src/services/warning.service.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'

// The queue at more than a handful of rows: the full-text search (FTS5 trigram on SQLite,
// pg_trgm on PostgreSQL) against a plain substring search in JS over the same rows, the
// index kept in step by triggers and filled by the migration, keyset pages against offset
// pages, and the query plans of the default queue (no full scan of warning or notice).

const TODAY = '2026-11-28'
const NOW = new Date(`${TODAY}T04:00:00Z`)
const EXTRA = [
  { title: '锂电池组安全要求', description: '含电池的儿童玩具应符合本法规。' },
  { title: 'Battery chargers: 100% of units tested', description: 'Applies to under_score models and chargers.' },
  { title: 'Energy labelling of lamps', note: 'Check the BATTERY annex with the lab' },
  { title: '电动自行车用蓄电池', description: 'Les batteries au plomb.' },
  { title: 'EU toy safety: Über-Spielzeug', description: '玩具安全（欧盟）；5G 模块 50% 以上', note: 'Größe \\ ß' },
]
const QUERIES = ['battery', 'BATTERY', 'Battery chargers', '电池', '锂电池', '池', '蓄电池', 'G/TBT/N/KEN/10', '100%', 'under_score', 'x_y', 'annex', 'e', 'ch', '本法规', 'zzzz-none', '"quoted"', '玩具', 'EU', 'eu', '5G', '0%', '%', '_', '（欧', '；', 'zq', '鞋']
/** One or two characters, some that case folding treats differently per engine: the gram index against the LIKE scan it replaces. */
const SHORT = ['电池', '玩具', '池', 'e', 'E', 'eu', 'EU', 'ch', '5G', '%', '0%', '_', '\\', ' \\', '"', 'ü', 'Ü', 'Üb', 'ß', 'Gr', '（欧', '；', '\n', 'zq', '鞋', 'İ']
/** Results per dialect, compared at the end. */
const found = new Map<string, Map<string, string[]>>()

describe.each(DIALECTS)('queue search and pages at scale (%s)', (dialect) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await createTestEnv(dialect, {}, { clock: () => NOW })
    await seedQueue(env.ctx, 600, { today: TODAY, extra: EXTRA })
  })
  afterAll(async () => env?.cleanup())

  const keysOf = async (f: QueueFilter) => {
    const keys: string[] = []
    for await (const r of allWarnings(env.ctx, f, 97)) keys.push(r.measureKey)
    return keys.sort()
  }

  /** The same search in JS: a case-folded substring of any searched text of the warning. */
  const expected = async (q: string) => {
    const db = env.ctx.db
    const needle = q.toLowerCase()
    const has = (...xs: (string | null)[]) => xs.some((x) => (x ?? '').toLowerCase().includes(needle))
    const notices = await db.selectFrom('notice').select(['measure_id', 'title', 'description', 'products', 'symbols', 'keywords', 'member']).execute()
    const measures = await db.selectFrom('measure').select(['id', 'key', 'title']).execute()
    const cats = await db.selectFrom('warning_category as wc').innerJoin('category as c', 'c.id', 'wc.category_id').select(['wc.warning_id', 'c.name_zh', 'c.name_en']).execute()
    const warnings = await db.selectFrom('warning as w').innerJoin('measure as m', 'm.id', 'w.measure_id').select(['w.id', 'w.measure_id', 'w.note', 'w.status', 'w.level', 'm.key']).execute()
    const hitMeasures = new Set([...notices.filter((n) => has(n.title, n.description, n.products, n.symbols, n.keywords, n.member)).map((n) => n.measure_id), ...measures.filter((m) => has(m.key, m.title)).map((m) => m.id)])
    const hitWarnings = new Set(cats.filter((c) => has(c.name_zh, c.name_en)).map((c) => c.warning_id))
    const hits = warnings.filter((w) => hitMeasures.has(w.measure_id) || hitWarnings.has(w.id) || has(w.note))
    statusesOf.set(q, hits.map((w) => ({ status: w.status, level: w.level })))
    return hits.map((w) => w.key).sort()
  }
  /** The statuses of the warnings `expected` found last for a query. */
  const statusesOf = new Map<string, { status: string; level: string }[]>()
  const countsOf = (hits: { status: string; level: string }[], level?: string) => {
    const out: Record<string, number> = {}
    for (const h of hits) if (!level || h.level === level) out[h.status] = (out[h.status] ?? 0) + 1
    return out
  }

  it('finds what a substring search finds, for long, short, Chinese and odd queries', async () => {
    const pages = new Map<string, number[]>()
    const mine = new Map<string, string[]>()
    const config = env.ctx.config as { searchIdsMax: number }
    const asConfigured = config.searchIdsMax
    try {
      // Read by ids (few hits), as a filter over the queue's order (0: never by ids), and
      // both (3: a rare term by ids, a common one as a filter): the same rows and pages.
      for (const max of [asConfigured, 0, 3]) {
        config.searchIdsMax = max
        for (const q of QUERIES) {
          const keys = await keysOf({ q })
          expect(keys, `${q} (${max})`).toEqual(await expected(q))
          const page = await listWarnings(env.ctx, { q, pageSize: 7, page: 2, sort: 'deadline' })
          const exact = countsOf(statusesOf.get(q)!)
          const high = await listWarnings(env.ctx, { q, level: ['high'], pageSize: 7 })
          const onTab = await listWarnings(env.ctx, { q, status: ['new'], pageSize: 7 })
          expect(onTab.counts, `${q} (${max}), tab new`).toEqual(page.counts)
          if (max && keys.length > max) {
            // more hits than the ids read: each row checked in the queue's order; the counts
            // are those of the warnings read, lower bounds, and say so
            expect(page.totalAtLeast, q).toBe(true)
            expect(page.countsAtLeast.sort(), q).toEqual([...STATUSES].sort())
            for (const st of STATUSES) expect(page.counts[st], `${q} ${st}`).toBeLessThanOrEqual(exact[st] ?? 0)
            expect(page.total, q).toBeLessThanOrEqual(keys.length)
            expect(page.total, q).toBeGreaterThan(0)
            for (const st of STATUSES) expect(high.counts[st], `${q} ${st} high`).toBeLessThanOrEqual(countsOf(statusesOf.get(q)!, 'high')[st] ?? 0)
          } else {
            expect(page.total, q).toBe(keys.length)
            expect(page.totalAtLeast, q).toBe(false)
            // every tab's count, whether read with the ids or counted (a tab chosen, or the search alone)
            const tabs = Object.fromEntries(Object.entries(page.counts).filter(([, n]) => n > 0))
            expect(tabs, `${q} (${max})`).toEqual(exact)
            // with another filter beside the search, the tabs are counted under it
            expect(Object.fromEntries(Object.entries(high.counts).filter(([, n]) => n > 0)), `${q} (${max}), high`).toEqual(countsOf(statusesOf.get(q)!, 'high'))
          }
          if (max === asConfigured) mine.set(q, keys)
          else expect(page.rows.map((r) => r.id), `${q} (${max})`).toEqual(pages.get(q))
          pages.set(q, page.rows.map((r) => r.id))
        }
      }
    } finally {
      config.searchIdsMax = asConfigured
    }
    // the corpus has hits for the realistic ones
    expect(mine.get('battery')!.length).toBeGreaterThan(1)
    expect(mine.get('电池')!.length).toBeGreaterThan(1)
    expect(mine.get('zzzz-none')).toEqual([])
    found.set(dialect, mine)
  })

  it('counts each tab under category, level and lifecycle filters as a count of the rows themselves does', async () => {
    const db = env.ctx.db
    const rows = await db.selectFrom('warning as w').innerJoin('measure as m', 'm.id', 'w.measure_id').select(['w.id', 'w.status', 'w.level', 'm.status as life']).execute()
    const cats = await db.selectFrom('warning_category').select(['warning_id', 'category_id']).execute()
    const catsOf = new Map<number, Set<string>>()
    for (const c of cats) catsOf.set(c.warning_id, (catsOf.get(c.warning_id) ?? new Set()).add(c.category_id))
    // the categories warnings share most, so that two categories overlap on some warnings
    const byCount = new Map<string, number>()
    for (const c of cats) byCount.set(c.category_id, (byCount.get(c.category_id) ?? 0) + 1)
    const top = [...byCount].sort((a, b) => b[1] - a[1]).map(([c]) => c)
    const multi = [...catsOf.values()].filter((s) => s.size > 1)
    expect(multi.length, 'warnings with more than one category').toBeGreaterThan(0)
    const pair = [...multi[0]].slice(0, 2)
    const filters: QueueFilter[] = [
      { category: [top[0]] },
      { category: [top[0]], level: ['high'] },
      { category: pair },
      { category: pair, level: ['high', 'medium'], status: ['new'] },
      { category: [top[1]], lifecycle: ['open'] },
      { level: ['high'] },
      { level: ['low'], lifecycle: ['closed'] },
    ]
    for (const f of filters) {
      const want: Record<string, number> = {}
      for (const r of rows) {
        if (f.category && ![...(catsOf.get(r.id) ?? [])].some((c) => f.category!.includes(c))) continue
        if (f.level && !f.level.includes(r.level)) continue
        if (f.lifecycle && !f.lifecycle.includes(r.life)) continue
        want[r.status] = (want[r.status] ?? 0) + 1
      }
      const page = await listWarnings(env.ctx, { ...f, pageSize: 5 })
      const got = Object.fromEntries(Object.entries(page.counts).filter(([, n]) => n > 0))
      expect(got, JSON.stringify(f)).toEqual(want)
      expect(page.total, JSON.stringify(f)).toBe(f.status ? f.status.reduce((s, st) => s + (want[st] ?? 0), 0) : Object.values(want).reduce((a, b) => a + b, 0))
    }
  })

  it('checks a row by its own texts (the reading of a search with many hits) as the indexes find it', async () => {
    const db = env.ctx.db
    const ids = async (q: string, how?: 'row') => (await db.selectFrom('warning as w').select('w.id').where(searchCondition(dialect, q, how)).orderBy('w.id').execute()).map((r) => r.id)
    for (const q of [...QUERIES, ...SHORT.filter((x) => x !== 'İ')]) expect(await ids(q, 'row'), q).toEqual(await ids(q))
    expect((await ids('电池', 'row')).length).toBeGreaterThan(1)
  })

  it('stops counting a tab at TBT_COUNT_MAX and says "N+" in the tabs, the total and the place of a warning', async () => {
    const config = env.ctx.config as { countMax: number }
    const was = config.countMax
    const f: QueueFilter = { status: ['new', 'in_review'], pageSize: 10 }
    try {
      config.countMax = 0
      const exact = await listWarnings(env.ctx, f)
      const order: number[] = []
      for await (const r of allWarnings(env.ctx, f, 100)) order.push(r.id)
      expect(exact.totalAtLeast).toBe(false)
      expect(exact.countsAtLeast).toEqual([])
      const cap = 20
      config.countMax = cap
      expect(exact.counts.new).toBeGreaterThan(cap)
      const page = await listWarnings(env.ctx, f)
      for (const st of STATUSES) {
        expect(page.counts[st], st).toBe(Math.min(exact.counts[st], cap))
        expect(page.countsAtLeast.includes(st), st).toBe(exact.counts[st] > cap)
      }
      expect(page.totalAtLeast).toBe(true)
      expect(page.total).toBe(page.counts.new + page.counts.in_review)
      expect(page.rows.map((r) => r.id)).toEqual(exact.rows.map((r) => r.id))
      // a lower bound is at least the rows of the pages so far
      const deep = await listWarnings(env.ctx, { ...f, page: 9 })
      expect(deep.rows.map((r) => r.id)).toEqual(order.slice(80, 90))
      expect(deep.total).toBeGreaterThanOrEqual(91)
      // a filter's counts stop too, and exact ones below the cap stay exact
      const high = await listWarnings(env.ctx, { level: ['high'], pageSize: 5 })
      config.countMax = 0
      const highExact = await listWarnings(env.ctx, { level: ['high'], pageSize: 5 })
      config.countMax = cap
      for (const st of STATUSES) expect(high.counts[st], st).toBe(Math.min(highExact.counts[st], cap))
      // a warning's place: counted backwards up to the cap, "21+" past it, its neighbours' pages unknown
      const near = await queueNeighbours(env.ctx, f, order[4])
      expect(near).toMatchObject({ index: 4, indexAtLeast: false, totalAtLeast: true, prev: { id: order[3], page: 1, index: 3 }, next: { id: order[5], page: 1, index: 5 } })
      const far = await queueNeighbours(env.ctx, f, order[60])
      expect(far).toMatchObject({ index: cap, indexAtLeast: true, totalAtLeast: true, prev: { id: order[59], page: null, index: null }, next: { id: order[61], page: null, index: null } })
      expect(far.total).toBeGreaterThanOrEqual(cap + 3)
      // with the place a queue page's link carried, it is trusted as before
      expect(await queueNeighbours(env.ctx, f, order[60], { index: 60, total: 61, totalAtLeast: true })).toMatchObject({ index: 60, indexAtLeast: false, total: 62, totalAtLeast: true, next: { id: order[61], page: 7, index: 61 } })
    } finally {
      config.countMax = was
    }
  })

  it('answers one or two characters from the gram index with the rows the LIKE scan finds', async () => {
    const db = env.ctx.db
    const ids = async (q: string, how?: 'scan') =>
      (await db.selectFrom('warning as w').select('w.id').where(searchCondition(dialect, q, how)).orderBy('w.id').execute()).map((r) => r.id)
    for (const q of SHORT) {
      expect(searchIndex(q), q).toBe('grams')
      expect(await ids(q), q).toEqual(await ids(q, 'scan'))
    }
    expect((await ids('玩具')).length).toBeGreaterThan(0)
    expect((await ids('ß')).length).toBeGreaterThan(0)
    expect(await ids('zq')).toEqual([])
    // read through the gram index, not a scan of the searched text
    const compiled = db.selectFrom('warning as w').select('w.id').where(searchCondition(dialect, '电池')).compile()
    if (dialect === 'sqlite') {
      const plan = (await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]))).rows.map((r) => r.detail).join('\n')
      expect(plan, plan).toMatch(/notice_gram VIRTUAL TABLE INDEX/)
      expect(plan, plan).not.toMatch(/notice_fts/)
    } else {
      const plan = await db.transaction().execute(async (tx) => {
        await sql`set local enable_seqscan = off`.execute(tx)
        return (await tx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]))).rows.map((r) => r['QUERY PLAN']).join('\n')
      })
      expect(plan, plan).toMatch(/notice_search_gram_idx/)
      expect(plan, plan).toMatch(/warning_search_gram_idx/)
      expect(plan, plan).not.toMatch(/Seq Scan on notice\b/)
    }
  })

  it.runIf(dialect === 'postgres')('computes on the server the grams the index holds: every character and adjacent pair, newlines and astral characters included', async () => {
    const texts = ['a', 'ab', 'abc', 'aaaa', '锂电池组\n安全要求', 'x\ny', '\n\n', 'größe ß 𝒳𝒴 😀z', 'é' + 'e\u0301', ' a b ', 'battery'.repeat(50) + '电池']
    for (const t of texts) {
      const chars = [...t]
      const want = new Set<string>()
      chars.forEach((c, i) => { want.add(c); if (i + 1 < chars.length) want.add(c + chars[i + 1]) })
      const got = await sql<{ g: string[] }>`select tbt_search_grams(${t}) as g`.execute(env.ctx.db)
      expect([...got.rows[0].g].sort(), JSON.stringify(t)).toEqual([...want].sort())
    }
  })

  it('keeps the index in step with inserts, updates and deletes (triggers), and the migration fills it', async () => {
    const db = env.ctx.db
    const n = await db.selectFrom('notice').innerJoin('warning', 'warning.measure_id', 'notice.measure_id').select(['notice.id', 'notice.measure_id', 'warning.id as wid']).orderBy('notice.id').executeTakeFirstOrThrow()
    const key = (await db.selectFrom('measure').select('key').where('id', '=', n.measure_id).executeTakeFirstOrThrow()).key
    await db.updateTable('notice').set({ description: 'Now about qwzx gadgets' }).where('id', '=', n.id).execute()
    expect(await keysOf({ q: 'QWZX gadget' })).toEqual([key])
    await db.updateTable('warning').set({ note: '复核：见附件夔' }).where('id', '=', n.wid).execute()
    expect(await keysOf({ q: '附件夔' })).toEqual([key])
    expect(await keysOf({ q: '夔' })).toEqual([key])
    // a measure's own searched text is its key (its title is a notice's, found there)
    await db.updateTable('measure').set({ key: `${key}-vwxq` }).where('id', '=', n.measure_id).execute()
    expect(await keysOf({ q: 'VWXQ' })).toEqual([`${key}-vwxq`])
    expect(await keysOf({ q: 'q' })).toContain(`${key}-vwxq`)
    await db.updateTable('measure').set({ key }).where('id', '=', n.measure_id).execute()
    expect(await keysOf({ q: 'vwxq' })).toEqual([])
    // a notice added (as ingest does) is found at once
    const other = await db.selectFrom('notice').selectAll().where('measure_id', '=', n.measure_id).executeTakeFirstOrThrow()
    const { id: _id, ...copy } = other
    const added = await db.insertInto('notice').values({ ...copy, source_item_id: 'added-1', title: 'Kjhq addendum' }).returning('id').executeTakeFirstOrThrow()
    expect(await keysOf({ q: 'kjhq' })).toEqual([key])
    await db.deleteFrom('notice').where('id', '=', added.id).execute()
    expect(await keysOf({ q: 'kjhq' })).toEqual([])
    // rows written while the index did not exist are indexed by the migration
    expect(await keysOf({ q: '甾' })).toEqual([])
    await m740.down(db)
    await m720.down(db)
    await m710.down(db)
    await db.updateTable('notice').set({ title: 'Plmq before the index 甾' }).where('id', '=', n.id).execute()
    await db.updateTable('measure').set({ key: `${key}-zkqv` }).where('id', '=', n.measure_id).execute()
    await m710.up(db)
    await m720.up(db)
    await m740.up(db)
    expect(await keysOf({ q: 'zkqv' })).toEqual([`${key}-zkqv`])
    await db.updateTable('measure').set({ key }).where('id', '=', n.measure_id).execute()
    expect(await keysOf({ q: 'plmq' })).toEqual([key])
    expect(await keysOf({ q: '甾' })).toEqual([key])
    expect(await keysOf({ q: 'x 甾' })).toEqual([key])
    expect(await keysOf({ q: 'QWZX' })).toEqual([key])
  })

  it('pages through cursors exactly as through page numbers, in every sort, and back', async () => {
    const sorts: QueueFilter[] = [{}, { dir: 'asc' }, { sort: 'deadline' }, { sort: 'created' }, { sort: 'updated', dir: 'asc' }, { sort: 'id', dir: 'desc' }, { level: ['high'] }, { status: ['new'], q: 'e' }]
    for (const f of sorts) {
      const size = 75
      const byOffset: number[] = []
      const first = await listWarnings(env.ctx, { ...f, pageSize: size })
      for (let page = 1; page <= first.pages; page++) byOffset.push(...(await listWarnings(env.ctx, { ...f, page, pageSize: size })).rows.map((r) => r.id))
      expect(byOffset.length, JSON.stringify(f)).toBe(first.total)
      const byCursor: number[] = []
      const pages = []
      let p = first
      for (;;) {
        pages.push(p)
        byCursor.push(...p.rows.map((r) => r.id))
        if (!p.next) break
        p = await listWarnings(env.ctx, { ...f, pageSize: size, after: p.next, page: p.page + 1 })
      }
      expect(byCursor, JSON.stringify(f)).toEqual(byOffset)
      expect(new Set(byCursor).size).toBe(byCursor.length)
      if (pages.length >= 3) {
        const back = await listWarnings(env.ctx, { ...f, pageSize: size, before: pages[2].prev!, page: 2 })
        expect(back.rows.map((r) => r.id)).toEqual(pages[1].rows.map((r) => r.id))
        expect(back.prev).not.toBeNull()
      }
      expect((await allWarnings(env.ctx, f, 50).next()).value?.id).toBe(byOffset[0])
    }
    // a cursor of another sort (a stale link) reads the page from its number
    const stale = await listWarnings(env.ctx, { pageSize: 10 })
    expect((await listWarnings(env.ctx, { sort: 'id', pageSize: 10, after: stale.next!, page: 1 })).rows[0].id).toBe((await listWarnings(env.ctx, { sort: 'id', pageSize: 10 })).rows[0].id)
  })

  it('finds previous and next by keyset reads as a walk through the whole order does, in and outside the filter', async () => {
    const filters: QueueFilter[] = [{}, { dir: 'asc' }, { sort: 'deadline' }, { sort: 'updated', dir: 'asc' }, { sort: 'id', dir: 'desc' }, { level: ['high'] }, { q: '电池' }, { q: 'battery', sort: 'created' }]
    for (const g of filters) {
      const f: QueueFilter = { ...g, status: ['new', 'in_review'], pageSize: 7 }
      // the order of every status (a confirmed warning keeps its place), and the filter's rows in it
      const full: { id: number; status: string }[] = []
      for await (const r of allWarnings(env.ctx, { ...f, status: undefined }, 200)) full.push({ id: r.id, status: r.status })
      const inFilter = (x: { status: string }) => x.status === 'new' || x.status === 'in_review'
      const matching = full.filter(inFilter).map((x) => x.id)
      expect(matching.length, JSON.stringify(g)).toBeGreaterThan(2)
      const outside = full.filter((x) => !inFilter(x)).map((x) => x.id)
      const probes = [matching[0], matching[1], matching[Math.floor(matching.length / 2)], matching[matching.length - 1], outside[0], outside[outside.length - 1], full[0].id, full[full.length - 1].id]
      for (const id of probes) {
        const at = full.findIndex((x) => x.id === id)
        const before = full.slice(0, at).filter(inFilter).map((x) => x.id)
        const after = full.slice(at + 1).filter(inFilter).map((x) => x.id)
        const index = matching.indexOf(id)
        const pageOf = (i: number) => Math.floor(i / 7) + 1
        const expected = {
          index: index >= 0 ? index : null,
          indexAtLeast: false,
          total: matching.length,
          totalAtLeast: false,
          prev: before.length ? { id: before[before.length - 1], page: pageOf(before.length - 1), index: before.length - 1 } : null,
          next: after.length ? { id: after[0], page: pageOf(index >= 0 ? before.length + 1 : before.length), index: index >= 0 ? before.length + 1 : before.length } : null,
        }
        expect(await queueNeighbours(env.ctx, f, id), `${JSON.stringify(g)} ${id}`).toEqual(expected)
        // The place a queue page's link carries gives the same answer without counting: for a
        // row in the filter, where it stood; for one that left it, where it stood before (the
        // queue was one longer then).
        if (index >= 0) expect(await queueNeighbours(env.ctx, f, id, { index, total: matching.length }), `hint ${JSON.stringify(g)} ${id}`).toEqual(expected)
        else expect(await queueNeighbours(env.ctx, f, id, { index: before.length, total: matching.length + 1 }), `hint ${JSON.stringify(g)} ${id}`).toEqual(expected)
      }
    }
    expect(await queueNeighbours(env.ctx, {}, 999_999_999)).toMatchObject({ index: null, prev: null, next: null })
  })

  it('reads the default queue through indexes: no full scan of warning or notice', async () => {
    const db = env.ctx.db
    const { page, counts, countOne } = queueSql(env.ctx, {})
    const status = queueSql(env.ctx, { status: ['new'] })
    // the queue page's default tab: two statuses, most of the queue
    const tab = queueSql(env.ctx, { status: ['new', 'in_review'] })
    const plans: string[][] = []
    if (dialect === 'sqlite') {
      for (const q of [page, counts, status.page, tab.page, countOne]) plans.push((await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]))).rows.map((r) => r.detail))
      const lang = await sql<{ detail: string }>`explain query plan select min(language) from notice where language > 'a'`.execute(db)
      plans.push(lang.rows.map((r) => r.detail))
      for (const plan of plans) {
        const text = plan.join('\n')
        // a table scan names the table without an index; a covering-index scan (the counts) reads the index only
        expect(text, text).not.toMatch(/\bSCAN (w|warning|n|notice|m|measure)\b(?! USING (COVERING )?INDEX)/)
        expect(text, text).not.toMatch(/SCAN (w|warning|n|notice)\b(?! USING)/)
      }
      // the page is read in the index's order, stopping at the page: no sort of the whole queue
      expect(plans[0].join('\n')).toMatch(/SCAN w USING INDEX warning_queue_order_idx/)
      expect(plans[0].join('\n')).not.toMatch(/TEMP B-TREE FOR ORDER BY/)
      expect(plans[3].join('\n')).toMatch(/SCAN w USING INDEX warning_queue_order_idx/)
      expect(plans[3].join('\n')).not.toMatch(/TEMP B-TREE FOR ORDER BY/)
    } else {
      await db.transaction().execute(async (tx) => {
        await sql`set local enable_seqscan = off`.execute(tx)
        for (const q of [page, counts, status.page, tab.page, countOne]) plans.push((await tx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${q.sql}`, [...q.parameters]))).rows.map((r) => r['QUERY PLAN']))
      })
      for (const plan of plans) expect(plan.join('\n'), plan.join('\n')).not.toMatch(/Seq Scan on (warning|notice|measure)\b/)
      expect(plans[0].join('\n')).toMatch(/Index Scan using warning_queue_order_idx/)
      expect(plans[0].join('\n')).not.toMatch(/\bSort\b/)
    }
    expect(await distinctValues(db, 'notice', 'language')).toEqual((await db.selectFrom('notice').select('language').distinct().execute()).map((r) => r.language).sort())
  })

  it.runIf(dialect === 'postgres')('reads a search\'s few ids by their keys, planned as the page runs them: no scan of warning', async () => {
    const db = env.ctx.db
    const ids = (await db.selectFrom('warning').select('id').orderBy('id').limit(40).execute()).map((r) => r.id)
    expect(ids.length).toBeGreaterThan(10)
    for (const f of [{ matchIds: ids }, { matchIds: ids, status: ['new', 'in_review'] }] as QueueFilter[]) {
      const off = plannerOff(env.ctx, f)
      expect(off).toContain('enable_seqscan')
      const { page, counts } = queueSql(env.ctx, f)
      const plans = await db.transaction().execute(async (tx) => {
        for (const s of off) await sql.raw(`set local ${s} = off`).execute(tx)
        const out: string[] = []
        for (const q of [page, counts]) out.push((await tx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${q.sql}`, [...q.parameters]))).rows.map((r) => r['QUERY PLAN']).join('\n'))
        return out
      })
      for (const plan of plans) expect(plan, plan).not.toMatch(/Seq Scan on warning\b/)
    }
    // the default queue keeps the planner's own choices
    expect(plannerOff(env.ctx, {})).toEqual([])
  })
})

describe('queue search on both engines', () => {
  it('gives the same results on SQLite and PostgreSQL', () => {
    expect(found.size).toBe(2)
    for (const q of QUERIES) expect(found.get('postgres')!.get(q), q).toEqual(found.get('sqlite')!.get(q))
  })
})
