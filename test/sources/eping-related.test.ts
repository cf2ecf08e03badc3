import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseRelated } from '../../scrapers/eping/eping.source.js'
import { sourceEnabled } from '../../src/app-context.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { exportNotices, type NoticeRecord } from '../../src/services/export.service.js'
import { ingestRaw } from '../../src/services/ingest.service.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'
import { dumpState } from '../helpers/dump.js'

const FIXED_NOW = new Date('2026-11-28T04:00:00Z')

async function scrapeAndIngest(env: TestEnv, sourceId: string, since: string) {
  const r = await scrapeSource(env.ctx, sourceId, { since })
  for (const id of r.pendingRawIds) await ingestRaw(env.ctx, id)
  return r
}

describe.each(DIALECTS)('ePing follow-ups whose base is older than the window (%s)', (dialect) => {
  let replay: ReplayServer
  let env: TestEnv

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => FIXED_NOW })
    await seed(env.ctx, { subscribers: false })
  })
  afterAll(async () => {
    await env?.cleanup()
    await replay?.close()
  })

  it('looks the bases up through the related-notifications endpoint and files the follow-ups under them', async () => {
    const r = await scrapeAndIngest(env, 'eping', '2026-10-01')
    expect(r.status).toBe('ok')
    const related = replay.requests.filter((q) => q.url.startsWith('/api/v1/notifications/getRelatedNotifications')).map((q) => new URL(q.url, 'http://x').searchParams.get('documentSymbol'))
    expect(related.sort()).toEqual(['G/TBT/N/EU/1189', 'G/TBT/N/IND/417', 'G/TBT/N/KEN/1847', 'G/TBT/N/SAU/1402', 'G/TBT/N/USA/2268'])
    const notices: NoticeRecord[] = []
    for await (const n of exportNotices(env.ctx.db)) notices.push(n)
    // 17 records in the window, plus the four older bases (one of them the joint EAC notification).
    expect(notices).toHaveLength(21)
    const byMeasure = (key: string) => notices.filter((n) => n.measureId === key).map((n) => n.symbols.join(',')).sort()
    expect(byMeasure('G/TBT/N/USA/2268')).toEqual(['G/TBT/N/USA/2268', 'G/TBT/N/USA/2268/Add.1'])
    expect(byMeasure('G/TBT/N/EU/1189')).toEqual(['G/TBT/N/EU/1189', 'G/TBT/N/EU/1189/Corr.1'])
    expect(byMeasure('G/TBT/N/SAU/1402')).toEqual(['G/TBT/N/SAU/1402', 'G/TBT/N/SAU/1402/Rev.1'])
    expect(byMeasure('G/TBT/N/BDI/612')).toEqual(['G/TBT/N/BDI/612,G/TBT/N/KEN/1847,G/TBT/N/RWA/1163,G/TBT/N/TZA/1329,G/TBT/N/UGA/2274', 'G/TBT/N/KEN/1847/Add.1'])
    // A base the site does not have stays missing; the follow-up is its own measure's only document.
    expect(byMeasure('G/TBT/N/IND/417')).toEqual(['G/TBT/N/IND/417/Add.1'])
    // The cursor follows the window, not the older bases.
    const source = await env.ctx.db.selectFrom('source').select('cursor').where('id', '=', 'eping').executeTakeFirstOrThrow()
    expect(source.cursor).toBe('2026-11-26')
  })

  it('costs only conditional requests the second time and stores nothing new', async () => {
    const before = await dumpState(env.ctx.db)
    const from = replay.requests.length
    const r = await scrapeAndIngest(env, 'eping', '2026-10-01')
    const again = replay.requests.slice(from)
    expect(again.length).toBeGreaterThan(0)
    expect(again.every((q) => q.status === 304)).toBe(true)
    expect(r).toMatchObject({ status: 'ok', rawNew: 0, pendingRawIds: [] })
    expect(await dumpState(env.ctx.db)).toEqual(before)
  })

  it('re-parsing history skips the related-notification lists', async () => {
    const raws = await env.ctx.db.selectFrom('raw_response').select('id').where('url', 'like', '%getRelatedNotifications%').execute()
    expect(raws.length).toBeGreaterThan(0)
    for (const { id } of raws) expect(await ingestRaw(env.ctx, id, { force: true })).toMatchObject({ items: 0, quarantined: false })
  })
})

describe('the keyed ePing API', () => {
  it('is used instead of the public JSON when TBT_EPING_API_KEY is set, and the key is never stored', async () => {
    const replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    const env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_API_BASE_URL: replay.url, TBT_EPING_API_KEY: 'secret-test-key' }, { clock: () => FIXED_NOW })
    try {
      const ids = env.ctx.sources.map((s) => s.id)
      expect(ids).toContain('eping-api')
      expect(sourceEnabled(env.ctx, env.ctx.sources.find((s) => s.id === 'eping')!)).toBe(false)
      expect(sourceEnabled(env.ctx, env.ctx.sources.find((s) => s.id === 'eping-api')!)).toBe(true)
      await seed(env.ctx, { subscribers: false })
      const r = await scrapeAndIngest(env, 'eping-api', '2026-11-01')
      expect(r.status).toBe('ok')
      expect(replay.requests.filter((q) => q.url.startsWith('/eping/notifications/search')).every((q) => q.status === 200)).toBe(true)
      const notices = await env.ctx.db.selectFrom('notice').select(['source_id', 'symbol', 'distribution_date']).orderBy('distribution_date', 'desc').execute()
      expect(notices.length).toBeGreaterThanOrEqual(9) // 9 in November, plus the KEN base looked up by symbol
      expect(notices[0]).toEqual({ source_id: 'eping-api', symbol: 'G/TBT/N/VNM/388', distribution_date: '2026-11-26' })
      const raws = await env.ctx.db.selectFrom('raw_response').select(['url', 'body', 'etag']).execute()
      for (const raw of raws) expect(JSON.stringify(raw)).not.toContain('secret-test-key')
    } finally {
      await env.cleanup()
      await replay.close()
    }
  })

  it('the replayed keyed API refuses a request without the key', async () => {
    const replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    const res = await fetch(`${replay.url}/eping/notifications/search?page=1`)
    expect(res.status).toBe(401)
    await replay.close()
  })
})

describe('related-notification answers', () => {
  it('reads symbols from strings or records and drops what is not a symbol', () => {
    expect(parseRelated('["G/TBT/N/USA/2268", " G/TBT/N/USA/2268/add.1", "nonsense"]')).toEqual(['G/TBT/N/USA/2268', 'G/TBT/N/USA/2268/Add.1'])
    expect(parseRelated('{"items":[{"documentSymbol":"G/TBT/N/EU/1189/Corr.1"}]}')).toEqual(['G/TBT/N/EU/1189/Corr.1'])
    expect(parseRelated('<html>')).toEqual([])
  })
})
