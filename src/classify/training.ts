import crypto from 'node:crypto'
import type { ProductClassifier } from './classifier.js'
import { LinearModel, type TrainingExample, type TrainOptions } from './linear-model.js'
import type { LabelledExample } from './types.js'

/**
 * Training the learnt model from labelled notices, and measuring it honestly.
 *
 * A fixed slice of the examples (one in ten by a hash of its id, so the same notice is
 * always on the same side) is held out: the model never trains on it, and it is what
 * the model's accuracy is reported on and what decides how far the model is trusted
 * (`scale`). With too few examples to hold any out, the regularised fit is used as it is.
 */

export interface WeightedExample { example: LabelledExample; weight: number }

export interface ChapterFigures { chapter: string; support: number; precision: number; recall: number }

export interface ModelMetrics {
  examples: number
  trained: number
  heldOut: number
  /** on the held-out slice, at the chosen scale */
  chapterTop1: number | null
  headingTop1: number | null
  /** the lexicon alone on the same slice, for comparison */
  lexiconChapterTop1: number | null
  byLanguage: Record<string, { n: number; chapterTop1: number }>
  byChapter: ChapterFigures[]
  scale: number
  scaleChosenBy: 'held-out' | 'folds' | 'fit'
  seconds: number
}

const SCALES = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]
const MIN_HELD_OUT = 30
/** below this, folds are too small to say anything either */
const MIN_FOLDED = 40
const FOLDS = 5
const MAX_HELD_OUT = 2000

export function isHeldOut(id: string): boolean {
  return crypto.createHash('sha1').update(`held-out:${id}`).digest()[0] % 10 === 0
}

export interface TrainResult { model: LinearModel; metrics: ModelMetrics; version: string }

export function trainModel(core: ProductClassifier, examples: Iterable<WeightedExample>, options: TrainOptions = {}): TrainResult {
  const t0 = performance.now()
  const train: TrainingExample[] = []
  const held: TrainingExample[] = []
  const hash = crypto.createHash('sha1')
  let total = 0
  for (const { example, weight } of examples) {
    const ex = core.trainingExample(example, weight)
    if (!ex) continue
    total++
    hash.update(ex.id).update('\u0000').update(ex.chapters.join(',')).update(ex.headings.join(',')).update(String(weight)).update(ex.x.keys.join(' ')).update('\u0001')
    // Analysts' corrections are never held out: they are few and they are the point.
    if (weight <= 1 && held.length < MAX_HELD_OUT && isHeldOut(ex.id)) held.push(ex)
    else train.push(ex)
  }
  // Too small a slice measures nothing: train on everything, and let folds of the
  // examples themselves say how far to trust the model.
  if (held.length < MIN_HELD_OUT) {
    train.push(...held)
    held.length = 0
  }
  const base = LinearModel.train(train, options)
  // Without a slice to measure on: with enough examples for folds, each fold is predicted
  // by a model that never saw it and the scale that does best over all folds is taken
  // (a few hundred notices rarely beat the lexicon by much, and can do worse); with fewer,
  // the regularised fit is taken as it is, its weights only as large as the data made them.
  let scale = 1
  let scaleChosenBy: ModelMetrics['scaleChosenBy'] = 'fit'
  if (!held.length && train.length >= MIN_FOLDED) {
    scale = scaleByFolds(train, options)
    scaleChosenBy = 'folds'
  }
  let figures = held.length ? evaluate(base, held, scale) : null
  const lexicon = held.length ? evaluate(base, held, 0) : null
  if (held.length) {
    let best = { scale, top1: -1 }
    for (const s of SCALES) {
      const f = evaluate(base, held, s)
      // Ties go to the larger scale: the model saw more data than the slice can show.
      if (f.chapterTop1 >= best.top1) best = { scale: s, top1: f.chapterTop1 }
    }
    scale = best.scale
    scaleChosenBy = 'held-out'
    figures = evaluate(base, held, scale)
  }
  const model = base.withScale(scale)
  const version = hash.update(JSON.stringify(options)).digest('hex').slice(0, 12)
  return {
    model,
    version,
    metrics: {
      examples: total,
      trained: train.length,
      heldOut: held.length,
      chapterTop1: figures?.chapterTop1 ?? null,
      headingTop1: figures?.headingTop1 ?? null,
      lexiconChapterTop1: lexicon?.chapterTop1 ?? null,
      byLanguage: figures?.byLanguage ?? {},
      byChapter: figures?.byChapter ?? [],
      scale,
      scaleChosenBy,
      seconds: Math.round((performance.now() - t0) / 10) / 100,
    },
  }
}

