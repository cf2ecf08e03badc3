import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { expectSamePass, queuedPass, referenceDump, type Dump } from './harness.js'

/** Two and four worker processes on one Redis and one PostgreSQL: the result of one. */
describe('several worker processes on one Redis and one PostgreSQL', () => {
  let replay: ReplayServer
  let reference: Dump

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    reference = await referenceDump(replay.url, replay.manifest.since)
  }, 300_000)
  afterAll(async () => {
    await replay?.close()
  })

  it.concurrent.for([2, 4])('%i worker processes reach the same database as one pass, and send each e-mail once', { timeout: 600_000 }, async (workers, { expect }) => {
    const r = await queuedPass({ sourceUrl: replay.url, since: replay.manifest.since, workers, env: { TBT_LOG_LEVEL: 'debug', TBT_BATCH_SIZE: '10' } })
    // Nobody crashed: no replacement was started, and each process stopped cleanly at the end.
    expect(r.fleet.procs).toHaveLength(workers)
    expect(r.fleet.exits.every((e) => e.code === 0)).toBe(true)
    expectSamePass(expect, r, reference)
    // The work really was shared: more than one process logged a finished job (batches of
    // 10 notices or measures, so the replay's pages make enough jobs to share).
    const busy = r.fleet.procs.filter((p) => /"stage":"(classify|score|warn)"/.test(p.log()))
    expect(busy.length, r.fleet.logs(5)).toBeGreaterThan(1)
  })
})
