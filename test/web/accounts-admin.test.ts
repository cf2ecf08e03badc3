import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertSafeSecret, isLoopbackUrl, loadConfig, secretProblem } from '../../src/config.js'
import { redactSecrets } from '../../src/logger.js'
import {
  changePassword,
  createSession,
  createUser,
  disableUser,
  enableUser,
  hashPassword,
  listUsers,
  login,
  LOGIN_FAILURES_ALLOWED,
  OWASP_SCRYPT_N,
  passwordWeakness,
  resetPassword,
  SCRYPT,
  sessionUser,
  setRole,
  setScryptCostForTests,
  verifyPassword,
} from '../../src/services/user.service.js'
import { buildApp } from '../../src/web/app.js'
import { safeNext } from '../../src/web/auth.js'
import { createTestEnv, DIALECTS, logProblems, REDIS_URL, type TestEnv } from '../helpers/db.js'
import { Agent } from '../helpers/web.js'

const NOW = new Date('2026-11-28T04:00:00Z')

describe('the signing secret', () => {
  it('is refused for a server reachable from elsewhere when unset, published or short; loopback needs none', () => {
    const https = 'https://tbt.example.org'
    expect(secretProblem(loadConfig({ PUBLIC_BASE_URL: https }))).toMatch(/^TBT_SECRET is not set, and PUBLIC_BASE_URL https:\/\/tbt\.example\.org is not a loopback address: set TBT_SECRET/)
    expect(secretProblem(loadConfig({ PUBLIC_BASE_URL: https, TBT_SECRET: 'change-me' }))).toMatch(/published example value/)
    expect(secretProblem(loadConfig({ PUBLIC_BASE_URL: https, TBT_SECRET: 'x'.repeat(31) }))).toMatch(/shorter than 32 bytes/)
    expect(secretProblem(loadConfig({ PUBLIC_BASE_URL: https, TBT_SECRET: randomBytes(32).toString('hex') }))).toBeNull()
    for (const base of ['http://localhost:8080', 'http://127.0.0.1:3000', 'http://[::1]:8080', 'http://tbt.localhost']) expect(secretProblem(loadConfig({ PUBLIC_BASE_URL: base })), base).toBeNull()
    for (const base of ['http://10.0.0.5:8080', 'http://0.0.0.0:8080', 'https://localhost.example.org']) expect(isLoopbackUrl(base), base).toBe(false)
    expect(() => assertSafeSecret(loadConfig({ PUBLIC_BASE_URL: https }))).toThrow(/TBT_SECRET/)
    expect(() => assertSafeSecret(loadConfig({}))).not.toThrow() // the quick start and the demo
  })
})

describe('what may be logged and where a login may send you', () => {
  it('redacts credentials and addresses from any log line', () => {
    expect(redactSecrets('{"url":"/unsubscribe?token=abc.def.ghi&lang=en"}')).toBe('{"url":"/unsubscribe?token=[redacted]&lang=en"}')
    expect(redactSecrets('{"password":"hunter2-long","email":"a.b@example.com","u":"/x?e=a%40b.example.org"}')).toBe('{"password":"[redacted]","email":"[e-mail]","u":"/x?e=[e-mail]"}')
  })

  it('safeNext keeps local paths and refuses every other site, however spelled', () => {
    for (const ok of ['/', '/?status=new&level=high', '/warnings/12?lang=en', '/%E4%B8%AD']) expect(safeNext(ok), ok).toBe(ok)
    for (const bad of ['//evil.example', '/\\evil.example', '/%09/evil.example', '/\t/evil.example', '/%2F%2Fevil.example', '/%252F%252Fevil', '/%5Cevil', 'https://evil.example', 'javascript:alert(1)', '/%0d%0aSet-Cookie:x', '', null, 42, '/%zz'])
      expect(safeNext(bad), String(bad)).toBe('/')
  })
})

