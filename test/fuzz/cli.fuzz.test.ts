import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-cli-fuzz-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
// Nothing reaches the network: the one source points at a closed port.
const ENV = { TBT_DATA_DIR: dir, DATABASE_URL: `sqlite:${path.join(dir, 'fuzz.db')}`, TBT_SOURCE_EPING_BASE_URL: 'http://127.0.0.1:9', TBT_HTTP_TIMEOUT_MS: '500' }

/** Commands that finish on their own (not worker, serve, start, demo). */
const COMMANDS = ['stats', 'export', 'digest', 'classify', 'scrape', 'migrate', 'seed', 'reclassify', 'run', 'help', 'nonsense', '']
const TOKENS = ['--json', '--period', 'daily', 'weekly', 'monthly', '--format', 'csv', 'jsonl', 'xml', '--out', '--since', '2026-13-45', '2026-01-01', '--sources', 'eping,nope', '--input', '--output', '--dry-run', '--port', '-1', 'notices', 'warnings', 'eping', '--help', '--version', '']

function noStack(stderr: string) {
  // A clear message, not a stack trace.
  expect(stderr, stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
}

async function inBatches<T>(items: T[], n: number, fn: (t: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(fn))
}

describe('fuzz: CLI arguments and the classify command’s JSONL', () => {
  it('random arguments end with exit 0, 1 or 2 and a message, never a stack trace', async () => {
    const cases = fc.sample(fc.tuple(fc.constantFrom(...COMMANDS), fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 12 })), { maxLength: 5 })), { numRuns: 8, seed: 42 })
    await inBatches(cases, 4, async ([cmd, args]) => {
      const argv = [cmd, ...args].filter((a) => a !== '')
      // --out/--output write where they are told: keep them inside the temp dir.
      const safe = argv.map((a, i) => (['--out', '--output', '--input'].includes(argv[i - 1] ?? '') ? path.join(dir, `f${i}`) : a))
      const r = await cli(safe, ENV)
      expect([0, 1, 2], `${safe.join(' ')}\n${r.stderr}`).toContain(r.code)
      noStack(r.stderr)
      if (r.code !== 0) expect(r.stderr.trim().length, safe.join(' ')).toBeGreaterThan(0)
    })
  }, 300_000)

  it('classify: junk JSONL lines are refused naming the file and line; a clean file classifies every line', async () => {
    const good = { id: 'G/TBT/N/USA/1', title: 'Lithium-ion batteries for mobile phones: safety requirements', products: 'lithium batteries (HS 8507.60)', objectives: ['safety'] }
    const lines = fc.sample(fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), fc.record({ id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), title: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }).map((v) => JSON.stringify(v))), { numRuns: 4, seed: 7 })
    const cases = lines.map((junk, i) => ({ i, text: `${JSON.stringify(good)}\n${junk}\n${JSON.stringify({ ...good, id: 'G/TBT/N/USA/2' })}\n` }))
    await inBatches(cases, 3, async ({ i, text }) => {
      const input = path.join(dir, `in-${i}.jsonl`)
      const output = path.join(dir, `out-${i}.jsonl`)
      fs.writeFileSync(input, text)
      const r = await cli(['classify', '--input', input, '--output', output], ENV)
      noStack(r.stderr)
      if (r.code === 0) {
        const out = fs.readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string })
        // The good lines were all classified.
        expect(out.map((o) => o.id)).toEqual(expect.arrayContaining(['G/TBT/N/USA/1', 'G/TBT/N/USA/2']))
      } else {
        expect(r.stderr, text).toContain(`${input}:2`)
      }
    })
  }, 300_000)
})
