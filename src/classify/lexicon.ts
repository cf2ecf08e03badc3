import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { parseYamlText } from '../util/yaml-file.js'
import { projectRoot } from '../util/paths.js'
import { aboutWord, FOR_WORDS, HAN_STOP, PRODUCT_WORD, latinTokens, lightStem, stemToken, stripAccents, toSimplified, type StemLanguage, type Word } from './normalize.js'

export const DEFAULT_LEXICON_DIR = path.join(projectRoot, 'rules', 'lexicon')

const Terms = z.array(z.string().min(1)).optional()
const EntrySchema = z.strictObject({
  en: Terms, zh: Terms, fr: Terms, es: Terms, pt: Terms, vi: Terms,
  /** multiplies every term of the entry: below 1 for broad words ("food", "chemicals") */
  w: z.number().positive().max(3).optional(),
  /**
   * chapters ("02-24") whose own products this entry's broad words stand for: where any of
   * them is named, the broad word ("food" beside "cereals") counts YIELD of its weight
   */
  yields: z.string().regex(/^\d{2}-\d{2}$/, 'a range of chapters: "02-24"').optional(),
})
const LexiconFileSchema = z.strictObject({
  entries: z.record(z.string().regex(/^\d{2}(\d{2}){0,2}$/, 'codes are HS chapters, headings or subheadings: 2, 4 or 6 digits'), EntrySchema),
})

/** A lexicon term's language key in the files, and the stemmer that normalises it. */
export const LANG_KEYS: Record<string, StemLanguage | 'han'> = { en: 'eng', es: 'spa', fr: 'fra', pt: 'por', vi: 'vie', zh: 'han' }

export interface LexiconTerm { code: string; term: string; lang: string; weight: number }
interface LatinTerm extends LexiconTerm {
  stems: string[]
  light: string[]
  /** positions of the stems that "for"/"para"/"pour" precedes in the term ("pumps for liquids") */
  forGaps?: number[]
  /** a term written with "products" and one word ("dairy products", "productos de tabaco"): it matches that word only beside "products" */
  headed?: boolean
}

/**
 * The product lexicon compiled for matching: per stemming language, terms indexed by
 * their first stem (a term is a stem sequence after stop words are removed); Chinese
 * terms in a map probed with every substring up to the longest term's length.
 */
export class CompiledLexicon {
  readonly latin = new Map<StemLanguage, Map<string, LatinTerm[]>>()
  readonly han = new Map<string, LexiconTerm[]>()
  /** Chinese terms that mix in Latin letters or digits ("LED灯", "3D打印机"): few, found with indexOf */
  readonly mixed: LexiconTerm[] = []
  hanMaxLength = 1
  /** every proper prefix of a Chinese term, so matching stops early */
  readonly hanPrefixes = new Set<string>()
  /**
   * One-character Chinese terms (茶 tea, 盐 salt, 鞋 shoes): as substrings they hide in
   * other words (钟 in 分钟, 床 in 临床), so they match only a word that the segmenter
   * (jieba) cuts out on its own.
   */
  readonly hanWords = new Map<string, LexiconTerm[]>()
  readonly codes = new Set<string>()
  termCount = 0
  /** entries whose broad words give way to a product of these chapters (inclusive), by code */
  readonly yields = new Map<string, [number, number]>()
  /** a hash of the files it was compiled from */
  hash = ''

  toJSON(): CompiledForm {
    return {
      latin: [...this.latin.entries()].map(([l, index]) => [l, [...index.values()].flat()]),
      han: [...this.han.values(), ...this.hanWords.values()].flat(),
      mixed: this.mixed,
      termCount: this.termCount,
      yields: [...this.yields],
    }
  }

  static fromJSON(data: CompiledForm): CompiledLexicon {
    const lex = new CompiledLexicon()
    for (const [l, terms] of data.latin) {
      const index = new Map<string, LatinTerm[]>()
      for (const t of terms) {
        const list = index.get(t.stems[0])
        if (list) list.push(t)
        else index.set(t.stems[0], [t])
        lex.codes.add(t.code)
      }
      lex.latin.set(l, index)
    }
    for (const t of data.han) {
      if (t.term.length === 1) {
        const words = lex.hanWords.get(t.term)
        if (words) words.push(t)
        else lex.hanWords.set(t.term, [t])
        lex.codes.add(t.code)
        continue
      }
      const list = lex.han.get(t.term)
      if (list) list.push(t)
      else lex.han.set(t.term, [t])
      lex.hanMaxLength = Math.max(lex.hanMaxLength, t.term.length)
      for (let k = 1; k < t.term.length; k++) lex.hanPrefixes.add(t.term.slice(0, k))
      lex.codes.add(t.code)
    }
    lex.mixed.push(...data.mixed)
    lex.termCount = data.termCount
    for (const [code, range] of data.yields ?? []) lex.yields.set(code, range)
    return lex
  }

