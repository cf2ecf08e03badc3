import { CategoryIndex, type Category } from '../domain/categories.js'
import { hsCodesInText } from '../domain/hs.js'
import { HsEditions, IcsCrosswalk } from './crosswalk.js'
import { detectLanguage } from './language.js'
import { chineseSegmenter, cutWords, toVector, wordFeatures, type TextPart } from './features.js'
import { ATTRIBUTIVE, matchHan, matchHanWords, matchLatin, matchMixed, settleUse, YIELD, type CompiledLexicon, type TermMatch } from './lexicon.js'
import { HEADING_PRIOR_FLOOR, LinearModel, type FeatureVector, type TrainingExample } from './linear-model.js'
import type { Materials } from './materials.js'
import type { States } from './states.js'
import { NearTerms } from './near-terms.js'
import { NomenclatureIndex } from './nomenclature.js'
import { cleanText, hanListed, hanRuns, IN_WORDS, latinWords, ofPhrases, STEM_LANGUAGES, toSimplified, WITH_WORDS, type StemLanguage, type Word } from './normalize.js'
import { dropAuthorities, dropExclusions, productPhrases, segmentDescription } from './scope.js'
import { scrubCodes } from './scrub.js'
import type { CategoryGuess, ClassifyInput, ClassifyResult, Evidence, HsGuess, LabelledExample } from './types.js'

export interface Knowledge {
  /** the heading to name when the words name only a chapter */
  chapterDefaults?: Map<string, string>
  lexicon: CompiledLexicon
  ics: IcsCrosswalk
  editions: HsEditions
  categories: CategoryIndex
  nomenclature?: NomenclatureIndex
  /** materials that decide an article's chapter (rules/materials.yaml) */
  materials?: Materials
  /** states that decide a farm or fishery product's chapter (rules/states.yaml) */
  states?: States
}

/** How much a word found in each field counts: the title and product fields name the product, the description often names its uses and neighbours. */
const FIELD_WEIGHTS = { title: 3, products: 3, description: 1.2, objectives: 0.3 } as const
type Field = keyof typeof FIELD_WEIGHTS

/** How much a product phrase found in a scope sentence counts, against a product field's words. */
const PHRASE_WEIGHT = 0.5

/** How much each field's words count for the learnt model. */
const MODEL_FIELD_WEIGHTS = { title: 1, products: 1, description: 0.6 } as const

/** A second stemming pass for text in one language, for words borrowed from another. */
const SECONDARY: Record<string, [StemLanguage, number][]> = {
  eng: [],
  spa: [['eng', 0.6]],
  fra: [['eng', 0.6]],
  por: [['spa', 0.8], ['eng', 0.6]],
  vie: [['eng', 0.6]],
  cmn: [],
}

const SCORE = {
  explicit: 0.97,
  explicitChapter: 0.93,
  /** words in a chapter the notice's own codes do not name: kept as a hint, well below them */
  besideExplicit: 0.4,
  /** pseudo-mass for "none of the chapters seen", which keeps one weak match from reading as certainty */
  unsure: 0.5,
  sharpen: 1.5,
  icsWeight: 2.5,
  nomenclatureWeight: 2.5,
  /** a heading is named (rather than only its chapter) when it holds this share of the chapter's heading votes */
  headingShare: 0.3,
  /** NearTerms: the least similarity that is a guess, and what a guess weighs (a weak one) */
  nearMin: 0.03,
  nearWeight: 1.2,
  categoryThreshold: 0.35,
  categoryRelative: 0.6,
} as const

interface Vote {
  code: string
  value: number
  evidence: Evidence
  fieldWeight?: number
  /** terms of one chapter whose words overlap in one reading of a field ("Motor Vehicle Safety": "motor vehicles", "vehicle safety") vote once, as one */
  group?: string
}

/** One NearTerms index per compiled lexicon, built the first time a notice matches nothing. */
const nearIndexes = new WeakMap<CompiledLexicon, NearTerms>()
function nearTerms(lex: CompiledLexicon): NearTerms {
  let n = nearIndexes.get(lex)
  if (!n) nearIndexes.set(lex, (n = new NearTerms(lex)))
  return n
}

/** What the lexicon, the crosswalks and the nomenclature make of a notice's words, before the model. */
export interface Analysis {
  lang: { language: string; confidence: number; method: string }
  votes: Vote[]
  tally: Tally
  /** the model's input */
  x: FeatureVector
  evidence: Evidence[]
}

/** A guess with what decided it: `share` is the heading's share of its chapter's heading votes (1 for a chapter, or a code on the notice). */
interface Guess extends HsGuess { share: number }

export class ProductClassifier {
  constructor(
    private readonly k: Knowledge,
    public model: LinearModel | null = null,
  ) {}

