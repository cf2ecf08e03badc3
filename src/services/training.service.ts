import type { AppContext } from '../app-context.js'
import type { Classifier, LabelledExample, ModelMetrics, WeightedExample } from '../classify/index.js'
import { decodeModel, encodeModel } from '../classify/model-store.js'
import { getNotices } from '../repositories/notice.repository.js'
import { classifyInputOf } from './classify.service.js'

/**
 * The classifier learns from the notices the system stores. Every notice whose member
 * supplied HS codes is a labelled example (its words, codes removed, against its codes);
 * an analyst's category correction labels the measure's notices again and counts three
 * times. Training runs as a job when enough new examples arrived, and on `tbt-watch
 * train`; each model is stored in the database (newest wins), so every worker on every
 * host classifies with the same model, and notices classified by an older one are
 * classified again.
 */

export const CORRECTION_WEIGHT = 3
/** New labelled notices since the last model that make retraining worth it. */
export const RETRAIN_AFTER = 200

const BATCH = 500

/** The database's labelled notices: members' codes, and analysts' corrections (which win). */
export async function labelledExamples(ctx: AppContext): Promise<WeightedExample[]> {
  const corrections = new Map<number, string[]>()
  // The latest correction per notice is its label.
  const rows = await ctx.db.selectFrom('training_example').select(['notice_id', 'hs_codes', 'id']).orderBy('id').execute()
  for (const r of rows) corrections.set(r.notice_id, JSON.parse(r.hs_codes) as string[])
  const out: WeightedExample[] = []
  let after = 0
  for (;;) {
    const ids = (
      await ctx.db.selectFrom('notice').select('id').where('id', '>', after).orderBy('id').limit(BATCH).execute()
    ).map((r) => r.id)
    if (!ids.length) break
    after = ids[ids.length - 1]
    for (const n of await getNotices(ctx.db, ids)) {
      const corrected = corrections.get(n.id)
      const codes = corrected ?? n.hsCodes
      if (!codes.length) continue
      // Follow-ups repeat their measure's codes over a text about dates and corrections:
      // they would teach the model that "comment period extended" is a product.
      if (!corrected && (n.type === 'addendum' || n.type === 'corrigendum')) continue
      const text = { ...classifyInputOf(n), id: `notice:${n.id}`, hsCodes: undefined, icsCodes: undefined }
      const example: LabelledExample = { text, hsCodes: codes }
      out.push({ example, weight: corrected ? CORRECTION_WEIGHT : 1 })
    }
  }
  return out
}

export interface TrainOutcome {
  trained: boolean
  reason: string
  version: string | null
  examples: number
  metrics: ModelMetrics | null
}

/**
 * Trains a model from the database's examples (and the classifier's own, from `classify
 * --train` and `import --train-only`) when at least `minNew` examples are new since the
 * last model, or always with `force`. Stores the model in the database and under
 * TBT_DATA_DIR/models/.
 */
export async function trainClassifier(ctx: AppContext, opts: { force?: boolean; minNew?: number } = {}): Promise<TrainOutcome> {
  const classifier = await ctx.classifier()
  await adoptLatestModel(ctx, classifier, true)
  const examples = await labelledExamples(ctx)
  const last = await ctx.db.selectFrom('classifier_model').select(['version', 'examples', 'created_at']).orderBy('id', 'desc').limit(1).executeTakeFirst()
  const minNew = opts.minNew ?? RETRAIN_AFTER
  // An analyst's correction is worth a new model on its own.
  const corrected = last ? await ctx.db.selectFrom('training_example').select('id').where('created_at', '>', last.created_at).limit(1).executeTakeFirst() : undefined
  if (!opts.force && last && !corrected && examples.length - last.examples < minNew) {
    return { trained: false, reason: `${examples.length - last.examples} new labelled notices since model ${last.version}; training waits for ${minNew}`, version: last.version, examples: examples.length, metrics: null }
  }
  if (!opts.force && !last && examples.length < Math.min(minNew, 20)) {
    return { trained: false, reason: `only ${examples.length} labelled notices; training waits for ${Math.min(minNew, 20)}`, version: null, examples: examples.length, metrics: null }
  }
  const result = classifier.train(examples)
  const stored = classifier.exportModel()
  if (!stored) return { trained: false, reason: 'nothing to learn from', version: null, examples: examples.length, metrics: null }
  await classifier.save()
  await ctx.db
    .insertInto('classifier_model')
    .values({ version: stored.version, created_at: ctx.clock().toISOString(), examples: examples.length, metrics: JSON.stringify(stored.metrics), model: encodeModel(stored).toString('base64') })
    .onConflict((oc) => oc.column('version').doNothing())
    .execute()
  await ctx.db.updateTable('training_example').set({ learnt_at: ctx.clock().toISOString() }).where('learnt_at', 'is', null).execute()
  ctx.log.info({ version: stored.version, examples: examples.length, heldOut: result.metrics.heldOut, chapterTop1: result.metrics.chapterTop1 }, 'classifier model trained')
  return { trained: true, reason: 'trained', version: stored.version, examples: examples.length, metrics: result.metrics }
}

const lastCheck = new WeakMap<Classifier, number>()
const CHECK_EVERY_MS = 15_000

/**
 * Makes the process's classifier use the newest model in the database (trained by any
 * worker). Checked at most every 15 seconds unless forced; returns whether it changed.
 */
export async function adoptLatestModel(ctx: AppContext, classifier: Classifier, force = false): Promise<boolean> {
  const now = Date.now()
  if (!force && now - (lastCheck.get(classifier) ?? 0) < CHECK_EVERY_MS) return false
  lastCheck.set(classifier, now)
  const newest = await ctx.db.selectFrom('classifier_model').select(['id', 'version']).orderBy('id', 'desc').limit(1).executeTakeFirst()
  if (!newest || newest.version === classifier.model?.version) return false
  const row = await ctx.db.selectFrom('classifier_model').select('model').where('id', '=', newest.id).executeTakeFirstOrThrow()
  classifier.adopt(decodeModel(Buffer.from(row.model, 'base64')))
  ctx.log.info({ version: newest.version }, 'classifier model adopted')
  return true
}

/** The current model's figures, for /ops and `stats`. */
export async function modelStatus(ctx: AppContext) {
  const row = await ctx.db.selectFrom('classifier_model').select(['version', 'created_at', 'examples', 'metrics']).orderBy('id', 'desc').limit(1).executeTakeFirst()
  return row ? { version: row.version, createdAt: row.created_at, examples: row.examples, metrics: JSON.parse(row.metrics) as ModelMetrics } : null
}
