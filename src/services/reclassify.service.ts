import type { AppContext } from '../app-context.js'
import { classifyNotices } from './classify.service.js'
import { raiseWarnings, scoreMeasure } from './risk.service.js'

/** After the knowledge (lexicon, crosswalks, model) changed: classify everything again. */
export async function reclassifyAll(ctx: AppContext, batch = 200) {
  let after = 0
  const measures = new Set<number>()
  let notices = 0
  let changed = 0
  for (;;) {
    const ids = (await ctx.db.selectFrom('notice').select('id').where('id', '>', after).orderBy('id').limit(batch).execute()).map((r) => r.id)
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
  return { notices, changed, measures: measures.size, raised, updated }
}
