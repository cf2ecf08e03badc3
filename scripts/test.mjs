#!/usr/bin/env node
// `npm test`: runs the whole vitest suite and ends with a plain "N passed, N failed"
// line, which CI reads. Extra arguments go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-test-')), 'report.json')
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]
const run = spawnSync('npx', args, { stdio: 'inherit', env: { ...process.env, TBT_LOG_LEVEL: process.env.TBT_LOG_LEVEL ?? 'silent' } })
let passed = 0
let failed = 0
try {
  const r = JSON.parse(fs.readFileSync(report, 'utf8'))
  passed = r.numPassedTests ?? 0
  failed = (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0)
  if (r.numTotalTestSuites > 0 && r.testResults?.some((f) => f.status === 'failed' && !f.assertionResults?.length)) failed += 1
} catch {
  failed = Math.max(failed, 1)
}
if (run.status !== 0 && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed`)
process.exit(run.status === 0 && failed === 0 ? 0 : 1)
