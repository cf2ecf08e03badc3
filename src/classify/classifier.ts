import { CategoryIndex, type Category } from '../domain/categories.js'
import { hsCodesInText } from '../domain/hs.js'
import { HsEditions, IcsCrosswalk } from './crosswalk.js'
import { detectLanguage } from './language.js'
import { matchHan, matchLatin, matchMixed, type CompiledLexicon, type TermMatch } from './lexicon.js'
import { NaiveBayesModel, type ModelExample } from './model.js'
import { NomenclatureIndex } from './nomenclature.js'
import { cleanText, hanBigrams, hanRuns, latinStems, STEM_LANGUAGES, type StemLanguage } from './normalize.js'
import type { CategoryGuess, ClassifyInput, ClassifyResult, Evidence, HsGuess, LabelledExample } from './types.js'

export interface Knowledge {
  lexicon: CompiledLexicon
  ics: IcsCrosswalk
  editions: HsEditions
  categories: CategoryIndex
  nomenclature?: NomenclatureIndex
}

/** How much a word found in each field counts: the title and product fields name the product, the description often names its uses and neighbours. */
const FIELD_WEIGHTS = { title: 3, products: 3, description: 1.2, objectives: 0.3 } as const
type Field = keyof typeof FIELD_WEIGHTS

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
  /** votes a fully trained model adds to its chapters, scaled by how many examples it has seen */
  modelWeight: 4,
  modelHalfSize: 100,
  categoryThreshold: 0.35,
  categoryRelative: 0.6,
} as const

interface Vote { code: string; value: number; evidence: Evidence; fieldWeight?: number }

export class ProductClassifier {
  constructor(
    private readonly k: Knowledge,
    readonly model: NaiveBayesModel,
  ) {}

