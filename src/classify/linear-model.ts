/**
 * The learnt part of the classifier: multinomial logistic regression over a notice's
 * words, on top of what the lexicon already says.
 *
 * The lexicon's opinion enters as a fixed offset per class (the log of its probability),
 * and the model learns only corrections to it: weights per word and class, and a bias per
 * class. With no data the weights are zero and the classifier is the lexicon; with a few
 * hundred notices the weights move where the lexicon is wrong or silent (a word it does
 * not know, a word it reads as the wrong product); with tens of thousands the words
 * decide. L2 regularisation keeps weights small until data supports them, and a scale
 * chosen on held-out notices (`scale`) says how far the model is trusted: the learnt
 * model's say grows with its data, measured rather than assumed.
 *
 * Chapters (2 digits) are one softmax over the 97 chapters; headings (4 digits) are a
 * softmax per chapter over that chapter's headings, so P(heading) = P(chapter) ·
 * P(heading | chapter). Training is AdaGrad over sparse features, deterministic for the
 * same examples (seeded shuffle), and fast: 100,000 notices train in seconds.
 */

/** Sparse features: parallel arrays of keys and values. */
export interface FeatureVector { keys: string[]; values: number[] }

export interface TrainingExample {
  id: string
  x: FeatureVector
  /** true chapters (2 digits) and headings (4 digits); a notice with several is right on any */
  chapters: string[]
  headings: string[]
  /** log-probabilities the lexicon gives, by chapter and by heading (missing = floor) */
  chapterPrior: Map<string, number>
  headingPrior: Map<string, number>
  weight: number
  lang?: string
}

export interface SoftmaxLayer {
  classes: string[]
  /** per feature key, weights for each class (row-major in `weights`) */
  features: string[]
  weights: Float32Array
  bias: Float32Array
  /** how much the lexicon's offsets count, learnt (1 = as the lexicon says) */
  priorWeight: number
}

export interface TrainOptions {
  /** how fast the per-class bias (the training set's own class frequencies) is learnt, relative to the weights */
  biasRate?: number
  epochs?: number
  learningRate?: number
  l2?: number
  seed?: number
}

export const CHAPTERS: string[] = Array.from({ length: 97 }, (_, i) => String(i + 1).padStart(2, '0')).filter((c) => c !== '77')

/**
 * Log-probability given to a chapter the lexicon says nothing of, unless the prior map
 * says otherwise under the key '*' (the lexicon's "none of these" mass spread evenly).
 */
export const PRIOR_FLOOR = Math.log(0.01)
/** A chapter is listed when it holds at least this probability: twice an even share of the 96 chapters. */
const MIN_CHAPTER_P = 0.02
export const HEADING_PRIOR_FLOOR = Math.log(0.05)

// Chosen by two-way cross-validation over held-out real notices (train on one half of
// three corpora, score the other, and back): stronger L2 than text models usually take,
// because the lexicon's offsets already carry most of what a few hundred notices teach;
// no learnt per-class bias, since a training set's own mix of chapters (mostly food in a
// year of SPS notices) must not bend every later notice towards it.
const DEFAULTS: Required<TrainOptions> = { biasRate: 0, epochs: 10, learningRate: 0.2, l2: 1e-3, seed: 7 }