  add(code: string, lang: string, rawTerm: string, entryWeight: number, file: string): void {
    const key = LANG_KEYS[lang]
    // "term~0.5" gives one term a weight of its own.
    const [text, w] = rawTerm.split('~')
    const weight = entryWeight * (w ? Number(w) : 1)
    if (!Number.isFinite(weight) || weight <= 0) throw new Error(`${file}: bad weight in term "${rawTerm}" of ${code}`)
    this.codes.add(code)
    this.termCount++
    if (key === 'han') {
      const term = toSimplified(text.trim())
      if (!term) return
      if (!/^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$/.test(term)) {
        this.mixed.push({ code, term: term.toLowerCase(), lang: 'cmn', weight })
        return
      }
      const map = term.length === 1 ? this.hanWords : this.han
      const list = map.get(term) ?? []
      const same = list.find((t) => t.code === code)
      if (same) {
        same.weight = Math.max(same.weight, weight)
        return
      }
      list.push({ code, term, lang: 'cmn', weight })
      map.set(term, list)
      if (term.length === 1) return
      for (let k = 1; k < term.length; k++) this.hanPrefixes.add(term.slice(0, k))
      this.hanMaxLength = Math.max(this.hanMaxLength, term.length)
      return
    }
    const stems: string[] = []
    const light: string[] = []
    const forGaps: number[] = []
    let forGap = false
    const tokens = latinTokens(text, key)
    for (const t of tokens) {
      const s = stemToken(t.raw, key)
      if (s) {
        if (forGap && stems.length) forGaps.push(stems.length)
        forGap = false
        stems.push(s)
        light.push(lightStem(t.raw, key))
      } else if (FOR_WORDS.test(t.raw)) forGap = true
      // Text loses its numbers too ("2.5 tonnes"), so a term that needs one can never match as meant.
      else if (/^\d+$/.test(t.raw)) return
    }
    // A term made only of stop words, or cut down to one generic word ("IT equipment"),
    // would match everywhere; skip it rather than fail, since stop-word lists change with
    // natural's releases. "lead products" cut to "lead", "animal products" to "animal" would
    // be just as wrong: a one-word term is written as one word, on purpose.
    if (!stems.length) return
    let headed = false
    if (stems.length === 1 && tokens.filter((t) => t.raw.length > 1).length > 1) {
      // "products" is a stop word, but "vaping products" (or "productos de tabaco") names
      // what "vaping" alone does not: the word matches only beside "products".
      if (!tokens.some((t) => PRODUCT_WORD.test(t.raw))) return
      headed = true
    }
    this.addLatin(key, code, text, weight, stems, light, forGaps, headed)
    // "cast iron articles" also names "cast iron" products; "articles of iron" names iron ones:
    // a generic head word (articles, products, goods) is optional, at a little less weight.
    const generic = GENERIC_HEADS[key]
    if (generic && stems.length >= 3) {
      if (generic.has(light[light.length - 1])) this.addLatin(key, code, text, weight * 0.8, stems.slice(0, -1), light.slice(0, -1), forGaps.filter((g) => g < stems.length - 1))
      else if (generic.has(light[0])) this.addLatin(key, code, text, weight * 0.8, stems.slice(1), light.slice(1), forGaps.map((g) => g - 1).filter((g) => g > 0))
    }
  }

  private addLatin(key: StemLanguage, code: string, text: string, weight: number, stems: string[], light: string[], forGaps: number[] = [], headed = false): void {
    let index = this.latin.get(key)
    if (!index) this.latin.set(key, (index = new Map()))
    const list = index.get(stems[0]) ?? []
    // Spellings that stem alike ("lithium-ion batteries", "lithium ion battery") are one term;
    // the word alone also stands for the word beside "products".
    const same = list.find((t) => t.code === code && t.stems.length === stems.length && t.stems.every((s, i) => s === stems[i]))
    if (same) {
      if (same.headed === headed) same.weight = Math.max(same.weight, weight)
      else if (!headed) {
        delete same.headed
        same.term = stripAccents(text.trim().toLowerCase())
        same.weight = Math.max(same.weight, weight)
      }
      return
    }
    list.push({ code, term: stripAccents(text.trim().toLowerCase()), lang: key, weight, stems, light, ...(forGaps.length ? { forGaps } : {}), ...(headed ? { headed } : {}) })
    index.set(stems[0], list)
  }
}

/** Generic head words ("articles", "artículos", "ouvrages"), as light stems, by stemming language. */
const GENERIC_HEADS: Partial<Record<StemLanguage, Set<string>>> = Object.fromEntries(
  Object.entries({
    eng: ['articles', 'products', 'goods', 'items', 'wares', 'manufactures'],
    spa: ['artículos', 'productos', 'manufacturas', 'obras'],
    fra: ['articles', 'produits', 'ouvrages'],
    por: ['artigos', 'produtos', 'obras'],
  }).map(([l, words]) => [l, new Set(words.map((w) => lightStem(w, l as StemLanguage)))]),
)

export function lexiconFiles(dir = DEFAULT_LEXICON_DIR): string[] {
  return fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f))
}

// Bump when the cached form changes meaning.
const CACHE_VERSION = 15
const NATURAL_VERSION = (() => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(projectRoot, 'node_modules', 'natural', 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
})()

interface CompiledForm {
  latin: [StemLanguage, LatinTerm[]][]
  han: LexiconTerm[]
  mixed: LexiconTerm[]
  termCount: number
  yields?: [string, [number, number]][]
}

