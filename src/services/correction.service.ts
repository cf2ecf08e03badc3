import type { AppContext } from '../app-context.js'
import type { LabelledExample } from '../classify/index.js'
import { getNotices } from '../repositories/notice.repository.js'
import { classifyInputOf } from './classify.service.js'
import { raiseWarnings, scoreMeasure } from './risk.service.js'
import { latestCorrection, WarningError } from './warning.service.js'

export interface CorrectionOutcome {
  correctionId: number
  measureId: number
  categories: string[]
  previous: string[]
  /** the measure's one warning */
  warningId: number
  /** the warning's categories after the correction, each with the warning's id (kept for older readers) */
  warnings: { categoryId: string; warningId: number }[]
  examples: number
}

/** The measure's categories as they stand: the analyst's last correction, else its warning's, else the classifier's. */
export async function currentCategories(ctx: AppContext, measureId: number): Promise<string[]> {
  const corr = await latestCorrection(ctx.db, measureId)
  if (corr) return JSON.parse(corr.categories) as string[]
  const warned = await ctx.db
    .selectFrom('warning_category')
    .innerJoin('warning', 'warning.id', 'warning_category.warning_id')
    .select('warning_category.category_id')
    .where('warning.measure_id', '=', measureId)
    .orderBy('warning_category.category_id')
    .execute()
  if (warned.length) return warned.map((r) => r.category_id)
  const rows = await ctx.db
    .selectFrom('classification_category')
    .innerJoin('notice', 'notice.id', 'classification_category.notice_id')
    .select('classification_category.category_id')
    .distinct()
    .where('notice.measure_id', '=', measureId)
    .orderBy('classification_category.category_id')
    .execute()
  return rows.map((r) => r.category_id)
}

/**
 * An analyst says which export categories a measure really touches (through its one warning). The correction
 * overrides the classifier for this measure from now on (scoring and warnings follow at
 * once), and each of the measure's documents becomes a training example for the
 * classifier, labelled with HS codes of the corrected categories.
 */
export async function correctCategories(ctx: AppContext, warningId: number, categoryIds: string[], actor: string): Promise<CorrectionOutcome> {
  const categories = [...new Set(categoryIds.map((c) => c.trim()).filter(Boolean))].sort()
  const unknown = categories.filter((c) => !ctx.categoryIndex.byId(c))
  if (!categories.length) throw new WarningError('INPUT_INVALID', 'choose at least one category (dismiss the warning if none applies)')
  if (unknown.length) throw new WarningError('INPUT_INVALID', `unknown categories: ${unknown.join(', ')}`)
  const w = await ctx.db.selectFrom('warning').select(['id', 'measure_id', 'category_id', 'status']).where('id', '=', warningId).executeTakeFirst()
  if (!w) throw new WarningError('WARNING_NOT_FOUND', `no warning ${warningId}`)
  const previous = await currentCategories(ctx, w.measure_id)
  const notices = await getNotices(
    ctx.db,
    (await ctx.db.selectFrom('notice').select('id').where('measure_id', '=', w.measure_id).orderBy('id').execute()).map((r) => r.id),
  )
  const now = ctx.clock().toISOString()
  const examples: LabelledExample[] = []
  const correctionId = await ctx.db.transaction().execute(async (tx) => {
    const row = await tx
      .insertInto('category_correction')
      .values({ measure_id: w.measure_id, warning_id: w.id, categories: JSON.stringify(categories), previous: JSON.stringify(previous), actor, at: now })
      .returning('id')
      .executeTakeFirstOrThrow()
    for (const n of notices) {
      // The notice's own HS codes that fall in a corrected category are the best label;
      // otherwise the categories' HS prefixes from seeds/categories.yaml stand in.
      const own = n.hsCodes.filter((code) => categories.includes(ctx.categoryIndex.categoryOf(code)?.id ?? ''))
      const hsCodes = own.length ? own : categories.flatMap((c) => ctx.categoryIndex.byId(c)!.hs)
      await tx
        .insertInto('training_example')
        .values({ notice_id: n.id, correction_id: row.id, hs_codes: JSON.stringify(hsCodes), categories: JSON.stringify(categories), created_at: now, learnt_at: null })
        .execute()
      // The codes are the label: the model must learn from the words alone.
      examples.push({ text: { ...classifyInputOf(n), hsCodes: undefined, icsCodes: undefined }, hsCodes })
    }
    await tx
      .insertInto('warning_event')
      .values({ warning_id: w.id, at: now, actor, action: 'categories', from_status: w.status, to_status: w.status, details: JSON.stringify({ from: previous, to: categories }) })
      .execute()
    return row.id
  })
  // The correction overrides the classifier for this measure at once (scoring below); the
  // model learns from the new examples at its next training (the scheduled job, which
  // trains whenever a correction is newer than the model, or `tbt-watch train`).
  await scoreMeasure(ctx, w.measure_id)
  await raiseWarnings(ctx, w.measure_id)
  // One warning per measure: the correction is part of it (its categories follow at once).
  const rows = await ctx.db.selectFrom('warning_category').select('category_id').where('warning_id', '=', w.id).orderBy('category_id').execute()
  return {
    correctionId,
    measureId: w.measure_id,
    categories,
    previous,
    warningId: w.id,
    warnings: rows.map((r) => ({ categoryId: r.category_id, warningId: w.id })),
    examples: examples.length,
  }
}