class Dense {
  readonly index = new Map<string, number>()
  w: Float64Array
  g: Float64Array
  constructor(readonly width: number, capacity = 1024) {
    this.w = new Float64Array(capacity * width)
    this.g = new Float64Array(capacity * width)
  }
  row(key: string): number {
    let r = this.index.get(key)
    if (r === undefined) {
      r = this.index.size
      this.index.set(key, r)
      if ((r + 1) * this.width > this.w.length) {
        const grow = (a: Float64Array) => {
          const b = new Float64Array(a.length * 2)
          b.set(a)
          return b
        }
        this.w = grow(this.w)
        this.g = grow(this.g)
      }
    }
    return r * this.width
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}

function softmaxInPlace(z: Float64Array, n: number): void {
  let max = -Infinity
  for (let i = 0; i < n; i++) if (z[i] > max) max = z[i]
  let sum = 0
  for (let i = 0; i < n; i++) {
    z[i] = Math.exp(z[i] - max)
    sum += z[i]
  }
  for (let i = 0; i < n; i++) z[i] /= sum
}

/**
 * Fits one softmax layer with fixed per-class offsets. `targets(ex)` gives the indices of
 * the true classes (the target distribution is uniform over them); examples without any
 * are skipped.
 */
function fitLayer(
  classes: string[],
  examples: TrainingExample[],
  targets: (ex: TrainingExample) => number[],
  offsets: (ex: TrainingExample, out: Float64Array) => void,
  opts: Required<TrainOptions>,
): SoftmaxLayer {
  const C = classes.length
  const dense = new Dense(C)
  const bias = new Float64Array(C)
  const biasG = new Float64Array(C)
  const z = new Float64Array(C)
  const grad = new Float64Array(C)
  const offset = new Float64Array(C)
  let priorWeight = 1
  let priorG = 0
  const used = examples.map((ex) => ({ ex, t: targets(ex) })).filter((e) => e.t.length)
  const random = rng(opts.seed)
  const order = used.map((_, i) => i)
  const { learningRate: lr, l2 } = opts
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[order[i], order[j]] = [order[j], order[i]]
    }
    for (const k of order) {
      const { ex, t } = used[k]
      offsets(ex, offset)
      for (let c = 0; c < C; c++) z[c] = priorWeight * offset[c] + bias[c]
      const rows: number[] = []
      for (let f = 0; f < ex.x.keys.length; f++) {
        const r = dense.row(ex.x.keys[f])
        rows.push(r)
        const v = ex.x.values[f]
        for (let c = 0; c < C; c++) z[c] += dense.w[r + c] * v
      }
      softmaxInPlace(z, C)
      const share = 1 / t.length
      for (let c = 0; c < C; c++) grad[c] = z[c] * ex.weight
      for (const c of t) grad[c] -= share * ex.weight
      // The lexicon's weight, pulled towards 1 as the other weights are pulled towards 0.
      let gp = l2 * 50 * (priorWeight - 1)
      for (let c = 0; c < C; c++) gp += grad[c] * offset[c]
      priorG += gp * gp
      priorWeight -= (lr * 0.2 * gp) / Math.sqrt(priorG + 1e-8)
      if (opts.biasRate > 0) for (let c = 0; c < C; c++) {
        const g = grad[c] + l2 * 50 * bias[c]
        if (g > -1e-6 && g < 1e-6) continue
        biasG[c] += g * g
        bias[c] -= (lr * opts.biasRate * g) / Math.sqrt(biasG[c] + 1e-8)
      }
      for (let f = 0; f < rows.length; f++) {
        const r = rows[f]
        const v = ex.x.values[f]
        for (let c = 0; c < C; c++) {
          const g0 = grad[c]
          // Classes the example barely touches get no update (and no decay) this time.
          if (g0 > -1e-6 && g0 < 1e-6) continue
          const g = g0 * v + l2 * dense.w[r + c]
          dense.g[r + c] += g * g
          dense.w[r + c] -= (lr * g) / Math.sqrt(dense.g[r + c] + 1e-8)
        }
      }
    }
  }
  // Keep the features that moved some class: the rest cost memory and load time.
  const features: string[] = []
  const kept: number[] = []
  for (const [key, r] of dense.index) {
    let max = 0
    for (let c = 0; c < C; c++) max = Math.max(max, Math.abs(dense.w[r * C + c]))
    if (max >= 1e-3) {
      features.push(key)
      kept.push(r)
    }
  }
  const weights = new Float32Array(kept.length * C)
  kept.forEach((r, i) => weights.set(dense.w.subarray(r * C, r * C + C), i * C))
  return { classes, features, weights, bias: Float32Array.from(bias), priorWeight }
}

export interface Prediction { code: string; p: number; features: string[] }

/** A trained layer ready to score: feature rows looked up by key. */
export class ScoringLayer {
  private readonly rows = new Map<string, number>()
  readonly classIndex = new Map<string, number>()
  constructor(readonly layer: SoftmaxLayer) {
    layer.features.forEach((f, i) => this.rows.set(f, i * layer.classes.length))
    layer.classes.forEach((c, i) => this.classIndex.set(c, i))
  }