  classify(input: ClassifyInput): ClassifyResult {
    const evidence: Evidence[] = []
    const allText = [input.title, input.products, input.description].filter(Boolean).join('\n')
    // 1. Codes printed on the notice.
    const explicit = this.explicitCodes(input, allText, evidence)
    // 2. Words, ICS groups, the nomenclature.
    const a = this.analyse(input)
    evidence.unshift(...a.evidence)
    // 3. The learnt model, on top of the lexicon.
    const ranked = this.rank(a, evidence)
    const hs = this.mergeWithExplicit(explicit, ranked)
    const categories = this.categoriesOf(hs, explicit.length > 0)
    const shown = new Set(hs.map((h) => h.code.slice(0, 2)))
    const supporting = a.votes
      .filter((v) => shown.has(v.code.slice(0, 2)))
      .sort((x, y) => y.value - x.value)
      .slice(0, 12)
      .map((v) => v.evidence)
    return { id: input.id, language: a.lang.language, hs: hs.map(({ code, score }) => ({ code, score })), categories, evidence: [...evidence, ...supporting] }
  }

  /**
   * Everything the words say, without the codes printed on the notice (the training path
   * asks for exactly this, so that what the model learns is what it will see).
   */
  analyse(input: ClassifyInput): Analysis {
    const evidence: Evidence[] = []
    // The regulator's name is not the product ("Food and Drug Administration").
    // Nor is what a phrase leaves out ("Cereal flours (excl. wheat…)", "不包括竹制餐具").
    const title = dropExclusions(dropAuthorities(toSimplified(input.title ?? '')))
    // The ICS groups' titles a product field prints beside its codes are those groups.
    const { text: products, ics: titledIcs } = this.icsTitles(dropExclusions(dropAuthorities(toSimplified(input.products ?? ''))))
    const description = dropExclusions(dropAuthorities(toSimplified(input.description ?? '')))
    const allText = [title, products, description].join('\n')
    const lang = detectLanguage(cleanText(allText), input.languageHint)
    evidence.push({ kind: 'language', detail: `${lang.language} (${lang.method})`, weight: round(lang.confidence) })

    // Field parts, the description cut into sentences weighted by what they do.
    const parts: { field: Field; text: string; weight: number }[] = [
      ...titleSegments(title).map((t) => ({ field: 'title' as Field, ...t })),
      { field: 'products', text: products, weight: 1 },
      ...segmentDescription(description).map((s) => ({ field: 'description' as Field, text: s.text, weight: s.weight })),
      // Without a product field (national regulations), the phrases regulatory sentences
      // say they apply to stand in for one.
      ...(products.trim() ? [] : [...new Set(productPhrases(description))].map((text) => ({ field: 'products' as Field, text, weight: PHRASE_WEIGHT }))),
      { field: 'objectives', text: (input.objectives ?? []).join('; '), weight: 1 },
    ]

    const votes: Vote[] = []
    const primary: StemLanguage = (STEM_LANGUAGES as string[]).includes(lang.language) ? (lang.language as StemLanguage) : 'eng'
    const passes: [StemLanguage, number][] =
      lang.language === 'und' || !(lang.language in SECONDARY) || (lang.confidence < 0.75 && lang.method !== 'script')
        ? [[primary, 1], ...(['eng', 'spa', 'fra'] as StemLanguage[]).filter((l) => l !== primary).map((l): [StemLanguage, number] => [l, 0.7])]
        : [[primary, 1], ...SECONDARY[lang.language]]
    const englishQuery = new Map<string, number>()
    const modelParts: TextPart[] = []
    const found: { matches: TermMatch[]; field: Field; weight: number; then?: (ms: TermMatch[]) => TermMatch[]; quoted?: (m: TermMatch) => boolean }[] = []
    for (const part of parts) {
      if (!part.text) continue
      const text = cleanText(part.text)
      const fw = FIELD_WEIGHTS[part.field] * part.weight
      const readings: { matches: TermMatch[]; weight: number; words?: Word[] }[] = []
      for (const [l, lw] of passes) {
        const words = latinWords(text, l)
        // The model reads the same words (codes are digits, which words never hold).
        if (l === primary && part.field !== 'objectives' && this.model) modelParts.push({ words, text, weight: MODEL_FIELD_WEIGHTS[part.field] * part.weight, phrases: part.field !== 'description' })
        if (l === 'eng' && this.k.nomenclature && part.field !== 'objectives') for (const w of words) englishQuery.set(w.stem, (englishQuery.get(w.stem) ?? 0) + fw)
        const matched = matchLatin(this.k.lexicon, l, words)
        const made = this.k.materials ? this.k.materials.readLatin(matched, words, l) : matched
        const plain = heldIn(this.k.states ? this.k.states.readLatin(made, words, l) : made, words)
        const inverted = l === 'eng' ? this.ofReadings(text) : null
        // Words that say what an "A of B" head is made of or from count as a qualifier.
        // (a phrase read apart that "A of B" reads in order is that reading's)
        const mine = inverted ? plain.filter((m) => !(m.apart && inverted.matches.some((o) => o.code === m.code && o.term === m.term))).map((m) => (words.slice(m.start, m.end).every((w) => inverted.qualifiers.has(w.stem)) ? { ...m, weight: m.weight * ATTRIBUTIVE, attributive: true } : m)) : plain
        readings.push({ matches: mine, weight: fw * lw, words })
        if (inverted) readings.push({ matches: inverted.matches, weight: fw * lw })
      }
      for (const r of withinLonger(readings)) found.push({ matches: r.matches, field: part.field, weight: r.weight })
      const runs = hanRuns(text)
      if (runs.length) {
        const seg = this.k.lexicon.hanWords.size ? chineseSegmenter() : null
        const words = seg ? matchHanWords(this.k.lexicon, runs, (r) => cutWords(seg, r)) : []
        const han = matchHan(this.k.lexicon, runs, words, seg ? (r) => cutWords(seg, r) : undefined, hanListed(text))
        const made = this.k.materials ? this.k.materials.readHan(han, runs) : han
        found.push({ matches: [...(this.k.states ? this.k.states.readHan(made, runs) : made), ...words], field: part.field, weight: fw, then: (ms) => purposeDiscount(ms, runs), quoted: quotedHan(text, part.field) })
        this.addTermVotes(votes, matchMixed(this.k.lexicon, text.toLowerCase()), part.field, fw)
      }
    }

    // A use ("for cosmetic use", "pesticide residues") gives way to a product named anywhere
    // in the notice, in any reading of its text.
    const named = found.flatMap((f) => f.matches)
    // A broad word ("food", 食品) stands for the products of several chapters: where the
    // notice names one of them ("cereals", 谷物), that product is what the word meant.
    const yields = this.k.lexicon.yields
    const narrower = (code: string) => {
      const range = yields.get(code)
      if (!range) return false
      return named.some((o) => !yields.has(o.code) && !o.use && Number(o.code.slice(0, 2)) >= range[0] && Number(o.code.slice(0, 2)) <= range[1])
    }
    const yielding = new Set(yields.size && named.some((o) => yields.has(o.code)) ? [...yields.keys()].filter(narrower) : [])
    // The chapter's broad word gives way to a product of that chapter named in a state that
    // moves it out: "Tomatoes, prepared or preserved…; Vegetables and derived products" are
    // the prepared tomatoes (2002), not vegetables (07).
    for (const o of named) if (o.stateFrom) yielding.add(o.stateFrom.slice(0, 2))
    // A word qualifying a noun the lexicon does not know ("pig creep meal", "lemon grass
    // leaves") gives way where the notice names a product of another chapter outright.
    const outright = named.some((o) => o.headless) ? named.filter((o) => !o.use && !o.headless && !o.attributive) : []
    for (const f of found) {
      let settled = settleUse(f.matches, named)
      if (outright.length && settled.some((m) => m.headless)) settled = settled.map((m) => (m.headless && outright.some((o) => o.code.slice(0, 2) !== m.code.slice(0, 2)) ? { ...m, weight: m.weight * ATTRIBUTIVE } : m))
      if (yielding.size) settled = settled.map((m) => (yielding.has(m.code) ? { ...m, weight: m.weight * YIELD } : m))
      this.addTermVotes(votes, f.then ? f.then(settled) : settled, f.field, f.weight, f.quoted)
    }

    // ICS groups, from the fields or quoted in the text ("ICS: 67.220.10").
    // (and the groups whose titles the product field prints without their codes)
    const icsCodes = new Map<string, string>()
    for (const ics of [...(input.icsCodes ?? []), ...icsCodesInText([input.title, input.products, input.description].join('\n'))]) icsCodes.set(ics, '')
    for (const { ics, title: t } of titledIcs) if (!icsCodes.has(ics)) icsCodes.set(ics, t)
    for (const [ics, t] of icsCodes) {
      for (const link of this.k.ics.lookup(ics)) {
        const value = SCORE.icsWeight * link.weight
        const why = t ? `the group's title "${t}" in the product field` : `crosswalk group ${link.ics}`
        votes.push({ code: link.hs, value, evidence: { kind: 'ics', code: link.hs, detail: `ICS ${ics} → HS ${link.hs} (${why})`, weight: round(value), ics } })
      }
    }

    // The nomenclature's own wording, when an analyst supplied the file. It picks the
    // heading within a chapter the lexicon found; it names the chapter only when the
    // lexicon found nothing, since its English wording is broad ("other", "parts").
    if (this.k.nomenclature && englishQuery.size) {
      const refineOnly = votes.some((v) => v.evidence.kind === 'term')
      for (const hit of this.k.nomenclature.search(englishQuery, 3)) {
        if (hit.score < 0.12) continue
        const value = SCORE.nomenclatureWeight * hit.score
        votes.push({ code: hit.heading, value, evidence: { kind: 'nomenclature', code: hit.heading, detail: `wording close to HS ${hit.heading} "${this.k.nomenclature.headings.get(hit.heading) ?? ''}" (shared: ${[...new Set(hit.terms)].slice(0, 5).join(', ')})`, weight: round(value), headingOnly: refineOnly } })
      }
    }

    // Nothing at all: the words nearest the lexicon's terms, as a weak guess (NearTerms),
    // which a learnt model, reading every word, may overrule.
    if (!votes.length) {
      const seg = chineseSegmenter()
      const query = new Map<string, number>()
      const langs: StemLanguage[] = [primary]
      // what names the product: the title and the product field (or the scope's phrases)
      for (const part of parts) {
        if ((part.field !== 'title' && part.field !== 'products') || !part.text) continue
        NearTerms.features(cleanText(part.text), langs, FIELD_WEIGHTS[part.field] * part.weight, (r) => (seg ? cutWords(seg, r) : [r]), query)
      }
      for (const hit of nearTerms(this.k.lexicon).search(query, 3)) {
        if (hit.score < SCORE.nearMin) continue
        const value = SCORE.nearWeight * hit.score
        const shared = [...new Set(hit.shared)].slice(0, 5)
        votes.push({ code: hit.code, value, evidence: { kind: 'near', code: hit.code, detail: `no term of the lexicon; words nearest its terms for HS ${hit.code} (shared: ${shared.join(', ')})`, weight: round(value), shared } })
      }
    }

    const t = tally(votes)
    // The lexicon's chapters as features too: they carry what the model learns across languages.
    const lexicon = new Map<string, number>()
    for (const [ch, score] of t.chapters) if (score >= 0.02) lexicon.set(`L:${ch}`, round(score))
    const x = this.model ? toVector(wordFeatures(modelParts), lexicon) : { keys: [], values: [] }
    return { lang, votes, tally: t, x, evidence }
  }

