import path from 'node:path'
import { z } from 'zod'
import { loadYamlFile } from '../util/yaml-file.js'
import { projectRoot } from '../util/paths.js'
import { lightStem, STEM_LANGUAGES, stripAccents, type StemLanguage, type Word } from './normalize.js'
import type { TermMatch } from './lexicon.js'
import { WordsByLanguage } from './materials.js'

export const DEFAULT_STATES_FILE = path.join(projectRoot, 'rules', 'states.yaml')

const Code = z.string().regex(/^\d{2}(\d{2}){0,2}$/, 'codes: 2, 4 or 6 digits')
const Words = z.array(z.string().min(1)).optional()
const StatesSchema = z.strictObject({
  states: z.record(
    z.string(),
    z.strictObject({ zh: Words, en: Words, es: Words, fr: Words, pt: Words, moves: z.record(Code, Code), keep: z.array(Code), reach: z.literal('clause').optional(), against: Words }),
  ),
})

interface State { name: string; word: string; moves: [string, string][]; keep: string[]; reach?: 'clause'; against?: Set<string> }

/** How many words before a Latin product its state may stand ("fresh chilli peppers"). */
const BEFORE = 2
/** How many characters may stand between a Chinese state and its product (罐装太平洋鲑鱼). */
const HAN_GAP = 3
/** How many words of a list of products may stand between a product and the state after the list. */
const AFTER_LIST = 12
/** How far (in words) and across how many clause ends a state of `reach: clause` stands after its product. */
const CLAUSE_REACH = 30
const CLAUSES_AFTER = 2
/** Words a list of products holds beside the products: "and other fruit", "y artículos similares". */
const LIST_WORDS = ['other', 'others', 'similar', 'articles', 'otro', 'otros', 'otra', 'otras', 'demás', 'similares', 'análogos', 'artículos', 'autre', 'autres', 'similaires', 'analogues', 'outro', 'outros', 'outra', 'outras', 'semelhantes', 'artigos']
const listWords = new Map<StemLanguage, Set<string>>()
const isListWord = (w: Word, lang: StemLanguage) => {
  let set = listWords.get(lang)
  if (!set) listWords.set(lang, (set = new Set(LIST_WORDS.map((x) => stripAccents(lightStem(x, lang))))))
  return set.has(stripAccents(w.light))
}

/**
 * States that decide a farm or fishery product's chapter (rules/states.yaml): a product
 * whose lexicon code a state moves is read in the state the notice names right beside it
 * (冷冻蔬菜 → 0710, 番茄罐头 → 2002, "dried mushrooms" → 0712, "Tomatoes, prepared or
 * preserved" → 2002, "fresh chilli peppers" → 0709, "Crustáceos, moluscos…, preparados o
 * conservados" → 1605, 针织衬衫 → 6105).
 */
export class States {
  private readonly words = new WordsByLanguage<Omit<State, 'word'>>()
  /** every prefix some state moves: a quick test of whether a match can move at all */
  private readonly movable = new Set<string>()

  constructor(file = DEFAULT_STATES_FILE) {
    const data = loadYamlFile(file, StatesSchema)
    for (const [name, s] of Object.entries(data.states)) {
      // Longest prefix first: "0702" (tomatoes) before "07" (vegetables).
      const moves = Object.entries(s.moves).sort((a, b) => b[0].length - a[0].length)
      for (const [from] of moves) this.movable.add(from.slice(0, 2))
      // (words that, beside the product too, say the state is another's: "electric and gas water heaters")
      const against = s.against?.length ? new Set(s.against.flatMap((w) => STEM_LANGUAGES.map((l) => stripAccents(lightStem(w.toLowerCase(), l))))) : undefined
      this.words.add(s, { name, moves, keep: s.keep, reach: s.reach, against })
    }
  }

  /** The code a product has in a state, or null where the state leaves it (not a product it moves, or one already in that state). */
  private target(code: string, s: State): string | null {
    if (s.keep.some((k) => code.startsWith(k))) return null
    const move = s.moves.find(([from]) => code.startsWith(from))
    return move && !code.startsWith(move[1]) ? move[1] : null
  }

  private anyMovable(found: TermMatch[]): boolean {
    for (const t of found) if (this.movable.has(t.code.slice(0, 2))) return true
    return false
  }

