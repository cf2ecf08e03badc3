import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_REPLAY_DIR } from '../../src/replay/replay-server.js'
import { cli } from '../helpers/cli.js'

describe('tbt-watch CLI on the embedded SQLite default', () => {
  let dataDir: string
  const env = () => ({ TBT_DATA_DIR: dataDir })
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-cli-'))
  })
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  it('migrates and seeds', async () => {
    const m = await cli(['migrate'], env())
    expect(m.code).toBe(0)
    expect(m.stdout).toMatch(/applied|up to date/)
    const s = await cli(['seed'], env())
    expect(s.code).toBe(0)
    expect(s.stdout).toMatch(/categories \d+, markets \d+, sources \d+, subscribers \d+/)
    expect(fs.existsSync(path.join(dataDir, 'tbt-watch.db'))).toBe(true)
  })

  it('runs a pass over the replay and prints counts per source and stage', async () => {
    const r = await cli(['run', '--replay', DEFAULT_REPLAY_DIR], env())
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^eping\s+ok\s+\d+/m)
    expect(r.stdout).toMatch(/classified \d+ notices · scored \d+ measures · warnings raised \d+/)
  })

  it('reports the same stats after a second run', async () => {
    const before = await cli(['stats', '--json'], env())
    const stats = JSON.parse(before.stdout)
    for (const k of ['notices', 'measures', 'classifications', 'warnings', 'emails']) expect(stats[k]).toBeGreaterThan(0)
    const again = await cli(['run', '--replay', DEFAULT_REPLAY_DIR, '--json'], env())
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout).stages.emailsSent).toBe(0)
    const after = JSON.parse((await cli(['stats', '--json'], env())).stdout)
    expect(after).toEqual(stats)
    // Three CLI starts and a full pass: under the whole suite's load this exceeds the 60 s default.
  }, 180_000)

  it('exports notices and warnings as JSONL and CSV', async () => {
    const out = path.join(dataDir, 'notices.jsonl')
    const r = await cli(['export', 'notices', '--format', 'jsonl', '--out', out], env())
    expect(r.code).toBe(0)
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.length).toBeGreaterThan(0)
    for (const n of lines) {
      expect(n).toHaveProperty('source', 'eping')
      expect(Array.isArray(n.symbols)).toBe(true)
      expect(Array.isArray(n.hsCodes)).toBe(true)
      for (const c of n.hsCodes) expect(c).toMatch(/^\d{2,10}$/)
      expect(['regular', 'addendum', 'corrigendum', 'revision']).toContain(n.type)
      expect(n.distributionDate === null || /^\d{4}-\d{2}-\d{2}$/.test(n.distributionDate)).toBe(true)
      for (const k of ['sourceId', 'measureId', 'member', 'title', 'products', 'icsCodes', 'commentDeadline', 'language']) expect(n).toHaveProperty(k)
    }
    const w = await cli(['export', 'warnings', '--format', 'csv'], env())
    expect(w.code).toBe(0)
    const [header, ...rows] = w.stdout.trim().split('\r\n')
    expect(header.split(',')).toEqual(expect.arrayContaining(['id', 'measureId', 'category', 'level', 'score', 'status']))
    expect(rows.length).toBeGreaterThan(0)
  })

  it('previews digests with --dry-run without recording a delivery', async () => {
    const before = JSON.parse((await cli(['stats', '--json'], env())).stdout)
    const r = await cli(['digest', '--period', 'weekly', '--dry-run'], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/digest\(s\) written to/)
    const after = JSON.parse((await cli(['stats', '--json'], env())).stdout)
    expect(after.emails).toBe(before.emails)
  })

  it('exits 0 when a source fails, and says which', async () => {
    const r = await cli(['run', '--sources', 'eping'], { ...env(), TBT_SOURCE_EPING_BASE_URL: 'http://127.0.0.1:9' })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/eping\s+failed/)
    expect(r.stdout).toMatch(/! eping failed: /)
  })

  it('exits non-zero when the pass cannot run at all', async () => {
    const r = await cli(['run'], { ...env(), DATABASE_URL: 'mysql://nowhere' })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/DATABASE_URL/)
    const bad = await cli(['run', '--since', 'yesterday'], env())
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/YYYY-MM-DD/)
    const unknown = await cli(['run', '--sources', 'nope'], env())
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toMatch(/unknown source/)
  })
})
