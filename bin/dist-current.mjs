// Whether the precompiled JavaScript in dist/ (scripts/build.mjs) may run: it must be
// newer than every file and folder under the source folders. A folder's mtime changes
// when a file in it is added, removed or renamed, so those count too.
import fs from 'node:fs'
import path from 'node:path'

export const SOURCE_DIRS = ['src', 'jobs', 'scrapers']

export function distIsCurrent(root) {
  let builtAt
  try {
    builtAt = JSON.parse(fs.readFileSync(path.join(root, 'dist', '.build.json'), 'utf8')).builtAt
  } catch {
    return false
  }
  if (typeof builtAt !== 'number') return false
  const newer = (dir) => {
    if (fs.statSync(dir).mtimeMs > builtAt) return true
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory() ? newer(p) : fs.statSync(p).mtimeMs > builtAt) return true
    }
    return false
  }
  try {
    return !SOURCE_DIRS.some((d) => fs.existsSync(path.join(root, d)) && newer(path.join(root, d)))
  } catch {
    return false
  }
}
