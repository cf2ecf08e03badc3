import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_REPLAY_DIR } from '../../src/replay/replay-server.js'
import { cli } from '../helpers/cli.js'

describe('tbt-watch user and warnings commands', () => {
  let dataDir: string
  const env = () => ({ TBT_DATA_DIR: dataDir })
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-cli-review-'))
    const r = await cli(['run', '--replay', DEFAULT_REPLAY_DIR], env())
    expect(r.code, r.stderr).toBe(0)
  }, 300_000)
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  it('adds a user with a piped password, or prints a one-time password', async () => {
    const piped = await cli(['user', 'add', '--email', 'Analyst@Example.com', '--role', 'analyst'], env(), 'a-long-enough-password\n')
    expect(piped.code, piped.stderr).toBe(0)
    expect(piped.stdout).toContain('user analyst@example.com (analyst) added')
    expect(piped.stdout).not.toContain('one-time')
    const otp = await cli(['user', 'add', '--email', 'boss@example.com', '--role', 'admin'], env())
    expect(otp.code, otp.stderr).toBe(0)
    expect(otp.stdout).toMatch(/one-time password: [A-Za-z0-9]{16}\n/)
    const dup = await cli(['user', 'add', '--email', 'analyst@example.com', '--role', 'analyst'], env(), 'another-password-1\n')
    expect(dup.code).not.toBe(0)
    expect(dup.stderr).toMatch(/already exists/)
    const weak = await cli(['user', 'add', '--email', 'w@example.com', '--role', 'analyst'], env(), 'short\n')
    expect(weak.stderr).toMatch(/at least 10 characters/)
    const role = await cli(['user', 'add', '--email', 'x@example.com', '--role', 'king'], env(), 'a-long-enough-password\n')
    expect(role.code).not.toBe(0)
    expect(role.stderr).toMatch(/king.*invalid.*admin, analyst, official, enterprise/s)
    await cli(['user', 'add', '--email', 'shop@example.com', '--role', 'enterprise'], env(), 'a-long-enough-password\n')
  }, 300_000)

  it('lists, confirms, escalates and dismisses warnings', async () => {
    const list = await cli(['warnings', 'list', '--json'], env())
    expect(list.code, list.stderr).toBe(0)
    const rows = JSON.parse(list.stdout) as { id: number; status: string; score: number; measureStatus: string }[]
    expect(rows.length).toBeGreaterThan(3)
    // Measures open for comments first, closed ones below, then the highest score.
    const rank = (s: string) => ({ open: 0, adopted: 1, in_force: 1, closed: 2, withdrawn: 3 })[s] ?? 0
    const order = rows.map((r) => [rank(r.measureStatus), -r.score])
    expect(order).toEqual([...order].sort((x, y) => x[0] - y[0] || x[1] - y[1]))
    const [a, b, c] = rows
    const conf = await cli(['warnings', 'confirm', String(a.id), String(b.id), '--note', 'checked', '--as', 'analyst@example.com'], env())
    expect(conf.code, conf.stderr).toBe(0)
    expect(conf.stdout).toContain('confirm: 2 changed, 0 already confirmed, 0 failed')
    const again = await cli(['warnings', 'confirm', String(a.id)], env())
    expect(again.stdout).toContain('confirm: 0 changed, 1 already confirmed')
    const noReason = await cli(['warnings', 'dismiss', String(c.id)], env())
    expect(noReason.code).toBe(2)
    expect(noReason.stderr).toMatch(/needs --note/)
    const dis = await cli(['warnings', 'dismiss', String(c.id), '--note', 'not exported by Beijing'], env())
    expect(dis.stdout).toContain('dismiss: 1 changed')
    const asShop = await cli(['warnings', 'escalate', '--all-new', '--as', 'shop@example.com'], env())
    expect(asShop.code).toBe(2)
    expect(asShop.stderr).toMatch(/only an admin or analyst/)
    const both = await cli(['warnings', 'escalate', String(a.id), '--all-new'], env())
    expect(both.code).toBe(2)
    const esc = await cli(['warnings', 'escalate', '--all-new', '--as', 'analyst@example.com'], env())
    expect(esc.stdout).toContain(`escalate: ${rows.length - 3} changed`)
    const confirmed = await cli(['warnings', 'list', '--status', 'confirmed'], env())
    expect(confirmed.stdout.trim().split('\n').slice(1).length).toBe(2)
    const escalated = JSON.parse((await cli(['warnings', 'list', '--status', 'escalated', '--json'], env())).stdout)
    expect(escalated.length).toBe(rows.length - 3)
  }, 300_000)
})