/** The scale that predicts the examples best when each fifth is predicted by a model trained on the rest. */
export function scaleByFolds(examples: TrainingExample[], options: TrainOptions): number {
  const correct = new Map<number, number>(SCALES.map((s) => [s, 0]))
  const foldOf = (id: string) => crypto.createHash('sha1').update(`fold:${id}`).digest()[0] % FOLDS
  for (let k = 0; k < FOLDS; k++) {
    const rest = examples.filter((e) => foldOf(e.id) !== k)
    const fold = examples.filter((e) => foldOf(e.id) === k)
    if (!fold.length || !rest.length) continue
    const model = LinearModel.train(rest, options)
    for (const s of SCALES) correct.set(s, correct.get(s)! + evaluate(model, fold, s).chapterTop1 * fold.length)
  }
  // Ties go to the smaller scale: the lexicon is the prior, the model has to earn its say.
  let best = { scale: 0, n: -1 }
  for (const s of SCALES) if (correct.get(s)! > best.n + 1e-9) best = { scale: s, n: correct.get(s)! }
  return best.scale
}

interface Figures { chapterTop1: number; headingTop1: number; byLanguage: ModelMetrics['byLanguage']; byChapter: ChapterFigures[] }

function evaluate(model: LinearModel, held: TrainingExample[], scale: number): Figures {
  let top1 = 0
  let heading = 0
  let headingN = 0
  const byLanguage: Record<string, { n: number; ok: number }> = {}
  const perChapter = new Map<string, { support: number; predicted: number; correct: number }>()
  const stat = (ch: string) => {
    let s = perChapter.get(ch)
    if (!s) perChapter.set(ch, (s = { support: 0, predicted: 0, correct: 0 }))
    return s
  }
  for (const ex of held) {
    const chapters = model.predictChapters(ex.x, ex.chapterPrior, scale)
    const best = chapters[0]?.code
    const ok = best !== undefined && ex.chapters.includes(best)
    if (ok) top1++
    const lang = ex.lang ?? 'und'
    byLanguage[lang] ??= { n: 0, ok: 0 }
    byLanguage[lang].n++
    if (ok) byLanguage[lang].ok++
    for (const ch of ex.chapters) stat(ch).support++
    if (best) {
      stat(best).predicted++
      if (ok) stat(best).correct++
    }
    if (ex.headings.length) {
      headingN++
      const h = best ? model.predictHeadings(best, ex.x, ex.headingPrior, scale)[0] : undefined
      if (h && ex.headings.includes(h.code)) heading++
    }
  }
  const r = (a: number, b: number) => (b ? Math.round((a / b) * 1000) / 1000 : 0)
  return {
    chapterTop1: r(top1, held.length),
    headingTop1: r(heading, headingN),
    byLanguage: Object.fromEntries(Object.entries(byLanguage).map(([l, v]) => [l, { n: v.n, chapterTop1: r(v.ok, v.n) }])),
    byChapter: [...perChapter.entries()]
      .map(([chapter, s]) => ({ chapter, support: s.support, precision: r(s.correct, s.predicted), recall: r(s.correct, s.support) }))
      .sort((a, b) => a.chapter.localeCompare(b.chapter)),
  }
}
