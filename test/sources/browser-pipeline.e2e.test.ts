import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass, type PassReport } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'
import { startCnTbtSite, startTrisSite, type FixtureSite } from '../helpers/fixture-sites.js'

const NOW = new Date('2026-11-27T08:00:00Z')

describe('one pass over ePing, China’s centre and TRIS', () => {
  let replay: ReplayServer
  let cn: FixtureSite
  let tris: FixtureSite
  let env: TestEnv
  let report: PassReport
  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    cn = await startCnTbtSite()
    tris = await startTrisSite()
    env = await createTestEnv(
      'sqlite',
      { TBT_SOURCE_EPING_BASE_URL: replay.url, TBT_SOURCE_CN_TBT_BASE_URL: cn.url, TBT_SOURCE_EU_TRIS_BASE_URL: tris.url },
      { clock: () => NOW },
    )
    report = await runPass(env.ctx, { sources: ['eping', 'cn-tbt', 'eu-tris'], since: replay.manifest.since })
  })
  afterAll(async () => {
    await env?.cleanup()
    await replay?.close()
    await cn?.close()
    await tris?.close()
  })

  it('stores, classifies and scores every document, one measure per symbol across sources', async () => {
    expect(report.sources.map((s) => [s.sourceId, s.status, s.itemErrors, s.quarantined])).toEqual([
      ['eping', 'ok', 0, 0],
      ['cn-tbt', 'ok', 0, 0],
      ['eu-tris', 'ok', 0, 0],
    ])
    const notices = await env.ctx.db.selectFrom('notice').select(['id', 'measure_id']).execute()
    expect(report.stages.classified).toBe(notices.length)
    const classified = await env.ctx.db.selectFrom('classification').select('notice_id').distinct().execute()
    expect(classified.length).toBe(notices.length)
    const usa = await env.ctx.db.selectFrom('measure').selectAll().where('key', '=', 'G/TBT/N/USA/2268').executeTakeFirstOrThrow()
    expect(notices.filter((n) => n.measure_id === usa.id)).toHaveLength(4)
    // A warning per measure and category: the centre's copy adds no second warning.
    const warnings = await env.ctx.db.selectFrom('warning').select(['measure_id', 'category_id']).execute()
    const keys = warnings.map((w) => `${w.measure_id}:${w.category_id}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(warnings.some((w) => w.measure_id === usa.id)).toBe(true)
  })
})