  private moved(t: TermMatch, s: State | undefined): TermMatch {
    const code = s && this.target(t.code, s)
    return code ? { ...t, code, state: s.word, stateFrom: t.code } : t
  }

  /** Chinese matches (offsets in the runs joined one apart, as matchHan counts them) read in the state written right before them (制作或保藏的番茄, 的 between them or not) or right after them. */
  readHan(found: TermMatch[], runs: string[]): TermMatch[] {
    if (!this.anyMovable(found)) return found
    const joined = runs.join(' ')
    const han = this.words.han
    return found.map((t) => {
      if (!this.movable.has(t.code.slice(0, 2))) return t
      // "制作或保藏的水果": a 的 may stand between the state and the product.
      const before = joined.slice(Math.max(0, t.start - 10), t.start).replace(/的$/, '')
      const after = joined.slice(t.end, t.end + 4)
      // A state of two characters or more may stand a short qualifier away (罐装|太平洋|鲑鱼).
      const near = (x: { word: string }) => {
        if (before.endsWith(x.word)) return true
        const at = before.lastIndexOf(x.word)
        return x.word.length >= 2 && at >= 0 && before.length - at - x.word.length <= HAN_GAP && !before.slice(at).includes(' ')
      }
      const s = han.find((x) => near(x) && this.target(t.code, x)) ?? han.find((x) => after.startsWith(x.word) && this.target(t.code, x))
      return this.moved(t, s)
    })
  }

  /** Latin matches (word offsets) read in the state named right before them (up to two words, within the phrase) or right after them. */
  readLatin(found: TermMatch[], words: Word[], lang: StemLanguage): TermMatch[] {
    const map = this.words.latin.get(lang)
    if (!map || !this.anyMovable(found)) return found
    // (a state denied, "not knitted or crocheted", "whether or not cooked", is none)
    const stateWord = (i: number) => {
      const w = words[i]
      return w && !w.neg ? map.get(stripAccents(w.light)) : undefined
    }
    const stateAt = (i: number, code: string) => {
      const s = stateWord(i)
      return s && this.target(code, s) ? s : undefined
    }
    // Words that name a product: a list of them ("Crustáceos, moluscos, …") ends where
    // its state may stand.
    const named = new Uint8Array(words.length)
    for (const m of found) named.fill(1, m.start, m.end)
    // A state whose reach is the clause ("Jackets and blazers, men's or boys', of
    // synthetic fibres, knitted or crocheted"): its first word in the clause, not denied;
    // or in the clauses that follow and name no product of their own, as the nomenclature
    // writes "Coats; men's or boys' overcoats, anoraks…; knitted or crocheted" ("not
    // swimwear" names none).
    const inClause = (t: TermMatch) => {
      let crossed = 0
      for (let i = t.end; i < words.length && i - t.end < CLAUSE_REACH; i++) {
        if (words[i].end && ++crossed > CLAUSES_AFTER) break
        if (crossed && named[i] && !words[i].neg) break
        const s = stateWord(i)
        if (s) return s.reach === 'clause' && this.target(t.code, s) ? s : undefined
      }
      return undefined
    }
    return found.map((t) => {
      if (!this.movable.has(t.code.slice(0, 2))) return t
      let s: State | undefined
      for (let i = t.start - 1; i >= Math.max(0, t.start - BEFORE) && !s; i--) {
        if (words[i + 1].brk) break
        s = stateAt(i, t.code)
      }
      // After the product: the next word, across a comma as the nomenclature writes it,
      // or the word after the list of products it ends or belongs to.
      let after = t.end
      let unknown = 0
      // (Up to two words of the list may be products the lexicon does not know; the list
      // ends with its clause.)
      while (after < words.length && after - t.end < AFTER_LIST && !words[after].end && !stateAt(after, t.code) && (named[after] || isListWord(words[after], lang) || ++unknown <= 2)) after++
      s ??= words[after]?.end ? undefined : stateAt(after, t.code)
      s ??= inClause(t)
      if (s?.against) {
        for (let i = Math.max(0, t.start - BEFORE); i <= Math.min(after, words.length - 1); i++) if (s.against.has(stripAccents(words[i].light))) return t
      }
      return this.moved(t, s)
    })
  }
}