  /** The model's own logits (bias + weights · x), and which features pushed a class most. */
  logits(x: FeatureVector): { z: Float64Array; top: (c: number) => string[] } {
    const C = this.layer.classes.length
    const w = this.layer.weights
    const z = Float64Array.from(this.layer.bias)
    const hitRows: number[] = []
    const hitKeys: string[] = []
    const hitValues: number[] = []
    for (let f = 0; f < x.keys.length; f++) {
      const r = this.rows.get(x.keys[f])
      if (r === undefined) continue
      const v = x.values[f]
      hitRows.push(r)
      hitKeys.push(x.keys[f])
      hitValues.push(v)
      for (let c = 0; c < C; c++) z[c] += w[r + c] * v
    }
    const top = (c: number) => {
      const pushes: { key: string; push: number }[] = []
      for (let i = 0; i < hitRows.length; i++) {
        const push = w[hitRows[i] + c] * hitValues[i]
        if (push > 0.05) pushes.push({ key: hitKeys[i], push })
      }
      return pushes.sort((a, b) => b.push - a.push).slice(0, 5).map((h) => h.key)
    }
    return { z, top }
  }
}

const CHAPTER_INDEX = new Map(CHAPTERS.map((c, i) => [c, i]))

export interface LinearModelData {
  chapters: SoftmaxLayer
  headings: Record<string, SoftmaxLayer>
  /** how far the learnt weights are trusted (0 = the lexicon alone), chosen on held-out notices */
  scale: number
}

export class LinearModel {
  readonly chapters: ScoringLayer
  readonly headings = new Map<string, ScoringLayer>()
  constructor(readonly data: LinearModelData) {
    this.chapters = new ScoringLayer(data.chapters)
    for (const [ch, layer] of Object.entries(data.headings)) this.headings.set(ch, new ScoringLayer(layer))
  }

  get scale(): number {
    return this.data.scale
  }

  /**
   * Chapter probabilities: softmax over all chapters of the lexicon's log-probability plus
   * the scaled learnt logits.
   */
  predictChapters(x: FeatureVector, prior: Map<string, number>, scale = this.scale): Prediction[] {
    const C = CHAPTERS.length
    const all = new Float64Array(C)
    const floor = prior.get('*') ?? PRIOR_FLOOR
    const tau = 1 + scale * (this.data.chapters.priorWeight - 1)
    all.fill(tau * floor)
    for (const [ch, lp] of prior) {
      const i = CHAPTER_INDEX.get(ch)
      if (i !== undefined) all[i] = tau * lp
    }
    // The chapter layer's classes are CHAPTERS, in order (or none: an empty model).
    const learnt = scale !== 0 && this.data.chapters.classes.length === C ? this.chapters.logits(x) : null
    if (learnt) for (let i = 0; i < C; i++) all[i] += scale * learnt.z[i]
    softmaxInPlace(all, C)
    const out: Prediction[] = []
    for (let i = 0; i < C; i++) if (all[i] >= MIN_CHAPTER_P) out.push({ code: CHAPTERS[i], p: all[i], features: [] })
    out.sort((a, b) => b.p - a.p)
    if (learnt) for (const o of out.slice(0, 3)) o.features = learnt.top(CHAPTER_INDEX.get(o.code)!)
    return out
  }

  /** Heading probabilities within one chapter, over the headings it was trained on and those the lexicon names. */
  predictHeadings(chapter: string, x: FeatureVector, prior: Map<string, number>, scale = this.scale): Prediction[] {
    const layer = this.headings.get(chapter)
    const candidates = new Set<string>()
    for (const h of prior.keys()) if (h.startsWith(chapter)) candidates.add(h)
    if (layer) for (const h of layer.layer.classes) candidates.add(h)
    if (!candidates.size) return []
    const list = [...candidates]
    const z = new Float64Array(list.length)
    const learnt = layer?.logits(x)
    const tau = layer ? 1 + scale * (layer.layer.priorWeight - 1) : 1
    list.forEach((h, i) => {
      const j = layer?.classIndex.get(h)
      z[i] = tau * (prior.get(h) ?? HEADING_PRIOR_FLOOR) + (learnt && j !== undefined ? scale * learnt.z[j] : 0)
    })
    softmaxInPlace(z, list.length)
    const out = list.map((h, i): Prediction => ({ code: h, p: z[i], features: [] })).sort((a, b) => b.p - a.p)
    // Only the best heading's features are shown as evidence.
    const best = out[0]
    if (learnt && best && layer!.classIndex.has(best.code)) best.features = learnt.top(layer!.classIndex.get(best.code)!)
    return out
  }

