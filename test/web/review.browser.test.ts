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

  const newPage = async (width = 1400) => {
    const context = await browser.newContext({ viewport: { width, height: width < 500 ? 844 : 1000 }, locale: 'zh-CN' })
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
    // the detail page carries the queue's state
    expect(page.url()).toMatch(/\/warnings\/\d+\?.*level=high.*q=lithium|\/warnings\/\d+\?.*q=lithium.*level=high/)
    const warningId = Number(new URL(page.url()).pathname.split('/').pop())

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
    expect(correctedId).toBe(warningId)
    expect(await page.locator('#flash').innerText()).toMatch(/^产品类别已更正为：锂离子电池（原为：.+）。已按新类别重新评分/)
    expect(await page.locator('#category').innerText()).toBe('锂离子电池')
    expect(await page.locator('table.trace').innerText()).toContain('产品类别已由分析员确认')
    expect(await page.locator('table.history').innerText()).toContain('更正类别')

    // confirm with the keyboard shortcut
    await page.locator('h2').first().click()
    await Promise.all([page.waitForNavigation(), page.keyboard.press('c')])
    expect(await page.locator('.meta .st').innerText()).toBe('已确认')
    expect(await page.locator('#flash').innerText()).toMatch(/^已确认预警 /)
    expect(await page.locator('#act-confirm').count()).toBe(0)
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

  it('walks an analyst through filter → open → next → confirm → back, keeping the filter and the selection', async () => {
    const page = await newPage(1280)
    await login(page, 'analyst')
    // every status (the default tab is the open work), high level only
    await Promise.all([page.waitForNavigation(), page.click('nav.tabs a[data-status="all"]')])
    await page.selectOption('select[name=level]', 'high')
    await Promise.all([page.waitForNavigation(), page.click('#filters button[type=submit]')])
    expect(page.url()).toMatch(/status=all.*level=high|level=high.*status=all/)
    const order = await page.locator('tr[data-href]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))))
    expect(order.length).toBeGreaterThan(2)
    // open the first, then j for the next
    await Promise.all([page.waitForNavigation(), page.locator('tr[data-href] a.key').first().click()])
    expect(new URL(page.url()).pathname).toBe(`/warnings/${order[0]}`)
    expect(await page.locator('.walk .pos').innerText()).toBe(`当前筛选第 1/${order.length} 条`)
    await Promise.all([page.waitForNavigation(), page.keyboard.press('j')])
    expect(new URL(page.url()).pathname).toBe(`/warnings/${order[1]}`)
    expect(new URL(page.url()).searchParams.get('level')).toBe('high')
    await expect(page.locator('#prev-warning').getAttribute('href')).resolves.toContain(`/warnings/${order[0]}?`)
    // confirm: a message says so, and confirm is no longer offered
    const status = await page.locator('.meta .st').innerText()
    if (status !== '已确认') {
      await Promise.all([page.waitForNavigation(), page.click('#act-confirm')])
      expect(await page.locator('#flash').innerText()).toMatch(/^已确认预警 \S+。/)
    }
    expect(await page.locator('.meta .st').innerText()).toBe('已确认')
    expect(await page.locator('#act-confirm').count()).toBe(0)
    await page.screenshot({ path: path.join(ARTIFACTS, 'detail-confirmed.png') })
    // back with q: the same filter, the warning selected
    await Promise.all([page.waitForNavigation(), page.keyboard.press('q')])
    const url = new URL(page.url())
    expect(url.searchParams.get('level')).toBe('high')
    expect(url.searchParams.get('status')).toBe('all')
    expect(await page.locator('select[name=level]').inputValue()).toBe('high')
    expect(await page.locator('nav.tabs a.on').getAttribute('data-status')).toBe('all')
    expect(await page.locator('tr.sel').getAttribute('data-id')).toBe(String(order[1]))
    expect(await page.locator('tr.sel .st').innerText()).toBe('已确认')
    await page.screenshot({ path: path.join(ARTIFACTS, 'queue-back.png') })
    // the keyboard goes on from the selected row
    await page.keyboard.press('j')
    expect(await page.locator('tr.sel').getAttribute('data-id')).toBe(String(order[2]))
    await page.context().close()
  })

  it('fits a 390 px phone: no horizontal scroll, header and tabs on whole words; screenshots at 1280 and 390 px', async () => {
    // A failing source with a very long URL (the /ops table must wrap it).
    const run = await env.ctx.db.selectFrom('source_run').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()
    await env.ctx.db.updateTable('source_run').set({ status: 'failed', errors: 1, error: `fetch failed: https://example.org/notices?${'page=1&x='.repeat(100)}end` }).where('id', '=', run.id).execute()
    const first = await env.ctx.db.selectFrom('warning').select('id').orderBy('score', 'desc').executeTakeFirstOrThrow()
    // An analyst's note with markup and a 300-character run without a break point.
    await env.ctx.db.updateTable('warning').set({ note: `<script>alert(1)</script> ${'锂电池运输安全'.repeat(20)} ${'x'.repeat(300)}` }).where('id', '=', first.id).execute()
    // A source's products field as hostile: markup and a long unbroken run (a notice's text is the source's, not ours).
    const m = await env.ctx.db.selectFrom('warning').select('measure_id').where('id', '=', first.id).executeTakeFirstOrThrow()
    await env.ctx.db.updateTable('notice').set({ products: `<b>Coconut oil</b> for cosmetic use ${'椰子油'.repeat(10)} ${'y'.repeat(300)}` }).where('measure_id', '=', m.measure_id).execute()
    for (const width of [1280, 390]) {
      const page = await newPage(width)
      await login(page, 'analyst')
      const shots: [string, string][] = [['queue', '/'], ['detail', `/warnings/${first.id}`], ['ops', '/ops'], ['report', '/reports/latest']]
      for (const [name, url] of shots) {
        const res = await page.goto(`${base}${url}`)
        expect(res?.status(), url).toBe(200)
        await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}.png`), fullPage: true })
        await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}-top.png`) })
        const { scrollWidth, innerWidth } = await page.evaluate(() => {
          const g = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number }
          return { scrollWidth: g.document.documentElement.scrollWidth, innerWidth: g.innerWidth }
        })
        expect(scrollWidth, `${url} at ${width}px`).toBeLessThanOrEqual(innerWidth)
      }
      if (width === 390) {
        await page.goto(`${base}/`)
        // no tab, menu item or brand broken into a character per line
        for (const sel of ['nav.tabs a', 'header nav a', 'header .brand']) {
          for (const box of await page.locator(sel).evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height))) expect(box, sel).toBeLessThan(40)
        }
        expect(await page.locator('tr[data-href]').count()).toBeGreaterThan(0)
        // the filters start folded on a phone, the warnings right under the tabs
        expect(await page.locator('#filterbox').evaluate((e) => (e as unknown as { open: boolean }).open)).toBe(false)
      }
      await page.context().close()
    }
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
