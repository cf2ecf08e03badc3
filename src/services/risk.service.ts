import type { AppContext } from '../app-context.js'
import { inTx } from '../db/tx.js'
import { marketsOfMembers } from '../domain/markets.js'
import { lifecycleRank, type MeasureStatus } from '../domain/measure.js'
import { loadMembers, memberCodesOf } from '../domain/members.js'
import { exposureOf, loadExposure } from '../risk/exposure.js'
import { LEVEL_RANK, scoreRisk, type Level } from '../risk/score.js'
import { applyLifecycles, localToday } from './lifecycle.service.js'
import type { NoticeRow } from '../db/schema.js'

export interface ScoreOutcome {
  measureId: number
  scored: number
  /** True when some document of the measure still awaits classification: its own
   * classify job will score the measure once it is done. */
  deferred: boolean
}

/** Of these measures, how many documents each has whose current version is not classified yet. */
async function unclassifiedDocuments(ctx: AppContext, measureIds: number[]): Promise<Map<number, number>> {
  const rows = await ctx.db
    .selectFrom('notice')
    .leftJoin('classification', 'classification.notice_id', 'notice.id')
    .select((eb) => ['notice.measure_id', eb.fn.countAll<number>().as('n')])
    .where('notice.measure_id', 'in', measureIds)
    .where((eb) => eb.or([eb('classification.id', 'is', null), eb('classification.notice_hash', '!=', eb.ref('notice.content_hash'))]))
    .groupBy('notice.measure_id')
    .execute()
  return new Map(rows.map((r) => [r.measure_id, Number(r.n)]))
}

/** Each measure's latest category correction (an analyst's), if any: one query for all. */
async function latestCorrections(db: AppContext['db'], measureIds: number[]): Promise<Map<number, string[]>> {
  const rows = await db.selectFrom('category_correction').select(['measure_id', 'categories']).where('measure_id', 'in', measureIds).orderBy('id').execute()
  return new Map(rows.map((r) => [r.measure_id, JSON.parse(r.categories) as string[]]))
}

/**
 * Scores a measure against each export category its documents were classified into,
 * and keeps one risk_score row per (measure, category) with its trace.
 */
export async function scoreMeasure(ctx: AppContext, measureId: number): Promise<ScoreOutcome> {
  return (await scoreMeasures(ctx, [measureId]))[0]
}

/**
 * `scoreMeasure` for many measures at once, set-based: a handful of reads for all of them
 * and one upsert of the scores that changed (the pipeline's batches; one measure alone is
 * a batch of one). Returns one outcome per measure, in the order given.
 */
