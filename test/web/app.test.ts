import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { buildApp } from '../../src/web/app.js'
import { signToken } from '../../src/util/tokens.js'
import { subscriberLinks } from '../../src/services/subscriber.service.js'
import { createTestEnv, logProblems, type TestEnv } from '../helpers/db.js'
import { addUsers, Agent, PASSWORDS } from '../helpers/web.js'
import { createUser } from '../../src/services/user.service.js'

describe('web UI', () => {
  let replay: ReplayServer
  let env: TestEnv
  let app: Awaited<ReturnType<typeof buildApp>>
  let analyst: Agent
  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => new Date('2026-11-28T04:00:00Z'), captureLog: true })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    await addUsers(env.ctx)
    app = await buildApp(env.ctx, { loginAttemptsPerMinute: 1000 })
    analyst = new Agent(app)
    const r = await analyst.login('analyst@example.com', PASSWORDS.analyst)
    expect(r.statusCode).toBe(303)
  })
  afterAll(async () => {
    await app?.close()
    await env?.cleanup()
    await replay?.close()
  })

  it('sends anonymous visitors to the login page, and keeps /healthz open', async () => {
    const r = await app.inject({ url: '/?status=new' })
    expect(r.statusCode).toBe(302)
    expect(r.headers.location).toBe('/login?next=%2F%3Fstatus%3Dnew')
    expect((await app.inject({ url: '/api/warnings' })).statusCode).toBe(401)
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ ok: true })
  })

  it('logs in with a signed HttpOnly SameSite session cookie and refuses a wrong password', async () => {
    const a = new Agent(app)
    await a.get('/login')
    const bad = await a.post('/login', { email: 'analyst@example.com', password: 'wrong-password' })
    expect(bad.statusCode).toBe(401)
    expect(bad.body).toContain('邮箱或密码不正确')
    const ok = await a.post('/login', { email: 'ANALYST@example.com', password: PASSWORDS.analyst, next: '//evil.example/' })
    expect(ok.statusCode).toBe(303)
    expect(ok.headers.location).toBe('/') // never off-site
    const set = ([] as string[]).concat(ok.headers['set-cookie'] as string | string[]).find((c) => c.startsWith('tbt_session='))!
    expect(set).toMatch(/HttpOnly/i)
    expect(set).toMatch(/SameSite=Lax/i)
    const session = await env.ctx.db.selectFrom('user_session').selectAll().execute()
    expect(session.every((s) => !set.includes(s.id_hash))).toBe(true) // only a hash is stored
    const out = await a.post('/logout')
    expect(out.statusCode).toBe(303)
    expect((await a.get('/')).statusCode).toBe(302)
  })

  it('makes a one-time password be replaced before anything else', async () => {
    await createUser(env.ctx.db, { email: 'new@example.com', role: 'analyst', password: 'one-time-pass-1', oneTime: true }, 'now')
    const a = new Agent(app)
    const r = await a.login('new@example.com', 'one-time-pass-1')
    expect(r.headers.location).toBe('/account/password')
    expect((await a.get('/')).headers.location).toBe('/account/password')
    expect((await a.get('/api/warnings')).statusCode).toBe(403)
    await a.get('/account/password')
    expect((await a.post('/account/password', { current: 'one-time-pass-1', password: 'short' })).statusCode).toBe(400)
    expect((await a.post('/account/password', { current: 'one-time-pass-1', password: 'a-new-long-password' })).headers.location).toBe('/')
    expect((await a.get('/')).statusCode).toBe(200)
    const b = new Agent(app)
    expect((await b.login('new@example.com', 'one-time-pass-1')).statusCode).toBe(401)
    expect((await b.login('new@example.com', 'a-new-long-password')).statusCode).toBe(303)
    expect((await a.get('/warnings/999999')).statusCode).toBe(404)
  })

  it('lists the queue in Chinese by default and English on request, under a strict CSP', async () => {
    const zh = await analyst.get('/')
    expect(zh.statusCode).toBe(200)
    const csp = String(zh.headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(zh.body).not.toMatch(/<script>|<style>| style=| on[a-z]+=/)
    expect(zh.body).toContain('审核队列')
    expect(zh.body).toMatch(/G\/TBT\/N\//)
    const en = await analyst.get('/?lang=en')
    expect(en.body).toContain('Review queue')
    expect((await analyst.get('/')).body).toContain('Review queue') // the choice sticks (cookie)
    await analyst.get('/?lang=zh')
  })

  it('names every member, role, source, evidence and time in the reader\'s language', async () => {
    const zh = await analyst.get('/?size=200')
    // ePing says "Saudi Arabia, Kingdom of" and "United States of America": the queue says 沙特阿拉伯 and 美国.
    expect(zh.body).toContain('沙特阿拉伯')
    expect(zh.body).toContain('美国')
    expect(zh.body).toContain('analyst@example.com · 分析员')
    expect(zh.body).not.toMatch(/Saudi Arabia|United States of America|Kuwait, the State of|Korea, Republic of/)
    // a joint notification: every symbol and every member
    expect(zh.body).toContain('G/TBT/N/BDI/612, G/TBT/N/KEN/1847, G/TBT/N/RWA/1163, G/TBT/N/TZA/1329, G/TBT/N/UGA/2274')
    expect(zh.body).toMatch(/布隆迪、肯尼亚、卢旺达、坦桑尼亚、乌干达|肯尼亚、布隆迪、卢旺达、坦桑尼亚、乌干达/)
    // deadlines: past, within 7 days, later; measure statuses in Chinese
    expect(zh.body).toContain('dl-past')
    expect(zh.body).toContain('评议期已结束')
    expect(zh.body).toContain('征求意见中')
    const en = await analyst.get('/?size=200&lang=en')
    expect(en.body).toContain('Saudi Arabia')
    expect(en.body).not.toContain('Saudi Arabia, Kingdom of')
    expect(en.body).toContain('comment period closed')
    const sau = (await analyst.get('/api/warnings?q=G%2FTBT%2FN%2FSAU%2F1402')).json().rows[0]
    expect(sau.members).toEqual([{ code: 'SAU', zh: '沙特阿拉伯', en: 'Saudi Arabia' }])
    const d = await analyst.get(`/warnings/${sau.id}?lang=zh`)
    expect(d.body).toContain('WTO ePing 通报平台')
    expect(d.body).toContain('关键词') // evidence kind "term"
    expect(d.body).not.toMatch(/<b>term<\/b>|listed on the notice|<b>hs-code<\/b>/)
    expect(d.body).toContain('时间均为北京时间')
    expect(d.body).toMatch(/<td class="nowrap">2026-11-28 12:00<\/td>/) // raised at 04:00 UTC, shown in Beijing time
    // a market outside the watch list is first class in the filter
    const ken = (await analyst.get('/api/warnings?market=KEN')).json()
    expect(ken.rows.map((r: { measureKey: string }) => r.measureKey)).toEqual(['G/TBT/N/BDI/612'])
    expect(zh.body).toContain('<option value="KEN">肯尼亚</option>')
  })

  it('filters, searches, sorts, pages and counts per status', async () => {
    const all = (await analyst.get('/api/warnings?size=500')).json()
    expect(all.total).toBeGreaterThan(2)
    expect(all.counts.new).toBe(all.total)
    const high = (await analyst.get('/api/warnings?level=high')).json()
    expect(high.rows.every((r: { level: string }) => r.level === 'high')).toBe(true)
    const first = all.rows[0]
    const byKey = (await analyst.get(`/api/warnings?q=${encodeURIComponent(first.measureKey)}`)).json()
    expect(byKey.rows.map((r: { measureKey: string }) => r.measureKey)).toContain(first.measureKey)
    const none = (await analyst.get('/api/warnings?q=%25_no-such-text')).json()
    expect(none.total).toBe(0)
    const market = (await analyst.get('/api/warnings?market=USA')).json()
    expect(market.total).toBeGreaterThan(0)
    expect(market.rows.every((r: { measureKey: string }) => r.measureKey.includes('/USA/'))).toBe(true)
    const closed = (await analyst.get('/api/warnings?lifecycle=closed')).json()
    expect(closed.total).toBeGreaterThan(0)
    expect(closed.rows.every((r: { measureStatus: string; deadlineState: string }) => r.measureStatus === 'closed' && r.deadlineState === 'past')).toBe(true)
    const soon = (await analyst.get('/api/warnings?deadline=30&sort=deadline')).json()
    for (const r of soon.rows) expect(r.commentDeadline >= '2026-11-28' && r.commentDeadline <= '2026-12-28').toBe(true)
    const dl = soon.rows.map((r: { commentDeadline: string }) => r.commentDeadline)
    expect(dl).toEqual([...dl].sort())
    // open measures before closed ones, then the score
    const rank = (st: string) => ({ open: 0, adopted: 1, in_force: 1, closed: 2, withdrawn: 3 })[st] ?? 0
    const ranks = all.rows.map((r: { measureStatus: string }) => rank(r.measureStatus))
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b))
    const p2 = (await analyst.get('/api/warnings?size=2&page=2')).json()
    expect(p2.rows.map((r: { id: number }) => r.id)).toEqual(all.rows.slice(2, 4).map((r: { id: number }) => r.id))
    const page = await analyst.get('/?level=high&size=2')
    expect(page.body).toMatch(/第 1\/\d+ 页/)
    expect(page.body).toContain('data-status="new"')
  })

  it('shows a warning with its risk trace in words', async () => {
    const w = await env.ctx.db.selectFrom('warning').select('id').orderBy('score', 'desc').executeTakeFirstOrThrow()
    const r = await analyst.get(`/warnings/${w.id}`)
    expect(r.statusCode).toBe(200)
    expect(r.body).toContain('风险评分依据')
    expect(r.body).toMatch(/北京出口暴露度：.+约占北京出口的/)
    expect(r.body).toContain('措施时间线')
    expect(r.body).toContain('产品归类及依据')
    const en = await analyst.get(`/warnings/${w.id}?lang=en`)
    expect(en.body).toMatch(/Beijing&#39;s exposure/)
    await analyst.get('/?lang=zh')
  })

  it('refuses a state change without a CSRF token', async () => {
    const w = await env.ctx.db.selectFrom('warning').select('id').executeTakeFirstOrThrow()
    const r = await analyst.request({ method: 'POST', url: `/warnings/${w.id}/action`, form: { action: 'confirm' } })
    expect(r.statusCode).toBe(403)
    const api = await analyst.request({ method: 'POST', url: `/api/warnings/${w.id}/confirm`, json: {} })
    expect(api.statusCode).toBe(403)
    const after = await env.ctx.db.selectFrom('warning').select('status').where('id', '=', w.id).executeTakeFirstOrThrow()
    expect(after.status).toBe('new')
  })

  it('confirms, assigns, notes and dismisses through the JSON API, keeping the history', async () => {
    const [a, b] = await env.ctx.db.selectFrom('warning').select('id').orderBy('id').limit(2).execute()
    const token = (await analyst.get('/api/csrf')).json().token
    const h = { 'x-csrf-token': token }
    const c = await analyst.request({ method: 'POST', url: `/api/warnings/${a.id}/confirm`, json: { note: 'checked against the draft' }, headers: h })
    expect(c.json()).toMatchObject({ ok: true, from: 'new', to: 'confirmed' })
    expect((await analyst.request({ method: 'PUT', url: `/api/warnings/${a.id}/assignee`, json: { assignee: 'analyst@example.com' }, headers: h })).statusCode).toBe(200)
    const noReason = await analyst.request({ method: 'POST', url: `/api/warnings/${b.id}/dismiss`, json: {}, headers: h })
    expect(noReason.statusCode).toBe(400)
    const d = await analyst.request({ method: 'POST', url: `/api/warnings/${b.id}/dismiss`, json: { reason: 'not our products' }, headers: h })
    expect(d.json()).toMatchObject({ ok: true, to: 'dismissed' })
    const detail = (await analyst.get(`/api/warnings/${a.id}`)).json()
    expect(detail.status).toBe('confirmed')
    expect(detail.assignee).toBe('analyst@example.com')
    expect(detail.note).toBe('checked against the draft')
    expect(detail.events.map((e: { action: string; actor: string }) => `${e.action}:${e.actor}`)).toEqual(['raised:system', 'confirm:analyst@example.com', 'assign:analyst@example.com'])
    const counts = (await analyst.get('/api/warnings')).json().counts
    expect(counts.confirmed).toBe(1)
    expect(counts.dismissed).toBe(1)
  })

  it('applies bulk actions from the queue form', async () => {
    const rows = await env.ctx.db.selectFrom('warning').select('id').where('status', '=', 'new').orderBy('id').limit(2).execute()
    await analyst.get('/')
    const r = await analyst.post('/warnings/bulk', { ids: rows.map((x) => String(x.id)), action: 'escalate', next: '/?status=escalated' })
    expect(r.statusCode).toBe(303)
    expect(r.headers.location).toBe('/?status=escalated')
    const after = await env.ctx.db.selectFrom('warning').select('status').where('id', 'in', rows.map((x) => x.id)).execute()
    expect(after.every((x) => x.status === 'escalated')).toBe(true)
  })

  it('exports the filtered queue as CSV and XLSX', async () => {
    const csv = await analyst.get('/queue.csv?level=high')
    expect(csv.statusCode).toBe(200)
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="tbt-warnings-2026-11-28\.csv"/)
    const lines = csv.body.replace(/^\ufeff/, '').trim().split('\r\n')
    // Headers in Chinese by default, the English keys on request.
    expect(lines[0]).toMatch(/^编号,风险等级,分数,审核状态,措施,文件编号,标题,通报成员,市场,产品类别,评议截止,截止情况,措施状态/)
    const en = await analyst.get('/queue.csv?level=high&lang=en')
    expect(en.body.replace(/^\ufeff/, '').split('\r\n')[0]).toMatch(/^id,level,score,status,measure,symbols,title,members,markets,categories,comment_deadline,deadline_state,measure_status/)
    await analyst.get('/queue?lang=zh')
    const highCount = (await analyst.get('/api/warnings?level=high')).json().total
    expect(lines.length - 1).toBe(highCount)
    expect(lines.slice(1).every((l) => l.split(',')[1] === '高')).toBe(true)
    const xlsx = await analyst.get('/queue.xlsx')
    expect(xlsx.headers['content-type']).toContain('spreadsheetml')
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer)
    const ws = wb.worksheets[0]
    expect(ws.getRow(1).getCell(1).value).toBe('编号')
    expect(ws.getRow(1).values).toEqual(expect.arrayContaining(['通报成员', '产品类别', '措施状态']))
    expect(ws.rowCount - 1).toBe((await analyst.get('/api/warnings')).json().total)
  })

  it('shows the operations page to staff only', async () => {
    const r = await analyst.get('/ops')
    expect(r.statusCode).toBe(200)
    expect(r.body).toContain('数据来源')
    expect(r.body).toContain('eping')
    expect(r.body).toContain('队列积压')
    const official = new Agent(app)
    await official.login('official@example.com', PASSWORDS.official)
    expect((await official.get('/ops')).statusCode).toBe(403)
    // An official's home is the latest complete weekly report; the warnings list is /queue (read-only).
    expect((await official.get('/')).headers.location).toBe('/reports/latest')
    expect((await official.get('/reports/latest')).headers.location).toBe('/reports/weekly/2026-W47')
    expect((await official.get('/queue')).statusCode).toBe(200)
    expect((await official.get('/queue')).body).not.toContain('/warnings/bulk')
    const w = await env.ctx.db.selectFrom('warning').select('id').executeTakeFirstOrThrow()
    expect((await official.get(`/warnings/${w.id}`)).body).not.toContain('/action')
    expect((await official.post(`/warnings/${w.id}/action`, { action: 'confirm' })).statusCode).toBe(403)
  })

  it('keeps enterprises out of the queue and shows them only published warnings', async () => {
    const e = new Agent(app)
    expect((await e.login('enterprise@example.com', PASSWORDS.enterprise)).statusCode).toBe(303)
    expect((await e.get('/')).headers.location).toBe('/me') // its home (issue 13)
    const q = await e.get('/queue')
    expect(q.statusCode).toBe(403)
    expect(q.body).not.toMatch(/G\/TBT\/N\//)
    expect((await e.get('/api/warnings')).statusCode).toBe(403)
    expect((await e.get('/queue.csv')).statusCode).toBe(403)
    const confirmed = await env.ctx.db.selectFrom('warning').select('id').where('status', '=', 'confirmed').executeTakeFirstOrThrow()
    // its own page for a warning: the categories it subscribed to and its feedback form
    const redirect = await e.get(`/warnings/${confirmed.id}`)
    expect(redirect.statusCode).toBe(303)
    expect(redirect.headers.location).toBe(`/me/warnings/${confirmed.id}`)
    const shown = await e.get(`/me/warnings/${confirmed.id}`)
    expect(shown.statusCode).toBe(200)
    expect(shown.body).not.toContain('checked against the draft') // analysts' notes stay inside
    const dismissed = await env.ctx.db.selectFrom('warning').select('id').where('status', '=', 'dismissed').executeTakeFirstOrThrow()
    expect((await e.get(`/warnings/${dismissed.id}`)).statusCode).toBe(404)
    // The JSON names no other category of the measure (whose warnings may be unpublished).
    const json = (await e.get(`/api/warnings/${confirmed.id}`)).json()
    for (const k of ['measureCategories', 'correctedCategories', 'note', 'assignee', 'events', 'levelOverride']) expect(json).not.toHaveProperty(k)
    expect(json.notices.every((n: { classification: unknown }) => n.classification === null)).toBe(true)
    // without a subscription of its own, the measure's top category only (never its others)
    const all = (await analyst.get(`/api/warnings/${confirmed.id}`)).json()
    expect(json.categories.map((c: { id: string }) => c.id)).toEqual(all.categories.slice(0, 1).map((c: { id: string }) => c.id))
    expect(shown.body).not.toContain('class="classification"')
  })

  it('escapes scraped text', async () => {
    const n = await env.ctx.db.selectFrom('notice').select(['id', 'measure_id']).executeTakeFirstOrThrow()
    await env.ctx.db.updateTable('measure').set({ title: '<script>alert(1)</script><img src=x onerror=alert(2)>' }).where('id', '=', n.measure_id).execute()
    // every status: the measure's warning may have been handled above (the default tab is the open work)
    const r = await analyst.get('/?status=all&size=200')
    expect(r.body).not.toContain('<script>alert(1)')
    expect(r.body).not.toContain('<img src=x')
    expect(r.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })

  it('rate-limits login attempts', async () => {
    const limited = await buildApp(env.ctx, { loginAttemptsPerMinute: 3 })
    try {
      const a = new Agent(limited)
      await a.get('/login')
      const codes = []
      for (let i = 0; i < 5; i++) codes.push((await a.post('/login', { email: 'analyst@example.com', password: `guess-${i}` })).statusCode)
      expect(codes).toEqual([401, 401, 401, 429, 429])
    } finally {
      await limited.close()
    }
  })

  it('unsubscribes with a signed token: GET shows one button, POST unsubscribes, idempotently; forged, expired or missing ones are refused', async () => {
    const sub = await env.ctx.db.selectFrom('subscriber').select(['id', 'token_version']).executeTakeFirstOrThrow()
    const token = subscriberLinks(env.ctx, sub).unsubscribeUrl.split('token=')[1]
    // A GET (a mail scanner, a link preview) changes nothing: a page with one button, in Chinese.
    for (const method of ['GET', 'HEAD'] as const) expect((await app.inject({ method, url: `/unsubscribe?token=${token}` })).statusCode).toBe(200)
    const page = await app.inject({ url: `/unsubscribe?token=${token}` })
    expect(page.body).toContain('确认退订')
    expect(page.body.match(/<button/g)).toHaveLength(1)
    expect((await env.ctx.db.selectFrom('subscriber').select('unsubscribed_at').where('id', '=', sub.id).executeTakeFirstOrThrow()).unsubscribed_at).toBeNull()
    const action = /<form method="post" action="([^"]+)"/.exec(page.body)![1].replace(/&amp;/g, '&')
    const done = await app.inject({ method: 'POST', url: action, payload: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(done.statusCode).toBe(200)
    expect(done.body).toContain('您已退订')
    const first = await env.ctx.db.selectFrom('subscriber').select('unsubscribed_at').where('id', '=', sub.id).executeTakeFirstOrThrow()
    expect(first.unsubscribed_at).not.toBeNull()
    // RFC 8058 one-click, again: idempotent.
    const post = await app.inject({ method: 'POST', url: `/unsubscribe?token=${token}`, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(post.statusCode).toBe(200)
    const again = await env.ctx.db.selectFrom('subscriber').select('unsubscribed_at').where('id', '=', sub.id).executeTakeFirstOrThrow()
    expect(again.unsubscribed_at).toBe(first.unsubscribed_at)
    const forged = signToken('another-secret', 'unsubscribe', `s${sub.id}.v0`, 86_400_000)
    const expired = signToken(env.config.secret, 'unsubscribe', `s${sub.id}.v0`, 1000, new Date('2020-01-01T00:00:00Z'))
    const missing = signToken(env.config.secret, 'unsubscribe', 's999999.v0', 86_400_000)
    const manage = signToken(env.config.secret, 'manage', `s${sub.id}.v0`, 86_400_000)
    for (const bad of [forged, expired, missing, manage, 'x.y.z', '']) {
      const g = await app.inject({ url: `/unsubscribe?token=${bad}` })
      expect(g.statusCode).toBe(400)
      expect(g.body).toContain('退订链接无效或已过期')
      expect((await app.inject({ method: 'POST', url: `/unsubscribe?token=${bad}`, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).statusCode).toBe(400)
    }
  })

  it('logs every request by path, and no token, address or double reply', () => {
    expect(env.logLines.some((l) => /"msg":"incoming request"/.test(l) && /"url":"\/unsubscribe\?…"/.test(l))).toBe(true)
    expect(logProblems(env.logLines)).toEqual([])
  })
})
