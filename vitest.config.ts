import fs from 'node:fs'
import path from 'node:path'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Longest files first, and never two fault files at once. The suite runs two files at a
 * time; vitest orders files by the durations in its cache, which a fresh clone (CI) does
 * not have, and then by file size, so the fault suite's longest file (three minutes) could
 * start last and run alone at the end. Started together, the fault files (each starts
 * workers, kills them, restarts servers) slowed each other two- to four-fold. So the order
 * is a simulation of the two lanes over the durations in `test/durations.json`
 * (`node scripts/test-durations.mjs REPORT.json` rewrites it from vitest's JSON report):
 * the lane that frees first takes the longest file left, but not a fault file while the
 * other lane runs one. A file the table does not know counts as a short one.
 */
const HEAVY = /^test\/faults\//

class LongestFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root
    let seconds: Record<string, number> = {}
    try {
      seconds = JSON.parse(fs.readFileSync(path.join(root, 'test/durations.json'), 'utf8'))
    } catch {
      return super.sort(files)
    }
    const rel = (f: TestSpecification) => path.relative(root, f.moduleId).split(path.sep).join('/')
    const left = [...files].sort((a, b) => (seconds[rel(b)] ?? 5) - (seconds[rel(a)] ?? 5))
    const lanes = Array.from({ length: Math.max(1, Number(this.ctx.config.maxWorkers) || 2) }, () => ({ free: 0, heavyUntil: 0 }))
    const order: TestSpecification[] = []
    while (left.length) {
      const lane = lanes.reduce((a, b) => (b.free < a.free ? b : a))
      const busy = lanes.some((l) => l !== lane && l.heavyUntil > lane.free)
      const i = Math.max(0, left.findIndex((f) => !(busy && HEAVY.test(rel(f)))))
      const [f] = left.splice(i, 1)
      lane.free += seconds[rel(f)] ?? 5
      lane.heavyUntil = HEAVY.test(rel(f)) ? lane.free : 0
      order.push(f)
    }
    return order
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