/**
 * Loads and compiles every YAML file of rules/lexicon/ (validated; errors name file and
 * line). Parsing 300 kB of YAML and stemming 18,000 terms takes over a second, so the
 * compiled lexicon is cached as JSON under cacheDir, keyed by a hash of the files'
 * contents and natural's version: an edited file misses the cache and is parsed,
 * validated and compiled again.
 */
export function loadLexicon(dir = DEFAULT_LEXICON_DIR, cacheDir: string = os.tmpdir()): CompiledLexicon {
  const files = lexiconFiles(dir)
  const texts = files.map((f) => fs.readFileSync(f, 'utf8'))
  const hash = crypto.createHash('sha1').update(`${CACHE_VERSION}/${NATURAL_VERSION}`)
  files.forEach((f, i) => hash.update(path.basename(f)).update('\u0000').update(texts[i]))
  const digest = hash.digest('hex').slice(0, 16)
  // The data directory's cache, then the installation's (node_modules/.cache, as other
  // tools keep theirs): a new data directory (a test, a fresh deployment, a second site on
  // the same host) starts from the compiled lexicon of the same files instead of compiling
  // it again, two to three seconds of CPU at every process start.
  const dirs = [...new Set([cacheDir, SHARED_CACHE_DIR])]
  const name = `tbt-watch-lexicon-${digest}.json`
  for (const d of dirs) {
    try {
      const text = fs.readFileSync(path.join(d, name), 'utf8')
      const cached = CompiledLexicon.fromJSON(JSON.parse(text) as CompiledForm)
      cached.hash = digest
      if (d !== cacheDir) writeCache(cacheDir, name, text)
      return cached
    } catch {
      // Not there (or unreadable): the next place, then compile from the files.
    }
  }
  const lex = new CompiledLexicon()
  lex.hash = digest
  files.forEach((file, i) => {
    const { entries } = parseYamlText(texts[i], file, LexiconFileSchema)
    for (const [code, entry] of Object.entries(entries)) {
      if (entry.yields) {
        const [from, to] = entry.yields.split('-').map(Number)
        lex.yields.set(code, [Math.min(from, to), Math.max(from, to)])
      }
      for (const lang of Object.keys(LANG_KEYS)) {
        for (const term of (entry[lang as keyof typeof entry] as string[] | undefined) ?? []) lex.add(code, lang, term, entry.w ?? 1, file)
      }
    }
  })
  const text = JSON.stringify(lex.toJSON())
  for (const d of dirs) writeCache(d, name, text)
  return lex
}

/** The installation's lexicon cache, shared by every data directory (content-addressed). */
const SHARED_CACHE_DIR = path.join(projectRoot, 'node_modules', '.cache', 'tbt-watch')

/** Writes the compiled lexicon under `dir` (a temporary file renamed: readers never see half a file). */
function writeCache(dir: string, name: string, text: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true })
    const tmp = path.join(dir, `${name}.${process.pid}.tmp`)
    fs.writeFileSync(tmp, text)
    fs.renameSync(tmp, path.join(dir, name))
  } catch {
    // A read-only cache directory only costs speed.
  }
}

export interface TermMatch extends LexiconTerm {
  start: number
  end: number
  /** 1 when the words agree on their light stems too, less when only the Porter stems do */
  quality?: number
  /** the term qualifies another noun of its phrase ("fruit" in "fruit infusions"); its weight is lowered */
  attributive?: boolean
  /** characters of words about the product between an attributive Chinese term and the rest of its phrase (天然气|产品运输|储罐) */
  gap?: number
  /** a Latin word that qualifies a noun of its phrase the lexicon does not know ("pig" in "pig creep meal"): the head is some product, maybe another's */
  headless?: boolean
  /** the material named beside the article, which moved it to that material's chapter (rules/materials.yaml) */
  material?: string
  /** the state named beside a farm or fishery product, which moved it to that state's code (rules/states.yaml) */
  state?: string
  /** the code the product had before its state moved it ("0702" for tomatoes read prepared, 2002) */
  stateFrom?: string
  /** the term names what the product is used for or with ("for cosmetic use"); its weight is lowered */
  use?: boolean
  /** the term's words stand apart in one clause ("Cells and batteries, primary"): read at APART, at its head */
  apart?: boolean
}

/**
 * How much a match on Porter stems alone counts. A one-word term that agrees only on its
 * Porter stem is usually another word ("period" and "periodicals", "contain" and
 * "containers", "organic" and "organs"): it does not count. A phrase still does, a little less.
 */
const LOOSE_ONE_WORD = 0
const LOOSE_PHRASE = 0.75

/**
 * How much a term counts that qualifies another noun of its phrase instead of naming the
 * product ("fruit" in "fruit infusions", "battery" in "battery chargers"): the phrase's
 * head, or a longer term, names the product.
 */
export const ATTRIBUTIVE = 0.4
/** How much a broad word counts beside a product of the chapters it stands for (`yields`). */
export const YIELD = 0.3
/** How much a term counts that names the product's use ("for cosmetic use", "used in motor vehicles") while another term names a product. */
export const USE = 0.4
const HEAD_FIRST_LANGS = new Set<string>(['spa', 'fra', 'por'])

