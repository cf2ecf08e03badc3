import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { sourcesFor } from '../scrapers/registry.js'
import { projectRoot } from '../src/util/paths.js'

// docker-compose refuses to run without a secret; the tests give it one.
const SECRET_ENV = { ...process.env, TBT_SECRET: 'a'.repeat(64) }

describe('docker-compose.yml', () => {
  it('is valid for docker-compose', () => {
    // .ci/run installs Debian's docker-compose; `config -q` validates without an engine.
    execFileSync('docker-compose', ['config', '-q'], { stdio: 'pipe', cwd: projectRoot, env: SECRET_ENV })
  })
  it('ships no working secret: without TBT_SECRET it refuses to start, saying why', () => {
    const { TBT_SECRET: _s, ...env } = process.env
    let err: (Error & { stderr?: Buffer }) | undefined
    try {
      execFileSync('docker-compose', ['config', '-q'], { stdio: 'pipe', cwd: projectRoot, env })
    } catch (e) {
      err = e as Error & { stderr?: Buffer }
    }
    expect(err).toBeDefined()
    expect(String(err?.stderr)).toMatch(/set TBT_SECRET to 32\+ random bytes/)
    expect(fs.readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8')).not.toMatch(/change-me/)
  })
  it('binds Mailpit (every e-mail, no login) to this machine only', () => {
    const c = parse(execFileSync('docker-compose', ['config'], { encoding: 'utf8', cwd: projectRoot, env: SECRET_ENV }))
    const ports = JSON.stringify(c.services.mailpit.ports)
    expect(ports).toMatch(/127\.0\.0\.1/)
    expect(ports).not.toMatch(/0\.0\.0\.0/)
  })
  it('runs Redis safely for queues and PostgreSQL with a health check', () => {
    const c = parse(fs.readFileSync('docker-compose.yml', 'utf8'))
    expect(c.services.redis.command.join(' ')).toMatch(/--appendonly yes.*--maxmemory-policy noeviction/)
    expect(c.services.postgres.healthcheck).toBeDefined()
    for (const s of ['worker', 'web', 'mailpit']) expect(c.services[s]).toBeDefined()
  })
  it("gives workers and web the operator's portal folder, and what it holds loads", () => {
    // As docker-compose resolves it (anchors and merges included).
    const c = parse(execFileSync('docker-compose', ['config'], { encoding: 'utf8', cwd: projectRoot, env: SECRET_ENV }))
    for (const s of ['worker', 'web']) {
      expect(c.services[s].environment.TBT_PORTALS_DIR).toBe('/portals')
      expect(c.services[s].volumes).toContain(`${path.join(projectRoot, 'portals')}:/portals:ro`)
    }
    const dir = path.join(projectRoot, 'portals')
    expect(fs.statSync(dir).isDirectory()).toBe(true)
    const ids = sourcesFor({ portalsDir: dir }).map((x) => x.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toEqual(expect.arrayContaining(sourcesFor({}).map((x) => x.id)))
  })
  it('builds an image without local data or secrets, running as a user that is not root', () => {
    const ignore = fs.readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim())
    for (const p of ['.git', '.env', 'data/', 'node_modules/']) expect(ignore).toContain(p)
    const dockerfile = fs.readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8')
    const user = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].at(-1)?.[1]
    expect(user).toBeDefined()
    expect(['root', '0']).not.toContain(user)
    expect(dockerfile).not.toContain('--no-sandbox')
  })
  it('installs a CJK font in the image for the weekly report charts', () => {
    expect(fs.readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8')).toMatch(/apt-get install[^\n]*fonts-wqy-microhei/)
  })
})