  /**
   * The parts of a product field (between semicolons) that are an ICS group's title: read
   * as that group, through the crosswalk, and taken out of the words where the field says
   * more than titles ("Plants … used primarily in perfumery…; Spices and condiments" is the
   * plants, not spices; "Nuts" of ICS 21.060.20 are no edible nuts).
   */
  private icsTitles(products: string): { text: string; ics: { ics: string; title: string }[] } {
    if (!products.includes(';')) {
      const ics = this.k.ics.titled(products)
      return { text: products, ics: ics ? [{ ics, title: products.trim() }] : [] }
    }
    const parts = products.split(';')
    const ics: { ics: string; title: string }[] = []
    const rest: string[] = []
    for (const p of parts) {
      const code = p.trim() ? this.k.ics.titled(p) : undefined
      if (code) ics.push({ ics: code, title: p.trim() })
      else rest.push(p)
    }
    return { text: ics.length && rest.some((p) => p.trim()) ? rest.join(';') : products, ics }
  }

  /** Chapters best first, each with its heading (or subheading) where the evidence names one. */
  private rank(a: Analysis, evidence: Evidence[]): Guess[] {
    const t = a.tally
    const model = this.model
    if (!model || model.scale <= 0 || !a.x.keys.length) {
      return [...t.chapters.entries()].map(([ch, score]) => ({ ...pickCode(ch, t.finer, this.k.chapterDefaults), score: round(score) }))
    }
    const prior = chapterPrior(t)
    const chapters = model.predictChapters(a.x, prior)
    const out: Guess[] = []
    for (const [rank, c] of chapters.slice(0, 5).entries()) {
      const lexiconPick = pickCode(c.code, t.finer, this.k.chapterDefaults)
      let guess: Guess = { ...lexiconPick, score: round(c.p) }
      // Headings matter for the chapters that may be shown first; the rest keep the lexicon's.
      const headings = rank < 3 && c.p >= 0.05 ? model.predictHeadings(c.code, a.x, headingPrior(c.code, t.finer)) : []
      const best = headings[0]
      if (best && best.p >= SCORE.headingShare) {
        const sub = lexiconPick.code.length === 6 && lexiconPick.code.startsWith(best.code) ? lexiconPick.code : best.code
        guess = { code: sub, score: round(c.p), share: best.p }
      }
      out.push(guess)
      if (c.features.length || best?.features.length) {
        evidence.push({ kind: 'model', code: guess.code, detail: `learnt model: chapter ${c.code} p=${c.p.toFixed(2)}${best ? `, heading ${best.code} p=${best.p.toFixed(2)}` : ''} (features: ${[...new Set([...c.features, ...(best?.features ?? [])])].map(featureLabel).join(', ') || '-'})`, weight: round(c.p), features: c.features })
      }
    }
    return out
  }

