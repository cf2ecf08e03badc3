import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadLexicon } from '../../src/classify/lexicon.js'

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-lex-'))

describe('lexicon files', () => {
  it('cover all 97 HS chapters', () => {
    const lex = loadLexicon(undefined, tmp())
    const chapters = new Set([...lex.codes].map((c) => c.slice(0, 2)))
    const missing = []
    for (let ch = 1; ch <= 97; ch++) {
      const c = String(ch).padStart(2, '0')
      if (c !== '77' && !chapters.has(c)) missing.push(c)
    }
    expect(missing).toEqual([])
  })

  it('names file and line when an entry is wrong', () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'entries:\n  "0401": { en: [milk] }\n  "851": { en: [things] }\n')
    expect(() => loadLexicon(dir, tmp())).toThrow(/bad\.yaml:3: .*entries\.851/)
  })

  it('compiles from the cache the same as from the files', () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'entries:\n  "0401": { en: [fresh milk~0.5], zh: [牛奶], es: [leche] }\n')
    const cache = tmp()
    const first = loadLexicon(dir, cache)
    const second = loadLexicon(dir, cache)
    expect(fs.readdirSync(cache).length).toBe(1)
    expect(second.toJSON()).toEqual(first.toJSON())
  })
})
