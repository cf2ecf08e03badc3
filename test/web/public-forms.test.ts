import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { confirmByToken, LINK_TTL_MS, purgeStaleSubscriptions, requestSubscription, rotateSubscriberTokens, subscriberLinks, validatePreferences } from '../../src/services/subscriber.service.js'
import { seed } from '../../src/services/seed.service.js'
import { buildApp } from '../../src/web/app.js'
import { PublicForms } from '../../src/web/forms.js'
import { DAY_MS, signToken, tokenSigner, verifyToken } from '../../src/util/tokens.js'
import { createTestEnv, DIALECTS, logProblems, type TestEnv } from '../helpers/db.js'
import { startSmtp, type TestSmtp } from '../helpers/smtp.js'
import { Agent } from '../helpers/web.js'

const nonceOf = (body: string) => /name="nonce" value="([^"]+)"/.exec(body)?.[1] ?? ''
const DAY1 = new Date('2026-11-28T04:00:00Z')

describe('signed tokens: purpose, subject, expiry', () => {
  it('verifies only an untampered token, for its purpose, before it expires', () => {
    const now = new Date('2026-11-28T00:00:00Z')
    const t = signToken('k', 'unsubscribe', 's42.v0', DAY_MS, now)
    expect(verifyToken('k', 'unsubscribe', t, now)).toEqual({ subject: 's42.v0', expiresAt: new Date(now.getTime() + DAY_MS) })
    expect(verifyToken('k', 'manage', t, now)).toBeNull() // another purpose
    expect(verifyToken('other', 'unsubscribe', t, now)).toBeNull() // another secret
    expect(verifyToken('k', 'unsubscribe', t, new Date(now.getTime() + DAY_MS + 1000))).toBeNull() // expired
    const [body, exp, sig] = t.split('.')
    expect(verifyToken('k', 'unsubscribe', `${Buffer.from('s43.v0').toString('base64url')}.${exp}.${sig}`, now)).toBeNull() // another subject
    expect(verifyToken('k', 'unsubscribe', `${body}.${(parseInt(exp, 36) + 86400 * 365).toString(36)}.${sig}`, now)).toBeNull() // a later expiry
    for (const junk of [undefined, 42, '', 'a.b', 'a.b.c.d', `${t}x`, 'x'.repeat(5000)]) expect(verifyToken('k', 'unsubscribe', junk, now)).toBeNull()
    // The subject is readable: never an address in it.
    expect(Buffer.from(body, 'base64url').toString()).toBe('s42.v0')
    expect(() => signToken('k', 'Bad Purpose', 's', DAY_MS)).toThrow()
    const signer = tokenSigner('k', () => now)
    expect(signer.verify('warning-link', signer.sign('warning-link', 's1.w9', 3600_000))?.subject).toBe('s1.w9')
  })

  it('binds a public-form nonce to its form, client and scope, and waits out a steady floor', async () => {
    const sleeps: number[] = []
    let release!: () => void
    const ctx = { config: { secret: 's', publicBaseUrl: 'http://localhost:8080' }, clock: () => DAY1, log: { warn() {} } } as never
    // A sleep that records what it was asked for; the floor's first wait holds until released.
    const forms = new PublicForms(ctx, { floorMs: 300, sleep: (ms) => (sleeps.push(ms), sleeps.length === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve()) })
    const fast = forms.steady(async () => 'done')
    await new Promise((r) => setTimeout(r, 5))
    release()
    expect(await fast).toBe('done')
    expect(sleeps[0]).toBe(300) // the floor raced against the work...
    expect(sleeps.length).toBe(2) // ...and the rest of it waited out after the work finished early
    expect(sleeps[1]).toBeGreaterThan(250)
    // Work still running when the floor is over: the answer goes, the work carries on.
    let finish!: () => void
    const slowForms = new PublicForms(ctx, { floorMs: 300, sleep: () => Promise.resolve() })
    let finished = false
    const slow = await slowForms.steady(() => new Promise<string>((r) => (finish = () => r('late'))).then((x) => ((finished = true), x)))
    expect(slow).toBeUndefined()
    expect(finished).toBe(false)
    finish()
    await slowForms.drain()
    expect(finished).toBe(true)
  })
})

