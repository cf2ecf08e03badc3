import type { AppContext } from '../app-context.js'
import { isoDay } from '../domain/dates.js'
import { marketOfMember } from '../domain/markets.js'
import type { MeasureStatus } from '../domain/measure.js'
import { exposureOf, loadExposure } from '../risk/exposure.js'
import { scoreRisk, type Level } from '../risk/score.js'
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
  const memberCode = notices.map((n) => n.member_code).find(Boolean) ?? notices[0]?.symbol.split('/')[3] ?? null
  const market = marketOfMember(ctx.markets, memberCode)
  const text = notices
    .map((n) => [n.title, n.description ?? '', n.products ?? '', ...(JSON.parse(n.objectives) as string[])].join(' '))
    .join(' ')
  const today = isoDay(ctx.clock())
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

/**
 * Raises one warning per (measure, category) whose risk passes the rules' bar, keeps
 * existing warnings' scores current (recording each change), and closes a withdrawn
 * measure's open warnings.
 */
export async function raiseWarnings(ctx: AppContext, measureId: number): Promise<WarnOutcome> {
  const { db } = ctx
  const out: WarnOutcome = { measureId, raised: 0, updated: 0, closed: 0 }
  const measure = await db.selectFrom('measure').select(['id', 'status']).where('id', '=', measureId).executeTakeFirst()
  if (!measure) return out
  const now = ctx.clock().toISOString()
  const scores = await db.selectFrom('risk_score').selectAll().where('measure_id', '=', measureId).orderBy('category_id').execute()
  const correction = await latestCorrection(db, measureId)
  const corrected = correction ? (JSON.parse(correction.categories) as string[]) : null
  const confidence = corrected ? new Map(corrected.map((c) => [c, 1])) : await categoryConfidence(ctx, measureId)
  const event = (warningId: number, action: string, from: string | null, to: string | null, details: object) =>
    ({ warning_id: warningId, at: now, actor: 'system', action, from_status: from, to_status: to, details: JSON.stringify(details) })
  // A measure known only from a source's baseline history raises no new warnings.
  const current = await db.selectFrom('notice').select('id').where('measure_id', '=', measureId).where('baseline', '=', 0).executeTakeFirst()
  for (const s of scores) {
    await db.transaction().execute(async (tx) => {
      const existing = await tx
        .selectFrom('warning')
        .selectAll()
        .where('measure_id', '=', measureId)
        .where('category_id', '=', s.category_id)
        .executeTakeFirst()
      if (measure.status === 'withdrawn') {
        if (existing && OPEN_STATUSES.includes(existing.status)) {
          await tx.updateTable('warning').set({ status: 'dismissed', updated_at: now }).where('id', '=', existing.id).execute()
          await tx.insertInto('warning_event').values(event(existing.id, 'closed', existing.status, 'dismissed', { reason: 'measure withdrawn', measureStatus: measure.status })).execute()
          out.closed++
        }
        return
      }
      if (!existing) {
        if (!current && !corrected) return
        // A category the analyst chose raises its warning whatever the score: they said it applies.
        if (!corrected && (s.score < ctx.rules.warning.minScore || (confidence.get(s.category_id) ?? 0) < ctx.rules.warning.minConfidence)) return
        const inserted = await tx
          .insertInto('warning')
          .values({ measure_id: measureId, category_id: s.category_id, level: s.level, score: s.score, status: 'new', assignee: null, note: null, created_at: now, updated_at: now })
          .onConflict((oc) => oc.columns(['measure_id', 'category_id']).doNothing())
          .returning('id')
          .executeTakeFirst()
        if (inserted) {
          await tx.insertInto('warning_event').values(event(inserted.id, 'raised', null, 'new', { score: s.score, level: s.level, measureStatus: measure.status })).execute()
          out.raised++
        }
        return
      }
      // Reopen what the system closed and the lifecycle (or a correction) no longer justifies closing.
      let status = existing.status
      if (status === 'dismissed') {
        const last = await tx.selectFrom('warning_event').select(['actor', 'details']).where('warning_id', '=', existing.id).where('to_status', '=', 'dismissed').orderBy('id', 'desc').limit(1).executeTakeFirst()
        const lastReason = last?.actor === 'system' ? (JSON.parse(last.details ?? '{}') as { reason?: string }).reason : undefined
        const reopenAfterAdoption = last?.actor !== 'system' && ctx.rules.warning.reopenDismissedOn.includes(measure.status as never) && (await lastMeasureStatus(tx, existing.id)) !== measure.status
        if (lastReason === 'measure withdrawn' || lastReason === 'category corrected' || reopenAfterAdoption) {
          const reason = reopenAfterAdoption ? `measure ${measure.status}` : lastReason === 'measure withdrawn' ? 'measure no longer withdrawn' : 'category restored by a correction'
          await tx.updateTable('warning').set({ status: 'new', updated_at: now }).where('id', '=', existing.id).execute()
          await tx.insertInto('warning_event').values(event(existing.id, 'reopened', 'dismissed', 'new', { reason, measureStatus: measure.status })).execute()
          status = 'new'
          out.updated++
        }
      }
      if (status !== 'dismissed' && (await lastMeasureStatus(tx, existing.id)) !== measure.status) {
        await tx.insertInto('warning_event').values(event(existing.id, 'lifecycle', status, status, { measureStatus: measure.status })).execute()
      }
      const level = (existing.level_override ?? s.level) as Level
      if (existing.score !== s.score || existing.level !== level) {
        await tx.updateTable('warning').set({ score: s.score, level, updated_at: now }).where('id', '=', existing.id).execute()
        await tx
          .insertInto('warning_event')
          .values(event(existing.id, 'rescored', status, status, { from: { score: existing.score, level: existing.level }, to: { score: s.score, level } }))
          .execute()
        out.updated++
      }
    })
  }
  if (corrected) {
    // Categories the analyst removed: their open warnings close, with the reason.
    const stale = await db.selectFrom('warning').select(['id', 'status']).where('measure_id', '=', measureId).where('category_id', 'not in', corrected).where('status', 'in', OPEN_STATUSES).execute()
    for (const w of stale) {
      await db.transaction().execute(async (tx) => {
        await tx.updateTable('warning').set({ status: 'dismissed', updated_at: now }).where('id', '=', w.id).execute()
        await tx.insertInto('warning_event').values(event(w.id, 'closed', w.status, 'dismissed', { reason: 'category corrected' })).execute()
      })
      out.closed++
    }
  }
  return out
}

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