/** Whether a word of the text that differs from the term's light stem is a word about the product. */
function aboutDiffers(words: Word[], i: number, light: string[], lang: StemLanguage): boolean {
  for (let k = 0; k < light.length; k++) if (words[i + k].light !== light[k] && aboutWord(words[i + k].light, lang)) return true
  return false
}

/**
 * Matches of lexicon terms in a word sequence; a match inside a longer one is dropped.
 * A one-word term never matches a modifier inside a hyphenated compound.
 */
export function matchLatin(lex: CompiledLexicon, lang: StemLanguage, words: Word[]): TermMatch[] {
  const index = lex.latin.get(lang)
  if (!index) return []
  const found: TermMatch[] = []
  for (let i = 0; i < words.length; i++) {
    const candidates = index.get(words[i].stem)
    if (!candidates) continue
    for (const c of candidates) {
      const n = c.stems.length
      if (i + n > words.length) continue
      if (n === 1 && (words[i].modifier || (c.headed && !words[i].headed))) continue
      // An acronym ("BEE", the Bureau of Energy Efficiency) is a word only where the term is written so ("PVC").
      if (n === 1 && words[i].acronym !== undefined && words[i].acronym !== c.term) continue
      let ok = true
      let exact = true
      for (let k = 0; k < n; k++) {
        if (k > 0 && (words[i + k].stem !== c.stems[k] || words[i + k].brk || (words[i + k].forGap === true) !== (c.forGaps?.includes(k) === true))) { ok = false; break }
        if (words[i + k].light !== c.light[k]) exact = false
      }
      if (!ok) continue
      // A word about the product shares its Porter stem with a product's word only by
      // accident: "labelling of textile products" names no "labels of textile" (5807),
      // "etiquetado" no "etiquetas".
      if (!exact && n > 1 && aboutDiffers(words, i, c.light, lang)) continue
      const quality = exact ? 1 : n === 1 ? LOOSE_ONE_WORD : LOOSE_PHRASE
      if (quality === 0) continue
      // (a phrase that ends inside a hyphenated compound qualifies the compound's head:
      // "Hearing Aid-Compatible Handsets", "steel-framed chairs")
      const attributive = HEAD_FIRST_LANGS.has(lang) ? words[i].attributive : words[i + n - 1].attributive || (n > 1 && words[i + n - 1].modifier)
      let use = true
      for (let k = 0; k < n && use; k++) use = words[i + k].use === true
      found.push({ code: c.code, term: c.term, lang: c.lang, weight: c.weight * quality, start: i, end: i + n, quality, ...(attributive ? { attributive } : {}), ...(use ? { use } : {}) })
    }
  }
  if (lang === 'eng') closedCompounds(index, words, found)
  return settleAttributive(apart(index, words, useLists(dropContained(found), words), lang), HEAD_FIRST_LANGS.has(lang), 2, true)
}

type TermIndex = Map<string, LatinTerm[]>
/** Indexes derived from a language's term index, each built on first use and kept with it. */
function derivedIndex(cache: WeakMap<TermIndex, TermIndex>, index: TermIndex, build: (index: TermIndex) => TermIndex): TermIndex {
  let out = cache.get(index)
  if (!out) cache.set(index, (out = build(index)))
  return out
}

/** Terms by the light stem of their first word. */
const FIRST_LIGHT = new WeakMap<TermIndex, TermIndex>()
function byFirstLight(index: TermIndex): TermIndex {
  const out: TermIndex = new Map()
  for (const list of index.values()) {
    for (const c of list) {
      const same = out.get(c.light[0])
      if (same) same.push(c)
      else out.set(c.light[0], [c])
    }
  }
  return out
}

/**
 * English writes a compound open, hyphenated or closed: "ground nut oil", "cotton-seed
 * oil" and "groundnut oil", "cottonseed oil" are one term. Two words side by side that
 * together spell a term's first word match it (the term may go on after them).
 */
function closedCompounds(index: Map<string, LatinTerm[]>, words: Word[], found: TermMatch[]): void {
  const byLight = derivedIndex(FIRST_LIGHT, index, byFirstLight)
  for (let i = 0; i + 1 < words.length; i++) {
    const b = words[i + 1]
    if (!b.close || words[i].acronym !== undefined || b.acronym !== undefined) continue
    const candidates = byLight.get(words[i].light + b.light)
    if (!candidates) continue
    for (const c of candidates) {
      const n = c.stems.length
      if (i + n + 1 > words.length) continue
      let ok = true
      for (let k = 1; k < n && ok; k++) ok = words[i + 1 + k].stem === c.stems[k] && !words[i + 1 + k].brk && words[i + 1 + k].light === c.light[k]
      if (!ok) continue
      const end = i + 1 + n
      const attributive = words[end - 1].attributive
      const use = words.slice(i, end).every((w) => w.use === true)
      found.push({ code: c.code, term: c.term, lang: c.lang, weight: c.weight, start: i, end, quality: 1, ...(attributive ? { attributive } : {}), ...(use ? { use } : {}) })
    }
  }
}

