import fs from 'node:fs'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import JSZip from 'jszip'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { deliverDigest } from '../../src/services/digest.service.js'
import { projectRoot } from '../../src/util/paths.js'
import { buildApp } from '../../src/web/app.js'
import { cli } from '../helpers/cli.js'
import { MOBILE, prepareCommentFixtures, type CommentFixtures } from '../helpers/comments.js'
import { createTestEnv, logProblems, type TestEnv } from '../helpers/db.js'
import { startSmtp, type TestSmtp } from '../helpers/smtp.js'
import { addUsers, PASSWORDS } from '../helpers/web.js'

const ARTIFACTS = path.join(projectRoot, 'test', 'artifacts')
const DAY = new Date('2026-11-28T04:00:00Z')
const CONCERN = '第5条 卫星连接要求：需重新设计射频模块'
const to = (m: { to?: unknown }) => ((Array.isArray(m.to) ? m.to[0] : m.to) as { value: { address: string }[] } | undefined)?.value[0]?.address

describe('enterprise home and 评议 in Chromium', () => {
  let replay: ReplayServer
  let smtp: TestSmtp
  let env: TestEnv
  let app: Awaited<ReturnType<typeof buildApp>>
  let browser: Browser
  let base: string
  let fx: CommentFixtures
  const cspViolations: string[] = []

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    smtp = await startSmtp()
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url, SMTP_URL: smtp.url, TBT_MAIL_RETRY_MS: '10' }, { clock: () => DAY, captureLog: true })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    await addUsers(env.ctx)
    fx = await prepareCommentFixtures(env.ctx, DAY)
    app = await buildApp(env.ctx, { publicForms: { floorMs: 0 } })
    await app.listen({ port: 0, host: '127.0.0.1' })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    })
  }, 180_000)
  afterAll(async () => {
    await browser?.close()
    await app?.close()
    await env?.cleanup()
    await smtp?.close()
    await replay?.close()
  })

  const newPage = async (width = 1280) => {
    const context = await browser.newContext({ viewport: { width, height: 900 }, locale: 'zh-CN' })
    const page = await context.newPage()
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text())
    })
    return page
  }
  const login = async (page: Page, role: keyof typeof PASSWORDS) => {
    await page.goto(`${base}/`)
    await page.fill('input[name=email]', `${role}@example.com`)
    await page.fill('input[name=password]', PASSWORDS[role])
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')])
  }

  it('shows an enterprise with HS 8517 the published mobile-phone warning, not the unpublished or non-matching ones', async () => {
    for (const width of [1280, 390]) {
      const page = await newPage(width)
      await login(page, 'enterprise')
      expect(new URL(page.url()).pathname).toBe('/me')
      expect(await page.locator('h2').first().innerText()).toBe('我的预警')
      expect(await page.locator(`tr[data-warning="${fx.mobile.warningId}"]`).count()).toBe(1)
      expect(await page.locator(`tr[data-warning="${fx.unpublishedId}"]`).count()).toBe(0)
      expect(await page.locator(`tr[data-warning="${fx.otherId}"]`).count()).toBe(0)
      expect(await page.locator(`tr[data-warning="${fx.mobile.warningId}"]`).innerText()).toMatch(/2027-01-15[\s\S]*剩余48天/)
      expect(await page.locator('nav').innerText()).toBe('我的预警')
      await page.screenshot({ path: path.join(ARTIFACTS, `enterprise-home-${width}.png`), fullPage: true })
      await page.context().close()
    }
  })

  it("opens a digest's warning link without a session and takes the comment form", async () => {
    const sub = await env.ctx.db.selectFrom('subscriber').selectAll().where('email', '=', 'enterprise@example.com').executeTakeFirstOrThrow()
    expect(await deliverDigest(env.ctx, sub.id, 'daily', '2026-11-28')).toBe('sent')
    const mail = smtp.messages.filter((m) => to(m) === 'enterprise@example.com').at(-1)!
    const link = new RegExp(`http://localhost:8080(/me/warnings/${fx.mobile.warningId}\\?token=[\\w.-]+)`).exec(mail.text ?? '')![1]
    for (const width of [390, 1280]) {
      const page = await newPage(width)
      const res = await page.goto(`${base}${link}`)
      expect(res?.status()).toBe(200)
      expect(new URL(page.url()).pathname).toBe(`/me/warnings/${fx.mobile.warningId}`)
      expect(await page.locator('#warning-title').innerText()).toMatch(/Mobile Handsets/)
      expect(await page.locator('#internal-deadline').innerText()).toBe('2027-01-08')
      await page.screenshot({ path: path.join(ARTIFACTS, `comment-form-${width}.png`), fullPage: true })
      if (width === 1280) {
        await page.fill('input[name=company]', '北京某某通信设备有限公司')
        await page.fill('textarea[name=products]', '智能手机')
        await page.fill('input[name=hs]', '851713')
        await page.fill('input[name=exportValue]', '12000000')
        await page.fill('input[name=complianceCost]', '800000')
        await page.check('input[name=markets][value=AUS]')
        await page.locator('input[name=concernRequirement]').first().fill(CONCERN)
        await page.locator('textarea[name=concernWhy]').first().fill('<script>alert(1)</script> 认证周期约9个月')
        await page.check('input[name=requests][value=longer-transition]')
        await page.fill('input[name=contact]', '张三 010-12345678')
        await Promise.all([page.waitForNavigation(), page.click('#feedback-submit')])
        expect(await page.locator('#feedback-saved').innerText()).toContain('已收到您的评议意见')
        expect(await page.locator('input[name=concernRequirement]').first().inputValue()).toBe(CONCERN)
        await page.screenshot({ path: path.join(ARTIFACTS, 'comment-saved-1280.png'), fullPage: true })
      }
      await page.context().close()
    }
  })

  it('lets an analyst see the feedback and totals, draft and submit; the enterprise gets the e-mail; the export holds the concern', async () => {
    const page = await newPage()
    await login(page, 'analyst')
    await page.goto(`${base}/warnings/${fx.mobile.warningId}`)
    await Promise.all([page.waitForNavigation(), page.click('#measure-comments')])
    expect(await page.locator('#total-enterprises').innerText()).toBe('1')
    expect(await page.locator('#total-export').innerText()).toBe('12,000,000')
    expect(await page.locator('#total-cost').innerText()).toBe('800,000')
    expect(await page.locator('table.feedback-all').innerText()).toContain(CONCERN)
    await Promise.all([page.waitForNavigation(), page.click('#start-draft')])
    expect(await page.locator('#draft-zh').inputValue()).toContain(CONCERN.split('：')[0])
    expect(await page.locator('#draft-en').inputValue()).toContain('China requests a longer transition period')
    await page.fill('input[name=submittedTo]', 'WTO/TBT 咨询点')
    const before = smtp.messages.length
    await Promise.all([page.waitForNavigation(), page.click('#mark-submitted')])
    expect(await page.locator('#comment-status').innerText()).toContain('已提交')
    await page.screenshot({ path: path.join(ARTIFACTS, 'comment-analyst-1280.png'), fullPage: true })
    const told = smtp.messages.slice(before).filter((m) => to(m) === 'enterprise@example.com')
    expect(told).toHaveLength(1)
    expect(told[0].subject).toBe(`【评议】${MOBILE} 的中方评议意见已提交`)
    expect(cspViolations).toEqual([])
    await page.context().close()

    const out = path.join(env.dataDir, 'comment.docx')
    const r = await cli(['comments', 'export', MOBILE, '--format', 'docx', '--out', out], { DATABASE_URL: env.config.databaseUrl, TBT_DATA_DIR: env.dataDir })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const xml = await (await JSZip.loadAsync(fs.readFileSync(out))).file('word/document.xml')!.async('string')
    expect(xml).toContain(CONCERN)
    expect(xml).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    const list = await cli(['comments', 'list', '--measure', MOBILE, '--json'], { DATABASE_URL: env.config.databaseUrl, TBT_DATA_DIR: env.dataDir })
    expect(list.code).toBe(0)
    expect(JSON.parse(list.stdout)).toMatchObject([{ measureKey: MOBILE, status: 'submitted', enterprises: 1, exportValue: 12_000_000 }])
    const bad = await cli(['comments', 'export', 'G/TBT/N/XXX/1', '--format', 'docx', '--out', out], { DATABASE_URL: env.config.databaseUrl, TBT_DATA_DIR: env.dataDir })
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect((await cli(['comments', 'export', MOBILE, '--format', 'pdf', '--out', out])).code).toBe(2)
  }, 120_000)

  it('logs no token, address or failure', () => {
    expect(logProblems(env.logLines)).toEqual([])
  })
})