  classify(input: ClassifyInput): ClassifyResult {
    const evidence: Evidence[] = []
    const fields: [Field, string][] = [
      ['title', input.title ?? ''],
      ['products', input.products ?? ''],
      ['description', input.description ?? ''],
      ['objectives', (input.objectives ?? []).join('; ')],
    ]
    const allText = fields.slice(0, 3).map(([, t]) => t).join('\n')
    const lang = detectLanguage(cleanText(allText), input.languageHint)
    evidence.push({ kind: 'language', detail: `${lang.language} (${lang.method})`, weight: round(lang.confidence) })

    // 1. Codes printed on the notice.
    const explicit = this.explicitCodes(input, allText, evidence)

    // 2. Words.
    const votes: Vote[] = []
    const features: string[] = []
    const primary: StemLanguage = (STEM_LANGUAGES as string[]).includes(lang.language) ? (lang.language as StemLanguage) : 'eng'
    const passes: [StemLanguage, number][] =
      lang.language === 'und' || !(lang.language in SECONDARY) || (lang.confidence < 0.75 && lang.method !== 'script')
        ? [[primary, 1], ...(['eng', 'spa', 'fra'] as StemLanguage[]).filter((l) => l !== primary).map((l): [StemLanguage, number] => [l, 0.7])]
        : [[primary, 1], ...SECONDARY[lang.language]]
    const englishQuery = new Map<string, number>()
    for (const [field, raw] of fields) {
      if (!raw) continue
      const text = cleanText(raw)
      const fw = FIELD_WEIGHTS[field]
      for (const [l, lw] of passes) {
        const stems = latinStems(text, l)
        if (l === primary && field !== 'objectives') features.push(...stems)
        if (l === 'eng' && this.k.nomenclature && field !== 'objectives') for (const s of stems) englishQuery.set(s, (englishQuery.get(s) ?? 0) + fw)
        this.addTermVotes(votes, matchLatin(this.k.lexicon, l, stems), field, fw * lw)
      }
      const runs = hanRuns(text)
      if (runs.length) {
        if (field !== 'objectives') features.push(...hanBigrams(text))
        this.addTermVotes(votes, purposeDiscount(matchHan(this.k.lexicon, runs), runs), field, fw, quotedHan(text, field))
        this.addTermVotes(votes, matchMixed(this.k.lexicon, text.toLowerCase()), field, fw)
      }
    }

    // 3. ICS groups, from the fields or quoted in the text ("ICS: 67.220.10").
    for (const ics of new Set([...(input.icsCodes ?? []), ...icsCodesInText(allText)])) {
      for (const link of this.k.ics.lookup(ics)) {
        const value = SCORE.icsWeight * link.weight
        votes.push({ code: link.hs, value, evidence: { kind: 'ics', code: link.hs, detail: `ICS ${ics} → HS ${link.hs} (crosswalk group ${link.ics})`, weight: round(value), ics } })
      }
    }

    // 4. The nomenclature's own wording, when an analyst supplied the file. It picks the
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

    // 5. The model learnt from labelled notices.
    if (this.model.size && features.length) {
      const weight = SCORE.modelWeight * (this.model.size / (this.model.size + SCORE.modelHalfSize))
      for (const p of this.model.predict(features, (l) => l.length === 2, 3)) {
        if (p.p < 0.05) continue
        votes.push({ code: p.label, value: weight * p.p, evidence: { kind: 'model', code: p.label, detail: `naive Bayes on ${this.model.size} labelled notices: chapter ${p.label} p=${p.p.toFixed(2)} (features: ${p.features.join(', ') || '-'})`, weight: round(weight * p.p), features: p.features } })
      }
      // Headings only refine a chapter that other signals support.
      for (const p of this.model.predict(features, (l) => l.length === 4, 3)) {
        if (p.p < 0.2) continue
        votes.push({ code: p.label, value: 0.01 + 0.5 * weight * p.p, evidence: { kind: 'model', code: p.label, detail: `naive Bayes: heading ${p.label} p=${p.p.toFixed(2)}`, weight: round(0.5 * weight * p.p), features: p.features, headingOnly: true } })
      }
    }

    const ranked = rankChapters(votes)
    const hs = this.mergeWithExplicit(explicit, ranked)
    const categories = this.categoriesOf(hs, explicit.length > 0)
    const shown = new Set(hs.map((h) => h.code.slice(0, 2)))
    const supporting = votes
      .filter((v) => shown.has(v.code.slice(0, 2)))
      .sort((a, b) => b.value - a.value)
      .slice(0, 12)
      .map((v) => v.evidence)
    return { id: input.id, language: lang.language, hs, categories, evidence: [...evidence, ...supporting] }
  }

  /** Features the model learns from, as classify computes them. */
  features(input: ClassifyInput): string[] {
    const text = cleanText([input.title, input.products, input.description].filter(Boolean).join('\n'))
    const lang = detectLanguage(text, input.languageHint).language
    const primary: StemLanguage = (STEM_LANGUAGES as string[]).includes(lang) ? (lang as StemLanguage) : 'eng'
    const out: string[] = []
    for (const raw of [input.title, input.products, input.description]) {
      if (!raw) continue
      const t = cleanText(raw)
      out.push(...latinStems(t, primary), ...hanBigrams(t))
    }
    return out
  }