  /** A labelled notice as the model's training example: its words (codes scrubbed) and the lexicon's offsets. */
  trainingExample(ex: LabelledExample, weight = 1): TrainingExample | null {
    const chapters = new Set<string>()
    const headings = new Set<string>()
    for (const raw of ex.hsCodes) {
      for (const r of this.k.editions.read(raw) ?? []) {
        chapters.add(r.code.slice(0, 2))
        if (r.code.length >= 4) headings.add(r.code.slice(0, 4))
      }
    }
    if (!chapters.size) return null
    const text = ex.text
    const blind: ClassifyInput = {
      ...text,
      title: scrubCodes(text.title),
      products: scrubCodes(text.products),
      description: scrubCodes(text.description),
      hsCodes: undefined,
      icsCodes: undefined,
    }
    const saved = this.model
    // Features are computed as when a model is present, whatever the current one.
    this.model ??= EMPTY_MODEL
    try {
      const a = this.analyse(blind)
      if (!a.x.keys.length) return null
      const headingPriors = new Map<string, number>()
      for (const ch of new Set([...chapters, ...[...a.tally.finer.keys()].map((c) => c.slice(0, 2))])) {
        for (const [h, v] of headingPrior(ch, a.tally.finer)) headingPriors.set(h, v)
      }
      return { id: text.id, x: a.x, chapters: [...chapters], headings: [...headings], chapterPrior: chapterPrior(a.tally), headingPrior: headingPriors, weight, lang: a.lang.language }
    } finally {
      this.model = saved
    }
  }

