export interface ClassifyInput {
  id: string
  symbol?: string
  member?: string
  type?: string
  title?: string
  products?: string
  description?: string
  objectives?: string[]
  hsCodes?: string[]
  icsCodes?: string[]
  languageHint?: string
}
/** code: 2-10 digits, no dots */
export interface HsGuess { code: string; score: number }
export interface CategoryGuess { id: string; score: number }
/** kind: 'language' | 'hs-code' | 'ics' | 'term' | 'model' | 'nomenclature' | 'near' */
export interface Evidence { kind: string; detail: string; code?: string; weight?: number; [k: string]: unknown }
export interface ClassifyResult { id: string; language: string; hs: HsGuess[]; categories: CategoryGuess[]; evidence: Evidence[] }
export interface LabelledExample { text: ClassifyInput; hsCodes: string[] }
export interface ModelInfo { version: string; createdAt: string; metrics: import('./training.js').ModelMetrics }
export interface Classifier {
  classify(input: ClassifyInput): ClassifyResult
  /**
   * Adds labelled examples (their text without codes) to the classifier's own; the model
   * is retrained from them before the next classification. `weight` > 1 for analysts'
   * corrections. Learning the same example again changes nothing.
   */
  learn(examples: LabelledExample[], opts?: { weight?: number }): void
  /** retrains now from the classifier's own examples plus `extra` (e.g. the database's coded notices) */
  train(extra?: Iterable<import('./training.js').WeightedExample>): import('./training.js').TrainResult
  /** persists the examples and the model under dataDir/models/ */
  save(): Promise<void>
  /** uses a model trained elsewhere (another process, read from the database) */
  adopt(model: import('./model-store.js').StoredModel): void
  /** the current learnt model, if any */
  readonly model: ModelInfo | null
  /** the classifier's version including its model's: stored classifications made by another are stale */
  readonly version: string
  exportModel(): import('./model-store.js').StoredModel | null
}
