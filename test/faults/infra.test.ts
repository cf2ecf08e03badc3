import { afterAll, beforeAll, describe, it } from 'vitest'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { startSmtp } from '../helpers/smtp.js'
import { OwnPostgres, OwnRedis, startFaultySource } from '../helpers/servers.js'
import { expectSamePass, queuedPass, referenceDump, until, type Dump } from './harness.js'

/**
 * The services around the workers fail mid-pass and come back; the pass completes after
 * recovery with the result of an undisturbed one. Every server stopped here was started
 * here, on its own port and data directory; the machine's shared Redis and PostgreSQL
 * are never touched.
 */
describe('Redis, PostgreSQL, SMTP and a source failing mid-pass, then recovering', () => {
  let replay: ReplayServer
  let reference: Dump

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    reference = await referenceDump(replay.url, replay.manifest.since)
  }, 300_000)
  afterAll(async () => {
    await replay?.close()
  })

  it.concurrent('Redis killed (-9) and restarted twice mid-pass', { timeout: 600_000 }, async ({ expect }) => {
    const redis = await OwnRedis.start()
    const source = await startFaultySource(replay.url)
    source.hold()
    try {
      const r = await queuedPass({
        sourceUrl: source.url,
        since: replay.manifest.since,
        workers: 2,
        redisUrl: redis.url,
        async during({ db }) {
          // 1. While the scrape job is running (its first request held at the source).
          await source.firstRequest
          await redis.kill()
          await new Promise((r) => setTimeout(r, 1_500))
          await redis.start()
          source.open()
          // 2. Again once classification has begun.
          await until(async () => (await db.ctx.db.selectFrom('classification').select('id').execute()).length > 0, 'a classification')
          await redis.kill()
          await new Promise((r) => setTimeout(r, 1_000))
          await redis.start()
        },
      })
      expectSamePass(expect, r, reference)
    } finally {
      await source.close()
      await redis.stop()
    }
  })

  it.concurrent('PostgreSQL stopped and restarted mid-pass', { timeout: 600_000 }, async ({ expect }) => {
    const pg = await OwnPostgres.start()
    const source = await startFaultySource(replay.url)
    source.hold()
    try {
      const r = await queuedPass({
        sourceUrl: source.url,
        since: replay.manifest.since,
        workers: 2,
        pgUrl: pg.url,
        async during() {
          await source.firstRequest
          await pg.stopServer()
          source.open() // the scrape now finds the database gone
          await new Promise((r) => setTimeout(r, 2_000))
          await pg.start()
        },
      })
      expectSamePass(expect, r, reference)
    } finally {
      await source.close()
      await pg.destroy()
    }
  })

  it.concurrent('SMTP refusing (451), then accepting', { timeout: 600_000 }, async ({ expect }) => {
    const smtp = await startSmtp()
    smtp.refuse = { code: 451, message: 'try again later' }
    let refusals = 0
    try {
      const r = await queuedPass({
        sourceUrl: replay.url,
        since: replay.manifest.since,
        workers: 1,
        smtp,
        async during({ db }) {
          // Accept again once SMTP has refused at least two attempts (of one delivery or more).
          void until(async () => {
            const failed = await db.ctx.db.selectFrom('email_delivery').select('attempts').where('status', '=', 'failed').execute()
            refusals = Math.max(refusals, failed.reduce((n, f) => n + f.attempts, 0))
            return refusals >= 2
          }, 'refused deliveries', 120_000, 50).then(() => (smtp.refuse = null))
        },
      })
      expect(refusals).toBeGreaterThanOrEqual(2)
      expectSamePass(expect, r, reference)
    } finally {
      await smtp.close()
    }
  })

  it.concurrent('a source timing out, then answering 500, then recovering', { timeout: 600_000 }, async ({ expect }) => {
    // Two requests never answered (the client gives up after 1 s), then four 500s: more
    // than the HTTP client's four attempts, so the scrape job itself fails and is retried.
    const source = await startFaultySource(replay.url, ['hang', 'hang', 'error', 'error', 'error', 'error'])
    try {
      const r = await queuedPass({ sourceUrl: source.url, since: replay.manifest.since, workers: 1, env: { TBT_HTTP_TIMEOUT_MS: '1000' } })
      expect(source.seen.slice(0, 6).map((s) => s.mode)).toEqual(['hang', 'hang', 'error', 'error', 'error', 'error'])
      expect(source.seen.some((s) => s.mode === 'pass')).toBe(true)
      expectSamePass(expect, r, reference)
    } finally {
      await source.close()
    }
  })
})
