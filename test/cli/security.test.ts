import { Counter, Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { assertSafeMetrics, listenHost, loadConfig } from '../../src/config.js'
import { projectRoot } from '../../src/util/paths.js'
import { startMetricsServer } from '../../src/ops/metrics-server.js'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { csvField, plainCell } from '../../src/services/export.service.js'
import { createUser } from '../../src/services/user.service.js'
import { cli } from '../helpers/cli.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'
import { addPendingSignups, signupsLeft } from '../helpers/signups.js'

const NOW = new Date('2026-11-28T04:00:00Z')

describe('the CLI refuses to serve with an unsafe secret', () => {
  it('serve, worker and start exit non-zero with one line when PUBLIC_BASE_URL is public and TBT_SECRET unset, published or short', async () => {
    const base = { PUBLIC_BASE_URL: 'https://tbt.example.org', TBT_SECRET: '', TBT_DATA_DIR: '/nonexistent/never-created' }
    // (The rule itself, every kind of unsafe value, is tested in test/web/accounts-admin.test.ts.)
    for (const [args, extra] of [
      [['serve', '--port', '0'], {}],
      [['worker'], { REDIS_URL: 'redis://127.0.0.1:9', TBT_SECRET: 'change-me' }],
      [['start', '--no-serve'], { TBT_SECRET: 'short-secret' }],
    ] as const) {
      const r = await cli([...args], { ...base, ...extra })
      expect(r.code, args.join(' ')).not.toBe(0)
      const lines = r.stderr.trim().split('\n')
      expect(lines, r.stderr).toHaveLength(1)
      expect(lines[0]).toMatch(/^tbt-watch: TBT_SECRET (is not set|is a published example value|is shorter than 32 bytes), and PUBLIC_BASE_URL https:\/\/tbt\.example\.org is not a loopback address/)
      expect(r.stdout).toBe('')
    }
  }, 120_000)

  it("worker refuses to serve its /metrics beyond this machine without the admin token, in one line", async () => {
    // Nothing binds or connects first: the check comes before Redis and PostgreSQL.
    const base = { REDIS_URL: 'redis://127.0.0.1:9', TBT_METRICS_PORT: '0', TBT_DATA_DIR: '/nonexistent/never-created' }
    const r = await cli(['worker'], { ...base, TBT_METRICS_HOST: '0.0.0.0' })
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr.trim().split('\n'), r.stderr).toEqual([expect.stringMatching(/^tbt-watch: TBT_METRICS_HOST 0\.0\.0\.0 serves \/metrics beyond this machine: set TBT_ADMIN_TOKEN/)])
  }, 60_000)
})

describe('the web server without a secret of its own', () => {
  /** Serves with `env` until the web UI line, then says whether this machine's other address reaches it. */
  async function reach(env: Record<string, string>): Promise<{ loopback: boolean; other: boolean | null; stdout: string }> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-listen-'))
    const child = spawn(process.execPath, [path.join(projectRoot, 'bin', 'tbt-watch.mjs'), 'serve', '--port', '0'], { cwd: projectRoot, env: { ...process.env, TBT_LOG_LEVEL: 'silent', TBT_DATA_DIR: dataDir, PUBLIC_BASE_URL: 'http://localhost:8080', ...env } })
    let stdout = ''
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          stdout += d
          const m = /web UI: http:\/\/localhost:(\d+)\//.exec(stdout)
          if (m) setTimeout(() => resolve(Number(m[1])), 200)
        })
        child.on('close', (code) => reject(new Error(`serve exited ${code}: ${stdout}`)))
      })
      const connects = (host: string) => new Promise<boolean>((resolve) => {
        const sock = net.connect({ host, port }, () => { sock.destroy(); resolve(true) })
        sock.on('error', () => resolve(false))
      })
      // another address of this machine (a container or a laptop has one); null when it has none
      const other = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address
      return { loopback: await connects('127.0.0.1'), other: other ? await connects(other) : null, stdout }
    } finally {
      child.kill('SIGTERM')
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }

  it('listens on this machine only, and says so; with a secret of its own, on every interface', async () => {
    expect(listenHost({ secret: loadConfig({}).secret })).toEqual({ host: '127.0.0.1', why: expect.stringMatching(/^listening on 127\.0\.0\.1 only: TBT_SECRET is not set/) })
    expect(listenHost({ secret: 'change-me' }).host).toBe('127.0.0.1')
    expect(listenHost({ secret: 'x'.repeat(40) })).toEqual({ host: '0.0.0.0', why: null })
    const weak = await reach({ TBT_SECRET: '' })
    expect(weak.loopback).toBe(true)
    expect(weak.stdout).toContain('listening on 127.0.0.1 only: TBT_SECRET is not set')
    if (weak.other !== null) expect(weak.other).toBe(false)
    const strong = await reach({ TBT_SECRET: 'a'.repeat(16) + randomBytes(16).toString('hex') })
    expect(strong.loopback).toBe(true)
    expect(strong.stdout).not.toContain('listening on 127.0.0.1 only')
    if (strong.other !== null) expect(strong.other).toBe(true)
  }, 60_000)
})

