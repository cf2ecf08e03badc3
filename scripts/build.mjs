#!/usr/bin/env node
// `npm run build` (and npm ci's `prepare`): transpiles the TypeScript of src/, jobs/ and
// scrapers/ to JavaScript in dist/ (same layout, one file per file: nothing is bundled,
// so the web routes folder and the relative imports work as they do from the sources)
// and copies the files the code reads beside itself (the web UI's static files, the
// built-in portal definitions). bin/tbt-watch.mjs runs dist/ when dist/.build.json is
// newer than every file and folder under those three, and the sources through tsx
// otherwise, so an edited source is never shadowed by a stale build.
//
// Types are not checked here (`npm run typecheck` does): esbuild only strips them, which
// `isolatedModules` in tsconfig.json guarantees is safe.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DIRS = ['src', 'jobs', 'scrapers']
const out = path.join(root, 'dist')

// The Docker image installs its dependencies before it copies the sources: nothing to build yet.
if (!DIRS.some((d) => fs.existsSync(path.join(root, d)))) {
  console.log('build: no sources yet, nothing to build')
  process.exit(0)
}

let esbuild
try {
  esbuild = await import('esbuild')
} catch {
  console.error('build: esbuild is not installed (npm ci installs it); the CLI runs from the sources through tsx meanwhile')
  process.exit(1)
}

const started = Date.now()
const entries = []
const assets = []
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) walk(p)
    else if (/\.(d|test)\.ts$/.test(e.name)) continue
    else if (e.name.endsWith('.ts')) entries.push(p)
    else if (!e.name.endsWith('.md')) assets.push(p)
  }
}
for (const d of DIRS) if (fs.existsSync(path.join(root, d))) walk(path.join(root, d))

// Built beside dist/ and swapped in at the end: a CLI running from dist/ meanwhile (a test,
// a worker) never sees a half-written build.
const next = `${out}.next-${process.pid}`
fs.rmSync(next, { recursive: true, force: true })
process.on('exit', () => fs.rmSync(next, { recursive: true, force: true }))
await esbuild.build({
  entryPoints: entries,
  outdir: next,
  outbase: root,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
})
// Packages of many small ES modules load several times faster as one file: kysely (280
// modules) and zod are bundled into dist/vendor/ and the build's imports of them point
// there. Nothing else in node_modules imports them, so there is still one copy of each
// in a process. The sources (tsx, vitest) keep using node_modules.
const VENDOR = ['kysely', 'zod']
for (const name of VENDOR) {
  await esbuild.build({ entryPoints: [name], outfile: path.join(next, 'vendor', `${name}.js`), bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning', absWorkingDir: root })
}
const vendorImport = new RegExp(`((?:\\bfrom|\\bimport)\\s*\\(?\\s*)"(${VENDOR.join('|')})"`, 'g')
for (const e of entries) {
  const file = path.join(next, path.relative(root, e)).replace(/\.ts$/, '.js')
  const code = fs.readFileSync(file, 'utf8')
  const rewritten = code.replace(vendorImport, (_m, pre, name) => {
    const rel = path.relative(path.dirname(file), path.join(next, 'vendor', `${name}.js`)).split(path.sep).join('/')
    return `${pre}"${rel.startsWith('.') ? rel : `./${rel}`}"`
  })
  if (rewritten !== code) fs.writeFileSync(file, rewritten)
}

for (const a of assets) {
  const to = path.join(next, path.relative(root, a))
  fs.mkdirSync(path.dirname(to), { recursive: true })
  fs.copyFileSync(a, to)
}
// The stamp is the time the build started: a file saved during the build counts as newer.
fs.writeFileSync(path.join(next, '.build.json'), `${JSON.stringify({ builtAt: started, files: entries.length, assets: assets.length })}\n`)
const old = `${out}.old-${process.pid}`
if (fs.existsSync(out)) fs.renameSync(out, old)
fs.renameSync(next, out)
fs.rmSync(old, { recursive: true, force: true })
console.log(`build: ${entries.length} TypeScript files and ${assets.length} other files to dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`)
