import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { CategoryIndex, loadCategories, DEFAULT_CATEGORIES_FILE } from '../domain/categories.js'
import { ProductClassifier, type Knowledge } from './classifier.js'
import { DEFAULT_CHAPTER_DEFAULTS_FILE, DEFAULT_EDITIONS_FILE, DEFAULT_ICS_FILE, HsEditions, IcsCrosswalk, loadChapterDefaults } from './crosswalk.js'
import { loadLexicon } from './lexicon.js'
import { ModelFiles, type StoredModel } from './model-store.js'
import { DEFAULT_MATERIALS_FILE, Materials } from './materials.js'
import { DEFAULT_STATES_FILE, States } from './states.js'
import { NomenclatureIndex } from './nomenclature.js'
import { trainModel, type TrainResult, type WeightedExample } from './training.js'
import type { Classifier, ClassifyInput, LabelledExample } from './types.js'
import type { LabelledRecord } from './evaluate.js'

export type { CategoryGuess, Classifier, ClassifyInput, ClassifyResult, Evidence, HsGuess, LabelledExample, ModelInfo } from './types.js'
export type { ModelMetrics, WeightedExample } from './training.js'
export { detectLanguage } from './language.js'
export { scrubCodes } from './scrub.js'

/** The classifier's own version: a stored classification made by another version is redone by `reclassify`. */
export const CLASSIFIER_VERSION = 'tbt-watch-classifier/11'

export interface ClassifierOptions {
  /** where the learnt model lives (dataDir/models/); without it nothing is loaded or saved */
  dataDir?: string
  /** the HS 2022 nomenclature CSV (datasets/harmonized-system), optional enrichment */
  nomenclaturePath?: string
  categoriesFile?: string
}

// The lexicon and crosswalks are the same for every classifier in a process; compile once.
let shared: Omit<Knowledge, 'categories' | 'nomenclature'> | undefined
const nomenclatures = new Map<string, NomenclatureIndex>()

/**
 * Loads the knowledge in rules/ and the persisted model, if any. Takes well under a second.
 *
 * `learn` adds labelled notices to the classifier's own examples (kept under
 * dataDir/models/ by id, so learning one again changes nothing and a new label replaces
 * the old); the model is retrained from them before the next classification, or at once
 * with `train`, which can add examples from elsewhere (the database's coded notices).
 */
