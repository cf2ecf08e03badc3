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
/** kind: 'language' | 'hs-code' | 'ics' | 'term' | 'model' | 'nomenclature' */
export interface Evidence { kind: string; detail: string; code?: string; weight?: number; [k: string]: unknown }
export interface ClassifyResult { id: string; language: string; hs: HsGuess[]; categories: CategoryGuess[]; evidence: Evidence[] }
export interface LabelledExample { text: ClassifyInput; hsCodes: string[] }
export interface Classifier {
  classify(input: ClassifyInput): ClassifyResult
  /** incremental: adds examples to the model (does not persist) */
  learn(examples: LabelledExample[]): void
  /** persists the model under dataDir/models/ */
  save(): Promise<void>
}
