import fs from 'node:fs'
import path from 'node:path'
import { simpleParser } from 'mailparser'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { addSubscriber, listSubscribers, validatePreferences } from '../../src/services/subscriber.service.js'
import { projectRoot } from '../../src/util/paths.js'
import { cli } from '../helpers/cli.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'

const ARTIFACTS = path.join(projectRoot, 'test', 'artifacts')
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']

describe('subscriber CLI and `digest --period weekly --dry-run`, rendered in Chromium', () => {
  let replay: ReplayServer
  let env: TestEnv
  let browser: Browser
  let vars: Record<string, string>
  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    await addSubscriber(env.ctx, 'official-w@example.com', validatePreferences(env.ctx, { role: 'official', frequency: 'weekly', name: '北京市商务局（测试）' }), { confirmed: true })
    await env.ctx.close()
    vars = { TBT_DATA_DIR: env.dataDir, DATABASE_URL: env.config.databaseUrl }
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

  it('adds, validates against the seeded categories and markets, and removes without deleting', async () => {
    const bad = await cli(['subscriber', 'add', '--email', 'weekly@example.com', '--categories', 'mobile-phones,spaceships'], vars)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/unknown category spaceships; known: mobile-phones, /)
    const add = await cli(
      ['subscriber', 'add', '--email', 'Weekly@Example.com', '--categories', 'mobile-phones,integrated-circuits,electromechanical', '--hs', '8517,8542', '--markets', 'usa,EU,ASEAN', '--level', 'medium', '--frequency', 'weekly', '--lang', 'en', '--confirmed'],
      vars,
    )
    expect(add.code, add.stderr).toBe(0)
    expect(add.stdout).toMatch(/^subscriber \d+ added: weekly@example.com \(confirmed\)$/m)
    const rm = await cli(['subscriber', 'remove', '--email', 'exporter-demo@example.com'], vars)
    expect(rm.code, rm.stderr).toBe(0)
    expect(rm.stdout).toMatch(/unsubscribed: exporter-demo@example.com/)
    const list = await listed()
    expect(list.find((s) => s.email === 'weekly@example.com')).toMatchObject({ status: 'confirmed', markets: ['USA', 'EU', 'ASEAN'], hs: ['8517', '8542'] })
    expect(list.find((s) => s.email === 'exporter-demo@example.com')).toMatchObject({ status: 'unsubscribed', sent: 1 })
  }, 240_000)

  it("writes the week's digests as .eml and the officials' report as HTML; both render in Chromium", async () => {
    const r = await cli(['digest', '--period', 'weekly', '--dry-run'], vars)
    expect(r.code, r.stderr).toBe(0)
    const files = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('/'))
    const emls = files.filter((f) => f.endsWith('.eml'))
    const report = files.find((f) => /report-\d{4}-W\d{2}\.html$/.test(f))!
    expect(emls.length).toBe(2) // the new enterprise subscriber and the new official
    expect(report).toBeDefined()

    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } })
    try {
      for (const file of emls) {
        // mailparser turns cid: images into data: URIs, as a mail client shows them.
        const mail = await simpleParser(fs.readFileSync(file))
        expect(mail.html).toBeTruthy()
        expect(mail.text).toBeTruthy()
        expect(mail.headerLines.find((h) => h.key === 'list-unsubscribe')?.line).toMatch(/unsubscribe\?token=/)
        await page.setContent(String(mail.html), { waitUntil: 'load' })
        const images = await page.$$eval('img', (imgs) => imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth))
        if (/weekly risk report|风险周报/.test(mail.subject ?? '')) {
          expect(images).toHaveLength(3)
          for (const w of images) expect(w).toBeGreaterThan(0)
        } else {
          expect(mail.subject).toMatch(/^\[TBT alert\] Weekly digest \d{4}-W\d{2}: \d+ trade measures? affecting your products/)
        }
        await page.screenshot({ path: path.join(ARTIFACTS, `dry-run-${path.basename(file, '.eml')}.png`), fullPage: true })
      }
      await page.goto(`file://${report}`)
      expect(await page.$$eval('figure.chart svg', (s) => s.length)).toBe(3)
      expect(await page.title()).toMatch(/风险周报|weekly risk report/)
      await page.screenshot({ path: path.join(ARTIFACTS, 'dry-run-report.png'), fullPage: true })
      const pdf = await page.pdf({ format: 'A4', path: path.join(ARTIFACTS, 'dry-run-report.pdf') })
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
    } finally {
      await page.close()
    }
    for (const f of ['dry-run-report.png', 'dry-run-report.pdf']) expect(fs.statSync(path.join(ARTIFACTS, f)).size).toBeGreaterThan(1000)
    // A preview records nothing.
    expect((await listed()).find((s) => s.email === 'weekly@example.com')!.sent).toBe(0)
  }, 240_000)
})