  private explicitCodes(input: ClassifyInput, allText: string, evidence: Evidence[]): string[] {
    const out: string[] = []
    for (const raw of new Set([...(input.hsCodes ?? []), ...hsCodesInText(allText)])) {
      const readings = this.k.editions.read(raw)
      if (readings === null) {
        evidence.push({ kind: 'hs-code', detail: `"${raw}" on the notice is not an HS code; ignored` })
        continue
      }
      if (!readings.length) {
        evidence.push({ kind: 'hs-code', detail: `${raw} is a national line outside the HS (chapters 98-99); not used` })
        continue
      }
      for (const r of readings) {
        if (out.includes(r.code)) continue
        out.push(r.code)
        evidence.push({ kind: 'hs-code', code: r.code, detail: `HS ${raw} listed on the notice${r.notes.length ? `; ${r.notes.join('; ')}` : ''}`, weight: 1 })
      }
    }
    return out
  }

  /**
   * The terms of two words or more that English "A of B" phrases name read the other way
   * round ("juices of fruit" → fruit juices), and the qualifiers (B) of those phrases; null
   * when no such term is found.
   */
  private ofReadings(text: string): { matches: TermMatch[]; qualifiers: Set<string> } | null {
    if (!/\b(?:of|for)\b/i.test(text)) return null
    const matches: TermMatch[] = []
    const qualifiers = new Set<string>()
    for (const p of ofPhrases(text)) {
      const found = matchLatin(this.k.lexicon, 'eng', p.words).filter((m) => m.end - m.start >= 2)
      if (!found.length) continue
      matches.push(...found)
      for (const q of p.qualifiers) qualifiers.add(q)
    }
    return matches.length ? { matches, qualifiers } : null
  }

  private addTermVotes(votes: Vote[], matches: TermMatch[], field: Field, fieldWeight: number, quoted?: (m: TermMatch) => boolean): void {
    const groups = overlapping(matches)
    for (const m of matches) {
      const boost = quoted?.(m) ? 1.5 : 1
      // A longer term is a more specific one: "wheat flour" says more than "wheat".
      const span = m.lang === 'cmn' ? Math.max(0, m.term.length - 2) * 0.5 : m.end - m.start - 1
      const specificity = Math.min(1.6, 1 + 0.3 * span)
      const value = fieldWeight * m.weight * boost * specificity
      votes.push({ code: m.code, value, fieldWeight, evidence: { kind: 'term', code: m.code, detail: `"${m.term}" (${m.lang}) in ${field} → HS ${m.code}${m.apart ? ' (words apart in one clause)' : m.quality !== undefined && m.quality < 1 ? ' (word form differs)' : ''}${m.attributive ? ' (qualifies the next word, counted less)' : ''}${m.use ? ' (names the use, counted less)' : ''}${m.material ? ` (made of ${m.material})` : ''}${m.state ? ` (state: ${m.state})` : ''}`, weight: round(value), term: m.term, field, lang: m.lang, ...(m.apart ? { apart: true } : {}), ...(m.attributive ? { attributive: true } : {}), ...(m.use ? { use: true } : {}), ...(m.material ? { material: m.material } : {}), ...(m.state ? { state: m.state } : {}) }, ...(groups?.has(m) ? { group: groups.get(m) } : {}) })
    }
  }

  /**
   * Codes on the notice come first: they outrank words. Where words point at a more
   * specific code under one of them (the notice says "85", its words say mobile phones)
   * the specific code replaces it. Word guesses in other chapters follow, scaled down.
   */
  private mergeWithExplicit(explicit: string[], ranked: Guess[]): Guess[] {
    if (!explicit.length) return ranked.slice(0, 5)
    const out: Guess[] = []
    const seen = new Set<string>()
    for (const code of explicit) {
      // Only words that name the finer code refine a code on the notice, not a chapter's default.
      const finer = ranked.find((r) => r.code.length > code.length && r.code.startsWith(code) && r.share >= SCORE.headingShare)
      const chosen = finer?.code ?? code
      if (seen.has(chosen)) continue
      seen.add(chosen)
      out.push({ code: chosen, score: chosen.length >= 4 ? SCORE.explicit : SCORE.explicitChapter, share: 1 })
    }
    const chapters = new Set(out.map((h) => h.code.slice(0, 2)))
    for (const r of ranked) {
      if (chapters.has(r.code.slice(0, 2))) continue
      out.push({ ...r, score: round(r.score * SCORE.besideExplicit) })
    }
    return out.slice(0, Math.max(5, explicit.length))
  }

