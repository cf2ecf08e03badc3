import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeError, exitCodeFor } from '../../src/cli/errors.js'
import { OutageReporter } from '../../src/cli/outage.js'
import { projectRoot } from '../../src/util/paths.js'
// @ts-expect-error a plain .mjs module without types
import { distIsCurrent } from '../../bin/dist-current.mjs'

const fixtures = path.join(projectRoot, 'test', 'cli', 'fixtures')

/** The npm packages a CLI command imports, by tracing module resolution. */
function packagesLoaded(args: string[], env: Record<string, string>): { packages: string[]; code: number | null } {
  const r = spawnSync(process.execPath, ['--import', path.join(fixtures, 'trace-packages.mjs'), path.join(projectRoot, 'bin', 'tbt-watch.mjs'), ...args], {
    cwd: projectRoot,
    env: { ...process.env, TBT_LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
  })
  return { packages: [...r.stderr.matchAll(/^package (\S+)$/gm)].map((m) => m[1]), code: r.status }
}

// What only some commands need: the browser, the XLSX export, the web server, the queues,
// the mailer, the classifier's NLP, the chart renderer, metrics, HTML parsing.
const HEAVY = ['playwright-core', 'exceljs', 'fastify', 'bullmq', 'ioredis', 'nodemailer', 'natural', 'franc', '@resvg/resvg-js', 'prom-client', 'cheerio']

describe('start-up loads only what a command uses', () => {
  let dataDir: string
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-startup-'))
  })
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  it('--help loads commander and nothing heavy', () => {
    const r = packagesLoaded(['--help'], { TBT_DATA_DIR: dataDir })
    expect(r.code).toBe(0)
    expect(r.packages).toContain('commander')
    for (const p of [...HEAVY, 'kysely', 'better-sqlite3', 'pg', 'zod']) expect(r.packages).not.toContain(p)
  })

  it('stats loads the database and nothing heavy', () => {
    const r = packagesLoaded(['stats'], { TBT_DATA_DIR: dataDir })
    expect(r.code).toBe(0)
    expect(r.packages).toEqual(expect.arrayContaining(['kysely', 'better-sqlite3']))
    for (const p of HEAVY) expect(r.packages).not.toContain(p)
  })
})

describe('bin/tbt-watch.mjs runs dist/ only when it is newer than every source', () => {
  let root: string
  const touch = (p: string, at: number) => {
    fs.mkdirSync(path.dirname(p), { recursive: true })
    if (!fs.existsSync(p)) fs.writeFileSync(p, '')
    fs.utimesSync(p, at / 1000, at / 1000)
  }
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-dist-'))
  })
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  it('is current after a build, stale after an edit, an added file or no build at all', () => {
    const before = Date.now() - 60_000
    for (const f of ['src/a.ts', 'src/web/static/app.css', 'jobs/b.ts', 'scrapers/c/c.ts']) touch(path.join(root, f), before)
    for (const d of ['src/web/static', 'src/web', 'src', 'jobs', 'scrapers/c', 'scrapers']) fs.utimesSync(path.join(root, d), before / 1000, before / 1000)
    expect(distIsCurrent(root)).toBe(false)
    fs.mkdirSync(path.join(root, 'dist'))
    fs.writeFileSync(path.join(root, 'dist', '.build.json'), JSON.stringify({ builtAt: before + 30_000 }))
    expect(distIsCurrent(root)).toBe(true)
    touch(path.join(root, 'src/web/static/app.css'), before + 40_000)
    expect(distIsCurrent(root)).toBe(false)
    fs.writeFileSync(path.join(root, 'dist', '.build.json'), JSON.stringify({ builtAt: before + 50_000 }))
    expect(distIsCurrent(root)).toBe(true)
    fs.writeFileSync(path.join(root, 'scrapers', 'c', 'new.ts'), '') // the folder's mtime is now
    expect(distIsCurrent(root)).toBe(false)
  })
})

describe('the progress bar on a terminal', () => {
  it('writes JSON log lines above the bar, whole, and erases the bar when it stops', () => {
    const r = spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'run-ts.mjs'), path.join(fixtures, 'progress-demo.ts')], { cwd: projectRoot, encoding: 'utf8', env: { ...process.env, TBT_LOG_LEVEL: 'info' } })
    expect(r.status, r.stderr).toBe(0)
    const ERASE = '\r\x1b[2K'
    // Every log line starts right after the bar was erased, and is a whole JSON object.
    const logs = r.stderr.split('\n').filter((l) => l.includes('"msg"'))
    expect(logs).toHaveLength(6)
    for (const l of logs) {
      const json = l.slice(l.lastIndexOf(ERASE) + ERASE.length)
      expect(l.endsWith(json)).toBe(true)
      expect(() => JSON.parse(json), l).not.toThrow()
    }
    // The bar never shares a line with text that stays: after the last erase comes only our closing line.
    expect(r.stderr.endsWith(`${ERASE}after the bar\n`)).toBe(true)
    expect(r.stderr.startsWith('opening the database…\n')).toBe(true)
    // Only \r, "erase line" and text: no cursor hiding, no spinner glyphs.
    expect(r.stderr.replaceAll(ERASE, '')).not.toMatch(/\x1b|[⠁-⣿]/)
  })
})

