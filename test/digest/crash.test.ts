import { spawn } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { addSubscriber, listSubscribers, validatePreferences } from '../../src/services/subscriber.service.js'
import { projectRoot } from '../../src/util/paths.js'
import { cli } from '../helpers/cli.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'
import { startSmtp, type TestSmtp } from '../helpers/smtp.js'

const to = (m: TestSmtp['messages'][number]) => (Array.isArray(m.to) ? m.to[0] : m.to)?.value[0]?.address

describe('a crash between sending and marking', () => {
  let replay: ReplayServer
  let smtp: TestSmtp
  let env: TestEnv
  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    smtp = await startSmtp()
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url, SMTP_URL: smtp.url })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    // A subscriber whose daily digest is due now (real clock, as the CLI runs).
    await addSubscriber(env.ctx, 'crash@example.com', validatePreferences(env.ctx, { frequency: 'daily' }), { confirmed: true })
    await env.ctx.close()
  })
  afterAll(async () => {
    await env?.cleanup()
    await smtp?.close()
    await replay?.close()
  })

  it('followed by a rerun sends no second e-mail, and leaves the delivery for an admin to check', async () => {
    const vars = { ...process.env, TBT_LOG_LEVEL: 'silent', TBT_DATA_DIR: env.dataDir, DATABASE_URL: env.config.databaseUrl, SMTP_URL: smtp.url }
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(projectRoot, 'bin', 'run-ts.mjs'), path.join(projectRoot, 'test', 'digest', 'fixtures', 'crash-after-send.ts')], { env: vars, stdio: 'ignore' })
      child.on('error', reject)
      child.on('exit', (c, signal) => resolve(signal === 'SIGKILL' ? 137 : c))
    })
    expect(code).toBe(137)
    expect(smtp.messages.filter((m) => to(m) === 'crash@example.com')).toHaveLength(1)

    const rerun = await cli(['digest', '--period', 'daily'], { TBT_DATA_DIR: env.dataDir, DATABASE_URL: env.config.databaseUrl, SMTP_URL: smtp.url })
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(smtp.messages.filter((m) => to(m) === 'crash@example.com')).toHaveLength(1)

    const ctx = await env.reopen()
    const sub = (await listSubscribers(ctx)).find((s) => s.email === 'crash@example.com')!
    expect(sub.problems).toEqual([expect.objectContaining({ status: 'uncertain', kind: 'digest-daily' })])
  }, 240_000)
})