describe.each(DIALECTS)('accounts (%s)', (dialect) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await createTestEnv(dialect, {}, { clock: () => NOW })
  })
  afterAll(async () => {
    await env?.cleanup()
  })

  it('hashes at scrypt N=2^17, r=8, p=1 and rehashes an older hash at the next login', async () => {
    const u = await createUser(env.ctx.db, { email: 'legacy@example.com', role: 'analyst', password: 'placeholder-pass-9' }, NOW.toISOString())
    setScryptCostForTests(OWASP_SCRYPT_N)
    try {
      const h = await hashPassword('a-long-enough-pass')
      expect(h).toMatch(/^scrypt\$131072\$8\$1\$/)
      expect(await verifyPassword('a-long-enough-pass', h)).toBe(true)
      // A hash made with the old parameters (2^15) still verifies, and is replaced at login.
      setScryptCostForTests(2 ** 15)
      const old = await hashPassword('legacy-password-1')
      setScryptCostForTests(OWASP_SCRYPT_N)
      await env.ctx.db.updateTable('app_user').set({ password_hash: old }).where('id', '=', u.id).execute()
      expect((await login(env.ctx.db, 'legacy@example.com', 'legacy-password-1', NOW)).ok).toBe(true)
      const after = await env.ctx.db.selectFrom('app_user').select('password_hash').where('id', '=', u.id).executeTakeFirstOrThrow()
      expect(after.password_hash).toMatch(/^scrypt\$131072\$8\$1\$/)
      expect(await verifyPassword('legacy-password-1', after.password_hash)).toBe(true)
      // Absurd stored parameters (beyond maxmem) fail to verify rather than throw.
      expect(await verifyPassword('x', 'scrypt$1073741824$8$1$AAAA$AAAA')).toBe(false)
    } finally {
      setScryptCostForTests(2 ** 14)
    }
    expect(SCRYPT.N).toBe(2 ** 14)
  })

  it('asks for a password of some strength', () => {
    expect(passwordWeakness('short')).toBe('short')
    expect(passwordWeakness('Password123')).toBe('common')
    expect(passwordWeakness('1234567890')).toBe('common')
    expect(passwordWeakness('zhang.wei@example.com', 'zhang.wei@example.com')).toBe('email')
    expect(passwordWeakness('zhangwei88', 'zhangwei88@example.com')).toBe('email')
    expect(passwordWeakness('aaaaaaaaaaaa')).toBe('repetitive')
    expect(passwordWeakness('correct horse battery')).toBeNull()
  })

  it('locks an account after repeated wrong passwords, whatever the client, and known or not alike', async () => {
    await createUser(env.ctx.db, { email: 'target@example.com', role: 'analyst', password: 'the-right-password' }, NOW.toISOString())
    for (let i = 0; i < LOGIN_FAILURES_ALLOWED; i++) expect(await login(env.ctx.db, 'target@example.com', `guess-${i}`, NOW)).toEqual({ ok: false, reason: 'wrong' })
    const locked = await login(env.ctx.db, 'TARGET@example.com', 'the-right-password', NOW)
    expect(locked).toMatchObject({ ok: false, reason: 'locked' })
    // An unknown address locks the same way: the lock tells nothing about who has an account.
    for (let i = 0; i < LOGIN_FAILURES_ALLOWED; i++) await login(env.ctx.db, 'nobody@example.com', `guess-${i}`, NOW)
    expect(await login(env.ctx.db, 'nobody@example.com', 'anything', NOW)).toMatchObject({ ok: false, reason: 'locked' })
    const later = new Date(NOW.getTime() + 16 * 60_000)
    expect((await login(env.ctx.db, 'target@example.com', 'the-right-password', later)).ok).toBe(true)
  })

  it('needs the current password to change it, and ends every session on a change, a reset, a new role or disabling', async () => {
    const u = await createUser(env.ctx.db, { email: 'sessions@example.com', role: 'analyst', password: 'first-password-1' }, NOW.toISOString())
    const s1 = await createSession(env.ctx.db, u.id, NOW)
    await expect(changePassword(env.ctx.db, u.id, 'not-the-current', 'second-password-2')).rejects.toMatchObject({ code: 'PASSWORD_WRONG' })
    await expect(changePassword(env.ctx.db, u.id, 'first-password-1', 'password123')).rejects.toMatchObject({ code: 'PASSWORD_WEAK', reason: 'common' })
    expect(await sessionUser(env.ctx.db, s1, NOW)).toBeDefined()
    await changePassword(env.ctx.db, u.id, 'first-password-1', 'second-password-2')
    expect(await sessionUser(env.ctx.db, s1, NOW)).toBeUndefined()
    const s2 = await createSession(env.ctx.db, u.id, NOW)
    await setRole(env.ctx.db, 'sessions@example.com', 'official')
    expect(await sessionUser(env.ctx.db, s2, NOW)).toBeUndefined()
    const s3 = await createSession(env.ctx.db, u.id, NOW)
    expect(await disableUser(env.ctx.db, 'sessions@example.com', NOW)).toEqual({ sessionsEnded: 1 })
    expect(await sessionUser(env.ctx.db, s3, NOW)).toBeUndefined()
    expect((await login(env.ctx.db, 'sessions@example.com', 'second-password-2', NOW)).ok).toBe(false)
    await enableUser(env.ctx.db, 'sessions@example.com')
    const r = await resetPassword(env.ctx.db, 'sessions@example.com')
    expect(r.oneTime).toBe(true)
    const fresh = await login(env.ctx.db, 'sessions@example.com', r.password, NOW)
    expect(fresh).toMatchObject({ ok: true, user: { role: 'official', mustChangePassword: true } })
    const listed = (await listUsers(env.ctx.db, NOW)).find((x) => x.email === 'sessions@example.com')
    expect(listed).toMatchObject({ role: 'official', status: 'must-change-password', sessions: 0 })
  })
})

