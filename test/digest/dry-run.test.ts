import fs from 'node:fs'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { simpleParser } from 'mailparser'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { addSubscriber, listSubscribers, validatePreferences } from '../../src/services/subscriber.service.js'
import { applyAction } from '../../src/services/warning.service.js'
import { projectRoot } from '../../src/util/paths.js'
import { buildApp } from '../../src/web/app.js'
import { cli } from '../helpers/cli.js'
import { createTestEnv, logProblems, type TestEnv } from '../helpers/db.js'
import { addUsers, PASSWORDS } from '../helpers/web.js'

const ARTIFACTS = path.join(projectRoot, 'test', 'artifacts')
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
/** The warnings are raised on Wednesday of ISO week 48 (10:00 in Beijing)... */
const WEDNESDAY = new Date('2026-11-25T02:00:00Z')
/** ...and the weekly run is on Monday 2026-11-30, 08:00 Beijing time (00:00 UTC). */
const MONDAY_8AM = '2026-11-30T00:00:00.000Z'
const WIDTHS = [1280, 390]
/** The report's count of high-risk measures, as its HTML (e-mail and web) shows it. */
const HIGH_RE = /高<\/span> <span class="lv-high">(\d+)/

describe("the officials' weekly report: `digest --period weekly --dry-run` on Monday 08:00, the same report on the web, in Chromium", () => {
  let replay: ReplayServer
  let env: TestEnv
  let browser: Browser
  let vars: Record<string, string>
  let reportTotal = ''
  let reportHigh = ''
  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => WEDNESDAY, captureLog: true })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    await addSubscriber(env.ctx, 'official-w@example.com', validatePreferences(env.ctx, { role: 'official', frequency: 'weekly', name: '北京市商务局（测试）' }), { confirmed: true })
    await env.ctx.close()
    vars = { TBT_DATA_DIR: env.dataDir, DATABASE_URL: env.config.databaseUrl, TBT_NOW: MONDAY_8AM }
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    fs.mkdirSync(ARTIFACTS, { recursive: true })
  })
  /** What `subscriber list --json` prints, read in-process (one CLI start less). */
  const listed = async () => {
    const ctx = await env.reopen()
    try {
      return await listSubscribers(ctx)
    } finally {
      await ctx.close()
    }
  }
  afterAll(async () => {
    await browser?.close()
    await env?.cleanup()
    await replay?.close()
  })
  const shoot = async (page: Page, name: string) => {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 })
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}.png`), fullPage: true })
      // Nothing is wider than the screen on a phone: no sideways scrolling of the whole page.
      if (width === 390) expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(400)
    }
  }

  it('adds, validates against the seeded categories and markets, and removes without deleting', async () => {
    const bad = await cli(['subscriber', 'add', '--email', 'weekly@example.com', '--categories', 'mobile-phones,spaceships'], vars)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/unknown category spaceships; known: mobile-phones, /)
    const add = await cli(
      ['subscriber', 'add', '--email', 'Weekly@Example.com', '--categories', 'mobile-phones,integrated-circuits,electromechanical', '--hs', '8517,8542', '--markets', 'usa,EU,ASEAN,KEN', '--level', 'medium', '--frequency', 'weekly', '--lang', 'en', '--confirmed'],
      vars,
    )
    expect(add.code, add.stderr).toBe(0)
    expect(add.stdout).toMatch(/^subscriber \d+ added: weekly@example.com \(confirmed\)$/m)
    const rm = await cli(['subscriber', 'remove', '--email', 'exporter-demo@example.com'], vars)
    expect(rm.code, rm.stderr).toBe(0)
    expect(rm.stdout).toMatch(/unsubscribed: exporter-demo@example.com/)
    const list = await listed()
    // Kenya is outside the watch list, and first class: it can be subscribed to.
    expect(list.find((s) => s.email === 'weekly@example.com')).toMatchObject({ status: 'confirmed', markets: ['USA', 'EU', 'ASEAN', 'KEN'], hs: ['8517', '8542'] })
    expect(list.find((s) => s.email === 'exporter-demo@example.com')).toMatchObject({ status: 'unsubscribed', sent: 1 })
  }, 240_000)

  it('writes the report of the previous ISO week (W48) on Monday 08:00, as .eml and HTML, both rendering in Chromium', async () => {
    const r = await cli(['digest', '--period', 'weekly', '--dry-run'], vars)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/dry-run\/weekly-2026-W48/)
    const files = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('/'))
    const emls = files.filter((f) => f.endsWith('.eml'))
    const report = files.find((f) => f.endsWith('report-2026-W48.html'))!
    expect(emls.length).toBe(3) // the new enterprise subscriber, the new official and the demo official (who had W47's on Wednesday)
    expect(report).toBeDefined()
    const reportHtml = fs.readFileSync(report, 'utf8')
    reportTotal = /<strong class="total">(\d+)<\/strong>/.exec(reportHtml)![1]
    reportHigh = HIGH_RE.exec(reportHtml)![1]
    expect(Number(reportTotal)).toBeGreaterThan(0) // the warnings raised on Wednesday of W48
    expect(reportHtml).toContain('2026年第48周（2026-11-23 至 2026-11-29）')

    const page = await browser.newPage()
    try {
      for (const file of emls) {
        // mailparser turns cid: images into data: URIs, as a mail client shows them.
        const mail = await simpleParser(fs.readFileSync(file))
        expect(mail.html).toBeTruthy()
        expect(mail.text).toBeTruthy()
        expect(mail.headerLines.find((h) => h.key === 'list-unsubscribe')?.line).toMatch(/unsubscribe\?token=/)
        await page.setContent(String(mail.html), { waitUntil: 'load' })
        const images = await page.$$eval('img', (imgs) => imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth))
        if (/风险周报/.test(mail.subject ?? '')) {
          expect(mail.subject).toBe(`【TBT风险周报】2026年第48周（2026-11-23 至 2026-11-29）：新增预警措施${reportTotal}项，其中高风险${reportHigh}项`)
          expect(images).toHaveLength(3)
          for (const w of images) expect(w).toBeGreaterThan(0)
          expect(String(mail.html)).toContain(`<strong class="total">${reportTotal}</strong>`)
          expect(String(mail.html)).not.toMatch(/Saudi Arabia, Kingdom of|Kuwait, the State of/)
          if (file.includes(String((await listed()).find((x) => x.email === 'official-w@example.com')!.id))) await shoot(page, 'report-email-zh')
        } else {
          expect(mail.subject).toMatch(/^\[TBT alert\] Weekly digest 2026-W48: \d+ trade measures? affecting your products/)
          await shoot(page, 'digest-email-en')
        }
      }
      await page.goto(`file://${report}`)
      expect(await page.$$eval('figure.chart svg', (s) => s.length)).toBe(3)
      expect(await page.title()).toMatch(/风险周报/)
      const pdf = await page.pdf({ format: 'A4', path: path.join(ARTIFACTS, 'dry-run-report.pdf') })
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
    } finally {
      await page.close()
    }
    // A preview records no delivery.
    expect((await listed()).find((s) => s.email === 'weekly@example.com')!.sent).toBe(0)
  }, 240_000)

  it('shows an official the same report one click after login, and the queue and pages in Chinese (or English)', async () => {
    const ctx = await env.reopen({ clock: () => new Date(MONDAY_8AM) })
    await addUsers(ctx)
    // After the report went out an analyst dismisses a high warning of W48: the week's figures
    // computed now would differ, the page must still show the report that was sent.
    const high = await ctx.db
      .selectFrom('warning')
      .innerJoin('measure', 'measure.id', 'warning.measure_id')
      .select('warning.id')
      .where('warning.level', '=', 'high')
      .where('warning.status', '!=', 'dismissed')
      .where('measure.key', 'not like', '%/SAU/%')
      .where('measure.key', 'not like', '%/USA/%')
      .where('measure.key', 'not like', '%/BRA/%')
      .executeTakeFirstOrThrow()
    expect((await applyAction(ctx, [high.id], 'dismiss', 'analyst@example.com', { reason: 'after the report was sent' }))[0].ok).toBe(true)
    const app = await buildApp(ctx)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    try {
      await page.goto(`${base}/login`)
      await page.fill('input[name=email]', 'official@example.com')
      await page.fill('input[name=password]', PASSWORDS.official)
      await page.click('button[type=submit]')
      // No click at all: the login lands on the latest complete weekly report.
      expect(new URL(page.url()).pathname).toBe('/reports/weekly/2026-W48')
      expect(await page.textContent('strong.total')).toBe(reportTotal)
      expect(HIGH_RE.exec(await page.content())?.[1]).toBe(reportHigh)
      await shoot(page, 'report-page-zh')
      await page.click('#lang-switch')
      expect(await page.textContent('h1')).toMatch(/Trade-measure risk report/)
      await shoot(page, 'report-page-en')
      await page.goto(`${base}/reports?lang=zh`)
      expect(await page.textContent('main')).toContain('2026-W48')
      await shoot(page, 'reports-index-zh')
      // The warnings list in Chinese: member names from seeds/members.yaml, never ePing's English.
      await page.goto(`${base}/queue`)
      const queue = (await page.textContent('table.queue'))!
      expect(queue).toContain('沙特阿拉伯')
      expect(queue).toContain('美国')
      expect(queue).not.toMatch(/Saudi Arabia|United States of America|Kenya/)
      expect(queue).toContain('评议期已结束')
      await shoot(page, 'queue-official-zh')
      await page.click('table.queue tbody tr:first-child a.key')
      expect(await page.textContent('main')).toMatch(/通报成员/)
      expect(await page.textContent('main')).not.toMatch(/listed on the notice|\bterm\b/)
      await shoot(page, 'warning-official-zh')
    } finally {
      await page.close()
      await app.close()
      await ctx.close()
    }
    // The web requests were logged by path, with no token, address or double reply.
    expect(env.logLines.some((l) => /"msg":"incoming request"/.test(l))).toBe(true)
    expect(logProblems(env.logLines)).toEqual([])
  }, 240_000)

  it('exports a notice whose comment deadline passed yesterday with measureStatus closed', async () => {
    // G/TBT/N/BRA/1625: comments closed on 2026-11-28; stored as open by Wednesday's pass.
    const r = await cli(['export', 'notices', '--format', 'jsonl'], { ...vars, TBT_NOW: '2026-11-29T02:00:00.000Z' })
    expect(r.code, r.stderr).toBe(0)
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { measureId: string; measureStatus: string; commentDeadline: string })
    const bra = rows.find((n) => n.measureId === 'G/TBT/N/BRA/1625')!
    expect(bra.commentDeadline).toBe('2026-11-28')
    expect(bra.measureStatus).toBe('closed')
    expect(rows.find((n) => n.measureId === 'G/TBT/N/AUS/219')!.measureStatus).toBe('open')
  }, 120_000)
})
