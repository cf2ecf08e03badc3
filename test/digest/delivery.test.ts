import type { ParsedMail } from 'mailparser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass, sendDigests } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { deliverDigest, dueSubscribers, periodKey, sendImmediateAlerts, sendReminders } from '../../src/services/digest.service.js'
import { addSubscriber, listSubscribers, validatePreferences } from '../../src/services/subscriber.service.js'
import { buildApp } from '../../src/web/app.js'
import { createTestEnv, DIALECTS, logProblems, type TestEnv } from '../helpers/db.js'
import { startSmtp, type TestSmtp } from '../helpers/smtp.js'
import { addUsers, Agent, PASSWORDS } from '../helpers/web.js'

const DAY1 = new Date('2026-11-28T04:00:00Z')

const header = (m: ParsedMail, name: string) => (m.headerLines.find((h) => h.key === name)?.line ?? '').replace(/\r?\n\s+/g, ' ')
const to = (m: ParsedMail) => (Array.isArray(m.to) ? m.to[0] : m.to)?.value[0]?.address
const linkIn = (m: ParsedMail, path: string) => {
  const re = new RegExp(`http://localhost:8080${path.replace('?', '\\?')}\\?token=[\\w.-]+`)
  return re.exec(m.text ?? '')?.[0] ?? re.exec(String(m.html))?.[0]
}
const nonceOf = (body: string) => /name="nonce" value="([^"]+)"/.exec(body)?.[1] ?? ''

