import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests talk to one Redis, one PostgreSQL and Chromium: two files at a time suits the
    // two-core machines this runs on.
    maxWorkers: 2,
  },
})
