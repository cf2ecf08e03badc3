import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'

const FIXED_NOW = new Date('2026-11-28T04:00:00Z')
const CUTOFF = '2026-10-29' // 30 days before FIXED_NOW

describe.each(DIALECTS)("a source's first run sets a baseline (%s)", (dialect) => {
  let replay: ReplayServer
  let env: TestEnv

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: replay.url, TBT_BASELINE_DAYS: '30' }, { clock: () => FIXED_NOW })
    await runPass(env.ctx, { sources: ['eping'] }) // no --since: a baseline run
  })
  afterAll(async () => {
    await env?.cleanup()
    await replay?.close()
  })

  it('records everything it finds, and marks history older than the window', async () => {
    const run = await env.ctx.db.selectFrom('source_run').selectAll().executeTakeFirstOrThrow()
    expect(run).toMatchObject({ baseline: 1, status: 'ok' })
    const notices = await env.ctx.db.selectFrom('notice').select(['distribution_date', 'baseline']).execute()
    expect(notices.length).toBeGreaterThan(20)
    for (const n of notices) expect([n.distribution_date, n.baseline]).toEqual([n.distribution_date, n.distribution_date! < CUTOFF ? 1 : 0])
    expect(notices.some((n) => n.baseline === 1)).toBe(true)
    expect(notices.some((n) => n.baseline === 0)).toBe(true)
  })

  it('raises warnings only for measures with a document inside the window', async () => {
    const warnings = await env.ctx.db.selectFrom('warning').select('measure_id').distinct().execute()
    expect(warnings.length).toBeGreaterThan(0)
    for (const w of warnings) {
      const recent = await env.ctx.db.selectFrom('notice').select('id').where('measure_id', '=', w.measure_id).where('distribution_date', '>=', CUTOFF).execute()
      expect(recent.length).toBeGreaterThan(0)
    }
    // Old measures were still scored: the analyst can see them, subscribers are not flooded.
    const scoredOld = await env.ctx.db
      .selectFrom('risk_score')
      .innerJoin('measure', 'measure.id', 'risk_score.measure_id')
      .select('measure.key')
      .where('measure.first_distribution_date', '<', CUTOFF)
      .where('risk_score.score', '>=', env.ctx.rules.warning.minScore)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('notice').select('notice.id').whereRef('notice.measure_id', '=', 'measure.id').where('notice.baseline', '=', 0))),
      )
      .execute()
    expect(scoredOld.length).toBeGreaterThan(0)
  })

  it('later runs are not baselines, and an explicit --since is never one', async () => {
    await runPass(env.ctx, { sources: ['eping'] })
    const runs = await env.ctx.db.selectFrom('source_run').select('baseline').orderBy('id').execute()
    expect(runs.map((r) => r.baseline)).toEqual([1, 0])
    const fresh = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => FIXED_NOW })
    try {
      await runPass(fresh.ctx, { sources: ['eping'], since: replay.manifest.since })
      const run = await fresh.ctx.db.selectFrom('source_run').select('baseline').executeTakeFirstOrThrow()
      expect(run.baseline).toBe(0)
      const flagged = await fresh.ctx.db.selectFrom('notice').select('id').where('baseline', '=', 1).execute()
      expect(flagged).toEqual([])
    } finally {
      await fresh.cleanup()
    }
  })
})
