import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { deliverDigest, periodKey } from '../../src/services/digest.service.js'
import { listSubscribers } from '../../src/services/subscriber.service.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'
import { startSmtp, type TestSmtp } from '../helpers/smtp.js'

const NOW = new Date('2026-11-28T04:00:00Z')

describe('digest e-mail over a real SMTP server', () => {
  let replay: ReplayServer
  let smtp: TestSmtp
  let env: TestEnv
  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    smtp = await startSmtp()
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url, SMTP_URL: smtp.url }, { clock: () => NOW })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
  })
  afterAll(async () => {
    await env?.cleanup()
    await smtp?.close()
    await replay?.close()
  })
  beforeEach(() => {
    smtp.refuse = null
  })

  it('delivers each due digest once, in Chinese, with unsubscribe headers', async () => {
    expect(smtp.messages.length).toBeGreaterThanOrEqual(1)
    const official = smtp.messages.find((m) => /风险周报/.test(m.subject ?? ''))!
    expect(official).toBeDefined()
    expect(official.html).toContain('按风险等级')
    expect(official.text).toContain('评议')
    const header = (name: string) => (official.headerLines.find((h) => h.key === name)?.line ?? '').replace(/\r?\n\s+/g, ' ')
    expect(header('list-unsubscribe')).toMatch(/^List-Unsubscribe: <http:\/\/localhost:8080\/unsubscribe\?token=[\w-]+\.[0-9a-z]+\.[\w-]+>$/)
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click')
    const ids = smtp.messages.map((m) => m.messageId)
    expect(new Set(ids).size).toBe(ids.length)
    const rows = await env.ctx.db.selectFrom('email_delivery').selectAll().execute()
    expect(rows.every((r) => r.status === 'sent')).toBe(true)
    expect(rows).toHaveLength(smtp.messages.length)
  })

  it('sends nothing twice for the same subscriber and period', async () => {
    const row = await env.ctx.db.selectFrom('email_delivery').selectAll().executeTakeFirstOrThrow()
    const period = row.kind === 'digest-daily' ? 'daily' : (row.kind.replace(/^(digest|report)-/, '') as 'weekly' | 'monthly' | 'quarterly')
    const before = smtp.messages.length
    expect(await deliverDigest(env.ctx, row.subscriber_id, period, row.period_key)).toBe('already-sent')
    expect(smtp.messages.length).toBe(before)
  })

  it('does not send again after a crash between sending and marking', async () => {
    const sub = await env.ctx.db.selectFrom('subscriber').select('id').where('role', '=', 'official').executeTakeFirstOrThrow()
    const key = periodKey('weekly', new Date('2026-12-14T04:00:00Z'), 'Asia/Shanghai')
    // What a crash leaves: the row claimed as sending, the mail possibly gone out (officials get report-weekly).
    await env.ctx.db.insertInto('email_delivery').values({ subscriber_id: sub.id, kind: 'report-weekly', period_key: key, status: 'sending', attempts: 1, created_at: NOW.toISOString() }).execute()
    const before = smtp.messages.length
    expect(await deliverDigest(env.ctx, sub.id, 'weekly', key)).toBe('uncertain')
    expect(smtp.messages.length).toBe(before)
  })

  it('records a refused message and sends it when SMTP accepts again', async () => {
    // The report of a past week the official has not received yet.
    const sub = await env.ctx.db.selectFrom('subscriber').select('id').where('role', '=', 'official').executeTakeFirstOrThrow()
    const key = '2026-W46'
    smtp.refuse = { code: 451, message: 'try again later' }
    await expect(deliverDigest(env.ctx, sub.id, 'weekly', key)).rejects.toThrow(/SMTP/)
    const failed = await env.ctx.db.selectFrom('email_delivery').selectAll().where('period_key', '=', key).executeTakeFirstOrThrow()
    expect(failed.status).toBe('failed')
    smtp.refuse = null
    const before = smtp.messages.length
    expect(await deliverDigest(env.ctx, sub.id, 'weekly', key)).toBe('sent')
    expect(smtp.messages.length).toBe(before + 1)
    expect(smtp.messages.at(-1)!.subject).toMatch(/2026年第46周/)
    // A week that has not ended has no report: nothing is sent, nothing is recorded.
    expect(await deliverDigest(env.ctx, sub.id, 'weekly', '2026-W51')).toBe('empty')
  })

  it('sends, once, what a crash after claiming and before the SMTP hand-over left behind', async () => {
    const sub = await env.ctx.db.selectFrom('subscriber').select('id').where('role', '=', 'official').executeTakeFirstOrThrow()
    const key = '2026-W45'
    // What the crash leaves: the row claimed, nothing composed or sent. (A report carries no warnings of its own.)
    const d = await env.ctx.db.insertInto('email_delivery').values({ subscriber_id: sub.id, kind: 'report-weekly', period_key: key, status: 'claimed', attempts: 1, created_at: NOW.toISOString() }).returning('id').executeTakeFirstOrThrow()
    const before = smtp.messages.length
    expect(await deliverDigest(env.ctx, sub.id, 'weekly', key)).toBe('sent')
    expect(smtp.messages.length).toBe(before + 1)
    expect(smtp.messages.at(-1)!.subject).toMatch(/2026年第45周/)
    const row = await env.ctx.db.selectFrom('email_delivery').selectAll().where('id', '=', d.id).executeTakeFirstOrThrow()
    expect(row).toMatchObject({ status: 'sent', attempts: 2 })
    expect(await deliverDigest(env.ctx, sub.id, 'weekly', key)).toBe('already-sent')
    expect(smtp.messages.length).toBe(before + 1)

    // A claim interrupted two hours ago and never attempted again is shown to admins.
    const twoHoursAgo = new Date(NOW.getTime() - 2 * 3600_000).toISOString()
    await env.ctx.db.insertInto('email_delivery').values({ subscriber_id: sub.id, kind: 'report-weekly', period_key: '2026-W40', status: 'claimed', attempts: 1, created_at: twoHoursAgo }).execute()
    const listed = (await listSubscribers(env.ctx)).find((x) => x.id === sub.id)!
    expect(listed.problems).toContainEqual({ kind: 'report-weekly', periodKey: '2026-W40', status: 'claimed', error: expect.stringMatching(/before the SMTP hand-over/) })
    expect(listed.problems.some((p) => p.periodKey === key)).toBe(false)
  })
})