describe('the web app: accounts, admin pages, metrics and headers', () => {
  let env: TestEnv
  let app: Awaited<ReturnType<typeof buildApp>>
  const TOKEN = 'admin-test-token-0123456789abcdef'
  beforeAll(async () => {
    env = await createTestEnv('sqlite', { REDIS_URL, TBT_QUEUE_PREFIX: `sec${randomBytes(4).toString('hex')}`, TBT_ADMIN_TOKEN: TOKEN }, { clock: () => NOW, captureLog: true })
    app = await buildApp(env.ctx, { loginAttemptsPerMinute: 1000 })
    await createUser(env.ctx.db, { email: 'admin@example.com', role: 'admin', password: 'admin-password-1' }, NOW.toISOString())
    await createUser(env.ctx.db, { email: 'user@example.com', role: 'analyst', password: 'analyst-password-1' }, NOW.toISOString())
  })
  afterAll(async () => {
    await app?.close()
    await env?.cleanup()
  })

  it('asks for the current password, says why a new one is weak, and keeps this browser signed in', async () => {
    const a = new Agent(app)
    expect((await a.login('user@example.com', 'analyst-password-1')).statusCode).toBe(303)
    const other = new Agent(app)
    await other.login('user@example.com', 'analyst-password-1')
    const page = await a.get('/account/password')
    expect(page.body).toContain('当前密码')
    const wrong = await a.post('/account/password', { current: 'nope-nope-nope', password: 'brand-new-password-1' })
    expect(wrong.statusCode).toBe(400)
    expect(wrong.body).toContain('当前密码不正确')
    const weak = await a.post('/account/password', { current: 'analyst-password-1', password: 'user@example.com' })
    expect(weak.body).toContain('密码不能是邮箱地址')
    const ok = await a.post('/account/password', { current: 'analyst-password-1', password: 'brand-new-password-1' })
    expect(ok.headers.location).toBe('/')
    expect((await a.get('/')).statusCode).toBe(200)
    expect((await other.get('/')).statusCode).toBe(302) // the other session ended
  })

  it('locks an account for a while after repeated failures, whichever browser tries, with a message', async () => {
    const attempt = async (password: string) => {
      const a = new Agent(app) // a fresh browser each time
      await a.get('/login')
      return a.post('/login', { email: 'admin@example.com', password })
    }
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong-${i}`)).statusCode).toBe(401)
    const locked = await attempt('admin-password-1')
    expect(locked.statusCode).toBe(429)
    expect(locked.body).toContain('已暂时锁定')
    await env.ctx.db.deleteFrom('login_failure').execute()
  })

  it('sends a login only to a local path', async () => {
    const a = new Agent(app)
    await a.get('/login?next=%2F%2509%2Fevil.example')
    const r = await a.post('/login', { email: 'admin@example.com', password: 'admin-password-1', next: '/%09/evil.example' })
    expect(r.headers.location).toBe('/')
    const page = await new Agent(app).get('/login?next=%2F%2509%2Fevil.example')
    expect(page.body).toContain('name="next" value="/"')
  })

  it('refuses a cross-site state change to /admin/* with cached Basic credentials or a session, not a script with the bearer token', async () => {
    const basic = `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`
    const pause = '/admin/queues/api/queues/scrape/pause'
    const resume = '/admin/queues/api/queues/scrape/resume'
    const crossSite = await app.inject({ method: 'PUT', url: pause, headers: { authorization: basic, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })
    expect(crossSite.statusCode).toBe(403)
    const noOrigin = await app.inject({ method: 'PUT', url: pause, headers: { authorization: basic } })
    expect(noOrigin.statusCode).toBe(403)
    const sameSite = await app.inject({ method: 'PUT', url: pause, headers: { authorization: basic, origin: 'http://localhost:8080' } })
    expect(sameSite.statusCode).toBe(200)
    const script = await app.inject({ method: 'PUT', url: resume, headers: { authorization: `Bearer ${TOKEN}` } })
    expect(script.statusCode).toBe(200)
    // A signed-in admin's session, cross-site: refused too.
    const admin = new Agent(app)
    await admin.login('admin@example.com', 'admin-password-1')
    expect((await admin.request({ method: 'PUT', url: pause, headers: { origin: 'https://evil.example' } })).statusCode).toBe(403)
    expect((await admin.get('/admin/queues')).statusCode).toBe(200)
  })

  it('limits admin token guesses per client', async () => {
    const from = { remoteAddress: '198.51.100.77' }
    const codes: number[] = []
    for (let i = 0; i < 12; i++) codes.push((await app.inject({ url: '/admin/queues', headers: { authorization: `Bearer wrong-${i}-0123456789abcdef` }, ...from })).statusCode)
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true)
    expect(codes.slice(10)).toEqual([429, 429])
    // Even the right token waits out the window from that client; others are not affected.
    expect((await app.inject({ url: '/admin/queues', headers: { authorization: `Bearer ${TOKEN}` }, ...from })).statusCode).toBe(429)
    expect((await app.inject({ url: '/admin/queues', headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: '198.51.100.78' })).statusCode).toBe(200)
  })

  it('serves /metrics to the admin token or to this machine directly, and /readyz without error texts', async () => {
    const remote = { remoteAddress: '198.51.100.9' }
    expect((await app.inject({ url: '/metrics', ...remote })).statusCode).toBe(401)
    expect((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` }, ...remote })).statusCode).toBe(200)
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200) // 127.0.0.1, no proxy
    expect((await app.inject({ url: '/metrics', headers: { 'x-forwarded-for': '198.51.100.9' } })).statusCode).toBe(401) // through a local proxy
    const other = await env.reopen()
    const down = await buildApp({ ...other, config: { ...other.config, redisUrl: 'redis://127.0.0.1:9' } }, { logger: false })
    try {
      const r = await down.inject('/readyz')
      expect(r.statusCode).toBe(503)
      expect(r.json().checks.redis).toBe('failed')
    } finally {
      await down.close()
    }
  })

  it('sends HSTS only when served over https', async () => {
    expect((await app.inject('/login')).headers['strict-transport-security']).toBeUndefined()
    const other = await env.reopen()
    const https = await buildApp({ ...other, config: { ...other.config, publicBaseUrl: 'https://tbt.example.org', redisUrl: undefined } }, { logger: false })
    try {
      expect((await https.inject('/login')).headers['strict-transport-security']).toMatch(/max-age=\d{8}/)
    } finally {
      await https.close()
    }
  })

  it('logs no token, no address and no double reply', () => {
    expect(logProblems(env.logLines)).toEqual([])
  })
})
