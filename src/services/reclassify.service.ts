import type { AppContext } from '../app-context.js'
import { classifyNotices } from './classify.service.js'
import { raiseWarnings, scoreMeasure } from './risk.service.js'
import { adoptLatestModel } from './training.service.js'

/**
 * After the knowledge (lexicon, crosswalks, categories) or the learnt model changed:
 * classifies again the notices whose stored classification another version of the
 * classifier made (every notice with `all`), then scores and warns what changed.
 */
export async function reclassifyAll(ctx: AppContext, opts: { all?: boolean; batch?: number } = {}) {
  const batch = opts.batch ?? 200
  const classifier = await ctx.classifier()
  await adoptLatestModel(ctx, classifier, true)
  const version = classifier.version
  let after = 0
  const measures = new Set<number>()
  let notices = 0
  let changed = 0
  for (;;) {
    let q = ctx.db
      .selectFrom('notice')
      .leftJoin('classification', 'classification.notice_id', 'notice.id')
      .select('notice.id')
      .where('notice.id', '>', after)
    if (!opts.all) q = q.where((eb) => eb.or([eb('classification.classifier', 'is', null), eb('classification.classifier', '!=', version)]))
    const ids = (await q.orderBy('notice.id').limit(batch).execute()).map((r) => r.id)
    if (!ids.length) break
    after = ids[ids.length - 1]
    for (const r of await classifyNotices(ctx, ids)) {
      notices++
      if (r.changed) {
        changed++
        measures.add(r.measureId)
      }
    }
  }
  let raised = 0
  let updated = 0
  for (const id of [...measures].sort((a, b) => a - b)) {
    await scoreMeasure(ctx, id)
    const w = await raiseWarnings(ctx, id)
    raised += w.raised
    updated += w.updated
  }
  return { version, notices, changed, measures: measures.size, raised, updated }
}