describe.each(DIALECTS)('public forms, links and query strings (%s)', (dialect) => {
  let env: TestEnv
  let smtp: TestSmtp
  let app: Awaited<ReturnType<typeof buildApp>>
  let now = DAY1
  const to = (addr: string) => smtp.messages.filter((m) => (Array.isArray(m.to) ? m.to[0] : m.to)?.value[0]?.address === addr)
  const subscriber = (email: string) => env.ctx.db.selectFrom('subscriber').selectAll().where('email', '=', email).executeTakeFirst()
  const prefsOf = async (id: number) => (await env.ctx.db.selectFrom('subscription').select(['kind', 'value']).where('subscriber_id', '=', id).orderBy('kind').orderBy('value').execute()).map((r) => `${r.kind}:${r.value}`)
  /** A browser that opens the form and sends it. */
  const signUp = async (fields: Record<string, string | string[]>, browser = new Agent(app)) => {
    const page = await browser.get('/subscribe')
    const r = await browser.request({ method: 'POST', url: '/subscribe', form: { nonce: nonceOf(page.body), ...fields } })
    await app.publicFormsSettled() // the confirmation e-mail is sent after the (steady) answer
    return r
  }
  const linkIn = (m: { text?: string }, path: string) => new RegExp(`http://localhost:8080${path}\\?token=[\\w.-]+`).exec(m.text ?? '')?.[0]

  beforeAll(async () => {
    smtp = await startSmtp()
    env = await createTestEnv(dialect, { SMTP_URL: smtp.url, TBT_MAIL_ATTEMPTS: '1' }, { clock: () => now, captureLog: true })
    await seed(env.ctx)
    app = await buildApp(env.ctx, { publicForms: { floorMs: 1, perClientPerHour: 1000 } })
  })
  afterAll(async () => {
    await app?.close()
    await env?.cleanup()
    await smtp?.close()
  })

  it('takes a sign-up nonce once, from the client it was given to', async () => {
    const browser = new Agent(app)
    const page = await browser.get('/subscribe')
    const nonce = nonceOf(page.body)
    const send = async (b: Agent) => {
      const r = await b.request({ method: 'POST', url: '/subscribe', form: { nonce, email: 'once@example.com', categories: 'steel' } })
      await app.publicFormsSettled()
      return r
    }
    // Another client (no cookie, or another one) cannot use it.
    const stranger = await send(new Agent(app))
    expect(stranger.statusCode).toBe(403)
    expect(stranger.body).toContain('表单已过期或已提交过')
    expect((await send(browser)).statusCode).toBe(200)
    const replay = await send(browser)
    expect(replay.statusCode).toBe(403)
    expect(to('once@example.com')).toHaveLength(1)
  })

  it('limits submissions per client, with the form and a message, never a bare status', async () => {
    const limited = await buildApp(env.ctx, { logger: false, publicForms: { floorMs: 1, perClientPerHour: 3 } })
    try {
      const browser = new Agent(limited)
      const codes: number[] = []
      for (let i = 0; i < 5; i++) {
        const page = await browser.get('/subscribe')
        codes.push((await browser.request({ method: 'POST', url: '/subscribe', form: { nonce: nonceOf(page.body), email: `client-${i}@example.com` } })).statusCode)
      }
      expect(codes).toEqual([200, 200, 200, 429, 429])
      const last = await browser.request({ method: 'POST', url: '/subscribe?lang=en', form: { email: 'x@example.com' } })
      expect(last.body).toContain('Too many submissions')
      expect(last.body).toContain('<form method="post"')
    } finally {
      await limited.close()
    }
  })

  it('sends an address at most three confirmations a day, whoever asks', async () => {
    for (let i = 0; i < 5; i++) expect((await signUp({ email: 'flood@example.com', name: `spam ${i}` })).statusCode).toBe(200)
    expect(to('flood@example.com')).toHaveLength(3)
    // The greeting never carries the stranger's text.
    for (const m of to('flood@example.com')) expect(m.text).not.toContain('spam')
    now = new Date(DAY1.getTime() + DAY_MS + 60_000)
    try {
      expect((await signUp({ email: 'flood@example.com' })).statusCode).toBe(200)
      expect(to('flood@example.com')).toHaveLength(4)
    } finally {
      now = DAY1
    }
  })

  it('bounds lists, text and bodies with a clear message in the page, never a 500', async () => {
    const hs20000 = Array.from({ length: 20000 }, (_, i) => String(1000 + (i % 9000))).join(' ')
    const tooMany = await signUp({ email: 'big@example.com', hs: Array.from({ length: 60 }, (_, i) => String(1000 + i)).join(' ') })
    expect(tooMany.statusCode).toBe(400)
    expect(tooMany.body).toContain('HS编码前缀最多50个')
    const huge = await signUp({ email: 'big@example.com', hs: hs20000 })
    expect(huge.statusCode).toBe(413)
    expect(huge.body).toContain('提交的内容过长')
    const kw = await signUp({ email: 'big@example.com', keywords: 'x'.repeat(100) })
    expect(kw.statusCode).toBe(400)
    expect(kw.body).toContain('每个关键词最多80个字符')
    const name = await signUp({ email: 'big@example.com', name: '名'.repeat(300) })
    expect(name.statusCode).toBe(400)
    expect(name.body).toContain('单位或姓名最多200个字符')
    const cats = await signUp({ email: 'big@example.com', categories: ['steel', 'no-such-thing'] })
    expect(cats.body).toContain('未知的产品类别：no-such-thing')
    const email = await signUp({ email: 'not an address' })
    expect(email.statusCode).toBe(400)
    expect(email.body).toContain('请输入有效的电子邮箱地址')
    const en = await new Agent(app).request({ method: 'POST', url: '/subscribe?lang=en', form: { email: 'a@example.com', frequency: 'hourly' } })
    expect(en.body).toContain('Choose a valid frequency.')
    const json = await app.inject({ method: 'POST', url: '/subscribe', headers: { 'content-type': 'application/json' }, payload: '{"email":' })
    expect(json.statusCode).toBe(400)
    expect(json.body).toContain('href="/subscribe"')
    expect(await subscriber('big@example.com')).toBeUndefined()
  })

  it('answers the same whether the address is new, pending, subscribed or unsubscribed, and changes none of them', async () => {
    const prefs = validatePreferences(env.ctx, { categories: ['steel'], markets: ['USA'] })
    await requestSubscription(env.ctx, 'pending@example.com', prefs)
    const { addSubscriber, unsubscribeSubscriber } = await import('../../src/services/subscriber.service.js')
    const active = await addSubscriber(env.ctx, 'active@example.com', prefs, { confirmed: true })
    const gone = await addSubscriber(env.ctx, 'gone@example.com', prefs, { confirmed: true })
    await unsubscribeSubscriber(env.ctx, gone.id)
    const before = { active: await prefsOf(active.id), gone: await prefsOf(gone.id), pending: await prefsOf((await subscriber('pending@example.com'))!.id) }
    const answers = []
    for (const email of ['brand-new@example.com', 'pending@example.com', 'active@example.com', 'gone@example.com']) {
      const r = await signUp({ email, categories: ['lithium-batteries'], markets: ['EU'], keywords: 'stranger' })
      answers.push([r.statusCode, r.body])
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1)
    expect(answers[0][0]).toBe(200)
    // Nobody's settings changed, and the active address got no e-mail.
    expect(await prefsOf(active.id)).toEqual(before.active)
    expect(await prefsOf(gone.id)).toEqual(before.gone)
    expect((await subscriber('gone@example.com'))!.unsubscribed_at).not.toBeNull()
    expect(await prefsOf((await subscriber('pending@example.com'))!.id)).toEqual(before.pending)
    expect(to('active@example.com')).toHaveLength(0)
    expect(to('gone@example.com')).toHaveLength(1)
  })

  it('takes as long to answer for a known address as for a new one: the steady floor holds the route', async () => {
    const steady = await buildApp(env.ctx, { logger: false, publicForms: { floorMs: 400, perClientPerHour: 1000 } })
    try {
      for (const email of ['active@example.com', 'timing-new@example.com']) {
        const browser = new Agent(steady)
        const page = await browser.get('/subscribe')
        const started = performance.now()
        const r = await browser.request({ method: 'POST', url: '/subscribe', form: { nonce: nonceOf(page.body), email } })
        const took = performance.now() - started
        expect(r.statusCode, email).toBe(200)
        // A known address does no work and would answer in a few milliseconds without the floor.
        expect(took, email).toBeGreaterThanOrEqual(390)
      }
      await steady.publicFormsSettled()
    } finally {
      await steady.close()
    }
  })

  it("applies a later request's choices only when its own confirmation link is followed", async () => {
    const pending = (await subscriber('pending@example.com'))!
    const [mail] = to('pending@example.com')
    const link = new URL(linkIn(mail, '/subscribe/confirm')!)
    // Before: the first request's choices; the later request's wait.
    expect(await prefsOf(pending.id)).toEqual(['category:steel', 'market:USA'])
    const r = await app.inject({ url: link.pathname + link.search })
    expect(r.statusCode).toBe(200)
    expect(r.body).toContain('订阅已确认')
    const after = (await subscriber('pending@example.com'))!
    expect(after.confirmed_at).not.toBeNull()
    expect(await prefsOf(pending.id)).toEqual(['category:lithium-batteries', 'keyword:stranger', 'market:EU'])
    // Following it again changes nothing more; a forged or expired one is refused.
    expect((await app.inject({ url: link.pathname + link.search })).statusCode).toBe(200)
    expect((await app.inject({ url: `/subscribe/confirm?token=${signToken('wrong', 'confirm', 'r1', DAY_MS)}` })).statusCode).toBe(400)
    now = new Date(DAY1.getTime() + LINK_TTL_MS.confirm + 60_000)
    try {
      expect(await confirmByToken(env.ctx, link.searchParams.get('token'))).toBeNull()
    } finally {
      now = DAY1
    }
  })

  it('manage and unsubscribe links expire, can be rotated, and a missing subscriber is an error page', async () => {
    const sub = (await subscriber('active@example.com'))!
    const links = subscriberLinks(env.ctx, sub)
    const manage = new URL(links.manageUrl)
    expect((await app.inject({ url: manage.pathname + manage.search })).statusCode).toBe(200)
    expect(await rotateSubscriberTokens(env.ctx, sub.id)).toBe(true)
    for (const u of [links.manageUrl, links.unsubscribeUrl]) {
      const url = new URL(u)
      const r = await app.inject({ url: url.pathname + url.search })
      expect(r.statusCode).toBe(400)
    }
    const fresh = new URL(subscriberLinks(env.ctx, (await subscriber('active@example.com'))!).manageUrl)
    expect((await app.inject({ url: fresh.pathname + fresh.search })).statusCode).toBe(200)
    now = new Date(DAY1.getTime() + LINK_TTL_MS.manage + 60_000)
    try {
      expect((await app.inject({ url: fresh.pathname + fresh.search })).statusCode).toBe(400)
    } finally {
      now = DAY1
    }
    const missing = signToken(env.config.secret, 'manage', 's987654.v0', DAY_MS, now)
    const r = await app.inject({ url: `/subscriptions?token=${missing}` })
    expect(r.statusCode).toBe(400)
    expect(r.body).toContain('链接无效或已过期')
  })

  it('purges sign-ups never confirmed after 7 days, and nothing else', async () => {
    await requestSubscription(env.ctx, 'stale@example.com', validatePreferences(env.ctx, {}))
    now = new Date(DAY1.getTime() + 8 * DAY_MS)
    try {
      await requestSubscription(env.ctx, 'fresh@example.com', validatePreferences(env.ctx, {}))
      const r = await purgeStaleSubscriptions(env.ctx)
      expect(r.subscribers).toBeGreaterThanOrEqual(1)
      expect(await subscriber('stale@example.com')).toBeUndefined()
      expect(await subscriber('fresh@example.com')).toBeDefined()
      expect(await subscriber('active@example.com')).toBeDefined() // confirmed
      expect(await subscriber('gone@example.com')).toBeDefined() // confirmed once, unsubscribed
      const old = await env.ctx.db.selectFrom('subscribe_request').select('id').where('created_at', '<', DAY1.toISOString()).execute()
      expect(old).toHaveLength(0)
      expect(await env.ctx.db.selectFrom('form_nonce').select('nonce_hash').execute()).toHaveLength(0) // all expired by now
    } finally {
      now = DAY1
    }
  })

  it('keeps addresses out of delivery errors, alerts and logs when SMTP quotes them', async () => {
    smtp.refuse = { code: 550, message: '5.1.1 <refused-user@example.com>: Recipient address rejected' }
    try {
      expect((await signUp({ email: 'refused-user@example.com' })).statusCode).toBe(200)
      await app.close() // the form's work still running (the delivery) finishes first
      app = await buildApp(env.ctx, { publicForms: { floorMs: 1, perClientPerHour: 1000 } })
    } finally {
      smtp.refuse = null
    }
    const sub = (await subscriber('refused-user@example.com'))!
    const d = await env.ctx.db.selectFrom('email_delivery').selectAll().where('subscriber_id', '=', sub.id).executeTakeFirstOrThrow()
    expect(d.status).toBe('failed-permanent')
    expect(d.error).toContain('[address]')
    expect(d.error).not.toContain('@')
    const alerts = await env.ctx.db.selectFrom('ops_alert').select('message').execute()
    expect(alerts.length).toBeGreaterThan(0)
    for (const a of alerts) expect(a.message).not.toContain('@')
  })

  it('answers bad query parameters with 400 and a message (Chinese page, JSON for the API), never 500', async () => {
    const { addUsers, PASSWORDS } = await import('../helpers/web.js')
    await addUsers(env.ctx)
    const analyst = new Agent(app)
    expect((await analyst.login('analyst@example.com', PASSWORDS.analyst)).statusCode).toBe(303)
    for (const q of ['page=99999999999999999999', 'page=0', 'page=abc', 'deadline=99999999', 'deadline=-1', 'category=%00', 'status=nope', 'level=urgent', 'sort=evil', 'dir=sideways', 'size=x', 'language=english', 'q=%01']) {
      const api = await analyst.get(`/api/warnings?${q}`)
      expect(api.statusCode, q).toBe(400)
      expect(api.json().error, q).toMatch(/参数 \S+ 无效/)
      const page = await analyst.get(`/?${q}`)
      expect(page.statusCode, q).toBe(400)
      expect(page.body, q).toMatch(/参数 \S+ 无效/)
    }
    expect((await analyst.get('/queue.csv?page=99999999999999999999')).statusCode).toBe(400)
    expect((await analyst.get('/api/warnings?page=100000&size=200')).statusCode).toBe(200) // deep but valid: an empty page
    expect((await analyst.get('/reports/weekly/1000-W01')).statusCode).toBe(404)
    // An id no table can hold names nothing: 404, not the database's out-of-range error.
    for (const u of ['/warnings/99999999999999999999', '/api/warnings/99999999999999999999', '/warnings/2147483648']) expect((await analyst.get(u)).statusCode, u).toBe(404)
    expect((await analyst.post('/warnings/99999999999999999999/level', { level: '' })).statusCode).toBe(404)
    expect((await analyst.get('/reports/weekly/2026-W48')).statusCode).toBe(200)
    // A NUL in a body cannot reach PostgreSQL either.
    const token = (await analyst.get('/api/csrf')).json().token
    const w = await env.ctx.db.selectFrom('warning').select('id').executeTakeFirst()
    const note = await analyst.request({ method: 'PUT', url: `/api/warnings/${w?.id ?? 1}/note`, json: { note: 'a\u0000b' }, headers: { 'x-csrf-token': token } })
    expect(note.statusCode).toBe(400)
  })

  it('logs no token, no address and no double reply', () => {
    expect(env.logLines.length).toBeGreaterThan(10) // requests were logged
    expect(logProblems(env.logLines)).toEqual([])
  })
})