/**
 * A use runs on through the list it starts, as far as the list names products of the same
 * chapter: "Pneumatiques neufs pour voitures particulières, véhicules utilitaires légers,
 * poids lourds, autobus et motocycles" are tyres for all of them; "chargers for mobile
 * phones and power banks" still name power banks.
 */
function useLists(found: TermMatch[], words: Word[]): TermMatch[] {
  if (found.length < 2 || !found.some((m) => m.use)) return found
  const order = found.map((_, i) => i).sort((a, b) => found[a].start - found[b].start)
  let out: TermMatch[] | null = null
  let prev: TermMatch | null = null
  for (const i of order) {
    const m = (out ?? found)[i]
    if (prev && !m.use && prev.use && m.start === prev.end && !words[m.start].end && m.code.slice(0, 2) === prev.code.slice(0, 2)) {
      out ??= found.slice()
      out[i] = { ...m, use: true }
    }
    prev = (out ?? found)[i]
  }
  return out ?? found
}

/** Heads too generic to be read apart from their qualifier, per stemming language, as light stems. */
const GENERIC_APART: Partial<Record<StemLanguage, Set<string>>> = Object.fromEntries(
  Object.entries({
    eng: ['parts', 'accessories', 'components', 'equipment', 'devices', 'apparatus', 'systems', 'materials', 'articles', 'items', 'goods'],
    spa: ['partes', 'piezas', 'accesorios', 'componentes', 'equipos', 'dispositivos', 'sistemas', 'materiales', 'artículos'],
    fra: ['parties', 'pièces', 'accessoires', 'composants', 'équipements', 'dispositifs', 'systèmes', 'matériaux', 'articles'],
    por: ['partes', 'peças', 'acessórios', 'componentes', 'equipamentos', 'dispositivos', 'sistemas', 'materiais', 'artigos'],
  }).map(([l, words]) => [l, new Set(words.map((w) => lightStem(w, l as StemLanguage)))]),
)

/** Whether the words at p and q, and every word between them, each name a product on their own: items of one list. */
function listed(solo: Set<number>, p: number, q: number): boolean {
  for (let i = Math.min(p, q); i <= Math.max(p, q); i++) if (!solo.has(i)) return false
  return true
}

/** How much a phrase counts whose words stand apart in one clause ("Cells and batteries, primary"). */
export const APART = 0.6
/** How far apart, in words, the words of such a phrase may stand. */
const APART_REACH = 8

/** The terms `apart` may read: phrases of two to four words without "for". */
const APART_INDEX = new WeakMap<TermIndex, TermIndex>()
function apartPhrases(index: TermIndex): TermIndex {
  const out: TermIndex = new Map()
  for (const [stem, list] of index) {
    const phrases = list.filter((c) => c.stems.length >= 2 && c.stems.length <= 4 && !c.forGaps)
    if (phrases.length) out.set(stem, phrases)
  }
  return out
}

/**
 * Phrases whose words stand apart, in another order, within one clause, as the
 * nomenclature and the product fields that copy it write them: "Cells and batteries,
 * primary" (primary batteries), "Tubes, pipes and hollow profiles, seamless, of iron or
 * steel" (seamless steel pipes), "Flat-rolled products of iron, hot-rolled". Read at
 * APART, only where no phrase read in order holds one of its words; the phrase's head (its
 * last word, the first in Spanish, French and Portuguese) stands for it, and the one-word
 * terms it holds give way to it, their weight with them where it is more.
 */
function apart(index: Map<string, LatinTerm[]>, words: Word[], found: TermMatch[], lang: StemLanguage): TermMatch[] {
  if (words.length < 3) return found
  const clause = new Int32Array(words.length)
  for (let i = 1; i < words.length; i++) clause[i] = clause[i - 1] + (words[i].end ? 1 : 0)
  const inPhrase = new Uint8Array(words.length)
  for (const m of found) if (m.end - m.start > 1) inPhrase.fill(1, m.start, m.end)
  const headFirst = HEAD_FIRST_LANGS.has(lang)
  const solo = new Set(found.filter((m) => m.end - m.start === 1).map((m) => m.start))
  const read = new Set(found.map((m) => `${m.code}|${m.term}`))
  // (a term whose words the text does not all hold is passed over at once)
  const lights = new Set<string>()
  for (const w of words) lights.add(w.light)
  const phrases = derivedIndex(APART_INDEX, index, apartPhrases)
  let extra: TermMatch[] | null = null
  let covered: Set<number> | null = null
  for (let i = 0; i < words.length; i++) {
    if (inPhrase[i]) continue
    const candidates = phrases.get(words[i].stem)
    if (!candidates) continue
    for (const c of candidates) {
      const n = c.stems.length
      if (words[i].light !== c.light[0]) continue
      let all = true
      for (let k = 1; k < n && all; k++) all = lights.has(c.light[k])
      if (!all || read.has(`${c.code}|${c.term}`)) continue
      const at = [i]
      for (let k = 1; k < n; k++) {
        let hit = -1
        for (let j = Math.max(0, i - APART_REACH); j < Math.min(words.length, i + APART_REACH + 1) && hit < 0; j++) {
          if (clause[j] === clause[i] && !inPhrase[j] && !at.includes(j) && words[j].light === c.light[k]) hit = j
        }
        if (hit < 0) break
        at.push(hit)
      }
      if (at.length < n) continue
      // (in order and side by side it is a phrase read already)
      if (at.every((p, k) => k === 0 || p === at[k - 1] + 1)) continue
      // (a word after "in" or "with" is not a qualifier: "Crustaceans, in shell or not")
      if (at.some((p) => words[p].use || words[p].prep !== undefined)) continue
      // (products named one after another are a list, "meat, fish or crustaceans",
      // "textiles, apparel, footwear and leather", not one phrase)
      if (at.some((p, k) => at.some((q, l) => l > k && listed(solo, p, q)))) continue
      const head = headFirst ? at[0] : at[n - 1]
      // (a generic head, "clothing … accessories", "vehicles … parts", joins too much)
      if (GENERIC_APART[lang]?.has(words[head].light)) continue
      // (it counts at least as much as its head, where that names a product on its own)
      let weight = c.weight * APART
      for (const m of found) if (m.end - m.start === 1 && m.start === head) weight = Math.max(weight, m.weight)
      ;(extra ??= []).push({ code: c.code, term: c.term, lang: c.lang, weight, start: head, end: head + 1, quality: APART, apart: true })
      covered ??= new Set()
      for (const p of at) covered.add(p)
    }
  }
  if (!extra) return found
  const cov = covered!
  // (in the text's order: the first of equal votes is the one named first)
  return [...found.filter((m) => !(m.end - m.start === 1 && cov.has(m.start))), ...extra].sort((a, b) => a.start - b.start)
}

