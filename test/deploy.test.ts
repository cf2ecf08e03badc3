import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { sourcesFor } from '../scrapers/registry.js'
import { projectRoot } from '../src/util/paths.js'

describe('docker-compose.yml', () => {
  it('is valid for docker-compose', () => {
    // .ci/run installs Debian's docker-compose; `config -q` validates without an engine.
    execFileSync('docker-compose', ['config', '-q'], { stdio: 'pipe', cwd: projectRoot })
  })
  it('runs Redis safely for queues and PostgreSQL with a health check', () => {
    const c = parse(fs.readFileSync('docker-compose.yml', 'utf8'))
    expect(c.services.redis.command.join(' ')).toMatch(/--appendonly yes.*--maxmemory-policy noeviction/)
    expect(c.services.postgres.healthcheck).toBeDefined()
    for (const s of ['worker', 'web', 'mailpit']) expect(c.services[s]).toBeDefined()
  })
  it("gives workers and web the operator's portal folder, and what it holds loads", () => {
    // As docker-compose resolves it (anchors and merges included).
    const c = parse(execFileSync('docker-compose', ['config'], { encoding: 'utf8', cwd: projectRoot }))
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
  it('installs a CJK font in the image for the weekly report charts', () => {
    expect(fs.readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8')).toMatch(/apt-get install[^\n]*fonts-wqy-microhei/)
  })
})
