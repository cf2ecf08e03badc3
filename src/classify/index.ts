import fs from 'node:fs'
import path from 'node:path'
import { CategoryIndex, loadCategories, DEFAULT_CATEGORIES_FILE } from '../domain/categories.js'
import { ProductClassifier, type Knowledge } from './classifier.js'
import { HsEditions, IcsCrosswalk } from './crosswalk.js'
import { loadLexicon } from './lexicon.js'
import { NaiveBayesModel } from './model.js'
import { NomenclatureIndex } from './nomenclature.js'
import type { Classifier, ClassifyInput, LabelledExample } from './types.js'

export type { CategoryGuess, Classifier, ClassifyInput, ClassifyResult, Evidence, HsGuess, LabelledExample } from './types.js'
export { detectLanguage } from './language.js'

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

/** Loads the knowledge in rules/ and the persisted model, if any. Takes well under a second. */
export async function createClassifier(opts: ClassifierOptions = {}): Promise<Classifier> {
  shared ??= { lexicon: loadLexicon(undefined, opts.dataDir ? path.join(opts.dataDir, 'cache') : undefined), ics: new IcsCrosswalk(), editions: new HsEditions() }
  let nomenclature: NomenclatureIndex | undefined
  if (opts.nomenclaturePath) {
    nomenclature = nomenclatures.get(opts.nomenclaturePath) ?? new NomenclatureIndex(opts.nomenclaturePath)
    nomenclatures.set(opts.nomenclaturePath, nomenclature)
  }
  const categories = new CategoryIndex(loadCategories(opts.categoriesFile ?? DEFAULT_CATEGORIES_FILE))
  const modelDir = opts.dataDir ? path.join(opts.dataDir, 'models') : undefined
  const model = (modelDir && NaiveBayesModel.load(modelDir)) || new NaiveBayesModel()
  const core = new ProductClassifier({ ...shared, categories, nomenclature }, model)
  return {
    classify: (input) => core.classify(input),
    learn: (examples) => {
      model.learn(core.toModelExamples(examples))
    },
    save: async () => {
      if (!modelDir) throw new Error('createClassifier was given no dataDir; there is nowhere to save the model')
      await model.save(modelDir)
    },
  }
}

interface LabelledRow {
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
