import path from 'node:path'
import { z } from 'zod'
import { loadYamlFile } from '../util/yaml-file.js'
import { projectRoot } from '../util/paths.js'
import { lightStem, stripAccents, type StemLanguage, type Word } from './normalize.js'
import { ATTRIBUTIVE, LANG_KEYS, type TermMatch } from './lexicon.js'

export const DEFAULT_MATERIALS_FILE = path.join(projectRoot, 'rules', 'materials.yaml')

const Heading = z.string().regex(/^\d{4}$/, 'headings: 4 digits')
const Words = z.array(z.string().min(1)).optional()
const MaterialsSchema = z.strictObject({
  articles: z.array(z.string().regex(/^\d{2}$/, 'chapters: 2 digits')),
  household: z.array(Heading),
  materials: z.record(
    z.string(),
    z.strictObject({ chapter: z.string().regex(/^\d{2}$/), household: Heading, other: Heading, zh: Words, en: Words, es: Words, fr: Words, pt: Words }),
  ),
})

interface Material { name: string; chapter: string; household: string; other: string; word: string }

/**
 * A rules file's words by language: Chinese words as written, longest first, and the
 * other languages' words by their light stem (accents removed), as the matchers see them.
 */
export class WordsByLanguage<T> {
  readonly han: (T & { word: string })[] = []
  readonly latin = new Map<StemLanguage, Map<string, T & { word: string }>>()

  add(entry: Partial<Record<string, string[] | unknown>>, value: T) {
    for (const w of (entry.zh as string[] | undefined) ?? []) this.han.push({ ...value, word: w })
    for (const [key, lang] of Object.entries(LANG_KEYS)) {
      if (lang === 'han' || !(key in entry)) continue
      for (const w of (entry[key] as string[] | undefined) ?? []) {
        const map = this.latin.get(lang) ?? new Map<string, T & { word: string }>()
        map.set(lightStem(stripAccents(w.toLowerCase()), lang), { ...value, word: w })
        this.latin.set(lang, map)
      }
    }
    this.han.sort((a, b) => b.word.length - a.word.length)
  }
}

/** In these languages the material follows its article ("pajitas de papel"). */
const AFTER = new Set<StemLanguage>(['spa', 'fra', 'por'])

/**
 * Materials that decide an article's chapter (rules/materials.yaml): an article whose
 * lexicon heading belongs to one material's chapter is read under the material the notice
 * names right before it (竹吸管, "glass drinking straws") or, in Spanish, French and
 * Portuguese, right after it, across a comma too ("pajitas de papel", "Tubos y accesorios de tubería,
 * de plástico").
 */
export class Materials {
  private readonly articles: Set<string>
  private readonly household: Set<string>
  private readonly words = new WordsByLanguage<Omit<Material, 'word'>>()

  constructor(file = DEFAULT_MATERIALS_FILE) {
    const data = loadYamlFile(file, MaterialsSchema)
    this.articles = new Set(data.articles)
    this.household = new Set(data.household)
    for (const [name, m] of Object.entries(data.materials)) {
      for (const h of [m.household, m.other]) if (!h.startsWith(m.chapter)) throw new Error(`${file}: ${name}: ${h} is not a heading of chapter ${m.chapter}`)
      this.words.add(m, { name, chapter: m.chapter, household: m.household, other: m.other })
    }
  }

  /** The heading an article's code stands for under a material, or null where the material is the article's own or the article is not one of a material. */
  private redirect(code: string, m: Material): string | null {
    const ch = code.slice(0, 2)
    if (!this.articles.has(ch) || ch === m.chapter) return null
    return this.household.has(code.slice(0, 4)) ? m.household : m.other
  }

  private anyArticle(found: TermMatch[]): boolean {
    for (const t of found) if (this.articles.has(t.code.slice(0, 2))) return true
    return false
  }

  private moved(t: TermMatch, m: Material): TermMatch {
    const code = this.redirect(t.code, m)
    return code ? { ...t, code, material: m.word } : t
  }

  /**
   * Chinese matches (offsets in the runs joined one apart, as matchHan counts them) read
   * under the material written right before them; the material's own match (不锈钢 in
   * 不锈钢保温杯) then qualifies the article and counts less.
   */
  readHan(found: TermMatch[], runs: string[]): TermMatch[] {
    if (!this.anyArticle(found)) return found
    const joined = runs.join(' ')
    const materialEnds = new Set<number>()
    const articles = new Set<number>()
    const read = found.map((t, i) => {
      const raw = joined.slice(Math.max(0, t.start - 6), t.start)
      // (钢制吸管, 钢制的容器, 塑料的盖子: 制 or 质, 的, or both between them)
      const before = raw.replace(/(?:[制质製質]的?|的)$/, '')
      const m = this.words.han.find((x) => before.endsWith(x.word))
      if (!m) return t
      if (this.articles.has(t.code.slice(0, 2))) {
        materialEnds.add(t.start - (raw.length - before.length))
        articles.add(i)
      }
      return this.moved(t, m)
    })
    return materialEnds.size ? read.map((t, i) => (!articles.has(i) && materialEnds.has(t.end) ? qualifier(t) : t)) : read
  }

  /**
   * Latin matches (word offsets) read under the material named next to them; the
   * material's own match ("acier inoxydable" in "ustensiles de cuisine en acier
   * inoxydable") then qualifies the article and counts less.
   */
  readLatin(found: TermMatch[], words: Word[], lang: StemLanguage): TermMatch[] {
    const map = this.words.latin.get(lang)
    if (!map || !this.anyArticle(found)) return found
    const after = AFTER.has(lang)
    const materialAt = new Set<number>()
    const articles = new Set<number>()
    const materialOf = (k: number) => (words[k] ? map.get(stripAccents(words[k].light)) : undefined)
    const read = found.map((t, i) => {
      // Where the material's word stands: before the article, within its phrase; after it,
      // across a comma too, as the nomenclature writes "Artículos para el transporte o
      // envasado, de plástico", or after a pair of nouns, which it qualifies both
      // ("envases y equipamientos elastoméricos"). English names it after "of" too
      // ("tubes of steel", "containers of plastics").
      let at = -1
      if (after) at = !materialOf(t.end) && words[t.end + 1] && !words[t.end + 1].brk && materialOf(t.end + 1) ? t.end + 1 : t.end
      else if (!words[t.start].brk && materialOf(t.start - 1)) at = t.start - 1
      else if (words[t.end]?.of && !words[t.end].brk) at = t.end
      const m = materialOf(at)
      if (!m) return t
      if (this.articles.has(t.code.slice(0, 2))) {
        // "de fundición, hierro o acero": every material word of the list qualifies it.
        for (let k = at; k < words.length && (k === at || map.has(stripAccents(words[k].light))); k++) materialAt.add(k)
        articles.add(i)
      }
      return this.moved(t, m)
    })
    if (!materialAt.size) return read
    // The material's match starts at its word after the article, or ends at it before.
    return read.map((t, i) => (!articles.has(i) && (materialAt.has(t.start) || materialAt.has(t.end - 1)) ? qualifier(t) : t))
  }
}

/** A match that names what an article is made of: it qualifies the article. */
const qualifier = (t: TermMatch): TermMatch => (t.attributive ? t : { ...t, weight: t.weight * ATTRIBUTIVE, attributive: true })