export async function scoreMeasures(ctx: AppContext, measureIds: number[]): Promise<ScoreOutcome[]> {
  const { db } = ctx
  const ids = [...new Set(measureIds)]
  if (!ids.length) return []
  // The lifecycle first: what the documents say (stored by ingest) and today's date.
  const today = localToday(ctx)
  const statuses = await applyLifecycles(ctx, ids, today)
  const measures = new Map((await db.selectFrom('measure').selectAll().where('id', 'in', ids).execute()).map((m) => [m.id, { ...m, status: statuses.get(m.id) ?? m.status }]))
  // Scoring on part of a measure's documents would raise and then rescore warnings in
  // an order that depends on which worker ran first; wait for the whole measure.
  const waiting = await unclassifiedDocuments(ctx, ids)
  const ready = ids.filter((id) => measures.has(id) && !waiting.get(id))
  const noticesOf = new Map<number, NoticeRow[]>()
  const best = new Map<number, Map<string, number>>()
  const corrections = ready.length ? await latestCorrections(db, ready) : new Map<number, string[]>()
  const existing = new Map<string, { id: number; score: number; level: string; trace: string; rules_version: string }>()
  if (ready.length) {
    for (const n of await db.selectFrom('notice').selectAll().where('measure_id', 'in', ready).orderBy('id').execute()) noticesOf.set(n.measure_id, [...(noticesOf.get(n.measure_id) ?? []), n])
    const measureOf = new Map([...noticesOf.values()].flat().map((n) => [n.id, n.measure_id]))
    for (const [noticeId, scores] of await bestCategoryScoresOf(ctx, [...measureOf.keys()])) {
      const m = measureOf.get(noticeId)!
      const b = best.get(m) ?? new Map<string, number>()
      for (const [c, v] of scores) b.set(c, Math.max(b.get(c) ?? 0, v))
      best.set(m, b)
    }
    for (const r of await db.selectFrom('risk_score').select(['id', 'measure_id', 'category_id', 'score', 'level', 'trace', 'rules_version']).where('measure_id', 'in', ready).execute()) existing.set(`${r.measure_id}|${r.category_id}`, r)
  }
  const exposureTable = loadExposure()
  const members = loadMembers()
  const now = ctx.clock().toISOString()
  const upserts: { measure_id: number; category_id: string; score: number; level: string; trace: string; rules_version: string; scored_at: string }[] = []
  const kept = new Set<string>()
  const out = new Map<number, ScoreOutcome>()
  for (const measureId of ready) {
    const measure = measures.get(measureId)!
    const notices = noticesOf.get(measureId) ?? []
    // An analyst's correction replaces the classifier's categories for this measure.
    const corrected = corrections.get(measureId) ?? null
    const bestOf = corrected ? new Map(corrected.map((c) => [c, 1])) : (best.get(measureId) ?? new Map<string, number>())
    const followUpText = notices
      .filter((n) => n.doc_type !== 'regular')
      .map((n) => `${n.title} ${n.description ?? ''}`)
      .join(' ')
    // A joint notification's measure counts for its members' most traded watched market;
    // a member outside the watch list is weighted as such (rules: unwatchedMarketWeight).
    const codes = [...new Set(notices.flatMap((n) => memberCodesOf({ symbols: JSON.parse(n.symbols) as string[], memberCode: n.member_code, member: n.member }, members)))]
    const market = marketsOfMembers(ctx.markets, codes)
      .filter((m) => m.watched)
      .sort((a, b) => b.tradeShare - a.tradeShare)[0]
    const member = members.byCode(codes[0]) ?? members.find(measure.member)
    const text = notices
      .map((n) => [n.title, n.description ?? '', n.products ?? '', ...(JSON.parse(n.objectives) as string[])].join(' '))
      .join(' ')
    let scored = 0
    for (const [categoryId, confidence] of [...bestOf].sort((a, b) => a[0].localeCompare(b[0]))) {
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
      scored++
      const key = `${measureId}|${categoryId}`
      kept.add(key)
      const row = { score: r.score, level: r.level, trace: JSON.stringify(r.trace), rules_version: ctx.rules.version }
      const e = existing.get(key)
      if (e && e.score === row.score && e.level === row.level && e.trace === row.trace && e.rules_version === row.rules_version) continue
      upserts.push({ measure_id: measureId, category_id: categoryId, ...row, scored_at: now })
    }
    out.set(measureId, { measureId, scored, deferred: false })
  }
  for (let i = 0; i < upserts.length; i += 500) {
    await db
      .insertInto('risk_score')
      .values(upserts.slice(i, i + 500))
      .onConflict((oc) =>
        oc.columns(['measure_id', 'category_id']).doUpdateSet((eb) => ({
          score: eb.ref('excluded.score'),
          level: eb.ref('excluded.level'),
          trace: eb.ref('excluded.trace'),
          rules_version: eb.ref('excluded.rules_version'),
          scored_at: eb.ref('excluded.scored_at'),
        })),
      )
      .execute()
  }
  const stale = [...existing].filter(([key]) => !kept.has(key)).map(([, r]) => r.id)
  for (let i = 0; i < stale.length; i += 500) await db.deleteFrom('risk_score').where('id', 'in', stale.slice(i, i + 500)).execute()
  return ids.map((id) => out.get(id) ?? { measureId: id, scored: 0, deferred: measures.has(id) })
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
  return (await raiseWarningsMany(ctx, [measureId]))[0]
}

/**
 * `raiseWarnings` for many measures in one transaction (the caller's when it holds one):
 * what they need is read for all at once, new warnings (with their categories and events)
 * are inserted together; an existing warning is kept current one by one, as it changes.
 */
