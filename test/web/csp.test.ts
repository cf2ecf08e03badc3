import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildApp } from '../../src/web/app.js'
import { createTestEnv, logProblems, type TestEnv } from '../helpers/db.js'

let env: TestEnv
let app: Awaited<ReturnType<typeof buildApp>>
beforeAll(async () => {
  env = await createTestEnv('sqlite', {}, { captureLog: true })
  app = await buildApp(env.ctx)
})
afterAll(async () => {
  await app?.close()
  await env?.cleanup()
})

it('keeps the strict policy on the app and lets e-mail-like pages keep their inline styles, never scripts', async () => {
  const login = await app.inject({ url: '/login' })
  expect(login.headers['content-security-policy']).toMatch(/default-src 'none'/)
  expect(login.headers['content-security-policy']).not.toContain('unsafe-inline')
  const subscribe = await app.inject({ url: '/subscribe' })
  expect(subscribe.statusCode).toBe(200)
  expect(subscribe.headers['content-security-policy']).toContain("style-src 'self' 'unsafe-inline'")
  expect(subscribe.headers['content-security-policy']).toContain("script-src 'none'")
})

it('logs no token, address or double reply', () => {
  expect(logProblems(env.logLines)).toEqual([])
})
