import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_ADMIN, DEMO_PASSWORD } from '../../src/cli/first-run.js'
import { openDatabase } from '../../src/db/database.js'
import { authenticate } from '../../src/services/user.service.js'
import { projectRoot } from '../../src/util/paths.js'
import { cli } from '../helpers/cli.js'
import { freePort } from './support.js'

/** stderr as a pipe: plain lines, nothing a terminal would interpret. */
const expectPlain = (stderr: string) => {
  expect(stderr).not.toMatch(/\x1b|\r/)
  expect(stderr).not.toMatch(/^\s+at /m)
}

describe('a first run that guides', () => {
  const dirs: string[] = []
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-first-run-'))
    dirs.push(d)
    return d
  }
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

  it('demo --no-serve: says what it does as it goes, ends with the URL, the documented login and where the e-mails went', async () => {
    const dataDir = tmp()
    const r = await cli(['demo', '--no-serve'], { TBT_DATA_DIR: dataDir })
    expect(r.code, r.stderr).toBe(0)
    // stderr begins at once with what is happening, in plain lines (not a terminal here).
    const progress = r.stderr.trimEnd().split('\n')
    expect(progress[0]).toMatch(/^tbt-watch demo: one pass over the recorded snapshot/)
    expect(progress).toEqual(expect.arrayContaining([expect.stringMatching(/^opening the SQLite file .*tbt-watch\.db…$/), expect.stringMatching(/^fetching eping \(source 1 of 1\)…$/), expect.stringMatching(/^classifying \d+ notices…$/)]))
    expectPlain(r.stderr)
    const next = r.stdout.slice(r.stdout.indexOf('What next:'))
    expect(next).toMatch(/web UI +npx tbt-watch serve +then open http:\/\/localhost:8080\//)
    expect(next).toContain(`log in   ${DEMO_ADMIN} / ${DEMO_PASSWORD}`)
    const sent = Number(/e-mails +(\d+) written as \.eml files to (.*)\/ /.exec(next)?.[1])
    expect(sent).toBeGreaterThan(0)
    expect(next).toContain(`${path.join(dataDir, 'outbox')}/`)
    expect(fs.readdirSync(path.join(dataDir, 'outbox')).filter((f) => f.endsWith('.eml'))).toHaveLength(sent)
    // The documented login works, and must be changed at the first login.
    const { db, close } = openDatabase(`sqlite:${path.join(dataDir, 'tbt-watch.db')}`)
    try {
      const u = await authenticate(db, DEMO_ADMIN, DEMO_PASSWORD)
      expect(u?.role).toBe('admin')
      expect(u?.mustChangePassword).toBe(true)
    } finally {
      await close()
    }
  }, 180_000)

  it('start with every source failing (no network): ends with how to log in and to try npm run demo', async () => {
    const dataDir = tmp()
    const dead = `http://127.0.0.1:${await freePort()}`
    const r = await cli(['start', '--no-serve'], {
      TBT_DATA_DIR: dataDir,
      TBT_SOURCE_EPING_BASE_URL: dead,
      TBT_SOURCE_US_FEDREG_BASE_URL: dead,
      TBT_SOURCE_CN_TBT_BASE_URL: dead,
      TBT_SOURCE_EU_TRIS_BASE_URL: dead,
    })
    expect(r.code, r.stderr).toBe(0)
    expectPlain(r.stderr)
    const tail = r.stdout.trimEnd().split('\n').slice(-9).join('\n')
    expect(tail).toMatch(/log in +no account yet: create the first one/)
    expect(tail).toContain('npx tbt-watch user add --email you@example.org --role admin')
    // (Officials' reports go out even for a quiet period: the count is not the point, the place is.)
    expect(tail).toMatch(/e-mails +\d+ written as \.eml files to /)
    expect(tail).toMatch(/No source could be reached \(eping, us-fedreg, cn-tbt, eu-tris\)/)
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/Try the offline demo.*npm run demo$/)
  }, 240_000)

  describe('serve --port N without PUBLIC_BASE_URL', () => {
    let dataDir: string
    let port: number
    let child: ReturnType<typeof spawn>
    let out = ''
    beforeAll(async () => {
      dataDir = tmp()
      port = await freePort()
      const env: NodeJS.ProcessEnv = { ...process.env, TBT_DATA_DIR: dataDir, TBT_LOG_LEVEL: 'silent' }
      delete env.PUBLIC_BASE_URL
      child = spawn(process.execPath, [path.join(projectRoot, 'bin', 'tbt-watch.mjs'), 'serve', '--port', String(port)], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout!.on('data', (d) => (out += d))
      child.stderr!.on('data', (d) => (out += d))
      const deadline = Date.now() + 60_000
      while (!out.includes('web UI:') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100))
      await new Promise((r) => setTimeout(r, 300))
    }, 90_000)
    afterAll(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await new Promise((r) => child.once('exit', r))
      }
    })

    it('says where it serves and how to create the first account', () => {
      expect(out).toContain(`web UI: http://localhost:${port}/`)
      expect(out).toContain('no account yet: create the first one with  npx tbt-watch user add --email you@example.org --role admin')
    })

    it('puts the served port in e-mail links', async () => {
      const base = `http://127.0.0.1:${port}`
      const form = await fetch(`${base}/subscribe`)
      const page = await form.text()
      const nonce = /name="nonce" value="([^"]+)"/.exec(page)?.[1]
      expect(nonce).toBeTruthy()
      // The form's nonce is bound to the client's cookie (issue 15): send it back.
      const cookie = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
      const res = await fetch(`${base}/subscribe`, { method: 'POST', headers: { cookie }, body: new URLSearchParams({ nonce: nonce!, email: 'port-link@example.org', hs: '8517' }) })
      expect(res.status).toBe(200)
      // The answer takes a steady time and the sending may go on after it (forms.ts): wait for the
      // file (the mailer writes confirm-….eml.tmp, then renames it: only the .eml is whole).
      const outbox = path.join(dataDir, 'outbox')
      const found = () => (fs.existsSync(outbox) ? fs.readdirSync(outbox).find((f) => f.startsWith('confirm-') && f.endsWith('.eml')) : undefined)
      for (const deadline = Date.now() + 20_000; !found() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100))
      const eml = found()!
      expect(eml).toBeTruthy()
      const text = fs.readFileSync(path.join(outbox, eml), 'utf8').replace(/=\r?\n/g, '')
      expect(text).toContain(`http://localhost:${port}/subscribe/confirm?token=`)
      expect(text).not.toContain('localhost:8080')
    })
  })
})
