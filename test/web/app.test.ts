import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { buildApp } from '../../src/web/app.js'
import { signToken } from '../../src/util/tokens.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'

describe('web UI', () => {
  let replay: ReplayServer
  let env: TestEnv
  let app: Awaited<ReturnType<typeof buildApp>>
  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => new Date('2026-11-28T04:00:00Z') })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    app = await buildApp(env.ctx)
  })
  afterAll(async () => {
    await app?.close()
    await env?.cleanup()
    await replay?.close()
  })

  it('lists the warnings in Chinese by default and English on request', async () => {
    const zh = await app.inject({ url: '/' })
    expect(zh.statusCode).toBe(200)
    expect(zh.headers['content-security-policy']).toContain("default-src 'none'")
    expect(zh.body).toContain('预警列表')
    expect(zh.body).toMatch(/G\/TBT\/N\//)
    const en = await app.inject({ url: '/?lang=en' })
    expect(en.body).toContain('Warnings')
  })

  it('shows a warning with its risk trace', async () => {
    const w = await env.ctx.db.selectFrom('warning').select('id').orderBy('score', 'desc').executeTakeFirstOrThrow()
    const r = await app.inject({ url: `/warnings/${w.id}` })
    expect(r.statusCode).toBe(200)
    expect(r.body).toContain('风险评分依据')
    expect(r.body).toMatch(/北京.+出口约占/)
  })

  it('escapes scraped text', async () => {
    const n = await env.ctx.db.selectFrom('notice').select(['id', 'measure_id']).executeTakeFirstOrThrow()
    await env.ctx.db.updateTable('measure').set({ title: '<script>alert(1)</script><img src=x onerror=alert(2)>' }).where('id', '=', n.measure_id).execute()
    const r = await app.inject({ url: '/' })
    expect(r.body).not.toContain('<script>alert(1)')
    expect(r.body).not.toContain('<img src=x')
    expect(r.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })

  it('unsubscribes with a signed token, idempotently, and refuses a forged one', async () => {
    const sub = await env.ctx.db.selectFrom('subscriber').select('id').executeTakeFirstOrThrow()
    const token = signToken(env.config.secret, 'unsubscribe', String(sub.id))
    expect((await app.inject({ url: `/unsubscribe?token=${token}` })).statusCode).toBe(200)
    const first = await env.ctx.db.selectFrom('subscriber').select('unsubscribed_at').where('id', '=', sub.id).executeTakeFirstOrThrow()
    expect(first.unsubscribed_at).not.toBeNull()
    const post = await app.inject({ method: 'POST', url: `/unsubscribe?token=${token}`, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(post.statusCode).toBe(200)
    const again = await env.ctx.db.selectFrom('subscriber').select('unsubscribed_at').where('id', '=', sub.id).executeTakeFirstOrThrow()
    expect(again.unsubscribed_at).toBe(first.unsubscribed_at)
    const forged = signToken('another-secret', 'unsubscribe', String(sub.id))
    expect((await app.inject({ url: `/unsubscribe?token=${forged}` })).statusCode).toBe(400)
  })
})