describe('outage lines', () => {
  it('one line at the first failure, a summary per interval, one line when it is back', () => {
    let now = 0
    const lines: { level: string; msg: string }[] = []
    const r = new OutageReporter({ service: 'Redis', url: 'redis://127.0.0.1:6390', log: (level, _f, msg) => lines.push({ level, msg }), summaryMs: 60_000, clock: () => now, quietMeansRecovered: true })
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' })
    for (let i = 0; i < 500; i++) {
      now += 100
      r.failure(refused)
    }
    expect(lines).toEqual([{ level: 'warn', msg: 'Redis at redis://127.0.0.1:6390 is unreachable (connection refused); retrying with backoff, a summary every 60 s' }])
    now = 60_000
    r.tick()
    expect(lines[1].msg).toBe('Redis at redis://127.0.0.1:6390 still unreachable after 60 s: 500 failed attempts in the last 60 s (connection refused); still retrying')
    now = 121_000
    r.tick() // a whole interval without a failure: it is back
    expect(lines[2]).toEqual({ level: 'info', msg: 'Redis at redis://127.0.0.1:6390 is reachable again after 2 min (500 failed attempts)' })
    expect(r.down).toBe(false)
    r.close()
  })

  it('while waiting with backoff, only a success ends the outage', () => {
    let now = 0
    const lines: string[] = []
    const r = new OutageReporter({ service: 'PostgreSQL', url: 'postgres://db', log: (_l, _f, msg) => lines.push(msg), summaryMs: 1_000, clock: () => now })
    r.failure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))
    now = 5_000
    r.tick()
    expect(r.down).toBe(true)
    expect(lines[1]).toMatch(/still unreachable after 5 s: 1 failed attempt in the last 1 s/)
    r.recovered()
    expect(lines[2]).toMatch(/^PostgreSQL at postgres:\/\/db is reachable again after 5 s \(1 failed attempt\)$/)
  })
})

describe('repeated warnings about an unreachable service', () => {
  it('are written once, then summarised per interval and at exit; other warnings are untouched', () => {
    const r = spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'run-ts.mjs'), path.join(fixtures, 'repeat-log.ts')], { cwd: projectRoot, encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    const lines = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as { msg: string; repeated?: number; sourceId?: string })
    expect(lines.map((l) => l.msg)).toEqual([
      'e-mail not sent',
      'source failed',
      'source failed',
      'something else',
      'something else',
      expect.stringMatching(/^e-mail not sent: 49 more times in the last \d+ s \(ECONNREFUSED 127\.0\.0\.1:2599\)$/),
      expect.stringMatching(/^e-mail not sent: 3 more times in the last \d+ s/),
    ])
    expect(lines.filter((l) => l.msg === 'source failed').map((l) => l.sourceId)).toEqual(['eping', 'us-fedreg'])
  })
})

describe('error sentences', () => {
  it('names the service behind a refused connection, even as an AggregateError (localhost: ::1 and 127.0.0.1)', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5999'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 5999 })
    const err = new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED', address: '::1', port: 5999 }), inner], '')
    expect(describeError(err, { databaseUrl: 'postgres://u:pw@localhost:5999/db' })).toBe('cannot reach PostgreSQL at postgres://u:***@localhost:5999/db (connection refused): is it running? (DATABASE_URL)')
    expect(describeError(inner)).toBe('cannot connect to 127.0.0.1:5999 (connection refused)')
    expect(exitCodeFor(err)).toBe(1)
  })

  it('file errors in words; usage errors exit 2', () => {
    expect(describeError(Object.assign(new Error("EACCES: permission denied, open '/root/x'"), { code: 'EACCES', syscall: 'open', path: '/root/x' }))).toBe('/root/x: permission denied')
    expect(describeError(new Error('first line.\n    at somewhere (file.js:1:2)'))).toBe('first line')
    expect(exitCodeFor(Object.assign(new Error('unknown source x'), { code: 'UNKNOWN_SOURCE' }))).toBe(2)
    expect(exitCodeFor(Object.assign(new Error('environment variable X'), { code: 'CONFIG_INVALID' }))).toBe(2)
  })
})
