import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FEDREG_AGENCIES } from '../../scrapers/us-fedreg/us-fedreg.source.js'
import { ingestRaw } from '../../src/services/ingest.service.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { getNotices } from '../../src/repositories/notice.repository.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'
import { dumpState } from '../helpers/dump.js'
import { fedregRecords, startFedregServer } from './fedreg-server.js'

const FIXED_NOW = new Date('2026-11-28T04:00:00Z')
const SINCE = '2026-10-01'

async function scrapeAndIngest(env: TestEnv, since: string | null = SINCE) {
  const r = await scrapeSource(env.ctx, 'us-fedreg', { since })
  const ingested = []
  for (const id of r.pendingRawIds) ingested.push(await ingestRaw(env.ctx, id))
  return { r, ingested }
}

describe.each(DIALECTS)('us-fedreg end to end through a fixture server (%s)', (dialect) => {
  let server: Awaited<ReturnType<typeof startFedregServer>>
  let env: TestEnv
  let first: Awaited<ReturnType<typeof scrapeAndIngest>>

  beforeAll(async () => {
    server = await startFedregServer()
    env = await createTestEnv(dialect, { TBT_SOURCE_US_FEDREG_BASE_URL: server.url }, { clock: () => FIXED_NOW })
    await seed(env.ctx, { subscribers: false })
    first = await scrapeAndIngest(env)
  })
  afterAll(async () => {
    await env?.cleanup()
    await server?.close()
  })

  it('asks for proposed rules of the TBT agencies by month window, with comments_close_on, after reading robots.txt', () => {
    expect(server.hits[0]).toBe('GET /robots.txt')
    const api = server.log.map((l) => l.url.searchParams)
    expect(api.map((q) => [q.get('conditions[publication_date][gte]'), q.get('conditions[publication_date][lte]')])).toEqual([
      ['2026-10-01', '2026-10-31'],
      ['2026-11-01', '2026-11-30'],
    ])
    for (const q of api) {
      expect(q.getAll('conditions[type][]')).toEqual(['PRORULE'])
      expect(q.getAll('conditions[agencies][]')).toEqual(FEDREG_AGENCIES)
      expect(q.getAll('fields[]')).toContain('comments_close_on')
      expect(q.get('order')).toBe('newest')
    }
    expect(first.r).toMatchObject({ status: 'ok', requests: 2, notModified: 0, rawNew: 2 })
    expect(first.ingested.map((i) => [i.items, i.errors, i.quarantined])).toEqual([
      [3, 0, false],
      [2, 0, false],
    ])
  })

  it('stores every field of every proposed rule, each as its own measure', async () => {
    const rows = await env.ctx.db.selectFrom('notice').selectAll().where('source_id', '=', 'us-fedreg').orderBy('source_item_id').execute()
    const expected = fedregRecords()
      .filter((r) => r.type === 'Proposed Rule' && r.agencies.some((a) => FEDREG_AGENCIES.includes(a.slug)) && r.publication_date >= SINCE)
      .sort((a, b) => a.document_number.localeCompare(b.document_number))
    expect(rows.map((r) => r.source_item_id)).toEqual(expected.map((r) => r.document_number))
    const stored = await getNotices(env.ctx.db, rows.map((r) => r.id))
    for (const [i, rec] of expected.entries()) {
      const row = rows[i]
      const n = stored.find((x) => x.id === row.id)!
      const num = rec.document_number
      expect(n.measureKey).toBe(`FR:${num}`)
      expect(row).toMatchObject({
        source_id: 'us-fedreg',
        symbol: `FR:${num}`,
        doc_type: 'regular',
        area: 'TBT',
        member: 'United States of America',
        member_code: 'USA',
        title: rec.title,
        language: 'eng',
        distribution_date: rec.publication_date,
        comment_deadline: rec.comments_close_on ?? null,
        adoption_date: null,
        adoption_text: null,
        entry_into_force_date: rec.effective_on ?? null,
        entry_into_force_text: null,
        source_url: rec.html_url,
        first_seen_at: FIXED_NOW.toISOString(),
        updated_at: FIXED_NOW.toISOString(),
      })
      expect(row.raw_response_id).not.toBeNull()
      expect(row.content_hash).toMatch(/^[0-9a-f]{64}$/)
      expect(JSON.parse(row.symbols)).toEqual([`FR:${num}`])
      expect(JSON.parse(row.objectives)).toEqual([])
      expect(row.description).toBe(String(rec.abstract).replace(/<[^>]+>/g, '').replace('&amp;', '&'))
      const cfr = (rec.cfr_references as { title: number; part: number }[]).map((c) => `${c.title} CFR ${c.part}`)
      expect(row.products).toBe(`Regulated under ${cfr.join(', ')}`)
      const keywords = JSON.parse(row.keywords) as string[]
      for (const a of rec.agencies as unknown as { name: string }[]) expect(keywords).toContain(a.name)
      for (const rin of rec.regulation_id_numbers as string[]) expect(keywords).toContain(`RIN ${rin}`)
      for (const d of rec.docket_ids as string[]) expect(keywords).toContain(`Docket ${d}`)
      expect(JSON.parse(row.links)).toEqual([rec.html_url, rec.pdf_url, rec.comment_url].filter(Boolean))
      expect(n.hsCodes).toEqual([])
      expect(n.icsCodes).toEqual([])
      const measure = await env.ctx.db.selectFrom('measure').selectAll().where('id', '=', row.measure_id).executeTakeFirstOrThrow()
      expect(measure).toMatchObject({
        key: `FR:${num}`,
        member: 'United States of America',
        title: rec.title,
        status: 'open',
        comment_deadline: rec.comments_close_on ?? null,
        first_distribution_date: rec.publication_date,
      })
    }
    const source = await env.ctx.db.selectFrom('source').selectAll().where('id', '=', 'us-fedreg').executeTakeFirstOrThrow()
    expect(source).toMatchObject({ cursor: '2026-11-20', last_status: 'ok', base_url: server.url, engine: 'http' })
  })

  it('costs only conditional requests the second time and stores nothing new', async () => {
    const before = await dumpState(env.ctx.db)
    const raws = (await env.ctx.db.selectFrom('raw_response').select('id').execute()).length
    server.log.length = 0
    const second = await scrapeAndIngest(env)
    expect(second.r).toMatchObject({ status: 'ok', requests: 2, notModified: 2, rawNew: 0, pendingRawIds: [] })
    expect(server.log.map((l) => l.status)).toEqual([304, 304])
    expect((await env.ctx.db.selectFrom('raw_response').select('id').execute()).length).toBe(raws)
    expect(await env.ctx.db.selectFrom('notice_change').selectAll().execute()).toEqual([])
    expect(await dumpState(env.ctx.db)).toEqual(before)
  })

  it('continues from its cursor on a later run (same month URLs: still only 304s)', async () => {
    server.log.length = 0
    const third = await scrapeAndIngest(env, null)
    // cursor 2026-11-20 minus the overlap stays in November: one window, unchanged.
    expect(third.r).toMatchObject({ status: 'ok', requests: 1, notModified: 1, rawNew: 0 })
  })
})

