import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { expectSamePass, queuedPass, referenceDump, type Dump } from './harness.js'

/**
 * kill -9 of a worker process at a point of the pass, a restart, and the final database
 * must equal that of one uninterrupted pass: no notice lost, no warning or e-mail twice.
 * The crash comes from TBT_CRASH_AT inside the worker (SIGKILL to itself, so no cleanup
 * runs); the replacement process finds the dead worker's job through BullMQ's stalled check.
 */
const KILL_POINTS = [
  'scrape:start:1',
  'scrape:stored:1',
  'scrape:done:1',
  'ingest:stored:5',
  'ingest:done:1',
  'classify:done:1',
  'classify:done:17',
  'score:done:3',
  'warn:done:2',
  'digest:done:1',
  'deliver:pending:2',
  'deliver:claimed:1',
  'deliver:claimed:3',
  'deliver:handed:1',
  'deliver:sent:2',
]
describe('kill -9 of a worker mid-pass, then a restart', () => {
  let replay: ReplayServer
  let reference: Dump

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    reference = await referenceDump(replay.url, replay.manifest.since)
    expect(reference.notices.length).toBeGreaterThan(20)
    expect(reference.deliveries.length).toBeGreaterThanOrEqual(4)
  }, 300_000)
  afterAll(async () => {
    await replay?.close()
  })

  // Concurrent: most of a scenario is waiting (process start, the stalled check), and
  // each has its own schema, queue prefix and SMTP server.
  it.concurrent.for(KILL_POINTS)('killed at %s: the same final database as an uninterrupted pass', { timeout: 600_000 }, async (crashAt, { expect }) => {
    const r = await queuedPass({ sourceUrl: replay.url, since: replay.manifest.since, workers: 1, crashAt })
    // The first process really died at the crash point, by SIGKILL, and was replaced.
    expect(r.fleet.exits[0], r.fleet.logs()).toEqual({ code: null, signal: 'SIGKILL' })
    expect(r.fleet.procs[0].log()).toContain(`TBT_CRASH_AT ${crashAt}`)
    expectSamePass(expect, r, reference, crashAt.split(':').slice(0, 2).join(':'))
  })
})