  /** Labelled examples as model examples: labels are the chapters and headings of their usable codes. */
  toModelExamples(examples: LabelledExample[]): ModelExample[] {
    const out: ModelExample[] = []
    for (const ex of examples) {
      const labels = new Set<string>()
      for (const raw of ex.hsCodes) {
        for (const r of this.k.editions.read(raw) ?? []) {
          labels.add(r.code.slice(0, 2))
          if (r.code.length >= 4) labels.add(r.code.slice(0, 4))
        }
      }
      if (!labels.size) continue
      const features = this.features(ex.text)
      if (features.length) out.push({ id: ex.text.id, features, labels: [...labels] })
    }
    return out
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

  private addTermVotes(votes: Vote[], matches: TermMatch[], field: Field, fieldWeight: number, quoted?: (m: TermMatch) => boolean): void {
    for (const m of matches) {
      const boost = quoted?.(m) ? 1.5 : 1
      // A longer term is a more specific one: "wheat flour" says more than "wheat".
      const span = m.lang === 'cmn' ? Math.max(0, m.term.length - 2) * 0.5 : m.end - m.start - 1
      const specificity = Math.min(1.6, 1 + 0.3 * span)
      const value = fieldWeight * m.weight * boost * specificity
      votes.push({ code: m.code, value, fieldWeight, evidence: { kind: 'term', code: m.code, detail: `"${m.term}" (${m.lang}) in ${field} → HS ${m.code}`, weight: round(value), term: m.term, field, lang: m.lang } })
    }
  }

  /**
   * Codes on the notice come first: they outrank words. Where words point at a more
   * specific code under one of them (the notice says "85", its words say mobile phones)
   * the specific code replaces it. Word guesses in other chapters follow, scaled down.
   */
  private mergeWithExplicit(explicit: string[], ranked: HsGuess[]): HsGuess[] {
    if (!explicit.length) return ranked.slice(0, 5)
    const out: HsGuess[] = []
    const seen = new Set<string>()
    for (const code of explicit) {
      const finer = ranked.find((r) => r.code.length > code.length && r.code.startsWith(code))
      const chosen = finer?.code ?? code
      if (seen.has(chosen)) continue
      seen.add(chosen)
      out.push({ code: chosen, score: chosen.length >= 4 ? SCORE.explicit : SCORE.explicitChapter })
    }
    const chapters = new Set(out.map((h) => h.code.slice(0, 2)))
    for (const r of ranked) {
      if (chapters.has(r.code.slice(0, 2))) continue
      out.push({ code: r.code, score: round(r.score * SCORE.besideExplicit) })
    }
    return out.slice(0, Math.max(5, explicit.length))
  }

  /**
   * Categories follow from the codes through seeds/categories.yaml. A category is given
   * when its score (the sum of its guessed codes' scores) passes a threshold and is near the best one: usually one category, two
   * when a notice clearly spans them. With codes on the notice, every category they
   * imply is given, scored by its share of the codes.
   */
  private categoriesOf(hs: HsGuess[], hasExplicit: boolean): CategoryGuess[] {
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
      const c: Category | undefined = this.k.categories.categoryOf(h.code)
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

/**
 * Adds the votes up by chapter and picks, within each chapter, the heading (or
 * subheading) that most of the chapter's votes name. Words vote per field, and a
 * field's vote for a chapter saturates (1 - e^-x of its distinct terms' weights): a
 * description that names a product's ingredients, uses and neighbours five times cannot
 * outvote the one product the title names. A chapter's score is its share of all votes
 * plus an "unsure" pseudo-vote, so one weak match scores lower than agreeing fields.
 */
export function rankChapters(votes: Vote[]): HsGuess[] {
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
      if (!ft) fieldTerms.set(key, (ft = { field: v.fieldWeight ?? FIELD_WEIGHTS[field], terms: new Map() }))
      const termKey = `${v.code}|${e.term as string}`
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
  const out: HsGuess[] = []
  for (const [ch, s] of [...chapters.entries()].sort((a, b) => b[1] - a[1])) {
    let code = ch
    let best = 0
    for (const [h, hs] of finer) if (h.length === 4 && h.startsWith(ch) && hs > best) { best = hs; code = h }
    if (best < 0.3 * s) code = ch
    if (code.length === 4) {
      let bestSub = 0
      for (const [sub, ss] of finer) if (sub.length === 6 && sub.startsWith(code) && ss > bestSub) { bestSub = ss; if (ss >= 0.5 * best) code = sub }
    }
    out.push({ code, score: round((s ** SCORE.sharpen / sharpened) * certainty) })
  }
  return out
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
