import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'
import { spawnWorker } from '../helpers/worker-process.js'
import { expectOneLine, freePort } from './support.js'

describe('the CLI fails in one line with a documented exit code', () => {
  let dataDir: string
  const env = (more: Record<string, string> = {}) => ({ TBT_DATA_DIR: dataDir, ...more })
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-cli-errors-'))
    const r = await cli(['seed'], env())
    expect(r.code, r.stderr).toBe(0)
  })
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  it('export to a folder that does not exist: exit 1, naming the folder', async () => {
    const r = await cli(['export', 'warnings', '--format', 'csv', '--out', '/missing/dir/w.csv'], env())
    expectOneLine(r, 1, /cannot write \/missing\/dir\/w\.csv: the folder \/missing\/dir does not exist/)
  })

  it('a mistyped command: exit 2, "Did you mean", no help dump', async () => {
    const r = await cli(['stat'], env())
    expectOneLine(r, 2, /unknown command 'stat'.*Did you mean .*stats/)
    expect(r.stdout).toBe('')
    expect(r.stderr).not.toMatch(/Usage:/)
  })

  it('an unknown option: exit 2, naming it', async () => {
    expectOneLine(await cli(['stats', '--jsn'], env()), 2, /unknown option '--jsn'.*--json/)
  })

  it('subscriber add --hs 85x7: exit 2, naming the option and the value, not the validator path', async () => {
    const r = await cli(['subscriber', 'add', '--email', 'a@example.org', '--hs', '8517,85x7', '--confirmed'], env())
    expectOneLine(r, 2, /--hs 85x7: /)
    expect(r.stderr).not.toMatch(/hs\.\d/)
  })

  it('the same unknown source exits 2 in run, scrape and reparse', async () => {
    for (const args of [['run', '--sources', 'nope'], ['scrape', 'nope'], ['reparse', 'nope']]) {
      expectOneLine(await cli(args, env()), 2, /unknown source nope; known: .*eping/)
    }
  })

  it('a bad option value and a missing required option: exit 2', async () => {
    expectOneLine(await cli(['run', '--since', 'yesterday'], env()), 2, /--since.*yesterday.*YYYY-MM-DD/)
    expectOneLine(await cli(['digest'], env()), 2, /--period/)
    expectOneLine(await cli(['serve', '--port', '99999'], env()), 2, /--port.*99999/)
  })

  it('REDIS_URL without a scheme is refused before anything connects: exit 2', async () => {
    const r = await cli(['worker'], env({ REDIS_URL: 'localhost:6379' }))
    expectOneLine(r, 2, /REDIS_URL must be a URL such as redis:\/\/127\.0\.0\.1:6379: "localhost:6379" has no scheme/)
    expectOneLine(await cli(['stats'], env({ PUBLIC_BASE_URL: 'tbt.example.org' })), 2, /PUBLIC_BASE_URL .*no scheme/)
  })

  it('PostgreSQL unreachable: exit 1, naming the service and the variable', async () => {
    const port = await freePort()
    const r = await cli(['stats'], env({ DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${port}/test` }))
    expectOneLine(r, 1, new RegExp(`cannot reach PostgreSQL at postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${port}/test \\(connection refused\\).*DATABASE_URL`))
    expect(r.stderr).not.toContain('secret')
  })

  it('digest --dry-run with nothing to send says why', async () => {
    const r = await cli(['digest', '--period', 'daily', '--dry-run'], env())
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^0 digest\(s\) written to /)
    expect(r.stdout).toMatch(/no digest because \d+ subscribers? (is|are) due, but there are no warnings yet: run a pass first/)
  })

  it('--help exits 0; no command prints the help and exits 2', async () => {
    const help = await cli(['--help'], env())
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/Exit codes: 0 done; 1 the run failed.*2 the command was wrong/s)
    const none = await cli([], env())
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/Usage: tbt-watch/)
  })

  it('a worker with Redis down: one line, then a summary per interval, never a stack trace, and it keeps waiting', async () => {
    const port = await freePort()
    const w = spawnWorker({ ...env(), REDIS_URL: `redis://127.0.0.1:${port}`, TBT_LOG_LEVEL: 'warn', TBT_OUTAGE_SUMMARY_MS: '1000', TBT_QUEUE_PREFIX: `cli-err-${process.pid}` })
    try {
      const deadline = Date.now() + 45_000
      while (Date.now() < deadline && (w.log().match(/still unreachable/g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 200))
      const lines = w.log().trimEnd().split('\n')
      expect(lines[0]).toMatch(new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} is unreachable \\(connection refused\\); retrying with backoff`))
      expect(lines.filter((l) => /is unreachable/.test(l))).toHaveLength(1)
      expect(lines.filter((l) => /still unreachable after .*failed attempt/.test(l)).length).toBeGreaterThanOrEqual(2)
      for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow()
      expect(w.log()).not.toMatch(/^\s+at |ECONNREFUSED \d/m)
      expect(w.child.exitCode).toBeNull()
    } finally {
      const exit = await w.stop()
      expect(exit.code).toBe(0)
    }
  }, 90_000)
})
