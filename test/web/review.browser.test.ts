import fs from 'node:fs'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { projectRoot } from '../../src/util/paths.js'
import { buildApp } from '../../src/web/app.js'
import { createTestEnv, logProblems, type TestEnv } from '../helpers/db.js'
import { addUsers, PASSWORDS } from '../helpers/web.js'
import { trainClassifier } from '../../src/services/training.service.js'

const ARTIFACTS = path.join(projectRoot, 'test', 'artifacts')
const XSS_TITLE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> Draft regulation on mobile phones'

describe('review queue in Chromium', () => {
  let replay: ReplayServer
  let env: TestEnv
  let app: Awaited<ReturnType<typeof buildApp>>
  let browser: Browser
  let base: string
  const cspViolations: string[] = []

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => new Date('2026-11-28T04:00:00Z'), captureLog: true })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    await addUsers(env.ctx)
    // Scraped text is untrusted: plant payloads in a notice and its measure.
    const target = await env.ctx.db
      .selectFrom('warning')
      .innerJoin('measure', 'measure.id', 'warning.measure_id')
      .select(['measure.id', 'measure.key'])
      .where('measure.key', '=', 'G/TBT/N/AUS/219')
      .executeTakeFirstOrThrow()
    await env.ctx.db.updateTable('measure').set({ title: XSS_TITLE }).where('id', '=', target.id).execute()
    await env.ctx.db.updateTable('notice').set({ title: XSS_TITLE, description: '<img src=x onerror="window.__pwned=3"><b>bold?</b>' }).where('measure_id', '=', target.id).execute()
    app = await buildApp(env.ctx)
    await app.listen({ port: 0, host: '127.0.0.1' })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    })
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await app?.close()
    await env?.cleanup()
    await replay?.close()
  })

  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'zh-CN' })
    const page = await context.newPage()
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text())
    })
    return page
  }
  const login = async (page: Page, role: keyof typeof PASSWORDS, next = '/') => {
    await page.goto(`${base}${next}`)
    await expect(page.url()).toContain('/login')
    await page.fill('input[name=email]', `${role}@example.com`)
    await page.fill('input[name=password]', PASSWORDS[role])
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')])
  }

  it('lets an analyst filter, open a warning, read the evidence and trace, correct a category and confirm', async () => {
    const page = await newPage()
    await login(page, 'analyst')
    await expect(page.locator('h2').first().textContent()).resolves.toContain('审核队列')
    const allRows = await page.locator('tr[data-href]').count()
    expect(allRows).toBeGreaterThan(3)

    // filter: high level, search by text
    await page.selectOption('select[name=level]', 'high')
    await Promise.all([page.waitForNavigation(), page.click('#filters button[type=submit]')])
    expect(page.url()).toContain('level=high')
    const highRows = await page.locator('tr[data-href]').count()
    expect(highRows).toBeGreaterThan(0)
    expect(highRows).toBeLessThan(allRows)
    for (const badge of await page.locator('tr[data-href] .badge').allTextContents()) expect(badge).toBe('高')
    await page.fill('input[name=q]', 'lithium')
    await Promise.all([page.waitForNavigation(), page.press('input[name=q]', 'Enter')])
    expect(page.url()).toMatch(/q=lithium/)
    const rows = page.locator('tr[data-href]')
    expect(await rows.count()).toBeGreaterThan(0)
    await page.screenshot({ path: path.join(ARTIFACTS, 'queue.png'), fullPage: true })

    // keyboard: j selects the first row, o opens it
    await page.locator('h2').first().click()
    await page.keyboard.press('j')
    await expect(page.locator('tr.sel').count()).resolves.toBe(1)
    await Promise.all([page.waitForNavigation(), page.keyboard.press('o')])
    expect(page.url()).toMatch(/\/warnings\/\d+$/)
    const warningId = Number(page.url().split('/').pop())

    // evidence and trace, in words
    const trace = await page.locator('table.trace').innerText()
    expect(trace).toMatch(/北京出口暴露度：.+约占北京出口的/)
    expect(trace).toMatch(/措施性质：/)
    expect(trace).toMatch(/时间紧迫性：/)
    expect(trace).toMatch(/合计/)
    expect(await page.locator('.classification').first().innerText()).toMatch(/HS 编码/)
    expect(await page.locator('.evidence li').count()).toBeGreaterThan(0)
    expect(await page.locator('ol.timeline li').count()).toBeGreaterThan(0)
    await page.screenshot({ path: path.join(ARTIFACTS, 'detail.png'), fullPage: true })

    // correct the category: lithium-ion batteries only
    await page.click('details summary')
    for (const box of await page.locator('form.categories input[type=checkbox]').all()) if (await box.isChecked()) await box.uncheck()
    await page.check('form.categories input[value="lithium-batteries"]')
    await Promise.all([page.waitForNavigation(), page.click('#save-categories')])
    const correctedId = Number(new URL(page.url()).pathname.split('/').pop())
    expect(await page.locator('#category').innerText()).toBe('锂离子电池')
    expect(await page.locator('table.trace').innerText()).toContain('产品类别已由分析员确认')
    expect(await page.locator('table.history').innerText()).toContain('更正类别')

    // confirm with the keyboard shortcut
    await page.locator('h2').first().click()
    await Promise.all([page.waitForNavigation(), page.keyboard.press('c')])
    expect(await page.locator('.meta .st').innerText()).toBe('已确认')
    const history = await page.locator('table.history').innerText()
    expect(history).toContain('analyst@example.com')
    expect(history).toContain('确认')

    const row = await env.ctx.db.selectFrom('warning').selectAll().where('id', '=', correctedId).executeTakeFirstOrThrow()
    expect(row.status).toBe('confirmed')
    expect(row.category_id).toBe('lithium-batteries')
    const examples = await env.ctx.db.selectFrom('training_example').selectAll().execute()
    expect(examples.length).toBeGreaterThan(0)
    // The model learns them at its next training, which a correction newer than the model calls for.
    expect(examples.every((e) => e.learnt_at === null)).toBe(true)
    expect((await trainClassifier(env.ctx, { minNew: 1_000_000 })).trained).toBe(true)
    const learnt = await env.ctx.db.selectFrom('training_example').selectAll().execute()
    expect(learnt.every((e) => e.learnt_at)).toBe(true)
    if (correctedId !== warningId) {
      const old = await env.ctx.db.selectFrom('warning').select('status').where('id', '=', warningId).executeTakeFirstOrThrow()
      expect(old.status).toBe('dismissed')
    }
    await page.context().close()
  })

  it('keeps an enterprise user out of the queue', async () => {
    const page = await newPage()
    await login(page, 'enterprise')
    // Its home is its own page (issue 13); the queue stays closed to it.
    await page.goto(`${base}/`)
    expect(new URL(page.url()).pathname).toBe('/me')
    const res = await page.goto(`${base}/queue`)
    expect(res?.status()).toBe(403)
    expect(await page.locator('main').innerText()).toContain('无权访问')
    expect(await page.locator('tr[data-href]').count()).toBe(0)
    expect((await page.goto(`${base}/ops`))?.status()).toBe(403)
    expect((await page.goto(`${base}/queue.csv`))?.status()).toBe(403)
    await page.context().close()
  })

  it('shows script and onerror payloads from a notice as text', async () => {
    const page = await newPage()
    await login(page, 'analyst', '/?q=G%2FTBT%2FN%2FAUS%2F219')
    const title = page.locator('tr[data-href] .title').first()
    expect(await title.innerText()).toContain('<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">')
    await Promise.all([page.waitForNavigation(), page.click('tr[data-href] a.key')])
    expect(await page.locator('#warning-title').innerText()).toContain('<img src=x onerror="window.__pwned=2">')
    expect(await page.locator('.notice dd.pre').first().innerText()).toContain('<img src=x onerror="window.__pwned=3"><b>bold?</b>')
    expect(await page.locator('main img').count()).toBe(0)
    expect(await page.locator('main script').count()).toBe(0)
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
    await page.screenshot({ path: path.join(ARTIFACTS, 'xss.png'), fullPage: true })
    expect(cspViolations).toEqual([])
    await page.context().close()
  })

  it('logs no token, address or double reply', () => {
    expect(logProblems(env.logLines)).toEqual([])
  })
})
