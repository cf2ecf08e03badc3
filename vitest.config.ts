import fs from 'node:fs'
import path from 'node:path'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Longest files first. The suite runs two files at a time; vitest orders files by the
 * durations in its cache, which a fresh clone (CI) does not have, and then by file size,
 * so the fault suite's longest file (three minutes) could start last and run alone at
 * the end. `test/durations.json` keeps each file's seconds from a whole run
 * (`node scripts/test-durations.mjs REPORT.json` rewrites it from vitest's JSON report);
 * a file it does not know counts as a short one.
 */
class LongestFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root
    let seconds: Record<string, number> = {}
    try {
      seconds = JSON.parse(fs.readFileSync(path.join(root, 'test/durations.json'), 'utf8'))
    } catch {
      return super.sort(files)
    }
    const of = (f: TestSpecification) => seconds[path.relative(root, f.moduleId).split(path.sep).join('/')] ?? 5
    return [...files].sort((a, b) => of(b) - of(a))
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests talk to one Redis, one PostgreSQL and Chromium: two files at a time suits the
    // two-core machines this runs on.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
  },
})
