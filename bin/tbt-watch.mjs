#!/usr/bin/env node
// The one CLI entry point. It runs the precompiled JavaScript in dist/ (built by
// `npm ci`'s prepare script, or `npm run build`) when that build is newer than every
// file and folder under src/, jobs/ and scrapers/; otherwise, or with TBT_FROM_SOURCE=1,
// it runs the TypeScript sources through tsx's loader. A fresh clone works either way,
// and an edited source is never shadowed by a stale build.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { distIsCurrent } from './dist-current.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

if (process.env.TBT_FROM_SOURCE !== '1' && distIsCurrent(root)) {
  await import('../dist/src/cli/main.js')
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli/main.ts')
}
