import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { LinearModel, type SerializedLinearModel } from './linear-model.js'
import type { ModelMetrics, WeightedExample } from './training.js'

/** A trained model with what is known about it. */
export interface StoredModel {
  /** a hash of the examples and options it was trained on */
  version: string
  createdAt: string
  metrics: ModelMetrics
  model: LinearModel
  /** examples learnt through the classifier itself (`classify --train`, corrections) and from elsewhere (the database) */
  ownExamples: number
  otherExamples: number
}

export const MODEL_FILE = 'classifier-model.json.gz'
export const EXAMPLES_FILE = 'classifier-examples.jsonl'
const FORMAT = 'tbt-watch-model/2'

interface ModelFileData { format: string; version: string; createdAt: string; metrics: ModelMetrics; ownExamples: number; otherExamples: number; model: SerializedLinearModel }

/** A stored model as bytes (gzipped JSON): the same form in a file and in the database. */
export function encodeModel(m: StoredModel): Buffer {
  const data: ModelFileData = { format: FORMAT, version: m.version, createdAt: m.createdAt, metrics: m.metrics, ownExamples: m.ownExamples, otherExamples: m.otherExamples, model: m.model.toJSON() }
  return zlib.gzipSync(JSON.stringify(data), { level: 6 })
}

export function decodeModel(bytes: Buffer): StoredModel {
  const data = JSON.parse(zlib.gunzipSync(bytes).toString('utf8')) as ModelFileData
  if (data.format !== FORMAT) throw new Error(`unknown classifier model format ${String(data.format)}`)
  return { version: data.version, createdAt: data.createdAt, metrics: data.metrics, ownExamples: data.ownExamples, otherExamples: data.otherExamples, model: LinearModel.fromJSON(data.model) }
}

/** The model and the classifier's own examples under dataDir/models/, written atomically. */
export class ModelFiles {
  constructor(readonly dir: string) {}

  loadModel(): StoredModel | null {
    const file = path.join(this.dir, MODEL_FILE)
    if (!fs.existsSync(file)) return null
    return decodeModel(fs.readFileSync(file))
  }

  async saveModel(m: StoredModel): Promise<void> {
    await this.write(MODEL_FILE, encodeModel(m))
  }

  /** One labelled example a line; a later line with the same id replaces an earlier one. */
  loadExamples(): WeightedExample[] {
    const file = path.join(this.dir, EXAMPLES_FILE)
    if (!fs.existsSync(file)) return []
    const byId = new Map<string, WeightedExample>()
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue
      try {
        const e = JSON.parse(line) as WeightedExample
        if (e?.example?.text?.id) byId.set(e.example.text.id, e)
      } catch {
        // A torn last line (a crash mid-write of an older version) loses that example only.
      }
    }
    return [...byId.values()]
  }

  async saveExamples(examples: Iterable<WeightedExample>): Promise<void> {
    const lines: string[] = []
    for (const e of examples) lines.push(JSON.stringify(e))
    await this.write(EXAMPLES_FILE, lines.join('\n') + (lines.length ? '\n' : ''))
  }

  private async write(name: string, data: string | Buffer): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true })
    const file = path.join(this.dir, name)
    const tmp = `${file}.${process.pid}.tmp`
    await fs.promises.writeFile(tmp, data)
    await fs.promises.rename(tmp, file)
  }
}