/**
 * A term in a use phrase counts less only where another term of the same text, outside
 * such phrases, names a product of another code: "coconut oil for cosmetic use" is about
 * the oil, but "for cosmetic use" alone still says cosmetics. `context` holds every
 * language's reading of the text (a Spanish product and a use read as Portuguese meet).
 */
export function settleUse(found: TermMatch[], context: TermMatch[] = found): TermMatch[] {
  if (!found.some((m) => m.use)) return found
  return found.map((m) => {
    if (!m.use) return m
    const { use: _, ...plain } = m
    return context.some((o) => !o.use && o.code !== m.code) ? { ...m, weight: m.weight * USE } : plain
  })
}

/**
 * A qualifying word counts less only where its phrase's head names a product of its own
 * (within `reach` positions after it, or before it where heads come first): "battery" in
 * "battery chargers" gives way to chargers, but "钢" in "钢扁轧产品" stays, since nothing
 * else names those steel products.
 */
function settleAttributive(found: TermMatch[], headFirst: boolean, reach: number, latin = false): TermMatch[] {
  if (!found.some((m) => m.attributive)) return found
  // Heads are settled first (from the phrase's end: the right in English and Chinese, the
  // left where heads come first), so that a qualifier whose own head names nothing counts
  // as the head of what qualifies it: 芒果 in 芒果插枝植物 (插枝 qualifies 植物, which is no term).
  const order = found.map((_, i) => i).sort((a, b) => (headFirst ? found[a].start - found[b].start : found[b].start - found[a].start))
  // (Until settled, a qualifier still says so in `out`: it heads nothing yet.)
  const out: TermMatch[] = found.slice()
  for (const i of order) {
    const m = found[i]
    if (m.attributive) {
      const far = reach + (m.gap ?? 0)
      // (A term that is itself a word about the product, 能效 or 能源效率, heads nothing.)
      const head = out.some((o, j) => j !== i && o.code !== m.code && !o.attributive && !HAN_ABOUT.has(o.term) && (headFirst ? o.end <= m.start && o.end >= m.start - far : o.start >= m.end && o.start <= m.end + far))
      if (!head) {
        const { attributive: _, gap: _g, ...plain } = m
        // (a Latin word qualifying a noun the lexicon does not know: "pig creep meal")
        out[i] = latin ? { ...plain, headless: true } : plain
      } else out[i] = { ...m, weight: m.weight * ATTRIBUTIVE }
    }
  }
  return out
}

/**
 * Matches of Chinese terms as substrings of a text's Han runs. `words`: the one-character
 * terms the segmenter cut out of the same runs (matchHanWords), which may head a phrase
 * (萝卜 in 萝卜籽 qualifies 籽).
 */
export function matchHan(lex: CompiledLexicon, runs: string[], words: TermMatch[] = [], cut?: (run: string) => string[], listed: boolean[] = []): TermMatch[] {
  const found: TermMatch[] = []
  let base = 0
  for (const run of runs) {
    // With the segmenter's words: which word each character is in.
    const wordOf = cut ? wordIndex(cut(run), run.length) : null
    for (let i = 0; i < run.length; i++) {
      const max = Math.min(lex.hanMaxLength, run.length - i)
      for (let len = 1; len <= max; len++) {
        const piece = run.slice(i, i + len)
        const hits = lex.han.get(piece)
        // A term that begins inside one word and ends inside the next names neither:
        // 报刊 (periodicals) in 公报|刊登 (the gazette published).
        if (hits && !(wordOf && straddles(wordOf, i, i + len))) {
          const rest = run.slice(i + len)
          // 农药残留, 兽药残留量: what is left in a food, not the product (see RESIDUE_AFTER)
          const use = HAN_RESIDUE.test(rest)
          const gap = use ? -1 : headGap(rest)
          const attributive = gap >= 0
          for (const h of hits) found.push({ ...h, start: base + i, end: base + i + len, ...(attributive ? { attributive, ...(gap ? { gap } : {}) } : {}), ...(use ? { use } : {}) })
        }
        // Stop as soon as no term starts with what we have: most positions end at length 1 or 2.
        if (!lex.hanPrefixes.has(piece)) break
      }
    }
    // Runs are separate; keep their offsets apart so no span crosses two runs.
    base += run.length + 1
  }
  const terms = listItems(dropContained(found), runs, listed)
  return settleAttributive([...terms, ...words], false, 3).slice(0, terms.length)
}

