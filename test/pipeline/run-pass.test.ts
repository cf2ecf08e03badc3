import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { simpleParser } from 'mailparser'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { collectStats } from '../../src/services/stats.service.js'
import { exportNotices } from '../../src/services/export.service.js'
import { noticeIdsByHsPrefix } from '../../src/repositories/notice.repository.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'
import { dumpState } from '../helpers/dump.js'
import { addPendingSignups, signupsLeft } from '../helpers/signups.js'

const FIXED_NOW = new Date('2026-11-28T04:00:00Z')

describe.each(DIALECTS)('one pass over the replay snapshot (%s)', (dialect) => {
  let replay: ReplayServer
  let env: TestEnv
  let firstReport: Awaited<ReturnType<typeof runPass>>

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => FIXED_NOW })
    firstReport = await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
  })
  afterAll(async () => {
    await env?.cleanup()
    await replay?.close()
  })

  it('stores every replayed record as a notice, under its measure', async () => {
    const records = JSON.parse(fs.readFileSync(path.join(DEFAULT_REPLAY_DIR, replay.manifest.sources.eping), 'utf8')) as { id: number; documentSymbol: string }[]
    const stats = await collectStats(env.ctx.db)
    expect(firstReport.sources[0]).toMatchObject({ sourceId: 'eping', status: 'ok', itemErrors: 0, quarantined: 0 })
    expect(stats.notices).toBe(records.length)
    expect(stats.measures).toBeLessThan(records.length) // follow-ups join their base
    expect(stats.classifications).toBe(records.length)
  })

  it('keeps a joint notification as one measure and files member follow-ups under it', async () => {
    const notices = []
    for await (const n of exportNotices(env.ctx.db)) notices.push(n)
    const joint = notices.find((n) => n.symbols.length > 1)!
    expect(joint).toBeDefined()
    const members = joint.symbols.map((s) => `${s}/`)
    const followUps = notices.filter((n) => n.type !== 'regular' && n.symbols.some((s) => members.some((m) => s.startsWith(m))))
    expect(followUps.length).toBeGreaterThan(0)
    for (const f of followUps) expect(f.measureId).toBe(joint.measureId)
    expect(joint.measureId).toBe([...joint.symbols].sort()[0])
  })

  it('moves a measure deadline when an addendum extends the comment period', async () => {
    const notices = []
    for await (const n of exportNotices(env.ctx.db)) notices.push(n)
    const extension = notices.find((n) => n.type === 'addendum' && /extend/i.test(`${n.title} ${n.description}`))!
    expect(extension).toBeDefined()
    const base = notices.find((n) => n.measureId === extension.measureId && n.type === 'regular')!
    expect(extension.commentDeadline! > base.commentDeadline!).toBe(true)
    expect(base.measureCommentDeadline).toBe(extension.commentDeadline)
  })

  it('classifies, scores and raises warnings with a trace', async () => {
    const stats = await collectStats(env.ctx.db)
    expect(stats.warnings).toBeGreaterThan(0)
    expect(stats.warningsByStatus.new).toBe(stats.warnings - (stats.warningsByStatus.dismissed ?? 0))
    const risk = await env.ctx.db.selectFrom('risk_score').selectAll().orderBy('score', 'desc').executeTakeFirstOrThrow()
    const trace = JSON.parse(risk.trace) as { points: number; zh: string }[]
    expect(Math.round(trace.reduce((s, t) => s + t.points, 0))).toBe(risk.score)
    expect(trace.every((t) => t.zh.length > 0)).toBe(true)
  })

  it('indexes HS codes for prefix queries', async () => {
    const ids = await noticeIdsByHsPrefix(env.ctx.db, '85')
    expect(ids.length).toBeGreaterThan(0)
    const codes = await env.ctx.db.selectFrom('notice_hs').select('code').where('notice_id', 'in', ids).execute()
    expect(codes.some((c) => c.code.startsWith('85'))).toBe(true)
  })

  it('writes the due digests to the outbox as e-mails', async () => {
    const files = fs.readdirSync(env.config.outboxDir).filter((f) => f.endsWith('.eml'))
    expect(files.length).toBeGreaterThanOrEqual(1)
    expect(firstReport.stages.emailsSent).toBe(files.length)
    const mail = await simpleParser(fs.readFileSync(path.join(env.config.outboxDir, files[0])))
    expect(mail.subject).toMatch(/TBT/)
    expect(mail.headerLines.some((h) => h.key === 'list-unsubscribe')).toBe(true)
    expect(mail.text).toContain('http')
  })

  it('adds nothing twice when the pass runs again', async () => {
    const before = await dumpState(env.ctx.db)
    const statsBefore = await collectStats(env.ctx.db)
    const second = await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    expect(second.stages.emailsSent).toBe(0)
    expect(second.stages.warningsRaised).toBe(0)
    expect(await dumpState(env.ctx.db)).toEqual(before)
    const statsAfter = await collectStats(env.ctx.db)
    expect(statsAfter).toEqual(statsBefore) // and the unchanged page cost a 304:
    expect(replay.requests.some((r) => r.status === 304)).toBe(true)
  })

  it('purges sign-ups never confirmed for 7 days, as the daily digest job does', async () => {
    await addPendingSignups(env.ctx, FIXED_NOW)
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    expect(await signupsLeft(env.ctx)).toEqual(['young-signup@example.com'])
  })
})

describe('a source that cannot be reached', () => {
  it('is reported and the pass still completes', async () => {
    const env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: 'http://127.0.0.1:9' })
    try {
      const r = await runPass(env.ctx, { sources: ['eping'] })
      expect(r.sources[0].status).toBe('failed')
      expect(r.sources[0].error).toMatch(/127\.0\.0\.1:9/)
      const run = await env.ctx.db.selectFrom('source_run').selectAll().executeTakeFirstOrThrow()
      expect(run.status).toBe('failed')
    } finally {
      await env.cleanup()
    }
  })
})
