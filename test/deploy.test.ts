import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

describe('docker-compose.yml', () => {
  it('is valid for docker-compose', () => {
    // .ci/run installs Debian's docker-compose; `config -q` validates without an engine.
    execFileSync('docker-compose', ['config', '-q'], { stdio: 'pipe' })
  })
  it('runs Redis safely for queues and PostgreSQL with a health check', () => {
    const c = parse(fs.readFileSync('docker-compose.yml', 'utf8'))
    expect(c.services.redis.command.join(' ')).toMatch(/--appendonly yes.*--maxmemory-policy noeviction/)
    expect(c.services.postgres.healthcheck).toBeDefined()
    for (const s of ['worker', 'web', 'mailpit']) expect(c.services[s]).toBeDefined()
  })
})
