#!/usr/bin/env node
// The one CLI entry point. It runs the precompiled JavaScript in dist/ (built by
// `npm ci`'s prepare script, or `npm run build`) when that build is newer than every
// file and folder under src/, jobs/ and scrapers/; otherwise, or with TBT_FROM_SOURCE=1,
// it runs the TypeScript sources through tsx's loader. A fresh clone works either way,
// and an edited source is never shadowed by a stale build.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** True when dist/ was built after the last change to any source file or folder. */
function distIsCurrent() {
  let builtAt
  try {
    builtAt = JSON.parse(fs.readFileSync(path.join(root, 'dist', '.build.json'), 'utf8')).builtAt
  } catch {
    return false
  }
  const newer = (dir) => {
    // A folder's mtime changes when a file in it is added, removed or renamed.
    if (fs.statSync(dir).mtimeMs > builtAt) return true
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory() ? newer(p) : fs.statSync(p).mtimeMs > builtAt) return true
    }
    return false
  }
  try {
    return !['src', 'jobs', 'scrapers'].some((d) => newer(path.join(root, d)))
  } catch {
    return false
  }
}

if (process.env.TBT_FROM_SOURCE !== '1' && distIsCurrent()) {
  await import('../dist/src/cli/main.js')
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli/main.ts')
}
