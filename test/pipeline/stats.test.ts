import { CompiledQuery, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedQueue } from '../../bench/queue-data.js'
import { keepStatsFresh } from '../../src/db/stats.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'

// A bulk load outruns autovacuum (or runs with it off, as on this machine): the stages
// analyse the tables that grew, so the planner reads notices of 100 measures through the
// index instead of scanning the whole table, batch after batch.

describe('planner statistics during a bulk load (postgres)', () => {
  let env: TestEnv
  beforeAll(async () => {
    env = await createTestEnv('postgres', {}, { clock: () => new Date('2026-11-28T04:00:00Z') })
  })
  afterAll(async () => env?.cleanup())

  const planOf = async () => {
    const ids = [1, 2, 3, 4, 5]
    const q = env.ctx.db.selectFrom('notice').selectAll().where('measure_id', 'in', ids).compile()
    return (await env.ctx.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${q.sql}`, [...q.parameters]))).rows.map((r) => r['QUERY PLAN']).join('\n')
  }

  it('analyses the tables that grew by more than a fifth, at most every few seconds, and the lookups use their indexes', async () => {
    // 500 notices (the seeding analyses them), then ten times as many again, as a first scrape would add
    await seedQueue(env.ctx, 500, { today: '2026-11-28' })
    const cols = (await sql<{ column_name: string }>`select column_name from information_schema.columns where table_schema = current_schema() and table_name = 'notice' and column_name not in ('id', 'source_item_id') order by ordinal_position`.execute(env.ctx.db)).rows.map((r) => `"${r.column_name}"`).join(', ')
    await sql.raw(`insert into notice (source_item_id, ${cols}) select source_item_id || '-copy-' || g, ${cols} from notice, generate_series(1, 10) g`).execute(env.ctx.db)
    const stats = () => sql<{ relname: string; last_analyze: Date | null }>`select relname, last_analyze from pg_stat_user_tables where schemaname = current_schema() and relname in ('notice', 'measure')`.execute(env.ctx.db)
    // The server reports table changes a moment after they commit: ask until it has.
    let analysed: string[] = []
    const t0 = Date.now()
    for (let now = t0; !analysed.includes('notice') && Date.now() - t0 < 20_000; now += 10_000) {
      analysed = await keepStatsFresh(env.ctx.db, now)
      if (!analysed.includes('notice')) await new Promise((r) => setTimeout(r, 500))
    }
    expect(analysed).toContain('notice')
    expect((await stats()).rows.find((r) => r.relname === 'notice')?.last_analyze).not.toBeNull()
    const plan = await planOf()
    expect(plan, plan).not.toMatch(/Seq Scan on notice/)
    // asked again within the interval: no query at all; after it, nothing is stale
    expect(await keepStatsFresh(env.ctx.db, Date.now() + 10_000_000)).not.toContain('notice')
  })
})

describe('a table whose rows come and go (postgres)', () => {
  let env: TestEnv
  beforeAll(async () => {
    env = await createTestEnv('postgres')
  })
  afterAll(async () => env?.cleanup())

  it('is vacuumed when its dead rows outnumber the live ones, and lookups stop wading through them', async () => {
    // As a bulk load leaves the outbox: 30,000 marks written and settled, 100 still owed.
    await sql`insert into pipeline_outbox (stage, ref_id, token, created_at) select 'score', g, 't' || g, '2026-11-28' from generate_series(1, 30100) g`.execute(env.ctx.db)
    await sql`delete from pipeline_outbox where ref_id <= 30000`.execute(env.ctx.db)
    const dead = async () => (await sql<{ n: string }>`select n_dead_tup::text as n from pg_stat_user_tables where schemaname = current_schema() and relname = 'pipeline_outbox'`.execute(env.ctx.db)).rows[0]?.n
    let done: string[] = []
    const t0 = Date.now()
    for (let now = t0; !done.includes('vacuum pipeline_outbox') && Date.now() - t0 < 20_000; now += 10_000) {
      done = await keepStatsFresh(env.ctx.db, now + 10_000_000)
      if (!done.includes('vacuum pipeline_outbox')) await new Promise((r) => setTimeout(r, 500))
    }
    expect(done).toContain('vacuum pipeline_outbox')
    expect(Number(await dead())).toBeLessThan(1_000)
    expect(await env.ctx.db.selectFrom('pipeline_outbox').select('ref_id').execute()).toHaveLength(100)
    // the live marks alone are no reason to vacuum again
    expect(await keepStatsFresh(env.ctx.db, Date.now() + 20_000_000)).not.toContain('vacuum pipeline_outbox')
  })
})

describe('planner statistics (sqlite)', () => {
  it('has nothing to do on SQLite', async () => {
    const env = await createTestEnv('sqlite')
    try {
      expect(await keepStatsFresh(env.ctx.db)).toEqual([])
    } finally {
      await env.cleanup()
    }
  })
})