  /**
   * Categories follow from the codes through seeds/categories.yaml. A category is given
   * when its score (the sum of its guessed codes' scores) passes a threshold and is near the best one: usually one category, two
   * when a notice clearly spans them. With codes on the notice, every category they
   * imply is given, scored by its share of the codes. The category follows the code that
   * is shown, also a chapter's usual heading (motor vehicles → 8703 → automobiles), so
   * that what a reader sees and what subscriptions match agree.
   */
  private categoriesOf(hs: Guess[], hasExplicit: boolean): CategoryGuess[] {
    const scores = new Map<string, number>()
    if (hasExplicit) {
      const explicit = hs.filter((h) => h.score >= SCORE.explicitChapter)
      for (const h of explicit) {
        const c = this.k.categories.categoryOf(h.code)
        if (c) scores.set(c.id, (scores.get(c.id) ?? 0) + 1 / explicit.length)
      }
      return [...scores.entries()].map(([id, share]) => ({ id, score: round(0.6 + 0.39 * share) })).sort((a, b) => b.score - a.score)
    }
    for (const h of hs) {
      // (a heading named weakly decides no category of its own: its chapter does)
      const code = h.share > 0 && h.share < SCORE.headingShare ? h.code.slice(0, 2) : h.code
      const c: Category | undefined = this.k.categories.categoryOf(code)
      // Chapters are alternatives, so a category's probability is the sum of its codes'.
      if (c) scores.set(c.id, Math.min(0.99, (scores.get(c.id) ?? 0) + h.score))
    }
    const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1])
    const best = ranked[0]?.[1] ?? 0
    return ranked
      .filter(([, s]) => s >= SCORE.categoryThreshold && s >= best * SCORE.categoryRelative)
      .slice(0, 2)
      .map(([id, s]) => ({ id, score: round(s) }))
  }
}

const EMPTY_MODEL = new LinearModel({ chapters: { classes: [], features: [], weights: new Float32Array(0), bias: new Float32Array(0), priorWeight: 1 }, headings: {}, scale: 0 })

/**
 * A title's parts: "Energy Conservation Program: Standards for Consumer Furnaces",
 * "Federal Motor Vehicle Safety Standards; New Pneumatic Tires", "Airworthiness
 * Directives; … Turbofan Engines". Regulators put the programme first and the product
 * last; the earlier parts count less.
 */
function titleSegments(title: string): { text: string; weight: number }[] {
  const parts = title.split(/\s*[;；]\s*|:\s+|：/).filter((p) => p.trim())
  if (parts.length < 2) return [{ text: title, weight: 1 }]
  // A standard's title goes the other way: "Hair shampoo — Specification — Part 2:
  // Synthetic detergent-based", "玩具安全 第3部分：易燃性能": the product comes before
  // "Part n", and the part's own title narrows it.
  const part = parts.findIndex((p, i) => i < parts.length - 1 && ISO_PART.test(p))
  if (part >= 0) return parts.map((text, i) => ({ text, weight: i === part ? 1 : 0.6 }))
  return parts.map((text, i) => ({ text, weight: i === parts.length - 1 ? 1 : 0.6 }))
}

const ISO_PART = /(?:\b(?:Part|Partie|Parte)\s+\d+[A-Za-z]?|第\s*\d+\s*部分)\s*$/i

function featureLabel(f: string): string {
  return f.replace(/^[a-zA-Z]:/, '').replace(/_/g, ' ')
}

/**
 * The lexicon's chapter probabilities as log-offsets for the model; its "none of these"
 * mass is spread evenly over all chapters (key '*'), so that with no learnt weights the
 * softmax gives back the lexicon's own probabilities.
 */
function chapterPrior(t: Tally): Map<string, number> {
  let certainty = 0
  for (const s of t.chapters.values()) certainty += s
  const even = Math.max(1 - certainty, 0.02) / 96
  const out = new Map<string, number>([['*', Math.log(even)]])
  for (const [ch, score] of t.chapters) out.set(ch, Math.log(score + even))
  return out
}

/** The lexicon's headings within a chapter, as log-shares of the chapter's heading votes. */
function headingPrior(chapter: string, finer: Map<string, number>): Map<string, number> {
  let total = 0
  for (const [h, v] of finer) if (h.length === 4 && h.startsWith(chapter)) total += v
  const out = new Map<string, number>()
  if (total <= 0) return out
  for (const [h, v] of finer) if (h.length === 4 && h.startsWith(chapter)) out.set(h, Math.max(HEADING_PRIOR_FLOOR, Math.log(v / total + 0.05)))
  return out
}

/**
 * Within a chapter, the heading (and subheading) that most of the chapter's votes name,
 * with its share; with no heading named at all, the chapter's default heading at share 0
 * (a four-digit guess can be right at heading level, a bare chapter never is).
 */
function pickCode(ch: string, finer: Map<string, number>, defaults?: Map<string, string>): { code: string; share: number } {
  let code = ch
  let best = 0
  let total = 0
  for (const [h, hs] of finer) {
    if (h.length !== 4 || !h.startsWith(ch)) continue
    total += hs
    if (hs > best) {
      best = hs
      code = h
    }
  }
  if (code === ch) return defaults?.has(ch) ? { code: defaults.get(ch)!, share: 0 } : { code, share: 1 }
  // (A heading that holds less than headingShare of the chapter's votes is still the best
  // guess at heading level; it is shown, but its chapter decides the category.)
  const share = best / total
  if (share < SCORE.headingShare) return { code, share }
  let bestSub = 0
  for (const [sub, ss] of finer) if (sub.length === 6 && sub.startsWith(code) && ss > bestSub) { bestSub = ss; if (ss >= 0.5 * best) code = sub }
  return { code, share }
}