/**
 * The items of a list qualify the head its last item qualifies, through 的 or as plants a
 * seed or seedling is of: in 番茄、辣椒、黄瓜和西瓜种子 (seeds of tomato, pepper, cucumber and
 * watermelon) and 玩具、童车和婴儿车的轮子 every item is what the seeds or the wheels are of,
 * not a product of its own. Items are joined by 和, 及, 与, 或 or an enumeration comma (、,
 * between runs: `listed`).
 */
function listItems(found: TermMatch[], runs: string[], listed: boolean[]): TermMatch[] {
  if (found.length < 2 || !found.some((m) => m.attributive)) return found
  // the character after each offset, as matchHan counts them (runs one apart)
  const joined = runs.map((r, k) => r + (listed[k] ? '、' : ' ')).join('')
  const byStart = new Map<number, TermMatch>()
  for (const m of found) {
    const o = byStart.get(m.start)
    if (!o || o.end < m.end) byStart.set(m.start, m)
  }
  const out = found.slice()
  // from the end of the list to its start, so that the head passes along the whole list
  const order = found.map((_, i) => i).sort((a, b) => found[b].start - found[a].start)
  for (const i of order) {
    const m = out[i]
    if (m.attributive || m.use || !(joined[m.end] === '、' || HAN_LIST_LINK.has(joined[m.end]))) continue
    const next = byStart.get(m.end + 1)
    if (!next?.attributive) continue
    // Only where the list plainly shares its head: through 的 (玩具、童车和婴儿车的轮子), or
    // a head that is what plants are grown from (番茄、辣椒和西瓜种子); "A、B和C涂料" may be
    // A, B and C coatings or A, B and coatings of C.
    const at = next.end + (next.gap ?? 0)
    if (joined[at - 1] !== '的' && !LIST_HEADS.some((w) => joined.startsWith(w, at))) continue
    const item: TermMatch = { ...m, attributive: true, gap: next.end + (next.gap ?? 0) - m.end }
    out[i] = item
    if (byStart.get(m.start) === m) byStart.set(m.start, item)
  }
  return out
}

/** Heads a list of plants shares without 的: seeds, seedlings, cuttings, bulbs. */
const LIST_HEADS = ['种子', '种苗', '苗木', '幼苗', '植株', '插条', '插枝', '砧木', '种球', '鳞茎', '块茎', '繁殖材料']

/** For each character of a run, the index of the segmenter's word it belongs to. */
function wordIndex(words: string[], length: number): Int32Array {
  const out = new Int32Array(length)
  let at = 0
  words.forEach((w, k) => {
    out.fill(k, at, Math.min(length, at + w.length))
    at += w.length
  })
  return out
}

/** Whether [start, end) starts after the first character of one word and ends before the last of another. */
function straddles(wordOf: Int32Array, start: number, end: number): boolean {
  const a = wordOf[start]
  const b = wordOf[end - 1]
  return a !== b && start > 0 && wordOf[start - 1] === a && end < wordOf.length && wordOf[end] === b
}

/**
 * What may follow a Chinese product word and leave it the head of its phrase: the end of
 * the phrase, a particle (HAN_STOP: 的, 和, 等), or a word about the product rather than another
 * product (安全, 标签, 回收, 要求...). Anything else makes it a qualifier of what follows:
 * 水果 in 水果茶, 燃料 in 颗粒燃料取暖炉, 汽车 in 汽车轮胎, and "X用Y" (Y used for X).
 */
const HAN_PHRASE_ENDS = ['产品', '用品', '制品', '安全', '技术', '要求', '规范', '标准', '法规', '条例', '规定', '规程', '规则', '标签', '标识', '标志', '说明', '质量', '卫生', '行业', '企业', '厂商', '生产', '制造', '加工', '检测', '检验', '测试', '试验', '测定', '分析', '能效', '能耗', '能源效率', '能源消耗', '效率', '限值', '限定值', '限量', '含量', '管理', '通用', '进口', '出口', '贸易', '销售', '使用', '回收', '处理', '处置', '运输', '储存', '贮存', '认证', '注册', '审批', '评估', '评定', '合格', '性能', '排放', '召回', '领域', '市场', '目录', '清单', '名录', '分类', '命名', '术语', '定义', '方法', '指南', '草案', '修订', '修正', '法', '部分', '系列', '相关']

