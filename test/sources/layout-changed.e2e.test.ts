import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { collectStats } from '../../src/services/stats.service.js'
import { cli } from '../helpers/cli.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'
import { startCnTbtSite, startTrisSite, type FixtureSite } from '../helpers/fixture-sites.js'

const NOW = new Date('2026-11-27T08:00:00Z')

describe('a browser source whose pages changed layout', () => {
  let cn: FixtureSite
  let tris: FixtureSite
  let env: TestEnv
  beforeAll(async () => {
    cn = await startCnTbtSite()
    tris = await startTrisSite()
    cn.redesign(true)
    tris.redesign(true)
    env = await createTestEnv('sqlite', { TBT_SOURCE_CN_TBT_BASE_URL: cn.url, TBT_SOURCE_EU_TRIS_BASE_URL: tris.url }, { clock: () => NOW })
  })
  afterAll(async () => {
    await env?.cleanup()
    await cn?.close()
    await tris?.close()
  })

  it('fails the source once, without retrying, raises an operations alert and no trade warning', async () => {
    const report = await runPass(env.ctx, { sources: ['cn-tbt', 'eu-tris'], since: '2026-08-04' })
    expect(report.sources.map((s) => [s.sourceId, s.status])).toEqual([
      ['cn-tbt', 'failed'],
      ['eu-tris', 'failed'],
    ])
    expect(report.sources[0].error).toMatch(/has no #tbtno/)
    expect(report.sources[1].error).toMatch(/has no main\.notification-detail/)
    // The first detail page was asked for once: a layout change is not retried.
    const details = cn.hits.filter((h) => /^\/tbt\/1\/\d+$/.test(h.path))
    expect(details).toHaveLength(1)
    const alerts = await env.ctx.db.selectFrom('ops_alert').selectAll().orderBy('id').execute()
    expect(alerts.map((a) => [a.source_id, a.kind])).toEqual([
      ['cn-tbt', 'layout-changed'],
      ['eu-tris', 'layout-changed'],
    ])
    expect(await env.ctx.db.selectFrom('warning').selectAll().execute()).toEqual([])
    expect(await env.ctx.db.selectFrom('notice').selectAll().execute()).toEqual([])
    expect((await collectStats(env.ctx.db)).opsAlerts).toBe(2)
  })
})

describe('the CLI on a browser source whose layout changed', () => {
  let dataDir: string
  let cn: FixtureSite
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-cli-browser-'))
    cn = await startCnTbtSite()
    cn.redesign(true)
  })
  afterAll(async () => {
    await cn?.close()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('reports the failure and shows the open operations alert', async () => {
    const env = { TBT_DATA_DIR: dataDir, TBT_SOURCE_CN_TBT_BASE_URL: cn.url, TBT_HTTP_MIN_DELAY_MS: '0' }
    const run = await cli(['run', '--sources', 'cn-tbt', '--since', '2026-08-04'], env)
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/cn-tbt\s+failed/)
    expect(run.stdout).toMatch(/! cn-tbt failed: .*has no #tbtno/)
    const stats = await cli(['stats'], env)
    expect(stats.stdout).toMatch(/open operations alerts 1/)
  }, 180_000) // two CLI processes, one of them starting Chromium
})
