import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { loadYamlFile } from '../util/yaml-file.js'
import { projectRoot } from '../util/paths.js'
import { latinTokens, stemToken, stripAccents, type StemLanguage } from './normalize.js'

export const DEFAULT_LEXICON_DIR = path.join(projectRoot, 'rules', 'lexicon')

const Terms = z.array(z.string().min(1)).optional()
const EntrySchema = z.strictObject({
  en: Terms, zh: Terms, fr: Terms, es: Terms, pt: Terms, vi: Terms,
  /** multiplies every term of the entry: below 1 for broad words ("food", "chemicals") */
  w: z.number().positive().max(3).optional(),
})
const LexiconFileSchema = z.strictObject({
  entries: z.record(z.string().regex(/^\d{2}(\d{2}){0,2}$/, 'codes are HS chapters, headings or subheadings: 2, 4 or 6 digits'), EntrySchema),
})

/** A lexicon term's language key in the files, and the stemmer that normalises it. */
const LANG_KEYS: Record<string, StemLanguage | 'han'> = { en: 'eng', es: 'spa', fr: 'fra', pt: 'por', vi: 'vie', zh: 'han' }

export interface LexiconTerm { code: string; term: string; lang: string; weight: number }
interface LatinTerm extends LexiconTerm { stems: string[] }

/**
 * The product lexicon compiled for matching: per stemming language, terms indexed by
 * their first stem (a term is a stem sequence after stop words are removed); Chinese
 * terms in a map probed with every substring up to the longest term's length.
 */
export class CompiledLexicon {
  readonly latin = new Map<StemLanguage, Map<string, LatinTerm[]>>()
  readonly han = new Map<string, LexiconTerm[]>()
  hanMaxLength = 1
  readonly codes = new Set<string>()
  termCount = 0

  add(code: string, lang: string, rawTerm: string, entryWeight: number, file: string): void {
    const key = LANG_KEYS[lang]
    // "term~0.5" gives one term a weight of its own.
    const [text, w] = rawTerm.split('~')
    const weight = entryWeight * (w ? Number(w) : 1)
    if (!Number.isFinite(weight) || weight <= 0) throw new Error(`${file}: bad weight in term "${rawTerm}" of ${code}`)
    this.codes.add(code)
    this.termCount++
    if (key === 'han') {
      const term = text.trim()
      const list = this.han.get(term) ?? []
      list.push({ code, term, lang: 'cmn', weight })
      this.han.set(term, list)
      this.hanMaxLength = Math.max(this.hanMaxLength, term.length)
      return
    }
    const stems: string[] = []
    for (const t of latinTokens(text)) {
      const s = stemToken(t.raw, key)
      if (s) stems.push(s)
    }
    // A term made only of stop words would match everywhere; ignore it rather than fail,
    // since stop-word lists change with natural's releases.
    if (!stems.length) return
    let index = this.latin.get(key)
    if (!index) this.latin.set(key, (index = new Map()))
    const list = index.get(stems[0]) ?? []
    list.push({ code, term: stripAccents(text.trim().toLowerCase()), lang: key, weight, stems })
    index.set(stems[0], list)
  }
}

export function lexiconFiles(dir = DEFAULT_LEXICON_DIR): string[] {
  return fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f))
}

/** Loads and compiles every YAML file of rules/lexicon/ (validated; errors name file and line). */
export function loadLexicon(dir = DEFAULT_LEXICON_DIR): CompiledLexicon {
  const lex = new CompiledLexicon()
  for (const file of lexiconFiles(dir)) {
    const { entries } = loadYamlFile(file, LexiconFileSchema)
    for (const [code, entry] of Object.entries(entries)) {
      for (const lang of Object.keys(LANG_KEYS)) {
        for (const term of entry[lang as keyof typeof entry] as string[] | undefined ?? []) lex.add(code, lang, term, entry.w ?? 1, file)
      }
    }
  }
  return lex
}

export interface TermMatch extends LexiconTerm { start: number; end: number }

/** Matches of lexicon terms in a stem sequence; a match inside a longer one is dropped. */
export function matchLatin(lex: CompiledLexicon, lang: StemLanguage, stems: string[]): TermMatch[] {
  const index = lex.latin.get(lang)
  if (!index) return []
  const found: TermMatch[] = []
  for (let i = 0; i < stems.length; i++) {
    const candidates = index.get(stems[i])
    if (!candidates) continue
    for (const c of candidates) {
      if (i + c.stems.length > stems.length) continue
      let ok = true
      for (let k = 1; k < c.stems.length; k++) if (stems[i + k] !== c.stems[k]) { ok = false; break }
      if (ok) found.push({ code: c.code, term: c.term, lang: c.lang, weight: c.weight, start: i, end: i + c.stems.length })
    }
  }
  return dropContained(found)
}

/** Matches of Chinese terms as substrings of a text's Han runs. */
export function matchHan(lex: CompiledLexicon, runs: string[]): TermMatch[] {
  const found: TermMatch[] = []
  let base = 0
  for (const run of runs) {
    for (let i = 0; i < run.length; i++) {
      const max = Math.min(lex.hanMaxLength, run.length - i)
      for (let len = 1; len <= max; len++) {
        const hits = lex.han.get(run.slice(i, i + len))
        if (hits) for (const h of hits) found.push({ ...h, start: base + i, end: base + i + len })
      }
    }
    // Runs are separate; keep their offsets apart so no span crosses two runs.
    base += run.length + 1
  }
  return dropContained(found)
}

function dropContained(found: TermMatch[]): TermMatch[] {
  if (found.length < 2) return found
  return found.filter((m) => !found.some((o) => o !== m && o.start <= m.start && o.end >= m.end && o.end - o.start > m.end - m.start))
}