export async function raiseWarningsMany(ctx: AppContext, measureIds: number[]): Promise<WarnOutcome[]> {
  const { db } = ctx
  const ids = [...new Set(measureIds)].sort((a, b) => a - b)
  const outs = new Map(ids.map((id) => [id, { measureId: id, raised: 0, updated: 0, closed: 0 } as WarnOutcome]))
  if (!ids.length) return []
  const measures = new Map((await db.selectFrom('measure').select(['id', 'status']).where('id', 'in', ids).execute()).map((m) => [m.id, m]))
  const found = ids.filter((id) => measures.has(id))
  if (!found.length) return ids.map((id) => outs.get(id)!)
  const now = ctx.clock().toISOString()
  const scoresOf = new Map<number, { category_id: string; score: number; level: string }[]>()
  for (const r of await db.selectFrom('risk_score').select(['measure_id', 'category_id', 'score', 'level']).where('measure_id', 'in', found).orderBy('measure_id').orderBy('category_id').execute()) {
    scoresOf.set(r.measure_id, [...(scoresOf.get(r.measure_id) ?? []), { category_id: r.category_id, score: r.score, level: r.level }])
  }
  const corrections = await latestCorrections(db, found)
  const confidences = await categoryConfidences(ctx, found.filter((id) => !corrections.has(id)))
  const event = (warningId: number, action: string, from: string | null, to: string | null, details: object) =>
    ({ warning_id: warningId, at: now, actor: 'system', action, from_status: from, to_status: to, details: JSON.stringify(details) })
  // A measure known only from a source's baseline history raises no new warning.
  const current = new Set((await db.selectFrom('notice').select('measure_id').distinct().where('measure_id', 'in', found).where('baseline', '=', 0).execute()).map((r) => r.measure_id))

  await inTx(db, async (tx) => {
    // Two workers warning the same measure take turns (PostgreSQL row locks, taken in id
    // order; SQLite writes one at a time).
    const existingOf = new Map(
      (await tx.selectFrom('warning').selectAll().where('measure_id', 'in', found).orderBy('measure_id').$if(ctx.dialect === 'postgres', (q) => q.forUpdate()).execute()).map((w) => [w.measure_id, w]),
    )
    const fresh: { measureId: number; cats: { category_id: string; score: number; level: string }[]; level: Level; status: string }[] = []
    for (const measureId of found) {
      const measure = measures.get(measureId)!
      const out = outs.get(measureId)!
      const scores = scoresOf.get(measureId) ?? []
      const corrected = corrections.get(measureId) ?? null
      const confidence = corrected ? new Map(corrected.map((c) => [c, 1])) : (confidences.get(measureId) ?? new Map<string, number>())
      // A category the analyst chose counts whatever its score: they said it applies.
      const eligible = (s: { category_id: string; score: number }) =>
        corrected ? corrected.includes(s.category_id) : s.score >= ctx.rules.warning.minScore && (confidence.get(s.category_id) ?? 0) >= ctx.rules.warning.minConfidence
      const rank = lifecycleRank(measure.status)
      const existing = existingOf.get(measureId)
      if (!existing) {
        if (measure.status === 'withdrawn' || (!current.has(measureId) && !corrected)) continue
        const cats = scores.filter(eligible)
        if (cats.length) fresh.push({ measureId, cats, level: maxLevel(cats.map((c) => c.level)), status: measure.status })
        continue
      }
      const keepCurrent = async () => {
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
      }
      await keepCurrent()
    }
    if (!fresh.length) return
    const inserted = new Map<number, number>()
    for (let i = 0; i < fresh.length; i += 500) {
      const rows = await tx
        .insertInto('warning')
        .values(
          fresh.slice(i, i + 500).map((f) => {
            const top = topOf(f.cats)
            return { measure_id: f.measureId, category_id: top.category_id, level: f.level, score: top.score, status: 'new', assignee: null, note: null, lifecycle_rank: lifecycleRank(f.status), created_at: now, updated_at: now }
          }),
        )
        .onConflict((oc) => oc.column('measure_id').doNothing())
        .returning(['id', 'measure_id'])
        .execute()
      for (const r of rows) inserted.set(r.measure_id, r.id)
    }
    // A measure another worker raised meanwhile returns no row: it is theirs.
    const raised = fresh.filter((f) => inserted.has(f.measureId))
    const cats = raised.flatMap((f) => f.cats.map((c) => ({ warning_id: inserted.get(f.measureId)!, category_id: c.category_id, score: c.score, level: c.level })))
    for (let i = 0; i < cats.length; i += 500) await tx.insertInto('warning_category').values(cats.slice(i, i + 500)).execute()
    const events = raised.map((f) => {
      const top = topOf(f.cats)
      return event(inserted.get(f.measureId)!, 'raised', null, 'new', { score: top.score, level: f.level, categories: f.cats.map((c) => c.category_id), measureStatus: f.status })
    })
    for (let i = 0; i < events.length; i += 500) await tx.insertInto('warning_event').values(events.slice(i, i + 500)).execute()
    for (const f of raised) outs.get(f.measureId)!.raised++
  })
  return ids.map((id) => outs.get(id)!)
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

async function categoryConfidences(ctx: AppContext, measureIds: number[]): Promise<Map<number, Map<string, number>>> {
  // Two index lookups, not a join: with statistics a few thousand rows behind (a backfill
  // grows the tables faster than autovacuum analyses them), PostgreSQL hash-joined this by
  // scanning all of classification_category for every measure, and a 100,000-notice pass
  // slowed down as it went.
  const out = new Map<number, Map<string, number>>()
  if (!measureIds.length) return out
  const measureOf = new Map((await ctx.db.selectFrom('notice').select(['id', 'measure_id']).where('measure_id', 'in', measureIds).execute()).map((n) => [n.id, n.measure_id]))
  for (const [noticeId, scores] of await bestCategoryScoresOf(ctx, [...measureOf.keys()])) {
    const m = measureOf.get(noticeId)!
    const best = out.get(m) ?? new Map<string, number>()
    for (const [c, v] of scores) best.set(c, Math.max(best.get(c) ?? 0, v))
    out.set(m, best)
  }
  return out
}

/** Each notice's category scores (an index lookup by notice id, 500 ids a query). */
async function bestCategoryScoresOf(ctx: AppContext, noticeIds: number[]): Promise<Map<number, Map<string, number>>> {
  const out = new Map<number, Map<string, number>>()
  for (let i = 0; i < noticeIds.length; i += 500) {
    const rows = await ctx.db.selectFrom('classification_category').select(['notice_id', 'category_id', 'score']).where('notice_id', 'in', noticeIds.slice(i, i + 500)).execute()
    for (const r of rows) out.set(r.notice_id, (out.get(r.notice_id) ?? new Map<string, number>()).set(r.category_id, r.score))
  }
  return out
}
