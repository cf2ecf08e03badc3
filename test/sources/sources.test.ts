import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { epingSource } from '../../scrapers/eping/eping.source.js'
import type { Source } from '../../scrapers/types.js'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { listSources, reparseSource } from '../../src/services/sources.service.js'
import { cli } from '../helpers/cli.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'
import { dumpState } from '../helpers/dump.js'

const FIXED_NOW = new Date('2026-11-28T04:00:00Z')

describe.each(DIALECTS)('sources overview and reparse (%s)', (dialect) => {
  let replay: ReplayServer
  let env: TestEnv

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => FIXED_NOW })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
  })
  afterAll(async () => {
    await env?.cleanup()
    await replay?.close()
  })

  it('lists each source with its last run, cursor, counts and health', async () => {
    const list = await listSources(env.ctx)
    const eping = list.find((s) => s.id === 'eping')!
    const notices = await env.ctx.db.selectFrom('notice').select('id').where('source_id', '=', 'eping').execute()
    const raws = await env.ctx.db.selectFrom('raw_response').select('id').where('source_id', '=', 'eping').execute()
    expect(eping).toMatchObject({
      engine: 'http',
      baseUrl: replay.url,
      enabled: true,
      status: 'ok',
      health: 'ok',
      cursor: '2026-11-26',
      lastRunAt: FIXED_NOW.toISOString(),
      baselineAt: FIXED_NOW.toISOString(),
      notices: notices.length,
      rawResponses: raws.length,
      quarantined: 0,
      openAlerts: 0,
    })
    expect(eping.lastRun).toMatchObject({ errors: 0, error: null })
    expect(eping.lastRun!.requests).toBeGreaterThan(0)
    // Sources that never ran are listed too.
    for (const s of list.filter((x) => x.id !== 'eping')) expect(s.health === 'never-run' || s.enabled === false).toBe(true)
  })

  it('shows an open operations alert as the source health', async () => {
    await env.ctx.db
      .insertInto('ops_alert')
      .values({ source_id: 'eping', kind: 'layout-changed', message: 'no items[]', created_at: FIXED_NOW.toISOString(), resolved_at: null })
      .execute()
    const eping = (await listSources(env.ctx)).find((s) => s.id === 'eping')!
    expect(eping).toMatchObject({ openAlerts: 1, health: 'alert' })
    await env.ctx.db.deleteFrom('ops_alert').execute()
  })

  it('re-parses stored responses without fetching: unchanged parser, nothing changes', async () => {
    const before = await dumpState(env.ctx.db)
    const requests = replay.requests.length
    const r = await reparseSource(env.ctx, 'eping')
    expect(r.responses).toBeGreaterThan(0)
    expect(r.items).toBeGreaterThan(0)
    expect(r).toMatchObject({ errors: 0, quarantined: 0, changedNotices: 0, warningsRaised: 0 })
    expect(replay.requests.length).toBe(requests)
    expect(await dumpState(env.ctx.db)).toEqual(before)
  })

  it('re-parses stored responses with a fixed parser and carries the change through', async () => {
    // A "parser fix": titles gain a marker. The notices change, nothing is fetched.
    const fixed: Source = { ...epingSource, parse: (page) => {
      const r = epingSource.parse(page)
      return { ...r, notices: r.notices.map((n) => ({ ...n, title: `${n.title} [fixed]` })) }
    } }
    const ctx2 = await env.reopen({ sources: [fixed], clock: () => FIXED_NOW })
    const requests = replay.requests.length
    const count = (await ctx2.db.selectFrom('notice').select('id').execute()).length
    const r = await reparseSource(ctx2, 'eping')
    expect(r.changedNotices).toBe(count)
    expect(r.classified).toBe(count)
    expect(replay.requests.length).toBe(requests)
    const titles = await ctx2.db.selectFrom('notice').select('title').execute()
    expect(titles.every((t) => t.title.endsWith('[fixed]'))).toBe(true)
    const changes = await ctx2.db.selectFrom('notice_change').select('changes').execute()
    expect(changes.length).toBe(count)
    expect(JSON.parse(changes[0].changes)).toHaveProperty('title')
  })

  it('refuses an unknown source', async () => {
    await expect(reparseSource(env.ctx, 'nope')).rejects.toThrow(/unknown source nope/)
  })
})

describe('tbt-watch sources and reparse on the CLI', () => {
  let dataDir: string
  const env = () => ({ TBT_DATA_DIR: dataDir })
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-sources-'))
  })
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  it('lists sources as a table and as JSON, and re-parses', async () => {
    const fresh = await cli(['sources', '--json'], env())
    expect(fresh.code, fresh.stderr).toBe(0)
    const before = JSON.parse(fresh.stdout) as { id: string; health: string }[]
    expect(before.find((s) => s.id === 'eping')).toMatchObject({ health: 'never-run', notices: 0 })

    const run = await cli(['run', '--replay', DEFAULT_REPLAY_DIR], env())
    expect(run.code, run.stderr).toBe(0)
    const table = await cli(['sources'], env())
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/^eping\s+http\s+yes\s+ok\s+ok\s+\d{4}-\d{2}-\d{2}T[\d:.]+Z\s+2026-11-26\s+\d+\s+\d+\s+0\s+0\s+http:\/\/127\.0\.0\.1:\d+/m)

    const rep = await cli(['reparse', 'eping', '--json'], env())
    expect(rep.code, rep.stderr).toBe(0)
    expect(JSON.parse(rep.stdout)).toMatchObject({ sourceId: 'eping', changedNotices: 0, quarantined: 0 })
    const bad = await cli(['reparse', 'nope'], env())
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/unknown source nope/)
  }, 240_000)
})
