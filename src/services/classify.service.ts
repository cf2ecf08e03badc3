import type { AppContext } from '../app-context.js'
import type { ClassifyInput } from '../classify/index.js'
import { getNotices, type StoredNotice } from '../repositories/notice.repository.js'
import { markOwedMany } from '../pipeline/outbox.js'
import { inTx } from '../db/tx.js'
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
 * transaction, so a crash right after the commit cannot lose the follow-up. The notices
 * given are written together, set-based, in one transaction (the caller's when it holds
 * one): a batch is classified entirely or not at all.
 */
export async function classifyNotices(ctx: AppContext, noticeIds: number[]): Promise<ClassifyOutcome[]> {
  const classifier = await ctx.classifier()
  await adoptLatestModel(ctx, classifier)
  const notices = await getNotices(ctx.db, noticeIds)
  if (!notices.length) return []
  const now = ctx.clock().toISOString()
  const results = notices.map((n) => {
    const result = classifier.classify(classifyInputOf(n))
    const categories = result.categories.map((c) => ({ id: c.id, score: round3(c.score) }))
    const row = { notice_hash: n.contentHash, language: result.language, hs: JSON.stringify(result.hs.slice(0, 10)), evidence: JSON.stringify(result.evidence), classifier: classifier.version, classified_at: now }
    return { n, row, categories }
  })
  const ids = notices.map((n) => n.id)
  return inTx(ctx.db, async (tx) => {
    const existing = new Map((await tx.selectFrom('classification').selectAll().where('notice_id', 'in', ids).execute()).map((r) => [r.notice_id, r]))
    const existingCats = new Map<number, [string, number][]>()
    for (const c of await tx.selectFrom('classification_category').select(['notice_id', 'category_id', 'score']).where('notice_id', 'in', ids).orderBy('notice_id').orderBy('category_id').execute()) {
      existingCats.set(c.notice_id, [...(existingCats.get(c.notice_id) ?? []), [c.category_id, round3(c.score)]])
    }
    const changed = results.filter(({ n, row, categories }) => {
      const e = existing.get(n.id)
      const sameCats = JSON.stringify(existingCats.get(n.id) ?? []) === JSON.stringify([...categories].sort((a, b) => a.id.localeCompare(b.id)).map((c) => [c.id, c.score]))
      return !(e && e.notice_hash === row.notice_hash && e.hs === row.hs && e.evidence === row.evidence && e.language === row.language && e.classifier === row.classifier && sameCats)
    })
    if (changed.length) {
      const changedIds = changed.map((c) => c.n.id)
      await tx
        .insertInto('classification')
        .values(changed.map((c) => ({ notice_id: c.n.id, ...c.row })))
        .onConflict((oc) =>
          oc.column('notice_id').doUpdateSet((eb) => ({
            notice_hash: eb.ref('excluded.notice_hash'),
            language: eb.ref('excluded.language'),
            hs: eb.ref('excluded.hs'),
            evidence: eb.ref('excluded.evidence'),
            classifier: eb.ref('excluded.classifier'),
            classified_at: eb.ref('excluded.classified_at'),
          })),
        )
        .execute()
      await tx.deleteFrom('classification_category').where('notice_id', 'in', changedIds).execute()
      const cats = changed.flatMap((c) => c.categories.map((k) => ({ notice_id: c.n.id, category_id: k.id, score: k.score })))
      for (let i = 0; i < cats.length; i += 1_000) await tx.insertInto('classification_category').values(cats.slice(i, i + 1_000)).execute()
      await markOwedMany(tx, 'score', changed.map((c) => c.n.measureId), now)
    }
    const isChanged = new Set(changed.map((c) => c.n.id))
    return results.map(({ n, categories }) => ({ noticeId: n.id, measureId: n.measureId, categories: categories.map((c) => c.id), changed: isChanged.has(n.id) }))
  })
}

const round3 = (v: number) => Math.round(v * 1000) / 1000
