import JSZip from 'jszip'
import type { ParsedMail } from 'mailparser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commentDocx, commentHtml, loadCommentDocument } from '../../src/comments/export.js'
import { sendCommentMails, sendFeedbackReminders } from '../../src/comments/notify.js'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { commentFigures, draftFromTemplate, feedbackForMeasure, feedbackWindow, measureFacts, validateFeedback, workingDaysBefore, FeedbackInputError } from '../../src/services/comment.service.js'
import { loadConfig } from '../../src/config.js'
import { deliverDigest } from '../../src/services/digest.service.js'
import { subscriberLinks, warningLinkUrl } from '../../src/services/subscriber.service.js'
import { buildApp } from '../../src/web/app.js'
import { DAY_MS, signToken } from '../../src/util/tokens.js'
import { createTestEnv, DIALECTS, logProblems, type TestEnv } from '../helpers/db.js'
import { startSmtp, type TestSmtp } from '../helpers/smtp.js'
import { addUsers, Agent, PASSWORDS } from '../helpers/web.js'
import { MOBILE, prepareCommentFixtures } from '../helpers/comments.js'

const DAY = new Date('2026-11-28T04:00:00Z')
const XSS = `<script>window.__pwned=1</script>"'><img src=x onerror=alert(1)>`
const CTRL = 'a\u0001b\u0007c\u001b[31md\u007f'
/** Markup that names the field it was typed into. */
const pwn = (field: string) => `<script>pwn_${field}()</script>`
const nonceOf = (body: string) => /name="nonce" value="([^"]+)"/.exec(body)?.[1] ?? ''
const to = (m: ParsedMail) => (Array.isArray(m.to) ? m.to[0] : m.to)?.value[0]?.address

/** A complete feedback form: what an enterprise would send. */
const form = (over: Record<string, string | string[]> = {}) => ({
  company: '北京某某通信设备有限公司',
  products: '智能手机',
  hs: '851713 851762',
  exportValue: '12,000,000',
  complianceCost: '800000',
  markets: ['AUS'],
  concernRequirement: ['第5条 卫星连接要求', '', ''],
  concernWhy: ['需要重新设计射频模块，认证周期约9个月', '', ''],
  requests: ['longer-transition', 'test-reports'],
  requestOther: '',
  contact: '张三 010-12345678',
  ...over,
})

