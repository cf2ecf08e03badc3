import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { CompiledLexicon, loadLexicon } from '../../src/classify/lexicon.js'

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

  it("starts a new data directory from the installation's compiled lexicon, and compiles an edited one again", () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, 'a.yaml'), `entries:\n  "0402": { en: [milk powder ${process.pid}-${Date.now()}] }\n`)
    const first = loadLexicon(dir, tmp())
    const add = vi.spyOn(CompiledLexicon.prototype, 'add')
    try {
      // another data directory: read from node_modules/.cache, nothing compiled, and copied to its own cache
      const fresh = tmp()
      expect(loadLexicon(dir, fresh).toJSON()).toEqual(first.toJSON())
      expect(add).not.toHaveBeenCalled()
      expect(fs.readdirSync(fresh).filter((f) => f.endsWith('.json')).length).toBe(1)
      // an edited file is another digest: compiled
      fs.writeFileSync(path.join(dir, 'a.yaml'), `entries:\n  "0402": { en: [milk powder, cream ${process.pid}-${Date.now()}] }\n`)
      expect([...loadLexicon(dir, tmp()).codes]).toEqual(['0402'])
      expect(add).toHaveBeenCalled()
    } finally {
      add.mockRestore()
    }
  })
})
