import type { AppContext } from '../app-context.js'
import { inTx } from '../db/tx.js'
import { marketsOfMembers } from '../domain/markets.js'
import { lifecycleRank, type MeasureStatus } from '../domain/measure.js'
import { loadMembers, memberCodesOf } from '../domain/members.js'
import { exposureOf, loadExposure } from '../risk/exposure.js'
import { LEVEL_RANK, scoreRisk, type Level } from '../risk/score.js'
import { applyLifecycle, localToday } from './lifecycle.service.js'
import { latestCorrection } from './warning.service.js'

export interface ScoreOutcome {
  measureId: number
  scored: number
  /** True when some document of the measure still awaits classification: its own
   * classify job will score the measure once it is done. */
  deferred: boolean
}

/** Documents of the measure whose current version has not been classified yet. */
async function unclassifiedDocuments(ctx: AppContext, measureId: number): Promise<number> {
  const row = await ctx.db
    .selectFrom('notice')
    .leftJoin('classification', 'classification.notice_id', 'notice.id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('notice.measure_id', '=', measureId)
    .where((eb) => eb.or([eb('classification.id', 'is', null), eb('classification.notice_hash', '!=', eb.ref('notice.content_hash'))]))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/**
 * Scores a measure against each export category its documents were classified into,
 * and keeps one risk_score row per (measure, category) with its trace.
 */
export async function scoreMeasure(ctx: AppContext, measureId: number): Promise<ScoreOutcome> {
  const { db } = ctx
  // The lifecycle first: what the documents say (stored by ingest) and today's date.
  const today = localToday(ctx)
  await applyLifecycle(ctx, measureId, today)
  const measure = await db.selectFrom('measure').selectAll().where('id', '=', measureId).executeTakeFirst()
  if (!measure) return { measureId, scored: 0, deferred: false }
  // Scoring on part of a measure's documents would raise and then rescore warnings in
  // an order that depends on which worker ran first; wait for the whole measure.
  if ((await unclassifiedDocuments(ctx, measureId)) > 0) return { measureId, scored: 0, deferred: true }
  const notices = await db.selectFrom('notice').selectAll().where('measure_id', '=', measureId).orderBy('id').execute()
  const ids = notices.map((n) => n.id)
  const best = await bestCategoryScores(ctx, ids)
  // An analyst's correction replaces the classifier's categories for this measure.
  const correction = await latestCorrection(db, measureId)
  const corrected = correction ? (JSON.parse(correction.categories) as string[]) : null
  if (corrected) {
    best.clear()
    for (const c of corrected) best.set(c, 1)
  }
  const followUpText = notices
    .filter((n) => n.doc_type !== 'regular')
    .map((n) => `${n.title} ${n.description ?? ''}`)
    .join(' ')
  const exposureTable = loadExposure()
  // A joint notification's measure counts for its members' most traded watched market;
  // a member outside the watch list is weighted as such (rules: unwatchedMarketWeight).
  const members = loadMembers()
  const codes = [...new Set(notices.flatMap((n) => memberCodesOf({ symbols: JSON.parse(n.symbols) as string[], memberCode: n.member_code, member: n.member }, members)))]
  const market = marketsOfMembers(ctx.markets, codes)
    .filter((m) => m.watched)
    .sort((a, b) => b.tradeShare - a.tradeShare)[0]
  const member = members.byCode(codes[0]) ?? members.find(measure.member)
  const text = notices
    .map((n) => [n.title, n.description ?? '', n.products ?? '', ...(JSON.parse(n.objectives) as string[])].join(' '))
    .join(' ')
  const now = ctx.clock().toISOString()
  const keep: string[] = []
  for (const [categoryId, confidence] of [...best].sort((a, b) => a[0].localeCompare(b[0]))) {
    const category = ctx.categoryIndex.byId(categoryId)
    if (!category) continue
    const r = scoreRisk(ctx.rules, {
      today,
      category,
      market: market ? { code: market.code, zh: market.zh, en: market.en, tradeShare: market.tradeShare } : null,
      exposure: market ? exposureOf(exposureTable, categoryId, market.code) : null,
      member: measure.member,
      memberZh: member?.zh ?? null,
      memberEn: member?.en ?? null,
      status: measure.status as MeasureStatus,
      commentDeadline: measure.comment_deadline,
      entryIntoForceDate: measure.entry_into_force_date,
      text,
      followUpText,
      confidence,
      confirmedByAnalyst: !!corrected,
    })
    keep.push(categoryId)
    const row = { score: r.score, level: r.level, trace: JSON.stringify(r.trace), rules_version: ctx.rules.version }
    const existing = await db
      .selectFrom('risk_score')
      .select(['score', 'level', 'trace', 'rules_version'])
      .where('measure_id', '=', measureId)
      .where('category_id', '=', categoryId)
      .executeTakeFirst()
    if (existing && existing.score === row.score && existing.level === row.level && existing.trace === row.trace && existing.rules_version === row.rules_version) continue
    await db
      .insertInto('risk_score')
      .values({ measure_id: measureId, category_id: categoryId, ...row, scored_at: now })
      .onConflict((oc) => oc.columns(['measure_id', 'category_id']).doUpdateSet({ ...row, scored_at: now }))
      .execute()
  }
  let stale = db.deleteFrom('risk_score').where('measure_id', '=', measureId)
  if (keep.length) stale = stale.where('category_id', 'not in', keep)
  await stale.execute()
  return { measureId, scored: keep.length, deferred: false }
}

export interface WarnOutcome {
  measureId: number
  raised: number
  updated: number
  closed: number
}

const OPEN_STATUSES = ['new', 'in_review', 'escalated', 'confirmed']
const LEVEL_ORDER: Level[] = ['low', 'medium', 'high']
const maxLevel = (levels: string[]): Level => (levels as Level[]).reduce<Level>((a, b) => (LEVEL_RANK[b] > LEVEL_RANK[a] ? b : a), 'low')
/** The category the warning is filed under: the highest score, then the category id. */
const topOf = <T extends { category_id: string; score: number }>(xs: T[]): T => [...xs].sort((a, b) => b.score - a.score || a.category_id.localeCompare(b.category_id))[0]

/**
 * One warning per measure. It is raised once some category's risk passes the rules' bar
 * (or an analyst chose the categories) and lists every category the measure touches
 * (warning_category, each with its score and level); its score and level are the highest
 * (an analyst's level stands). Each call keeps it current (recording each change), ranks
 * it by the measure's lifecycle, and closes it when the measure is withdrawn. Idempotent and
 * keyed on the measure: a second call, or a second worker, changes nothing more.
 */
export async function raiseWarnings(ctx: AppContext, measureId: number): Promise<WarnOutcome> {
  const { db } = ctx
  const out: WarnOutcome = { measureId, raised: 0, updated: 0, closed: 0 }
  const measure = await db.selectFrom('measure').select(['id', 'status']).where('id', '=', measureId).executeTakeFirst()
  if (!measure) return out
  const now = ctx.clock().toISOString()
  const scores = await db.selectFrom('risk_score').select(['category_id', 'score', 'level']).where('measure_id', '=', measureId).orderBy('category_id').execute()
  const correction = await latestCorrection(db, measureId)
  const corrected = correction ? (JSON.parse(correction.categories) as string[]) : null
  const confidence = corrected ? new Map(corrected.map((c) => [c, 1])) : await categoryConfidence(ctx, measureId)
  // A category the analyst chose counts whatever its score: they said it applies.
  const eligible = (s: { category_id: string; score: number }) =>
    corrected ? corrected.includes(s.category_id) : s.score >= ctx.rules.warning.minScore && (confidence.get(s.category_id) ?? 0) >= ctx.rules.warning.minConfidence
  const rank = lifecycleRank(measure.status)
  const event = (warningId: number, action: string, from: string | null, to: string | null, details: object) =>
    ({ warning_id: warningId, at: now, actor: 'system', action, from_status: from, to_status: to, details: JSON.stringify(details) })
  // A measure known only from a source's baseline history raises no new warning.
  const current = await db.selectFrom('notice').select('id').where('measure_id', '=', measureId).where('baseline', '=', 0).executeTakeFirst()

  await inTx(db, async (tx) => {
    // Two workers warning the same measure take turns (PostgreSQL row lock; SQLite writes one at a time).
    const existing = await tx
      .selectFrom('warning')
      .selectAll()
      .where('measure_id', '=', measureId)
      .$if(ctx.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst()
    if (!existing) {
      if (measure.status === 'withdrawn' || (!current && !corrected)) return
      const cats = scores.filter(eligible)
      if (!cats.length) return
      const top = topOf(cats)
      const level = maxLevel(cats.map((c) => c.level))
      const inserted = await tx
        .insertInto('warning')
        .values({ measure_id: measureId, category_id: top.category_id, level, score: top.score, status: 'new', assignee: null, note: null, lifecycle_rank: rank, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('measure_id').doNothing())
        .returning('id')
        .executeTakeFirst()
      if (!inserted) return
      await tx.insertInto('warning_category').values(cats.map((c) => ({ warning_id: inserted.id, category_id: c.category_id, score: c.score, level: c.level }))).execute()
      await tx
        .insertInto('warning_event')
        .values(event(inserted.id, 'raised', null, 'new', { score: top.score, level, categories: cats.map((c) => c.category_id), measureStatus: measure.status }))
        .execute()
      out.raised++
      return
    }

    if (existing.lifecycle_rank !== rank) await tx.updateTable('warning').set({ lifecycle_rank: rank }).where('id', '=', existing.id).execute()
    if (measure.status === 'withdrawn') {
      if (OPEN_STATUSES.includes(existing.status)) {
        await tx.updateTable('warning').set({ status: 'dismissed', updated_at: now }).where('id', '=', existing.id).execute()
        await tx.insertInto('warning_event').values(event(existing.id, 'closed', existing.status, 'dismissed', { reason: 'measure withdrawn', measureStatus: measure.status })).execute()
        out.closed++
      }
      return
    }
    // Reopen what the system closed and the lifecycle no longer justifies closing, and what
    // an analyst dismissed as a draft once the measure is adopted or in force.
    let status = existing.status
    if (status === 'dismissed') {
      const last = await tx.selectFrom('warning_event').select(['actor', 'details']).where('warning_id', '=', existing.id).where('to_status', '=', 'dismissed').orderBy('id', 'desc').limit(1).executeTakeFirst()
      const lastReason = last?.actor === 'system' ? (JSON.parse(last.details ?? '{}') as { reason?: string }).reason : undefined
      const reopenAfterAdoption = last?.actor !== 'system' && ctx.rules.warning.reopenDismissedOn.includes(measure.status as never) && (await lastMeasureStatus(tx, existing.id)) !== measure.status
      if (lastReason === 'measure withdrawn' || reopenAfterAdoption) {
        const reason = reopenAfterAdoption ? `measure ${measure.status}` : 'measure no longer withdrawn'
        await tx.updateTable('warning').set({ status: 'new', updated_at: now }).where('id', '=', existing.id).execute()
        await tx.insertInto('warning_event').values(event(existing.id, 'reopened', 'dismissed', 'new', { reason, measureStatus: measure.status })).execute()
        status = 'new'
        out.updated++
      }
    }
    if (status !== 'dismissed' && (await lastMeasureStatus(tx, existing.id)) !== measure.status) {
      await tx.insertInto('warning_event').values(event(existing.id, 'lifecycle', status, status, { measureStatus: measure.status })).execute()
    }

    // The categories: the analyst's when corrected; else those it had that are still scored, and any that now pass the bar.
    const had = await tx.selectFrom('warning_category').selectAll().where('warning_id', '=', existing.id).orderBy('category_id').execute()
    const hadIds = new Set(had.map((c) => c.category_id))
    const next = scores.filter((s) => (corrected ? corrected.includes(s.category_id) : hadIds.has(s.category_id) || eligible(s)))
    const cats = next.length ? next : had
    const changedCats = next.length > 0 && (next.length !== had.length || next.some((n) => !had.find((h) => h.category_id === n.category_id && h.score === n.score && h.level === n.level)))
    if (changedCats) {
      const keep = next.map((c) => c.category_id)
      await tx.deleteFrom('warning_category').where('warning_id', '=', existing.id).where('category_id', 'not in', keep).execute()
      for (const c of next) {
        await tx
          .insertInto('warning_category')
          .values({ warning_id: existing.id, category_id: c.category_id, score: c.score, level: c.level })
          .onConflict((oc) => oc.columns(['warning_id', 'category_id']).doUpdateSet({ score: c.score, level: c.level }))
          .execute()
      }
      const from = had.map((c) => c.category_id)
      if (!corrected && (from.join() !== keep.join())) {
        await tx.insertInto('warning_event').values(event(existing.id, 'categories', status, status, { from, to: keep })).execute()
      }
    }
    const top = topOf(cats)
    const level = (existing.level_override ?? maxLevel(cats.map((c) => c.level))) as Level
    if (existing.score !== top.score || existing.level !== level || existing.category_id !== top.category_id) {
      await tx.updateTable('warning').set({ score: top.score, level, category_id: top.category_id, updated_at: now }).where('id', '=', existing.id).execute()
      if (existing.score !== top.score || existing.level !== level) {
        await tx
          .insertInto('warning_event')
          .values(event(existing.id, 'rescored', status, status, { from: { score: existing.score, level: existing.level }, to: { score: top.score, level } }))
          .execute()
      }
      out.updated++
    }
  })
  return out
}

export { LEVEL_ORDER }

/** The measure status the warning's history last recorded ('open' before any was). */
async function lastMeasureStatus(tx: Pick<AppContext['db'], 'selectFrom'>, warningId: number): Promise<string> {
  const rows = await tx.selectFrom('warning_event').select('details').where('warning_id', '=', warningId).orderBy('id', 'desc').execute()
  for (const r of rows) {
    const d = r.details ? (JSON.parse(r.details) as { measureStatus?: string }) : {}
    if (d.measureStatus) return d.measureStatus
  }
  return 'open'
}

async function categoryConfidence(ctx: AppContext, measureId: number): Promise<Map<string, number>> {
  // Two index lookups, not a join: with statistics a few thousand rows behind (a backfill
  // grows the tables faster than autovacuum analyses them), PostgreSQL hash-joined this by
  // scanning all of classification_category for every measure, and a 100,000-notice pass
  // slowed down as it went.
  const ids = (await ctx.db.selectFrom('notice').select('id').where('measure_id', '=', measureId).execute()).map((n) => n.id)
  return bestCategoryScores(ctx, ids)
}

/** Each category's best classifier score over these notices (an index lookup by notice id). */
async function bestCategoryScores(ctx: AppContext, noticeIds: number[]): Promise<Map<string, number>> {
  const rows = noticeIds.length ? await ctx.db.selectFrom('classification_category').select(['category_id', 'score']).where('notice_id', 'in', noticeIds).execute() : []
  const best = new Map<string, number>()
  for (const r of rows) best.set(r.category_id, Math.max(best.get(r.category_id) ?? 0, r.score))
  return best
}
