import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * Multinomial naive Bayes over a notice's features (word stems, Chinese bigrams), with
 * HS chapters and headings as labels. Counts are additive, so learning is incremental;
 * each example is remembered by id with its features, so that learning an example again
 * is a no-op and an analyst's correction replaces the earlier labels instead of adding
 * to them.
 */
export interface ModelExample { id: string; features: string[]; labels: string[] }

interface StoredExample { h: string; f: string[]; l: string[] }
interface ModelFile { version: 1; examples: Record<string, StoredExample> }

export const MODEL_FILE = 'classifier-nb.json'

class LabelStats {
  docs = 0
  total = 0
  readonly counts = new Map<string, number>()
}

export interface ModelScore { label: string; p: number; features: string[] }

export class NaiveBayesModel {
  private readonly examples = new Map<string, StoredExample>()
  private readonly labels = new Map<string, LabelStats>()
  private readonly vocabulary = new Map<string, number>()
  private docs = 0

  get size(): number {
    return this.examples.size
  }

  /** Adds examples; returns how many changed the model. */
  learn(batch: ModelExample[]): number {
    let changed = 0
    for (const ex of batch) {
      const labels = [...new Set(ex.labels)].sort()
      if (!labels.length) continue
      const h = hash(labels.join(',') + '\u0000' + ex.features.join(' '))
      const old = this.examples.get(ex.id)
      if (old?.h === h) continue
      if (old) this.apply(old, -1)
      const stored = { h, f: ex.features, l: labels }
      this.examples.set(ex.id, stored)
      this.apply(stored, 1)
      changed++
    }
    return changed
  }

  private apply(ex: StoredExample, sign: 1 | -1): void {
    this.docs += sign
    // A notice with codes in several chapters counts partly towards each.
    const share = 1 / ex.l.length
    for (const label of ex.l) {
      let stats = this.labels.get(label)
      if (!stats) this.labels.set(label, (stats = new LabelStats()))
      stats.docs += sign * share
      for (const f of ex.f) {
        stats.counts.set(f, (stats.counts.get(f) ?? 0) + sign * share)
        stats.total += sign * share
      }
      if (stats.docs <= 1e-9) this.labels.delete(label)
    }
    for (const f of ex.f) {
      const n = (this.vocabulary.get(f) ?? 0) + sign
      if (n <= 0) this.vocabulary.delete(f)
      else this.vocabulary.set(f, n)
    }
  }

  /**
   * Posterior over labels of one kind (the filter picks chapters or headings). The
   * log-likelihood is divided by a temperature that grows with the notice's length: naive
   * Bayes multiplies dependent evidence and would otherwise be sure of everything.
   */
  predict(features: string[], filter: (label: string) => boolean, top = 5): ModelScore[] {
    const known = features.filter((f) => this.vocabulary.has(f))
    if (!known.length || !this.labels.size) return []
    const v = this.vocabulary.size + 1
    const scored: { label: string; lp: number; features: string[] }[] = []
    let docs = 0
    for (const [label, s] of this.labels) if (filter(label)) docs += s.docs
    const temperature = Math.max(1, Math.sqrt(known.length))
    for (const [label, s] of this.labels) {
      if (!filter(label)) continue
      let lp = Math.log(s.docs / docs)
      const denom = s.total + 0.5 * v
      const hits: { f: string; gain: number }[] = []
      for (const f of known) {
        const c = s.counts.get(f) ?? 0
        lp += Math.log((c + 0.5) / denom) / temperature
        if (c > 0) hits.push({ f, gain: c })
      }
      hits.sort((a, b) => b.gain - a.gain)
      scored.push({ label, lp, features: hits.slice(0, 5).map((h) => h.f) })
    }
    const max = Math.max(...scored.map((s) => s.lp))
    let z = 0
    for (const s of scored) z += Math.exp(s.lp - max)
    return scored
      .map((s) => ({ label: s.label, p: Math.exp(s.lp - max) / z, features: s.features }))
      .sort((a, b) => b.p - a.p)
      .slice(0, top)
  }

  toJSON(): ModelFile {
    return { version: 1, examples: Object.fromEntries(this.examples) }
  }

  static fromJSON(data: ModelFile): NaiveBayesModel {
    const m = new NaiveBayesModel()
    if (data?.version !== 1) throw new Error('unknown classifier model version')
    for (const [id, ex] of Object.entries(data.examples)) {
      m.examples.set(id, ex)
      m.apply(ex, 1)
    }
    return m
  }

  static load(dir: string): NaiveBayesModel | null {
    const file = path.join(dir, MODEL_FILE)
    if (!fs.existsSync(file)) return null
    return NaiveBayesModel.fromJSON(JSON.parse(fs.readFileSync(file, 'utf8')) as ModelFile)
  }

  /** Writes atomically (temp file, then rename), so a crash never leaves half a model. */
  async save(dir: string): Promise<void> {
    await fs.promises.mkdir(dir, { recursive: true })
    const file = path.join(dir, MODEL_FILE)
    const tmp = `${file}.${process.pid}.tmp`
    await fs.promises.writeFile(tmp, JSON.stringify(this.toJSON()))
    await fs.promises.rename(tmp, file)
  }
}

function hash(s: string): string {
  return crypto.createHash('sha1').update(s).digest('hex').slice(0, 16)
}