export async function createClassifier(opts: ClassifierOptions = {}): Promise<Classifier> {
  shared ??= { lexicon: loadLexicon(undefined, opts.dataDir ? path.join(opts.dataDir, 'cache') : undefined), ics: new IcsCrosswalk(), editions: new HsEditions(), chapterDefaults: loadChapterDefaults(), materials: new Materials(), states: new States() }
  let nomenclature: NomenclatureIndex | undefined
  if (opts.nomenclaturePath) {
    nomenclature = nomenclatures.get(opts.nomenclaturePath) ?? new NomenclatureIndex(opts.nomenclaturePath)
    nomenclatures.set(opts.nomenclaturePath, nomenclature)
  }
  const categoriesFile = opts.categoriesFile ?? DEFAULT_CATEGORIES_FILE
  const categories = new CategoryIndex(loadCategories(categoriesFile))
  // The knowledge's own version: editing rules/ or the categories makes stored classifications stale.
  const knowledge = crypto.createHash('sha1').update(shared.lexicon.hash)
  for (const f of [DEFAULT_ICS_FILE, DEFAULT_EDITIONS_FILE, DEFAULT_CHAPTER_DEFAULTS_FILE, DEFAULT_MATERIALS_FILE, DEFAULT_STATES_FILE, categoriesFile]) knowledge.update(fs.readFileSync(f))
  if (opts.nomenclaturePath) knowledge.update(opts.nomenclaturePath)
  const baseVersion = `${CLASSIFIER_VERSION}+k${knowledge.digest('hex').slice(0, 8)}`
  const files = opts.dataDir ? new ModelFiles(path.join(opts.dataDir, 'models')) : null
  const core = new ProductClassifier({ ...shared, categories, nomenclature })
  let current: StoredModel | null = files?.loadModel() ?? null
  core.model = current?.model ?? null
  const examples = new Map<string, WeightedExample>()
  let examplesLoaded = false
  let dirty = false
  const loadExamples = () => {
    if (examplesLoaded) return
    examplesLoaded = true
    for (const e of files?.loadExamples() ?? []) if (!examples.has(e.example.text.id)) examples.set(e.example.text.id, e)
  }
  const install = (r: TrainResult, extraCount: number) => {
    current = { version: r.version, createdAt: new Date().toISOString(), metrics: r.metrics, model: r.model, ownExamples: examples.size, otherExamples: extraCount }
    core.model = r.metrics.trained ? r.model : null
    dirty = false
    return r
  }
  const train = (extra: Iterable<WeightedExample> = []) => {
    loadExamples()
    let extraCount = 0
    const all = function* () {
      yield* examples.values()
      for (const e of extra) {
        if (examples.has(e.example.text.id)) continue
        extraCount++
        yield e
      }
    }
    return install(trainModel(core, all()), extraCount)
  }
  const ensureTrained = () => {
    if (dirty) train()
  }
  return {
    classify: (input) => {
      ensureTrained()
      return core.classify(input)
    },
    learn: (batch, learnOpts) => {
      loadExamples()
      const weight = learnOpts?.weight ?? 1
      for (const ex of batch) {
        const id = ex.text.id
        const old = examples.get(id)
        if (old && old.weight === weight && JSON.stringify(old.example) === JSON.stringify(ex)) continue
        examples.set(id, { example: ex, weight })
        dirty = true
      }
    },
    train: (extra) => train(extra),
    save: async () => {
      if (!files) throw new Error('createClassifier was given no dataDir; there is nowhere to save the model')
      ensureTrained()
      if (examplesLoaded) await files.saveExamples(examples.values())
      if (current) await files.saveModel(current)
    },
    adopt: (stored) => {
      current = stored
      core.model = stored.metrics.trained ? stored.model : null
    },
    get model() {
      return current ? { version: current.version, createdAt: current.createdAt, metrics: current.metrics } : null
    },
    get version() {
      return current && core.model ? `${baseVersion}+m${current.version}` : baseVersion
    },
    exportModel: () => current,
  }
}

/** A labelled notice line: the evaluation's record shape (`../shared/data` format). */
type LabelledRow = LabelledRecord

/** One JSONL row (labelled or input format) as classifier input. */
export function inputFromRow(row: LabelledRow, line?: number): ClassifyInput {
  const id = row.id ?? row.symbol
  if (!id) throw new Error(`line ${line ?? '?'}: a notice needs an id or a symbol`)
  return {
    id: String(id),
    symbol: row.symbol ?? undefined,
    member: row.member ?? undefined,
    type: row.type ?? undefined,
    title: row.title ?? undefined,
    products: row.products ?? undefined,
    description: row.description ?? row.description_head ?? undefined,
    objectives: row.objectives ?? undefined,
    hsCodes: row.hs_codes ?? undefined,
    icsCodes: row.ics_codes ?? undefined,
    languageHint: row.language ?? undefined,
  }
}

/** Labelled notices in the ../shared/data format (symbol, title, products, description_head, hs_codes, ...). */
export function readLabelledJsonl(file: string): LabelledExample[] {
  const out: LabelledExample[] = []
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return
    let row: LabelledRow
    try {
      row = JSON.parse(line) as LabelledRow
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not JSON (${(err as Error).message})`)
    }
    const text = inputFromRow(row, i + 1)
    // The codes are the label; the model must learn from the words alone.
    out.push({ text: { ...text, hsCodes: undefined, icsCodes: undefined }, hsCodes: row.hs_codes ?? [] })
  })
  return out
}