describe.each(DIALECTS)('subscriptions and digests over a real SMTP server (%s)', (dialect) => {
  let replay: ReplayServer
  let smtp: TestSmtp
  let env: TestEnv
  let now = DAY1
  let app: Awaited<ReturnType<typeof buildApp>>
  const of = (email: string) => smtp.messages.filter((m) => to(m) === email)

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    smtp = await startSmtp()
    env = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: replay.url, SMTP_URL: smtp.url, TBT_MAIL_RETRY_MS: '10' }, { clock: () => now, captureLog: true })
    // Subscribers before the pass: an English enterprise wanting high warnings at once.
    const { seed } = await import('../../src/services/seed.service.js')
    await seed(env.ctx)
    await addSubscriber(env.ctx, 'alerts@example.com', validatePreferences(env.ctx, { lang: 'en', frequency: 'immediate', categories: ['mobile-phones', 'computers', 'integrated-circuits', 'electromechanical', 'lithium-batteries', 'medical-devices'] }), { confirmed: true })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    app = await buildApp(env.ctx)
  })
  afterAll(async () => {
    await app?.close()
    await env?.cleanup()
    await smtp?.close()
    await replay?.close()
  })

  it('sends the enterprise digest in Chinese: grouped, levels, why, days left, links, both parts, headers', async () => {
    const [m, ...more] = of('exporter-demo@example.com')
    expect(more).toHaveLength(0)
    expect(m.subject).toMatch(/^【TBT预警】每日摘要 2026-11-28：\d+项与您产品相关的技术性贸易措施/)
    const html = String(m.html)
    expect(html).toMatch(/<h3[^>]*>[^<]+ · [^<]+（\d+）<\/h3>/) // category · market groups
    expect(html).toMatch(/风险说明：北京.+出口/)
    // G/TBT/N/USA/2268 touches two of the subscriber's categories: one entry naming both, and the subject counts measures.
    expect(html.split('G/TBT/N/USA/2268').length - 1).toBe(1)
    expect(html).toContain('其他机电产品、锂离子电池')
    const groups = [...html.matchAll(/<h3[^>]*>[^<]+（(\d+)）<\/h3>/g)].reduce((n, g) => n + Number(g[1]), 0)
    expect(m.subject).toContain(`：${groups}项与您产品相关`)
    expect(m.text).toMatch(/评议截止 \d{4}-\d{2}-\d{2}（剩余\d+天）|评议已截止|未公布评议截止日期/)
    // Each warning link opens without a login: signed for this subscriber and warning.
    expect(m.text).toMatch(/查看详情: http:\/\/localhost:8080\/me\/warnings\/\d+\?token=[\w-]+\.[0-9a-z]+\.[\w-]+/)
    expect(m.text).toMatch(/(WTO 通报原文|ePing 通报页面|来源页面)( \d)?: https?:\/\//)
    expect(header(m, 'list-unsubscribe')).toMatch(/^List-Unsubscribe: <http:\/\/localhost:8080\/unsubscribe\?token=[\w-]+\.[0-9a-z]+\.[\w-]+>$/)
    expect(header(m, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click')
    expect(m.messageId).toMatch(/^<digest-daily\.2026-11-28\.\d+@tbt-watch>$/)
    expect(linkIn(m, '/subscriptions')).toBeDefined()
  })

  it('alerts the immediate subscriber once per high warning, and keeps those out of its daily digest', async () => {
    const mails = of('alerts@example.com')
    const alerts = mails.filter((m) => /^\[TBT high-risk alert\]/.test(m.subject ?? ''))
    expect(alerts.length).toBeGreaterThanOrEqual(1)
    const sub = await env.ctx.db.selectFrom('subscriber').select('id').where('email', '=', 'alerts@example.com').executeTakeFirstOrThrow()
    const rows = await env.ctx.db
      .selectFrom('delivery_warning')
      .innerJoin('email_delivery', 'email_delivery.id', 'delivery_warning.delivery_id')
      .select(['delivery_warning.warning_id', 'email_delivery.kind'])
      .where('delivery_warning.subscriber_id', '=', sub.id)
      .execute()
    expect(rows.filter((r) => r.kind === 'immediate')).toHaveLength(alerts.length)
    expect(new Set(rows.map((r) => r.warning_id)).size).toBe(rows.length) // no warning twice
    expect((await sendImmediateAlerts(env.ctx)).sent).toBe(0)
    expect(of('alerts@example.com')).toHaveLength(mails.length)
  })

  it("sends officials the last complete week's report with its charts as inline PNG images, and the same on the web", async () => {
    // Saturday 2026-11-28 (W48): the last complete ISO week is W47; October and Q3 are due too (their first Monday has passed).
    const mails = of('official-demo@example.com')
    expect(mails.map((x) => x.subject?.slice(0, 9)).sort()).toEqual(['【TBT风险周报】', '【TBT风险季报】', '【TBT风险月报】'].sort())
    const m = mails.find((x) => /风险周报/.test(x.subject ?? ''))!
    expect(m.subject).toMatch(/^【TBT风险周报】2026年第47周（2026-11-16 至 2026-11-22）：新增预警措施\d+项，其中高风险\d+项$/)
    expect(m.messageId).toMatch(/^<report-weekly\.2026-W47\.\d+@tbt-watch>$/)
    expect(mails.find((x) => /风险月报/.test(x.subject ?? ''))!.subject).toMatch(/^【TBT风险月报】2026年10月：/)
    const pngs = m.attachments.filter((a) => a.contentType === 'image/png')
    expect(pngs.map((a) => a.cid).sort()).toEqual(['categories@tbt-watch', 'markets@tbt-watch', 'trend@tbt-watch'])
    for (const a of pngs) {
      expect(a.content.subarray(1, 4).toString()).toBe('PNG')
      expect(a.contentDisposition).toBe('inline')
    }
    // mailparser resolves each cid: reference to its attachment, so the images are really linked.
    expect(String(m.html).match(/src="data:image\/png;base64,/g)?.length).toBeGreaterThanOrEqual(1)
    expect(String(m.html)).toMatch(/按市场[\s\S]+按产品类别[\s\S]+重点措施[\s\S]+即将截止评议的措施[\s\S]+即将生效的措施/)
    expect(m.text).toContain('前4周平均')
    expect(m.text).toContain('http://localhost:8080/reports/weekly/2026-W47')
    const total = /新增预警措施: (\d+)/.exec(m.text ?? '')![1]
    // The web page is for signed-in officials (and staff); enterprises and strangers are kept out.
    expect((await app.inject({ url: '/reports/weekly/2026-W47' })).statusCode).toBe(302)
    await addUsers(env.ctx)
    const enterprise = new Agent(app)
    await enterprise.login('enterprise@example.com', PASSWORDS.enterprise)
    expect((await enterprise.get('/reports/weekly/2026-W47')).statusCode).toBe(403)
    const official = new Agent(app)
    const login = await official.login('official@example.com', PASSWORDS.official)
    // After login an official lands on the latest complete weekly report.
    expect(login.headers.location).toBe('/')
    expect((await official.get('/')).headers.location).toBe('/reports/latest')
    expect((await official.get('/reports/latest')).headers.location).toBe('/reports/weekly/2026-W47')
    const page = await official.get('/reports/weekly/2026-W47')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('技术性贸易措施风险周报')
    expect(page.body).toContain(`<strong class="total">${total}</strong>`)
    expect(page.body).toContain('@media print')
    // the week just begun has no report yet; a period that does not exist is a 404 in the page's language
    expect((await official.get('/reports/weekly/2026-W48')).body).toContain('本期尚未结束')
    const missing = await official.get('/reports/weekly/2026-W99')
    expect(missing.statusCode).toBe(404)
    expect(missing.body).toContain('没有这一期报告')
  })

  it('sends nothing twice: a rerun of the period and of the pass add no e-mail', async () => {
    const before = smtp.messages.length
    expect((await sendDigests(env.ctx, ['daily', 'weekly'])).sent).toBe(0)
    const r = await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    expect(r.stages.emailsSent).toBe(0)
    const row = await env.ctx.db.selectFrom('email_delivery').selectAll().where('kind', '=', 'digest-daily').executeTakeFirstOrThrow()
    expect(await deliverDigest(env.ctx, row.subscriber_id, 'daily', row.period_key)).toBe('already-sent')
    expect(smtp.messages.length).toBe(before)
    const ids = smtp.messages.map((m) => m.messageId)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('unsubscribes in one click from the List-Unsubscribe link, idempotently, deleting nothing', async () => {
    const [m] = of('exporter-demo@example.com')
    const url = new URL(/<([^>]+)>/.exec(header(m, 'list-unsubscribe'))![1])
    const sub = await env.ctx.db.selectFrom('subscriber').select('id').where('email', '=', 'exporter-demo@example.com').executeTakeFirstOrThrow()
    const subsBefore = await env.ctx.db.selectFrom('subscription').selectAll().where('subscriber_id', '=', sub.id).execute()
    for (let i = 0; i < 2; i++) {
      const r = await app.inject({ method: 'POST', url: url.pathname + url.search, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      expect(r.statusCode).toBe(200)
    }
    const after = await env.ctx.db.selectFrom('subscriber').selectAll().where('id', '=', sub.id).executeTakeFirstOrThrow()
    expect(after.unsubscribed_at).not.toBeNull()
    expect(await env.ctx.db.selectFrom('subscription').selectAll().where('subscriber_id', '=', sub.id).execute()).toEqual(subsBefore)
    expect(await env.ctx.db.selectFrom('email_delivery').select('id').where('subscriber_id', '=', sub.id).execute()).not.toHaveLength(0)
    now = new Date('2026-11-29T04:00:00Z')
    try {
      expect(await dueSubscribers(env.ctx, 'daily', periodKey('daily', now, 'Asia/Shanghai'))).not.toContain(sub.id)
    } finally {
      now = DAY1
    }
  })

  it('double opt-in: the sign-up form mails a confirmation; digests start only after the link is followed', async () => {
    // A browser: the form's nonce is bound to the client cookie the page sets.
    const browser = new Agent(app)
    const page = await browser.get('/subscribe')
    expect(page.statusCode).toBe(200)
    const post = (fields: Record<string, string | string[]>) => browser.request({ method: 'POST', url: '/subscribe', form: fields })
    const forged = await post({ email: 'new@example.com', nonce: 'x.y' })
    expect(forged.statusCode).toBe(403)
    const bad = await post({ email: 'new@example.com', nonce: nonceOf(page.body), markets: 'MARS' })
    expect(bad.statusCode).toBe(400)
    expect(bad.body).toContain('未知的市场：MARS')
    const r = await post({ email: 'New@Example.com', name: '<i>新</i>企业', nonce: nonceOf(page.body), categories: ['mobile-phones', 'integrated-circuits', 'electromechanical'], markets: ['USA', 'EU', 'ASEAN'], hs: '8517, 8471', frequency: 'daily', minLevel: 'low', lang: 'zh' })
    expect(r.statusCode).toBe(200)
    await app.publicFormsSettled() // the confirmation e-mail leaves after the (steady) answer
    const [confirm, ...rest] = of('new@example.com')
    expect(rest).toHaveLength(0)
    expect(confirm.subject).toBe('【tbt-watch】请确认订阅技术性贸易措施预警')
    expect(String(confirm.html)).not.toContain('<i>新</i>')
    const sub = await env.ctx.db.selectFrom('subscriber').selectAll().where('email', '=', 'new@example.com').executeTakeFirstOrThrow()
    expect(sub.confirmed_at).toBeNull()
    now = new Date('2026-11-29T04:00:00Z')
    try {
      expect(await dueSubscribers(env.ctx, 'daily', '2026-11-29')).not.toContain(sub.id)
      const link = new URL(linkIn(confirm, '/subscribe/confirm')!)
      expect((await app.inject({ url: link.pathname + link.search })).statusCode).toBe(200)
      expect((await app.inject({ url: link.pathname + link.search })).statusCode).toBe(200)
      expect((await app.inject({ url: `/subscribe/confirm?token=${link.searchParams.get('token')}x` })).statusCode).toBe(400)
      expect(await dueSubscribers(env.ctx, 'daily', '2026-11-29')).toContain(sub.id)
      expect((await sendDigests(env.ctx, ['daily'])).sent).toBeGreaterThanOrEqual(1)
      const digest = of('new@example.com').find((m) => /每日摘要 2026-11-29/.test(m.subject ?? ''))!
      expect(digest).toBeDefined()
      for (const h of String(digest.html).match(/<h3[^>]*>[^<]+<\/h3>/g) ?? []) expect(h).toMatch(/美国|欧盟|东盟/)
    } finally {
      now = DAY1
    }
  })

  it('manages preferences through the signed link in every e-mail, with a CSRF-safe form', async () => {
    const m = of('new@example.com').at(-1)!
    const link = new URL(linkIn(m, '/subscriptions')!)
    const browser = new Agent(app)
    const page = await browser.get(link.pathname + link.search)
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('value="mobile-phones" checked')
    expect(page.body).toContain('value="ASEAN" checked')
    const token = link.searchParams.get('token')!
    const post = (fields: Record<string, string | string[]>) => browser.request({ method: 'POST', url: '/subscriptions', form: fields })
    expect((await post({ token, categories: 'steel' })).statusCode).toBe(403)
    expect((await post({ token: `${token}x`, nonce: nonceOf(page.body) })).statusCode).toBe(400)
    const saved = await post({ token, nonce: nonceOf(page.body), categories: ['steel'], hs: '7208', keywords: 'plate, 钢板', minLevel: 'medium', frequency: 'weekly', lang: 'en' })
    expect(saved.statusCode).toBe(200)
    expect(saved.body).toContain('Your subscription settings are saved.')
    const [listed] = (await listSubscribers(env.ctx)).filter((s) => s.email === 'new@example.com')
    expect(listed).toMatchObject({ categories: ['steel'], hs: ['7208'], markets: [], keywords: ['plate', '钢板'], minLevel: 'medium', frequency: 'weekly', lang: 'en', status: 'confirmed' })
  })

  it('reminds N days before the comment deadline of a measure the subscriber was told about, once', async () => {
    const sub = await env.ctx.db.selectFrom('subscriber').select('id').where('email', '=', 'alerts@example.com').executeTakeFirstOrThrow()
    const told = await env.ctx.db
      .selectFrom('delivery_warning')
      .innerJoin('warning', 'warning.id', 'delivery_warning.warning_id')
      .select('warning.measure_id')
      .where('delivery_warning.subscriber_id', '=', sub.id)
      .executeTakeFirstOrThrow()
    await env.ctx.db.updateTable('measure').set({ status: 'open', comment_deadline: '2026-12-05' }).where('id', '=', told.measure_id).execute()
    now = new Date('2026-11-29T04:00:00Z') // 6 days before, on a later day than the alert
    try {
      const r = await sendReminders(env.ctx)
      expect(r.sent).toBeGreaterThanOrEqual(1)
      const reminder = of('alerts@example.com').find((m) => /^\[TBT comment reminder\]/.test(m.subject ?? ''))!
      expect(reminder.subject).toMatch(/comments close 2026-12-05 \(6 days left\)/)
      expect(header(reminder, 'list-unsubscribe')).toMatch(/unsubscribe\?token=/)
      expect((await sendReminders(env.ctx)).sent).toBe(0)
    } finally {
      now = DAY1
    }
  })

  it('records a permanent SMTP refusal, alerts the admins and does not retry it', async () => {
    await addSubscriber(env.ctx, 'bounce@example.com', validatePreferences(env.ctx, { frequency: 'daily' }), { confirmed: true })
    smtp.refuse = { code: 550, message: 'no such user' }
    try {
      const r = await sendDigests(env.ctx, ['daily'])
      expect(r.failed).toBe(1)
    } finally {
      smtp.refuse = null
    }
    const [listed] = (await listSubscribers(env.ctx)).filter((s) => s.email === 'bounce@example.com')
    expect(listed.problems).toEqual([expect.objectContaining({ status: 'failed-permanent', kind: 'digest-daily' })])
    const alert = await env.ctx.db.selectFrom('ops_alert').selectAll().where('kind', '=', 'delivery-failed').executeTakeFirstOrThrow()
    expect(alert.message).not.toContain('bounce@example.com')
    // Shown to admins on the operations page (users from the report test above).
    const admin = new Agent(app)
    await admin.login('admin@example.com', PASSWORDS.admin)
    const ops = await admin.get('/ops')
    expect(ops.statusCode).toBe(200)
    expect(ops.body).toContain('delivery-failed')
    const before = smtp.messages.length
    expect((await sendDigests(env.ctx, ['daily'])).sent).toBe(0)
    expect(smtp.messages.length).toBe(before)
  })

  it('logs every request by path, and no token, address or double reply', () => {
    expect(env.logLines.some((l) => /"msg":"incoming request"/.test(l) && /"url":"\/unsubscribe\?…"/.test(l))).toBe(true)
    expect(logProblems(env.logLines)).toEqual([])
  })
})