describe('us-fedreg paging', () => {
  it('splits a window the API will not page through completely, and follows pages', async () => {
    // Every window longer than a week claims more results than the API pages through.
    const many = Array.from({ length: 600 }, (_, i) => ({
      ...fedregRecords()[0],
      document_number: `2026-3${String(i).padStart(4, '0')}`,
      publication_date: `2026-11-${String(1 + (i % 28)).padStart(2, '0')}`,
    }))
    const server = await startFedregServer({
      records: many,
      countFor: (from, to, n) => (Date.parse(to) - Date.parse(from) > 7 * 86_400_000 ? 5000 : n),
    })
    const env = await createTestEnv('sqlite', { TBT_SOURCE_US_FEDREG_BASE_URL: server.url }, { clock: () => FIXED_NOW })
    try {
      await seed(env.ctx, { subscribers: false })
      const { r, ingested } = await scrapeAndIngest(env, '2026-11-01')
      expect(r.status).toBe('ok')
      const windows = server.log.map((l) => [l.url.searchParams.get('conditions[publication_date][gte]'), l.url.searchParams.get('conditions[publication_date][lte]'), l.url.searchParams.get('page')])
      expect(windows[0]).toEqual(['2026-11-01', '2026-11-30', '1'])
      const span = ([from, to]: (string | null)[]) => Date.parse(to!) - Date.parse(from!)
      // Halved until each window is a week or less; only those are paged further.
      expect(windows.filter((w) => span(w) <= 7 * 86_400_000).length).toBeGreaterThan(3)
      for (const w of windows) if (w[2] !== '1') expect(span(w)).toBeLessThanOrEqual(7 * 86_400_000)
      expect(windows.some(([, , p]) => p === '2')).toBe(true) // some small window still needed a second page
      expect(ingested.reduce((s, i) => s + i.items, 0)).toBeGreaterThanOrEqual(600) // a split window's first page counts too
      expect((await env.ctx.db.selectFrom('notice').select('id').execute()).length).toBe(600)
    } finally {
      await env.cleanup()
      await server.close()
    }
  })

  it('records a 200 page carrying an API error as a failed run, without an operations alert', async () => {
    const { startServer } = await import('../helpers/http-server.js')
    const server = await startServer((req, res) => {
      if (req.url === '/robots.txt') return res.writeHead(404).end()
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"errors":{"conditions":["bad date"]}}')
    })
    const env = await createTestEnv('sqlite', { TBT_SOURCE_US_FEDREG_BASE_URL: server.url }, { clock: () => FIXED_NOW })
    try {
      await seed(env.ctx, { subscribers: false })
      const r = await scrapeSource(env.ctx, 'us-fedreg', { since: '2026-11-01' })
      expect(r).toMatchObject({ status: 'failed', errorCode: 'bad-response' })
      expect(r.error).toMatch(/bad date/)
      expect(await env.ctx.db.selectFrom('ops_alert').selectAll().execute()).toEqual([])
      // The response is kept, and quarantined when ingested.
      const i = await ingestRaw(env.ctx, r.pendingRawIds[0])
      expect(i.quarantined).toBe(true)
    } finally {
      await env.cleanup()
      await server.close()
    }
  })
})