interface Tally {
  /** chapter → probability (sums to below 1: the rest is "none of these") */
  chapters: Map<string, number>
  /** heading and subheading → the votes naming it */
  finer: Map<string, number>
}

/**
 * Adds the votes up by chapter. Words vote per field, and a field's vote for a chapter
 * saturates (1 - e^-x of its distinct terms' weights): a description that names a
 * product's ingredients, uses and neighbours five times cannot outvote the one product
 * the title names. A chapter's score is its share of all votes plus an "unsure"
 * pseudo-vote, so one weak match scores lower than agreeing fields.
 */
export function tally(votes: Vote[]): Tally {
  const fieldTerms = new Map<string, { field: number; terms: Map<string, number> }>()
  const chapters = new Map<string, number>()
  const finer = new Map<string, number>()
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v)
  for (const v of votes) {
    const ch = v.code.slice(0, 2)
    const e = v.evidence
    if (e.kind === 'term') {
      const field = e.field as Field
      const key = `${field}|${ch}`
      let ft = fieldTerms.get(key)
      if (!ft) fieldTerms.set(key, (ft = { field: FIELD_WEIGHTS[field], terms: new Map() }))
      // (the uses a field names count once per chapter: "tyres for cars, light trucks, buses
      // and motorcycles" names one use, however long its list)
      // (and so do the words that qualify another: "番茄、辣椒和西瓜种子" names seeds, once)
      const termKey = e.use ? 'use' : e.attributive ? 'attributive' : (v.group ?? `${v.code}|${e.term as string}`)
      ft.terms.set(termKey, Math.max(ft.terms.get(termKey) ?? 0, v.value / ft.field))
    } else if (!e.headingOnly) add(chapters, ch, v.value)
    if (v.code.length >= 4) add(finer, v.code.slice(0, 4), v.value)
    if (v.code.length >= 6) add(finer, v.code.slice(0, 6), v.value)
  }
  for (const [key, ft] of fieldTerms) {
    let x = 0
    for (const w of ft.terms.values()) x += w
    add(chapters, key.slice(key.indexOf('|') + 1), ft.field * (1 - Math.exp(-x)))
  }
  // Calibration: raw vote shares were under-confident on labelled notices (the best
  // chapter was right far more often than its share said), so shares are sharpened with
  // an exponent before the "unsure" pseudo-vote scales them down.
  let total = 0
  let sharpened = 0
  for (const s of chapters.values()) {
    total += s
    sharpened += s ** SCORE.sharpen
  }
  const certainty = total / (total + SCORE.unsure)
  const out = new Map<string, number>()
  for (const [ch, s] of [...chapters.entries()].sort((a, b) => b[1] - a[1])) out.set(ch, (s ** SCORE.sharpen / sharpened) * certainty)
  return { chapters: out, finer }
}

/** The lexicon's ranking alone, as codes best first (kept for callers that rank raw votes). */
export function rankChapters(votes: Vote[]): HsGuess[] {
  const t = tally(votes)
  return [...t.chapters.entries()].map(([ch, score]) => ({ code: pickCode(ch, t.finer).code, score: round(score) }))
}

/** ICS codes quoted in text: "ICS: 67.220.10", "(ICS code(s): 65.120; 67.040)". */
export function icsCodesInText(text: string): string[] {
  const out = new Set<string>()
  for (const m of text.matchAll(/\bICS\s*(?:code\(s\)|codes?|代码|编码)?\s*[:：]\s*((?:\d{2}(?:\.\d{3}(?:\.\d{2})?)?)(?:\s*[,;，；、]\s*\d{2}(?:\.\d{3}(?:\.\d{2})?)?)*)/gi)) {
    for (const part of m[1].split(/[,;，；、]/)) if (part.trim()) out.add(part.trim())
  }
  return [...out]
}

// "X用Y" / "X使用的Y" is "Y for use with X": what comes before 用 names the use, not the
// product. 用 starts other words too (用品 articles, 用户 user, 用途 purpose, 用量
// quantity, 用于 used for, 用能 energy-using), which are not this pattern.
const NOT_PURPOSE_AFTER = new Set('品户途量于能'.split(''))

/**
 * Matches before a 用 that introduces the product count 0.4, when some term is found
 * after it in the same run ("电动汽车充电用连接装置": the connectors, not the car).
 */
export function purposeDiscount(matches: TermMatch[], runs: string[]): TermMatch[] {
  if (matches.length < 2) return matches
  let base = 0
  const cuts: { at: number; runStart: number; runEnd: number }[] = []
  for (const run of runs) {
    for (let i = 1; i < run.length - 1; i++) if (run[i] === '用' && !NOT_PURPOSE_AFTER.has(run[i + 1])) cuts.push({ at: base + i, runStart: base, runEnd: base + run.length })
    base += run.length + 1
  }
  if (!cuts.length) return matches
  return matches.map((m) => {
    const cut = cuts.find((c) => m.start >= c.runStart && m.end <= c.at && matches.some((o) => o.start > c.at && o.start < c.runEnd))
    return cut ? { ...m, weight: m.weight * 0.4 } : m
  })
}

