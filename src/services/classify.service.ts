import type { AppContext } from '../app-context.js'
import type { ClassifyInput } from '../classify/index.js'
import { getNotices, type StoredNotice } from '../repositories/notice.repository.js'
import { markOwed } from '../pipeline/outbox.js'
import { adoptLatestModel } from './training.service.js'

export function classifyInputOf(n: StoredNotice): ClassifyInput {
  return {
    id: String(n.id),
    symbol: n.symbol,
    member: n.member ?? undefined,
    type: n.area,
    title: n.title,
    products: n.products ?? undefined,
    description: n.description ?? undefined,
    objectives: n.objectives,
    hsCodes: n.hsCodes,
    icsCodes: n.icsCodes,
    languageHint: n.language === 'und' ? undefined : n.language,
  }
}

export interface ClassifyOutcome {
  noticeId: number
  measureId: number
  categories: string[]
  changed: boolean
}

/**
 * Classifies stored notices and keeps the result with its evidence. Writing the same
 * classification again changes nothing, so the stage can run any number of times. A
 * changed classification marks its measure for scoring (the pipeline outbox) in the same
 * transaction, so a crash right after the commit cannot lose the follow-up.
 */
export async function classifyNotices(ctx: AppContext, noticeIds: number[]): Promise<ClassifyOutcome[]> {
  const classifier = await ctx.classifier()
  await adoptLatestModel(ctx, classifier)
  const notices = await getNotices(ctx.db, noticeIds)
  const out: ClassifyOutcome[] = []
  for (const n of notices) {
    const result = classifier.classify(classifyInputOf(n))
    const hs = JSON.stringify(result.hs.slice(0, 10))
    const evidence = JSON.stringify(result.evidence)
    const categories = result.categories.map((c) => ({ id: c.id, score: round3(c.score) }))
    const changed = await ctx.db.transaction().execute(async (tx) => {
      const existing = await tx.selectFrom('classification').selectAll().where('notice_id', '=', n.id).executeTakeFirst()
      const existingCats = await tx
        .selectFrom('classification_category')
        .select(['category_id', 'score'])
        .where('notice_id', '=', n.id)
        .orderBy('category_id')
        .execute()
      const sameCats =
        JSON.stringify(existingCats.map((c) => [c.category_id, round3(c.score)])) ===
        JSON.stringify([...categories].sort((a, b) => a.id.localeCompare(b.id)).map((c) => [c.id, c.score]))
      if (existing && existing.notice_hash === n.contentHash && existing.hs === hs && existing.evidence === evidence && existing.language === result.language && existing.classifier === classifier.version && sameCats) return false
      const row = { notice_hash: n.contentHash, language: result.language, hs, evidence, classifier: classifier.version, classified_at: ctx.clock().toISOString() }
      if (existing) await tx.updateTable('classification').set(row).where('notice_id', '=', n.id).execute()
      else await tx.insertInto('classification').values({ notice_id: n.id, ...row }).execute()
      await tx.deleteFrom('classification_category').where('notice_id', '=', n.id).execute()
      if (categories.length) {
        await tx
          .insertInto('classification_category')
          .values(categories.map((c) => ({ notice_id: n.id, category_id: c.id, score: c.score })))
          .execute()
      }
      await markOwed(tx, 'score', n.measureId, ctx.clock().toISOString())
      return true
    })
    out.push({ noticeId: n.id, measureId: n.measureId, categories: categories.map((c) => c.id), changed })
  }
  return out
}

const round3 = (v: number) => Math.round(v * 1000) / 1000