describe.each(DIALECTS)('评议 and the enterprise pages (%s)', (dialect) => {
  let replay: ReplayServer
  let smtp: TestSmtp
  let env: TestEnv
  let app: Awaited<ReturnType<typeof buildApp>>
  let now = DAY
  let mobile: { warningId: number; measureId: number }
  let unpublishedId: number
  let otherId: number
  const of = (email: string) => smtp.messages.filter((m) => to(m) === email)
  const agent = async (role: keyof typeof PASSWORDS, email = `${role}@example.com`, password = PASSWORDS[role]) => {
    const a = new Agent(app)
    expect((await a.login(email, password)).statusCode).toBe(303)
    return a
  }
  /** GETs the feedback page (for its nonce) and posts the form. */
  const sendFeedback = async (a: Agent, url: string, fields: Record<string, string | string[]>) => {
    const page = await a.get(url)
    const path = new URL(url, 'http://x')
    const action = `/me/warnings/${mobile.warningId}/feedback${path.search}`
    return a.request({ method: 'POST', url: action, form: { nonce: nonceOf(page.body), ...fields } })
  }

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    smtp = await startSmtp()
    env = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: replay.url, SMTP_URL: smtp.url, TBT_MAIL_RETRY_MS: '10' }, { clock: () => now, captureLog: true })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    await addUsers(env.ctx)
    ;({ mobile, unpublishedId, otherId } = await prepareCommentFixtures(env.ctx, DAY))
    app = await buildApp(env.ctx, { loginAttemptsPerMinute: 1000, publicForms: { perClientPerHour: 1000, floorMs: 0 } })
  }, 180_000)
  afterAll(async () => {
    await app?.close()
    await env?.cleanup()
    await smtp?.close()
    await replay?.close()
  })

  it('gives an enterprise its home: matching published warnings only, its settings, a menu without 403s', async () => {
    const a = await agent('enterprise')
    const root = await a.get('/')
    expect(root.statusCode).toBe(302)
    expect(root.headers.location).toBe('/me')
    const home = await a.get('/me')
    expect(home.statusCode).toBe(200)
    expect(home.body).toContain(`data-warning="${mobile.warningId}"`)
    expect(home.body).not.toContain(`data-warning="${unpublishedId}"`)
    expect(home.body).not.toContain(`data-warning="${otherId}"`)
    expect(home.body).toContain('订阅地址：enterprise@example.com')
    expect(home.body).toMatch(/剩余\d+天/)
    // Every link of the menu opens.
    for (const href of [...home.body.matchAll(/<nav>(.*?)<\/nav>/gs)].flatMap((n) => [...n[1].matchAll(/href="([^"]+)"/g)].map((x) => x[1]))) expect((await a.get(href)).statusCode).toBe(200)
    // The warning's page is its own (a link to /warnings/:id leads there); back goes home, not to the queue.
    const moved = await a.get(`/warnings/${mobile.warningId}`)
    expect([moved.statusCode, moved.headers.location]).toEqual([303, `/me/warnings/${mobile.warningId}`])
    const w = await a.get(`/me/warnings/${mobile.warningId}`)
    expect(w.body).toContain('href="/me"')
    expect(w.body).not.toContain('返回队列')
    expect((await a.get(`/me/warnings/${unpublishedId}`)).statusCode).toBe(404)
    // A second category of the measure (another sector's, scored highest) stays out of every enterprise view.
    const held = (await env.ctx.db.selectFrom('warning_category').select(['category_id', 'score']).where('warning_id', '=', mobile.warningId).orderBy('score', 'desc').execute())
    const meets8517 = (c: { hs: string[] }) => c.hs.some((p) => p.startsWith('8517') || '8517'.startsWith(p))
    const second = env.ctx.categories.find((c) => !held.some((h) => h.category_id === c.id) && !meets8517(c))!
    await env.ctx.db.insertInto('warning_category').values({ warning_id: mobile.warningId, category_id: second.id, score: held[0].score + 1, level: 'low' }).execute()
    try {
      // (the settings form offers every category; the feed and the warning's facts name the measure's)
      const feed = /<table class="feed">[\s\S]*?<\/table>/.exec((await a.get('/me')).body)?.[0] ?? ''
      const facts = /<dl class="facts">[\s\S]*?<\/dl>/.exec((await a.get(`/me/warnings/${mobile.warningId}`)).body)?.[0] ?? ''
      for (const part of [feed, facts]) {
        expect(part).toContain('class="chip"')
        expect(part).not.toContain(second.zh)
      }
      const json = (await a.get(`/api/warnings/${mobile.warningId}`)).json()
      expect(json.categories.map((c: { id: string }) => c.id)).not.toContain(second.id)
      // subscribed by HS code (8517) only: the measure's categories that code meets
      const meeting = held.map((h) => env.ctx.categoryIndex.byId(h.category_id)!).filter(meets8517)
      expect(meeting.length).toBeGreaterThan(0)
      expect(json.categories.map((c: { id: string }) => c.id).sort()).toEqual(meeting.map((c) => c.id).sort())
      for (const c of meeting) expect(facts).toContain(c.zh)
      expect(JSON.stringify(json)).not.toContain(second.zh)
    } finally {
      await env.ctx.db.deleteFrom('warning_category').where('warning_id', '=', mobile.warningId).where('category_id', '=', second.id).execute()
    }
    // Settings are saved, validated with a message in the page.
    const bad = await a.post('/me/settings', { hs: '85.17', frequency: 'daily', minLevel: 'low', lang: 'zh' })
    expect(bad.statusCode).toBe(400)
    expect(bad.body).toContain('HS编码前缀应为2到10位数字')
    const ok = await a.post('/me/settings', { hs: '8517 8542', frequency: 'weekly', minLevel: 'low', lang: 'zh', name: XSS })
    expect(ok.statusCode).toBe(200)
    expect(ok.body).toContain('已保存订阅设置')
    expect(ok.body).not.toContain('<script>window.__pwned')
    const sub = await env.ctx.db.selectFrom('subscriber').selectAll().where('email', '=', 'enterprise@example.com').executeTakeFirstOrThrow()
    expect(sub.frequency).toBe('weekly')
    await a.post('/me/settings', { hs: '8517', frequency: 'daily', minLevel: 'low', lang: 'zh', name: '北京某某通信' })
    const en = await a.get(`/me/warnings/${mobile.warningId}?lang=en`)
    expect(en.statusCode).toBe(200)
    expect(en.body).toContain('Enterprise feedback')
    expect(en.body).toContain('Feedback closes on 2027-01-08')
    expect((await a.get('/me?lang=en')).body).toContain('Warnings for my subscription')
  })

  it('takes feedback from a logged-in enterprise: CSRF nonce, bounded, escaped, control characters dropped', async () => {
    const a = await agent('enterprise')
    const url = `/me/warnings/${mobile.warningId}`
    const page = await a.get(url)
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('企业意见截止')
    expect(page.body).toContain('2027-01-08') // 5 working days before 2027-01-15
    // No nonce: refused with the form and a message.
    const forged = await a.request({ method: 'POST', url: `${url}/feedback`, form: form() })
    expect(forged.statusCode).toBe(403)
    expect(forged.body).toContain('表单已过期')
    // Each field validated with a message in the page.
    const cases: [Record<string, string | string[]>, string][] = [
      [{ company: '' }, '请填写“企业名称”'],
      [{ company: 'x'.repeat(201) }, '“企业名称”最多200个字符'],
      [{ products: '产'.repeat(2001) }, '“受影响的产品”最多2000个字符'],
      [{ hs: '85.17' }, 'HS编码应为2到10位数字'],
      [{ exportValue: '-5' }, '“涉及的年出口额（元）”应为不超过一万亿的非负整数'],
      [{ complianceCost: '1e9' }, '“预计合规成本（元）”应为'],
      [{ markets: ['XXX'] }, '未知的市场：XXX'],
      [{ requests: ['free-money'] }, '请选择有效的诉求'],
      [{ concernRequirement: ['', '', ''], concernWhy: ['', '', ''] }, '请至少填写一项关注的问题'],
      [{ concernWhy: ['理'.repeat(4001), '', ''] }, '“关注的问题”最多4000个字符'],
      [{ contact: '' }, '请填写“联系人及电话”'],
    ]
    for (const [over, message] of cases) {
      const r = await sendFeedback(a, url, form(over))
      expect(r.statusCode, JSON.stringify(over).slice(0, 80)).toBe(400)
      expect(r.body).toContain(message)
    }
    // A body over the limit: a page with a message, never a bare 413.
    const huge = await sendFeedback(a, url, form({ products: '产'.repeat(60_000) }))
    expect(huge.statusCode).toBe(413)
    expect(huge.body).toContain('提交的内容过长')
    // Hostile text everywhere is kept as text.
    const hostile = form({ company: XSS, products: `${XSS}${CTRL}`, concernRequirement: [XSS, '', ''], concernWhy: [`${XSS}\n第二行`, '', ''], requestOther: XSS, contact: `${XSS}${CTRL}` })
    const saved = await sendFeedback(a, url, hostile)
    expect(saved.statusCode).toBe(200)
    expect(saved.body).toContain('已收到您的评议意见')
    expect(saved.body).not.toContain('<script>window.__pwned')
    expect(saved.body).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;&quot;&#39;&gt;&lt;img')
    const [row] = await feedbackForMeasure(env.ctx, mobile.measureId)
    expect(row.company).toBe(XSS)
    expect(row.products).toBe(`${XSS}abc[31md`)
    expect(row.exportValue).toBe(12_000_000)
    expect(row.email).toBe('enterprise@example.com')
    // A refused value is named in the message as text, never as markup.
    const refused: Record<string, string | string[]>[] = [{ markets: [pwn('market')] }, { requests: [pwn('request')] }, { hs: pwn('hs') }]
    for (const over of refused) {
      const r = await sendFeedback(a, url, form(over))
      expect(r.statusCode).toBe(400)
      expect(r.body).not.toContain('<script>pwn_')
    }
    // A marker of its own in each free-text field: each one reaches the analysts' page, the
    // template's draft and both exports as text.
    const free = ['company', 'products', 'concernRequirement', 'concernWhy', 'requestOther', 'contact'] as const
    const marked = form(Object.fromEntries(free.map((f) => [f, f.startsWith('concern') ? [pwn(f), '', ''] : pwn(f)])))
    expect((await sendFeedback(a, url, { ...marked, requests: ['other'] })).statusCode).toBe(200)
    const analyst = await agent('analyst')
    const doc = (await loadCommentDocument(env.ctx, mobile.measureId))!
    const docx = await (await JSZip.loadAsync(await commentDocx(doc, 'zh'))).file('word/document.xml')!.async('string')
    for (const [where, text] of [['analysts page', (await analyst.get(`/comments/${mobile.measureId}`)).body], ['html export', commentHtml(doc, 'zh')], ['docx export', docx]] as const) {
      expect(text, where).not.toContain('<script>pwn_')
      for (const f of free) expect(text, `${where}: ${f}`).toContain(`&lt;script&gt;pwn_${f}()&lt;/script&gt;`)
    }
    // The real feedback, edited in place (one row per enterprise and measure).
    expect((await sendFeedback(a, url, form())).statusCode).toBe(200)
    expect(await feedbackForMeasure(env.ctx, mobile.measureId)).toHaveLength(1)
  })

  it("opens a digest's warning link without a login and takes feedback through it", async () => {
    const sub = await env.ctx.db.selectFrom('subscriber').selectAll().where('email', '=', 'enterprise@example.com').executeTakeFirstOrThrow()
    expect(await deliverDigest(env.ctx, sub.id, 'daily', '2026-11-28')).toBe('sent')
    const mail = of('enterprise@example.com').at(-1)!
    const link = new RegExp(`http://localhost:8080(/me/warnings/${mobile.warningId}\\?token=[\\w.-]+)`).exec(mail.text ?? '')?.[1]
    expect(link).toBeTruthy()
    const anon = new Agent(app)
    const page = await anon.get(link!)
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('企业评议意见')
    expect(page.body).toContain('第5条 卫星连接要求') // the enterprise's own feedback (the same address)
    expect(page.body).not.toMatch(/分析员备注|处理记录|负责人/)
    const again = await sendFeedback(anon, link!, form({ concernWhy: ['经邮件链接修改', '', ''] }))
    expect(again.statusCode).toBe(200)
    expect((await feedbackForMeasure(env.ctx, mobile.measureId))[0].concerns[0].why).toBe('经邮件链接修改')
    // A link for another warning, a forged one, or one of an unsubscribed address: a page saying so.
    const wrong = warningLinkUrl(env.ctx, sub, otherId).replace(`/me/warnings/${otherId}`, `/me/warnings/${mobile.warningId}`).replace('http://localhost:8080', '')
    expect((await anon.get(wrong)).statusCode).toBe(400)
    const forged = await anon.get(`/me/warnings/${mobile.warningId}?token=abc.def.ghi`)
    expect(forged.statusCode).toBe(400)
    expect(forged.body).toContain('链接无效或已过期')
    // Without a token and without a session: the login page.
    expect((await anon.get(`/me/warnings/${mobile.warningId}`)).headers.location).toMatch(/^\/login/)
  })

  it('shows comments to their author, analysts, admins and officials only', async () => {
    const rival = await agent('enterprise', 'rival@example.com')
    const theirs = await rival.get(`/me/warnings/${mobile.warningId}`)
    expect(theirs.statusCode).toBe(200)
    expect(theirs.body).not.toContain('经邮件链接修改')
    expect(theirs.body).not.toContain('北京某某通信设备有限公司')
    expect((await rival.get(`/comments/${mobile.measureId}`)).statusCode).toBe(403)
    expect((await rival.get('/comments')).statusCode).toBe(403)
    const me = await agent('enterprise')
    expect((await me.get(`/comments/${mobile.measureId}`)).statusCode).toBe(403)
    for (const role of ['analyst', 'admin', 'official'] as const) {
      const a = await agent(role)
      const r = await a.get(`/comments/${mobile.measureId}`)
      expect(r.statusCode).toBe(200)
      expect(r.body).toContain('经邮件链接修改')
      expect(r.body).toContain('12,000,000')
      expect(r.body.includes('id="start-draft"')).toBe(role !== 'official')
    }
    const official = await agent('official')
    expect((await official.post(`/comments/${mobile.measureId}/draft`, { op: 'start' })).statusCode).toBe(403)
  })

  it('reminds the enterprise before the internal deadline, once, and closes the form after it', async () => {
    now = new Date('2027-01-06T02:00:00Z') // Wednesday; feedback closes Friday 2027-01-08
    try {
      const before = of('enterprise@example.com').length
      expect((await sendFeedbackReminders(env.ctx)).sent).toBe(1)
      const [m] = of('enterprise@example.com').slice(before)
      expect(m.subject).toBe(`【评议】${MOBILE} 的企业意见将于2027-01-08截止`)
      expect(m.text).toContain('截止前您仍可补充或修改')
      expect((await sendFeedbackReminders(env.ctx)).sent).toBe(0)
      // The form opened at 23:00 on the last day (Beijing time), sent at 01:00 the day after.
      now = new Date('2027-01-08T15:00:00Z')
      const e = await agent('enterprise')
      const open = await e.get(`/me/warnings/${mobile.warningId}`)
      expect(open.body).toContain('id="feedback-submit"')
      now = new Date('2027-01-08T17:00:00Z')
      const late = await e.request({ method: 'POST', url: `/me/warnings/${mobile.warningId}/feedback`, form: { nonce: nonceOf(open.body), ...form() } })
      expect(late.statusCode).toBe(409)
      expect(late.body).toContain('企业意见已于2027-01-08截止，不能再修改')
      const closed = await e.get(`/me/warnings/${mobile.warningId}`)
      expect(closed.body).not.toContain('id="feedback-submit"')
      expect(closed.body).toContain('第5条 卫星连接要求') // its feedback, read-only
    } finally {
      now = DAY
    }
  })

  it('lets an analyst draft from the template, submit and record the reply; the enterprise is told once each time', async () => {
    const a = await agent('analyst')
    await a.get(`/comments/${mobile.measureId}`)
    expect((await a.post(`/comments/${mobile.measureId}/draft`, { op: 'start' })).statusCode).toBe(303)
    const page = await a.get(`/comments/${mobile.measureId}`)
    expect(page.body).toContain('id="draft-zh"')
    expect(page.body).toContain('关于“第5条 卫星连接要求”')
    expect(page.body).toContain('建议延长过渡期（1家企业提出）')
    expect(page.body).toContain('China requests a longer transition period')
    const saved = await a.post(`/comments/${mobile.measureId}/draft`, { op: 'save', draftZh: `中方意见 ${XSS}`, draftEn: `China's comment ${XSS}` })
    expect(saved.statusCode).toBe(303)
    const shown = await a.get(`/comments/${mobile.measureId}`)
    expect(shown.body).not.toContain('<script>window.__pwned')
    expect((await a.post(`/comments/${mobile.measureId}/status`, { to: 'submitted', date: '2026-13-45' })).body).toContain('请输入有效日期')
    expect((await a.post(`/comments/${mobile.measureId}/status`, { to: 'replied' })).statusCode).toBe(409)
    const before = of('enterprise@example.com').length
    expect((await a.post(`/comments/${mobile.measureId}/status`, { to: 'submitted', date: '2026-11-28', submittedTo: 'WTO/TBT 咨询点' })).statusCode).toBe(303)
    const told = of('enterprise@example.com').slice(before)
    expect(told).toHaveLength(1)
    expect(told[0].subject).toBe(`【评议】${MOBILE} 的中方评议意见已提交`)
    expect(told[0].text).toContain('2026-11-28提交至WTO/TBT 咨询点')
    // Feedback is now closed for enterprises.
    const e = await agent('enterprise')
    const closed = await sendFeedback(e, `/me/warnings/${mobile.warningId}`, form())
    expect(closed.body).toContain('评议意见已提交，企业意见不能再修改')
    await a.get(`/comments/${mobile.measureId}`)
    expect((await a.post(`/comments/${mobile.measureId}/status`, { to: 'replied', date: '2026-11-28', replyText: `Reply ${XSS}` })).statusCode).toBe(303)
    const reply = of('enterprise@example.com').at(-1)!
    expect(reply.subject).toBe(`【评议】${MOBILE} 收到通报方答复`)
    expect(String(reply.html)).not.toContain('<script>window.__pwned')
    expect(String(reply.html)).toContain('Reply &lt;script&gt;')
    // The sweep (a crash after the status change) sends nothing twice.
    const count = smtp.messages.length
    expect((await sendCommentMails(env.ctx)).sent).toBe(0)
    expect(smtp.messages.length).toBe(count)
    expect((await a.post(`/comments/${mobile.measureId}/status`, { to: 'closed' })).statusCode).toBe(303)
    expect((await a.get('/comments')).body).toContain('已结束')
  })

  it('counts 评议 in the weekly report figures and keeps the template honest', async () => {
    const f = await commentFigures(env.ctx, '2026-11-23', '2026-11-29')
    expect(f.submitted).toBe(1)
    expect(f.exportValue).toBe(12_000_000)
    const m = (await measureFacts(env.ctx, mobile.measureId))!
    const d = draftFromTemplate(m, await feedbackForMeasure(env.ctx, mobile.measureId))
    expect(d.zh).toContain('涉及年出口额约12,000,000元')
    expect(d.en).toContain('CNY 12,000,000')
    const html = commentHtml((await loadCommentDocument(env.ctx, mobile.measureId))!, 'zh')
    expect(html).toContain('经邮件链接修改')
    expect(html).not.toContain('<script>window.__pwned')
    expect(html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;')
    expect(workingDaysBefore('2027-01-15', 5)).toBe('2027-01-08')
    expect(workingDaysBefore('2026-12-07', 1)).toBe('2026-12-04') // Monday → Friday
    // TBT_COMMENT_LEAD_DAYS moves the internal deadline (default 5 working days before the WTO deadline).
    const open = { status: 'open', comment_deadline: '2027-01-15' }
    const windowWith = (vars: Record<string, string>) => feedbackWindow({ config: loadConfig({ TBT_DATA_DIR: env.dataDir, ...vars }), clock: () => DAY }, open, null)
    expect(windowWith({}).internalDeadline).toBe('2027-01-08')
    expect(windowWith({ TBT_COMMENT_LEAD_DAYS: '2' })).toEqual({ open: true, internalDeadline: '2027-01-13', reason: 'open' })
    expect(() => validateFeedback(env.ctx, { company: 'x', products: 'y', contact: 'z', concerns: [{ requirement: 'r', why: '' }], exportValue: '10000000000000' })).toThrow(FeedbackInputError)
  })

  it('unsubscribes on POST only (never on GET or HEAD), refuses a missing subscriber, and names the address on the manage page', async () => {
    const sub = await env.ctx.db.selectFrom('subscriber').selectAll().where('email', '=', 'enterprise@example.com').executeTakeFirstOrThrow()
    const links = subscriberLinks(env.ctx, sub)
    const manage = await app.inject({ url: links.manageUrl.replace('http://localhost:8080', '') })
    expect(manage.body).toContain('订阅地址：enterprise@example.com')
    const path = links.unsubscribeUrl.replace('http://localhost:8080', '')
    // A GET or HEAD (a mail scanner, a link preview) changes nothing.
    for (const method of ['GET', 'HEAD'] as const) expect((await app.inject({ method, url: path })).statusCode).toBe(200)
    expect((await env.ctx.db.selectFrom('subscriber').select('unsubscribed_at').where('id', '=', sub.id).executeTakeFirstOrThrow()).unsubscribed_at).toBeNull()
    // A well-signed link for a subscriber who does not exist is an error, not "done".
    const missing = `/unsubscribe?token=${signToken(env.config.secret, 'unsubscribe', 's987654.v0', DAY_MS, now)}`
    for (const method of ['GET', 'POST'] as const) {
      const r = await app.inject({ method, url: missing, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: method === 'POST' ? 'List-Unsubscribe=One-Click' : undefined })
      expect(r.statusCode, method).toBe(400)
      expect(r.body).toContain('退订链接无效或已过期')
    }
    const post = await app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' })
    expect(post.statusCode).toBe(200)
    expect((await env.ctx.db.selectFrom('subscriber').select('unsubscribed_at').where('id', '=', sub.id).executeTakeFirstOrThrow()).unsubscribed_at).not.toBeNull()
    // The warning link of an unsubscribed address no longer opens.
    expect((await app.inject({ url: warningLinkUrl(env.ctx, sub, mobile.warningId).replace('http://localhost:8080', '') })).statusCode).toBe(400)
  })

  it('logs no token, address or failure', () => {
    expect(logProblems(env.logLines)).toEqual([])
  })
})