/** Chinese words for what a product holds: a residue, a content, a limit, a release or migration. */
const HAN_HELD = ['残留', '含量', '限量', '释放', '溶出', '迁移']
/**
 * What makes the Chinese word before it what a product holds, not the product: a residue
 * (残留, 的最大残留限量), a content, limit, release or migration (甲醛释放限量, 铅含量,
 * 铅镉溶出量, 迁移量).
 */
const HAN_RESIDUE = new RegExp(`^的?(?:最大)?(?:${HAN_HELD.join('|')})`)

/** Chinese words about a product rather than naming one (要求, 标签, 安全…), as a set. */
export const HAN_ABOUT: ReadonlySet<string> = new Set(HAN_PHRASE_ENDS)

/** Nouns that begin with a particle's character (种 in 各种, 上 in 以上): 西瓜种子 are watermelon seeds. */
const HAN_STOP_NOUNS = ['种子', '种苗', '种畜', '种禽', '种蛋', '种猪', '种牛', '种薯', '种球', '上衣', '中药']

function qualifiesNext(rest: string): boolean {
  if (!rest) return false
  if (rest[0] === '用') return rest.length > 1 && !HAN_PHRASE_ENDS.some((w) => rest.startsWith(w))
  // (用 is one of them too, but "X用Y" was read above.)
  if (HAN_STOP.has(rest[0]) && !HAN_STOP_NOUNS.some((w) => rest.startsWith(w))) return false
  return !HAN_PHRASE_ENDS.some((w) => rest.startsWith(w))
}

/**
 * Whether a Chinese product word qualifies a later word of its phrase, and across how many
 * characters: 0 when the next word is another noun (汽车轮胎), the length of the words about
 * the product in between when the phrase goes on after them (天然气|产品运输|储罐: tanks for
 * transporting natural gas; 水果|加工|设备: fruit-processing machinery), -1 when the phrase
 * ends there (电池安全要求) or at a particle.
 */
function headGap(rest: string): number {
  if (qualifiesNext(rest)) return 0
  const de = possessiveGap(rest)
  if (de > 0) return de
  if (!rest || HAN_STOP.has(rest[0])) return -1
  let gap = 0
  for (;;) {
    const w = HAN_PHRASE_ENDS.find((e) => rest.startsWith(e, gap))
    if (!w) break
    gap += w.length
  }
  const next = rest.slice(gap)
  return gap > 0 && next.length >= 2 && !HAN_STOP.has(next[0]) && qualifiesNext(next) ? gap : -1
}

/**
 * "X的Y", and "X或Z的Y" (X and Z alike): Y is the head of the phrase, X says whose or of what
 * (手机的充电器: chargers; 汽车的轮胎标签: tyres; 液体燃料或气体的燃烧器: burners). The
 * gap reaches across 的 (and the rest of the list) to where Y begins; whether Y names a
 * product is settled with the other qualifiers. Not where what follows 的 is a word about
 * the product (电池的安全要求) or a content, limit or residue of X (玩具的邻苯二甲酸酯含量:
 * the toys are regulated), nor across a clause.
 */
const HAN_LIST_LINK = new Set('或和及与'.split(''))
const HAN_MEASURED = new RegExp(`^[^的，。；：、]{0,12}?(?:${[...HAN_HELD, '浓度', '限值', '总量', '比例'].join('|')})`)

function possessiveGap(rest: string): number {
  let at = 0
  if (HAN_LIST_LINK.has(rest[0])) {
    // One more item of the list, up to its 的 (a few characters, no particle in between).
    const de = rest.indexOf('的', 1)
    if (de < 2 || de > 9 || [...rest.slice(1, de)].some((c) => HAN_STOP.has(c))) return -1
    at = de
  } else if (rest[0] !== '的') return -1
  const after = rest.slice(at + 1)
  if (after.length < 2 || HAN_STOP.has(after[0]) || HAN_PHRASE_ENDS.some((w) => after.startsWith(w)) || HAN_MEASURED.test(after)) return -1
  return at + 1
}

/**
 * One-character Chinese terms where the segmenter cuts them out as words of their own;
 * offsets are characters, counted as matchHan counts them (runs one apart).
 */
export function matchHanWords(lex: CompiledLexicon, runs: string[], cut: (run: string) => string[]): TermMatch[] {
  const found: TermMatch[] = []
  let base = 0
  for (const run of runs) {
    let at = base
    for (const w of cut(run)) {
      const hits = w.length === 1 ? lex.hanWords.get(w) : undefined
      if (hits) for (const h of hits) found.push({ ...h, start: at, end: at + 1 })
      at += w.length
    }
    base += run.length + 1
  }
  return found
}

/** Mixed-script Chinese terms, case-insensitive, in a whole (lower-cased) text. */
export function matchMixed(lex: CompiledLexicon, lowerText: string): TermMatch[] {
  const found: TermMatch[] = []
  for (const t of lex.mixed) {
    const at = lowerText.indexOf(t.term)
    if (at >= 0) found.push({ ...t, start: at, end: at + t.term.length })
  }
  return found
}

function dropContained(found: TermMatch[]): TermMatch[] {
  if (found.length < 2) return found
  return found.filter((m) => !found.some((o) => o !== m && o.start <= m.start && o.end >= m.end && o.end - o.start > m.end - m.start))
}
