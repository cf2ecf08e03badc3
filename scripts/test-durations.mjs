#!/usr/bin/env node
// Rewrites test/durations.json (each test file's seconds, longest first) from a vitest JSON
// report: `npx vitest run --reporter=json --outputFile.json=R.json && node scripts/test-durations.mjs R.json`.
// vitest.config.ts starts the longest files first with it.
import fs from 'node:fs'
import path from 'node:path'

const [report] = process.argv.slice(2)
if (!report) {
  console.error('usage: node scripts/test-durations.mjs REPORT.json')
  process.exit(2)
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const r = JSON.parse(fs.readFileSync(report, 'utf8'))
const rows = r.testResults
  .map((f) => [path.relative(root, f.name).split(path.sep).join('/'), Math.round((f.endTime - f.startTime) / 100) / 10])
  .sort((a, b) => b[1] - a[1])
fs.writeFileSync(path.join(root, 'test/durations.json'), JSON.stringify(Object.fromEntries(rows), null, 1) + '\n')
console.log(`test/durations.json: ${rows.length} files, ${rows.reduce((s, x) => s + x[1], 0).toFixed(0)} s in all`)
