import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { parseEpingPage } from '../../scrapers/eping/eping.parser.js'
import { SourceError } from '../../scrapers/types.js'
import { loadCategories, DEFAULT_CATEGORIES_FILE } from '../../src/domain/categories.js'
import { loadMarkets, DEFAULT_MARKETS_FILE } from '../../src/domain/markets.js'
import { loadRiskRules, DEFAULT_RULES_FILE } from '../../src/risk/rules.js'
import { DEFAULT_REPLAY_DIR } from '../../src/replay/replay-server.js'
import { DataFileError } from '../../src/util/yaml-file.js'

const RECORDS = JSON.parse(fs.readFileSync(path.join(DEFAULT_REPLAY_DIR, 'eping', 'notifications.json'), 'utf8')) as Record<string, unknown>[]
const URL_ = 'http://127.0.0.1/api/v1/azureSearch/getAll?language=1&page=1'
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-fuzz-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** A JSON value, including the awkward ones: deep nesting, unicode, huge and odd numbers. */
const junk = fc.jsonValue({ maxDepth: 4 })

/** A record with some fields replaced, removed or retyped. */
const mutatedRecord = fc.tuple(fc.constantFrom(...RECORDS), fc.array(fc.tuple(fc.constantFrom(...Object.keys(RECORDS[0]), 'extra'), fc.option(junk)), { maxLength: 4 })).map(([rec, edits]) => {
  const out: Record<string, unknown> = { ...rec }
  for (const [k, v] of edits) {
    if (v === null) delete out[k]
    else out[k] = v
  }
  return out
})

describe('fuzz: source responses', () => {
  it('any body is parsed or refused as a layout change naming the URL, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), junk.map((j) => JSON.stringify(j)), fc.constant('')), (body) => {
        try {
          const r = parseEpingPage({ url: URL_, status: 200, contentType: 'application/json', body })
          expect(Array.isArray(r.notices)).toBe(true)
        } catch (err) {
          expect(err).toBeInstanceOf(SourceError)
          expect((err as SourceError).code).toBe('layout-changed')
          expect((err as Error).message).toContain(URL_)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('bad items among good ones: every good item kept, every bad one reported by id', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...RECORDS), mutatedRecord, junk), { maxLength: 30 }), (items) => {
        const r = parseEpingPage({ url: URL_, status: 200, contentType: 'application/json', body: JSON.stringify({ items, totalCount: items.length }) })
        expect(r.notices.length + r.errors.length).toBe(items.length)
        const kept = new Set(r.notices.map((n) => n.sourceItemId))
        for (const it of items) if (RECORDS.includes(it as Record<string, unknown>)) expect(kept.has(String((it as { id: unknown }).id))).toBe(true)
        for (const e of r.errors) expect(e.reason.length).toBeGreaterThan(0)
        for (const n of r.notices) {
          expect(n.title.length).toBeGreaterThan(0)
          expect(n.symbols.length).toBeGreaterThan(0)
        }
      }),
      { numRuns: 200 },
    )
  })
})

/** The real file's data with one node replaced by junk or removed, written back as YAML; or raw text. */
function mutatedYaml(file: string) {
  const data = parseYaml(fs.readFileSync(file, 'utf8'))
  const paths: (string | number)[][] = []
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p)
    if (p.length > 5) return
    if (Array.isArray(v)) v.slice(0, 3).forEach((x, i) => walk(x, [...p, i]))
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k])
  }
  walk(data, [])
  const structural = fc.tuple(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.option(junk)).map(([p, v]) => {
    const copy = structuredClone(data)
    let node = copy
    for (const k of p.slice(0, -1)) node = node[k]
    const last = p[p.length - 1]
    if (v === null) Array.isArray(node) ? node.splice(Number(last), 1) : delete node[last]
    else node[last] = v
    return stringifyYaml(copy)
  })
  const text = fs.readFileSync(file, 'utf8')
  const textual = fc.tuple(fc.nat(text.length), fc.nat(40), fc.string({ maxLength: 20 })).map(([at, del, ins]) => text.slice(0, at) + ins + text.slice(at + del))
  return fc.oneof(structural, textual, fc.string())
}

describe('fuzz: rules and seed files', () => {
  const files: [string, string, (f: string) => unknown][] = [
    ['risk rules', DEFAULT_RULES_FILE, loadRiskRules],
    ['categories', DEFAULT_CATEGORIES_FILE, loadCategories],
    ['markets', DEFAULT_MARKETS_FILE, loadMarkets],
  ]
  it.each(files)('a damaged %s file loads or fails with an error naming the file (and line)', (_name, file, load) => {
    let i = 0
    fc.assert(
      fc.property(mutatedYaml(file), (text) => {
        const f = path.join(tmp, `${path.basename(file, '.yaml')}-${i++}.yaml`)
        fs.writeFileSync(f, text)
        try {
          load(f)
        } catch (err) {
          expect(err, String(err)).toBeInstanceOf(DataFileError)
          expect((err as Error).message.startsWith(f)).toBe(true)
          expect((err as DataFileError).reason.length).toBeGreaterThan(0)
        }
      }),
      { numRuns: 60 },
    )
  })
})