/**
 * Chinese notice titles put the product in quotation marks (技术法规草案“……”); a term
 * inside them in the title counts half again.
 */
function quotedHan(text: string, field: Field): ((m: TermMatch) => boolean) | undefined {
  if (field !== 'title') return undefined
  const quoted = [...text.matchAll(/[“「《"]([^”」》"]{1,40})[”」》"]/g)].map((m) => m[1])
  if (!quoted.length) return undefined
  return (m) => quoted.some((q) => q.includes(m.term))
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000
}

/**
 * A word that a longer term of another language's reading holds, in a reading that counts
 * no more, is that term's word, as it is within one reading: "pvc" (English, French) in
 * "Tubos de PVC" (Spanish "tubos de pvc") is the pipes' material, not PVC of 3904. Spans are
 * compared by where their words start in the text.
 */
function withinLonger<R extends { matches: TermMatch[]; weight: number; words?: Word[] }>(readings: R[]): R[] {
  // (only a phrase can hold another reading's word: most texts' readings have none to compare)
  if (readings.length < 2 || !readings.some((r) => r.words && r.matches.some((m) => m.end - m.start > 1))) return readings
  const spans = readings.map((r) => (r.words ? r.matches.map((m) => ({ from: r.words![m.start]?.at, to: r.words![m.end - 1]?.at, n: m.end - m.start })) : []))
  return readings.map((r, i) => {
    if (!r.words) return r
    const keep = r.matches.filter((_, k) => {
      const a = spans[i][k]
      if (a.from === undefined || a.to === undefined) return true
      return !readings.some((o, j) => j !== i && o.words && o.weight >= r.weight && spans[j].some((b) => b.n > a.n && b.from !== undefined && b.to !== undefined && b.from <= a.from! && a.to! <= b.to && (b.from < a.from! || a.to! < b.to)))
    })
    return keep.length === r.matches.length ? r : { ...r, matches: keep }
  })
}

/**
 * Matches of one reading that share words and a chapter, as groups: each match of a group
 * gets its group's key ("motor vehicles" and "vehicle safety" in "Motor Vehicle Safety
 * Standards" are one mention of vehicles, not two). Undefined when no two overlap.
 */
function overlapping(matches: TermMatch[]): Map<TermMatch, string> | undefined {
  if (matches.length < 2) return undefined
  let out: Map<TermMatch, string> | undefined
  for (let i = 0; i < matches.length; i++) {
    const a = matches[i]
    if (a.apart) continue
    for (let j = i + 1; j < matches.length; j++) {
      const b = matches[j]
      if (b.apart || a.code.slice(0, 2) !== b.code.slice(0, 2) || a.lang !== b.lang || b.start >= a.end || a.start >= b.end) continue
      out ??= new Map()
      const key = out.get(a) ?? out.get(b) ?? `span|${a.code.slice(0, 2)}|${a.lang}|${Math.min(a.start, b.start)}`
      out.set(a, key)
      out.set(b, key)
    }
  }
  return out
}

/** Substances whose name before "in" is what a product holds: chemicals (28, 29), pesticides, lead, nickel, cadmium and the other metals of chapter 81. */
const SUBSTANCE = (code: string) => /^(?:28|29|3808|78|7502|81)/.test(code)

/**
 * What a product holds or has, read as a use (counted less where another product is named):
 * - a substance named "in" a product ("Phthalates in children's toys", "lead in paint",
 *   "plomo en pinturas", "formaldéhyde dans les textiles") is what is limited in it; the
 *   product is what is regulated. Only substances: this leaves "tuna in oil" and "peaches in
 *   syrup" as they were;
 * - "X with Y": Y is a part, a feature or an ingredient of X.
 */
function heldIn(matches: TermMatch[], words: Word[]): TermMatch[] {
  if (matches.length < 2) return matches
  return matches.map((m) => {
    if (m.use) return m
    // "X with Y" ("footwear with outer soles of rubber", "pan con pasas", "jouets avec
    // piles"); two words may stand between "with" and Y ("with self-contained electric motor")
    for (let k = m.start; k >= Math.max(1, m.start - 2); k--) {
      if (words[k].end) break
      if (WITH_WORDS.has(words[k].prep ?? '')) return matches.some((o) => o !== m && !o.use && o.end === k) ? { ...m, use: true } : m
    }
    if (!SUBSTANCE(m.code) || m.end >= words.length) return m
    const k = m.end
    if (!IN_WORDS.has(words[k].prep ?? '') || words[k].end) return m
    const product = matches.some((o) => o !== m && !SUBSTANCE(o.code) && !o.use && o.start >= k && o.start <= k + 3 && !words.slice(k + 1, o.start + 1).some((w) => w.end))
    return product ? { ...m, use: true } : m
  })
}