describe("a worker's /metrics server", () => {
  const registry = new Registry()
  registry.registerMetric(new Counter({ name: 'tbt_probe_total', help: 'probe', registers: [] }))

  it('binds to this machine by default and needs the admin token anywhere else', async () => {
    expect(loadConfig({}).metricsHost).toBe('127.0.0.1')
    expect(() => assertSafeMetrics(loadConfig({ TBT_METRICS_PORT: '9464' }))).not.toThrow()
    expect(() => assertSafeMetrics(loadConfig({ TBT_METRICS_PORT: '9464', TBT_METRICS_HOST: '0.0.0.0' }))).toThrow(/TBT_ADMIN_TOKEN/)
    expect(() => assertSafeMetrics(loadConfig({ TBT_METRICS_PORT: '9464', TBT_METRICS_HOST: '0.0.0.0', TBT_ADMIN_TOKEN: 'metrics-token-0123456789' }))).not.toThrow()
    await expect(startMetricsServer(registry, 0, { host: '0.0.0.0' })).rejects.toThrow(/TBT_ADMIN_TOKEN/)
    const local = await startMetricsServer(registry, 0)
    try {
      expect((await fetch(`http://127.0.0.1:${local.port}/metrics`)).status).toBe(200)
    } finally {
      await local.close()
    }
    const token = 'metrics-token-0123456789'
    const open = await startMetricsServer(registry, 0, { host: '0.0.0.0', token })
    try {
      const url = `http://127.0.0.1:${open.port}/metrics`
      expect((await fetch(url)).status).toBe(401)
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401)
      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      expect(ok.status).toBe(200)
      expect(await ok.text()).toContain('tbt_probe_total')
    } finally {
      await open.close()
    }
  })
})

describe('CLI accounts and CSV export', () => {
  let env: TestEnv
  let replay: ReplayServer
  const run = (args: string[], input?: string) => cli(args, { TBT_DATA_DIR: env.dataDir, DATABASE_URL: env.config.databaseUrl }, input)

  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => NOW })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
  })
  afterAll(async () => {
    await env?.cleanup()
    await replay?.close()
  })

  it('neutralises formula-looking cells in the CSV export, as the web export does (one function)', async () => {
    for (const [v, want] of [
      ['=HYPERLINK("http://evil","x")', `"'=HYPERLINK(""http://evil"",""x"")"`],
      ['+1+1', "'+1+1"],
      ['-2', "'-2"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['\tTAB', "'\tTAB"],
      ['\rCR', `"'\rCR"`],
      ['plain, text', '"plain, text"'],
    ])
      expect(csvField(v)).toBe(want)
    expect(plainCell(-2)).toBe(-2) // numbers stay numbers
    const n = await env.ctx.db.selectFrom('notice').select(['id', 'measure_id']).orderBy('id').executeTakeFirstOrThrow()
    await env.ctx.db.updateTable('notice').set({ title: '=cmd|"/c calc"!A1' }).where('id', '=', n.id).execute()
    await env.ctx.db.updateTable('measure').set({ title: '@SUM(1+1)*cmd' }).where('id', '=', n.measure_id).execute()
    const notices = await run(['export', 'notices', '--format', 'csv'])
    expect(notices.code, notices.stderr).toBe(0)
    expect(notices.stdout).toContain(`"'=cmd|""/c calc""!A1"`)
    expect(notices.stdout).not.toMatch(/(^|,)"?=cmd/m)
    const warnings = await run(['export', 'warnings', '--format', 'csv'])
    expect(warnings.stdout).not.toMatch(/(^|,)"?[=+@]/m)
    // Every cell of every row: none starts a formula.
    for (const line of warnings.stdout.trim().split('\r\n').slice(1)) for (const cell of line.split(',')) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+@\t\r]/)
  })

  it('digest --period daily purges sign-ups never confirmed for 7 days, and keeps younger ones', async () => {
    await addPendingSignups(env.ctx, NOW)
    const r = await cli(['digest', '--period', 'daily'], { TBT_DATA_DIR: env.dataDir, DATABASE_URL: env.config.databaseUrl, TBT_NOW: NOW.toISOString() })
    expect(r.code, r.stderr).toBe(0)
    expect(await signupsLeft(env.ctx)).toEqual(['young-signup@example.com'])
  }, 60_000)

  it('lists, disables, enables, resets and re-roles accounts', async () => {
    // (What each does to sessions and logins is tested on both dialects in test/web/accounts-admin.test.ts.)
    await createUser(env.ctx.db, { email: 'ops@example.com', role: 'analyst', password: 'ops-password-123' }, '2026-11-28T04:00:00Z')
    expect((await run(['user', 'disable', '--email', 'OPS@example.com'])).stdout).toMatch(/disabled; 0 session\(s\) ended/)
    const list = await run(['user', 'list'])
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).toMatch(/ops@example\.com\s+analyst\s+disabled\s+0\s+2026-11-28/)
    expect((await run(['user', 'enable', '--email', 'ops@example.com'])).code).toBe(0)
    const weak = await run(['user', 'reset-password', '--email', 'ops@example.com'], 'password123\n')
    expect(weak.code).not.toBe(0)
    expect(weak.stderr).toMatch(/common passwords/)
    const reset = await run(['user', 'reset-password', '--email', 'ops@example.com'])
    expect(reset.stdout).toMatch(/one-time password: \S{16}/)
    expect((await run(['user', 'set-role', '--email', 'ops@example.com', '--role', 'admin'])).stdout).toMatch(/is now admin/)
    const final = JSON.parse((await run(['user', 'list', '--json'])).stdout)[0]
    expect(final).toMatchObject({ role: 'admin', status: 'must-change-password' })
  }, 180_000)
})
