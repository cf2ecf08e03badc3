import { inputFromRow } from './index.js'
import { scrubCodes } from './scrub.js'
import type { Classifier, ClassifyInput } from './types.js'

/**
 * Scores the classifier on labelled notices the way the project's evaluation does: a blind
 * copy of each notice (HS and ICS codes removed from the fields and from the text) is
 * classified; the chapter and heading of the best guess are compared with the notice's
 * own codes; categories are compared with those the codes themselves imply (the
 * classifier run on the labelled notice). National lines (chapters 98-99) are not scored.
 */

export interface LabelledRecord {
  symbol?: string
  id?: string
  member?: string
  type?: string
  title?: string | null
  products?: string | null
  description?: string | null
  description_head?: string | null
  objectives?: string[] | null
  hs_codes?: string[] | null
  ics_codes?: string[] | null
  language?: string | null
}

export interface Evaluation {
  records: number
  scored: number
  noGuess: number
  chapterTop1: number
  chapterTop3: number
  headingTop1: number
  headingScored: number
  categoryPrecision: number
  categoryRecall: number
  categoryF1: number
  byLanguage: Record<string, { n: number; chapterTop1: number }>
  byChapter: { chapter: string; support: number; predicted: number; precision: number; recall: number }[]
  misses: { id: string; truth: string[]; guess: string[] }[]
}

const digits = (code: string) => String(code).replace(/\D/g, '')
const usable = (code: string) => {
  const d = digits(code)
  return d.length >= 2 && !/^9[89]/.test(d)
}

export function evaluate(classifier: Classifier, rows: LabelledRecord[]): Evaluation {
  let scored = 0
  let top1 = 0
  let top3 = 0
  let heading = 0
  let headingScored = 0
  let noGuess = 0
  let tp = 0
  let fp = 0
  let fn = 0
  const byLanguage: Record<string, { n: number; ok: number }> = {}
  const chapters = new Map<string, { support: number; predicted: number; correct: number }>()
  const stat = (ch: string) => {
    let s = chapters.get(ch)
    if (!s) chapters.set(ch, (s = { support: 0, predicted: 0, correct: 0 }))
    return s
  }
  const misses: Evaluation['misses'] = []
  rows.forEach((row, i) => {
    const labelled = inputFromRow(row, i + 1)
    const blind: ClassifyInput = {
      id: labelled.id,
      symbol: labelled.symbol,
      member: labelled.member,
      type: labelled.type,
      title: scrubCodes(labelled.title),
      products: scrubCodes(labelled.products),
      description: scrubCodes(labelled.description),
      objectives: labelled.objectives,
    }
    const guess = classifier.classify(blind)
    const reference = classifier.classify({ ...labelled, languageHint: undefined })
    const truth = (row.hs_codes ?? []).filter(usable).map(digits)
    if (truth.length) {
      scored++
      const truthChapters = new Set(truth.map((c) => c.slice(0, 2)))
      const guesses = guess.hs.map((h) => digits(h.code)).filter((c) => c.length >= 2)
      if (!guesses.length) noGuess++
      const lang = row.language ?? '?'
      byLanguage[lang] ??= { n: 0, ok: 0 }
      byLanguage[lang].n++
      for (const ch of truthChapters) stat(ch).support++
      const best = guesses[0]?.slice(0, 2)
      if (best) stat(best).predicted++
      if (best && truthChapters.has(best)) {
        top1++
        byLanguage[lang].ok++
        stat(best).correct++
      } else misses.push({ id: labelled.id, truth: [...truthChapters], guess: guesses.slice(0, 3) })
      if (guesses.slice(0, 3).some((g) => truthChapters.has(g.slice(0, 2)))) top3++
      const headings = new Set(truth.filter((c) => c.length >= 4).map((c) => c.slice(0, 4)))
      if (headings.size) {
        headingScored++
        if (guesses[0]?.length >= 4 && headings.has(guesses[0].slice(0, 4))) heading++
      }
    }
    const want = new Set(reference.categories.map((c) => c.id))
    const got = new Set(guess.categories.map((c) => c.id))
    for (const c of got) if (want.has(c)) tp++
    else fp++
    for (const c of want) if (!got.has(c)) fn++
  })
  const ratio = (a: number, b: number) => (b ? a / b : 0)
  const precision = ratio(tp, tp + fp)
  const recall = ratio(tp, tp + fn)
  return {
    records: rows.length,
    scored,
    noGuess,
    chapterTop1: ratio(top1, scored),
    chapterTop3: ratio(top3, scored),
    headingTop1: ratio(heading, headingScored),
    headingScored,
    categoryPrecision: precision,
    categoryRecall: recall,
    categoryF1: ratio(2 * precision * recall, precision + recall),
    byLanguage: Object.fromEntries(Object.entries(byLanguage).map(([l, v]) => [l, { n: v.n, chapterTop1: ratio(v.ok, v.n) }])),
    byChapter: [...chapters.entries()]
      .map(([chapter, s]) => ({ chapter, support: s.support, predicted: s.predicted, precision: ratio(s.correct, s.predicted), recall: ratio(s.correct, s.support) }))
      .sort((a, b) => a.chapter.localeCompare(b.chapter)),
    misses,
  }
}

/** The report as text, ending with the line scripts read. */
export function formatEvaluation(e: Evaluation, verbose = false): string {
  const f = (x: number) => x.toFixed(3)
  const lines = [
    `records ${e.records}, scored on HS ${e.scored}, no guess ${e.noGuess}`,
    `chapter top-1 ${f(e.chapterTop1)}  top-3 ${f(e.chapterTop3)}  heading top-1 ${f(e.headingTop1)} (of ${e.headingScored})`,
    ...Object.entries(e.byLanguage).map(([l, v]) => `  language ${l}: chapter top-1 ${f(v.chapterTop1)} of ${v.n}`),
    `categories vs what the codes imply: precision ${f(e.categoryPrecision)} recall ${f(e.categoryRecall)} F1 ${f(e.categoryF1)}`,
    'per chapter (support = notices with a code in it, predicted = best guesses in it):',
    '  chapter  support  predicted  precision  recall',
    ...e.byChapter.map((c) => `  ${c.chapter.padEnd(7)}  ${String(c.support).padStart(7)}  ${String(c.predicted).padStart(9)}  ${f(c.precision).padStart(9)}  ${f(c.recall).padStart(6)}`),
  ]
  if (verbose) for (const m of e.misses) lines.push(`  miss ${m.id}: truth ${m.truth.join(',')} guess ${m.guess.join(',') || '-'}`)
  lines.push(`chapter_top1=${f(e.chapterTop1)} heading_top1=${f(e.headingTop1)} category_f1=${f(e.categoryF1)}`)
  return lines.join('\n')
}