  static train(examples: TrainingExample[], options: TrainOptions = {}): LinearModel {
    // A few hundred notices need many passes; a hundred thousand converge in a few: about
    // 400,000 example updates in all, between 3 and 10 passes.
    const epochs = options.epochs ?? Math.min(DEFAULTS.epochs, Math.max(3, Math.ceil(400_000 / Math.max(1, examples.length))))
    const opts = { ...DEFAULTS, ...options, epochs }
    const chapterIndex = new Map(CHAPTERS.map((c, i) => [c, i]))
    const chapterLayer = fitLayer(
      CHAPTERS,
      examples,
      (ex) => ex.chapters.map((c) => chapterIndex.get(c)).filter((i): i is number => i !== undefined),
      (ex, out) => {
        const floor = ex.chapterPrior.get('*') ?? PRIOR_FLOOR
        for (let i = 0; i < CHAPTERS.length; i++) out[i] = ex.chapterPrior.get(CHAPTERS[i]) ?? floor
      },
      opts,
    )
    const byChapter = new Map<string, Set<string>>()
    for (const ex of examples) for (const h of ex.headings) {
      const ch = h.slice(0, 2)
      if (!byChapter.has(ch)) byChapter.set(ch, new Set())
      byChapter.get(ch)!.add(h)
    }
    const headings: Record<string, SoftmaxLayer> = {}
    for (const [ch, set] of [...byChapter].sort(([a], [b]) => a.localeCompare(b))) {
      // One heading seen is still worth a layer: its offset against the lexicon's other headings is learnt.
      const classes = [...set].sort()
      const idx = new Map(classes.map((h, i) => [h, i]))
      const inChapter = examples.filter((ex) => ex.headings.some((h) => h.startsWith(ch)))
      headings[ch] = fitLayer(
        classes,
        inChapter,
        (ex) => ex.headings.filter((h) => h.startsWith(ch)).map((h) => idx.get(h)!),
        (ex, out) => {
          for (let i = 0; i < classes.length; i++) out[i] = ex.headingPrior.get(classes[i]) ?? HEADING_PRIOR_FLOOR
        },
        opts,
      )
    }
    return new LinearModel({ chapters: chapterLayer, headings, scale: 1 })
  }

  withScale(scale: number): LinearModel {
    return new LinearModel({ ...this.data, scale })
  }

  toJSON(): SerializedLinearModel {
    const layer = (l: SoftmaxLayer): SerializedLayer => ({
      classes: l.classes,
      features: l.features,
      weights: Buffer.from(l.weights.buffer, l.weights.byteOffset, l.weights.byteLength).toString('base64'),
      bias: [...l.bias].map((b) => Math.round(b * 1e5) / 1e5),
      priorWeight: l.priorWeight,
    })
    return {
      chapters: layer(this.data.chapters),
      headings: Object.fromEntries(Object.entries(this.data.headings).map(([k, v]) => [k, layer(v)])),
      scale: this.data.scale,
    }
  }

  static fromJSON(data: SerializedLinearModel): LinearModel {
    const layer = (l: SerializedLayer): SoftmaxLayer => {
      const buf = Buffer.from(l.weights, 'base64')
      const weights = new Float32Array(buf.byteLength / 4)
      new Uint8Array(weights.buffer).set(buf)
      if (weights.length !== l.features.length * l.classes.length) throw new Error('classifier model: weights do not match features × classes')
      return { classes: l.classes, features: l.features, weights, bias: Float32Array.from(l.bias), priorWeight: l.priorWeight ?? 1 }
    }
    return new LinearModel({
      chapters: layer(data.chapters),
      headings: Object.fromEntries(Object.entries(data.headings).map(([k, v]) => [k, layer(v)])),
      scale: data.scale,
    })
  }
}

interface SerializedLayer { classes: string[]; features: string[]; weights: string; bias: number[]; priorWeight: number }
export interface SerializedLinearModel { chapters: SerializedLayer; headings: Record<string, SerializedLayer>; scale: number }
