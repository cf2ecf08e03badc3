import type { Transaction } from 'kysely'
import type { Db } from '../db/database.js'
import { inTx } from '../db/tx.js'
import type { Database, MeasureRow, NoticeRow } from '../db/schema.js'
import { deriveMeasure } from '../domain/measure.js'
import { memberCodesOf } from '../domain/members.js'
import type { ScrapedNotice } from '../domain/notice.js'
import { parseSymbol, symbolKey } from '../domain/symbols.js'
import { sha256, stableStringify } from '../util/text.js'

type Tx = Db | Transaction<Database>

export interface StoredNotice {
  id: number
  sourceId: string
  sourceItemId: string
  measureId: number
  measureKey?: string
  symbol: string
  symbols: string[]
  type: ScrapedNotice['docType']
  area: string
  member: string | null
  memberCode: string | null
  title: string
  products: string | null
  description: string | null
  objectives: string[]
  keywords: string[]
  hsCodes: string[]
  icsCodes: string[]
  language: string
  distributionDate: string | null
  commentDeadline: string | null
  adoptionDate: string | null
  entryIntoForceDate: string | null
  links: string[]
  sourceUrl: string | null
  contentHash: string
}

export interface UpsertOutcome {
  noticeId: number
  measureId: number
  /** new: first seen; changed: the source changed it; unchanged: nothing to do. */
  outcome: 'new' | 'changed' | 'unchanged'
}

export const noticeHash = (n: ScrapedNotice) => sha256(stableStringify(n))

const baseSymbols = (symbols: string[]) => [...new Set(symbols.map((s) => parseSymbol(s)?.base ?? s))].sort()

/**
 * Stores a scraped notice idempotently (unique on source and source item id), files it
 * under its measure (follow-ups join their base; joint notifications are one measure),
 * and records what changed when the source changed it.
 */
export async function upsertNotice(
  db: Db,
  n: ScrapedNotice,
  rawId: number | null,
  now: string,
  opts: { baseline?: boolean; refreshLater?: Set<number> } = {},
): Promise<UpsertOutcome> {
  return inTx(db, async (tx) => {
    let existing = await tx
      .selectFrom('notice')
      .selectAll()
      .where('source_id', '=', n.sourceId)
      .where('source_item_id', '=', n.sourceItemId)
      .executeTakeFirst()
    if (!existing && n.symbols.length) {
      const found = await sameDocument(tx, n)
      // A notice named by its symbols alone (ePing's Excel export) keeps the id the row has.
      if (found && n.sourceItemId === symbolKey(n.symbols)) n = { ...n, sourceItemId: found.source_item_id }
      existing = found
    }
    const hash = noticeHash(n)
    if (existing && existing.content_hash === hash) {
      return { noticeId: existing.id, measureId: existing.measure_id, outcome: 'unchanged' as const }
    }
    const bases = baseSymbols(n.symbols)
    const measureId = await resolveMeasure(tx, bases, existing?.measure_id, now)
    const row = {
      source_id: n.sourceId,
      source_item_id: n.sourceItemId,
      measure_id: measureId,
      symbol: n.symbols[0],
      symbols: JSON.stringify(n.symbols),
      doc_type: n.docType,
      area: n.area,
      member: n.member,
      member_code: n.memberCode,
      title: n.title,
      products: n.products,
      description: n.description,
      objectives: JSON.stringify(n.objectives),
      keywords: JSON.stringify(n.keywords),
      language: n.languageHint ?? 'und',
      distribution_date: n.distributionDate,
      comment_deadline: n.commentDeadline,
      adoption_date: n.adoptionDate,
      adoption_text: n.adoptionText,
      entry_into_force_date: n.entryIntoForceDate,
      entry_into_force_text: n.entryIntoForceText,
      links: JSON.stringify(n.links),
      source_url: n.sourceUrl,
      source_status: n.sourceStatus ?? null,
      content_hash: hash,
      raw_response_id: rawId,
      updated_at: now,
    }
    let noticeId: number
    if (existing) {
      noticeId = existing.id
      await tx.updateTable('notice').set(row).where('id', '=', noticeId).execute()
      const changes = diffNotice(existing, row)
      await tx.insertInto('notice_change').values({ notice_id: noticeId, changed_at: now, changes: JSON.stringify(changes) }).execute()
      await tx.deleteFrom('notice_symbol').where('notice_id', '=', noticeId).execute()
      await tx.deleteFrom('notice_hs').where('notice_id', '=', noticeId).execute()
      await tx.deleteFrom('notice_ics').where('notice_id', '=', noticeId).execute()
    } else {
      // Two workers ingesting pages that share an item race here: the loser finds the
      // winner's row (PostgreSQL waits for its commit) and leaves it to the winner.
      const inserted = await tx
        .insertInto('notice')
        .values({ ...row, first_seen_at: now, baseline: opts.baseline ? 1 : 0 })
        .onConflict((oc) => oc.columns(['source_id', 'source_item_id']).doNothing())
        .returning('id')
        .executeTakeFirst()
      if (!inserted) {
        const winner = await tx
          .selectFrom('notice')
          .select(['id', 'measure_id'])
          .where('source_id', '=', n.sourceId)
          .where('source_item_id', '=', n.sourceItemId)
          .executeTakeFirstOrThrow()
        return { noticeId: winner.id, measureId: winner.measure_id, outcome: 'unchanged' as const }
      }
      noticeId = inserted.id
    }
    if (n.symbols.length) {
      await tx
        .insertInto('notice_symbol')
        .values(n.symbols.map((s) => ({ notice_id: noticeId, symbol: s, base_symbol: parseSymbol(s)?.base ?? s })))
        .execute()
    }
    if (n.hsCodes.length) await tx.insertInto('notice_hs').values(n.hsCodes.map((code) => ({ notice_id: noticeId, code }))).execute()
    if (n.icsCodes.length) await tx.insertInto('notice_ics').values(n.icsCodes.map((code) => ({ notice_id: noticeId, code }))).execute()
    // Refreshed now, or by the caller once for a whole page (`refreshLater`).
    const touched = existing && existing.measure_id !== measureId ? [existing.measure_id, measureId] : [measureId]
    if (opts.refreshLater) touched.forEach((m) => opts.refreshLater!.add(m))
    else await refreshMeasures(tx, touched, now)
    return { noticeId, measureId, outcome: existing ? ('changed' as const) : ('new' as const) }
  })
}

/**
 * The same document stored under another id of its source: a source that names a notice
 * by its symbols alone (the ePing Excel import, whose id is `symbolKey(symbols)`) and the
 * same source's scrape (ePing's numeric id) store one row, whichever comes first. A
 * scraped item finds only a row an import stored (its id is the symbol key); an imported
 * one finds the row holding exactly its symbols.
 */
async function sameDocument(tx: Tx, n: ScrapedNotice): Promise<NoticeRow | undefined> {
  const key = symbolKey(n.symbols)
  if (n.sourceItemId !== key) {
    return tx.selectFrom('notice').selectAll().where('source_id', '=', n.sourceId).where('source_item_id', '=', key).executeTakeFirst()
  }
  const rows = await tx
    .selectFrom('notice')
    .innerJoin('notice_symbol', 'notice_symbol.notice_id', 'notice.id')
    .selectAll('notice')
    .where('notice.source_id', '=', n.sourceId)
    .where('notice_symbol.symbol', '=', key.split(',')[0])
    .orderBy('notice.id')
    .execute()
  return rows.find((r) => symbolKey(JSON.parse(r.symbols) as string[]) === key)
}

/**
 * Finds the measure that any of these base symbols already belongs to. When a joint
 * notification ties together measures that were filed apart (a follow-up seen before
 * its base), they are merged into one.
 */
async function resolveMeasure(tx: Tx, bases: string[], current: number | undefined, now: string): Promise<number> {
  const rows = bases.length
    ? await tx
        .selectFrom('notice_symbol')
        .innerJoin('notice', 'notice.id', 'notice_symbol.notice_id')
        .select('notice.measure_id')
        .distinct()
        .where('notice_symbol.base_symbol', 'in', bases)
        .execute()
    : []
  const ids = new Set(rows.map((r) => r.measure_id))
  if (current !== undefined) ids.add(current)
  if (!ids.size) {
    const key = bases[0]
    await tx
      .insertInto('measure')
      .values({ key, status: 'open', created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute()
    const m = await tx.selectFrom('measure').select('id').where('key', '=', key).executeTakeFirstOrThrow()
    return m.id
  }
  const [target, ...others] = [...ids].sort((a, b) => a - b)
  for (const other of others) await mergeMeasure(tx, other, target)
  return target
}

/**
 * Files every document and the warning of one measure under another, and drops the
 * first. The two measures' warnings become one (mergeWarningInto): a measure has one.
 */
export async function mergeMeasure(tx: Tx, from: number, into: number) {
  await tx.updateTable('notice').set({ measure_id: into }).where('measure_id', '=', from).execute()
  const moving = await tx.selectFrom('warning').selectAll().where('measure_id', '=', from).orderBy('id').execute()
  const target = await tx.selectFrom('warning').select('id').where('measure_id', '=', into).orderBy('id').executeTakeFirst()
  const [first, ...rest] = moving
  if (first && !target) {
    await tx.updateTable('warning').set({ measure_id: into }).where('id', '=', first.id).execute()
    if (rest.length) await mergeWarningInto(tx, first.id, rest.map((w) => w.id))
  } else if (first && target) {
    await mergeWarningInto(tx, target.id, moving.map((w) => w.id))
  }
  await tx.updateTable('category_correction').set({ measure_id: into }).where('measure_id', '=', from).execute()
  await tx.deleteFrom('measure_member').where('measure_id', '=', from).execute()
  await tx.deleteFrom('risk_score').where('measure_id', '=', from).execute()
  await tx.deleteFrom('measure').where('id', '=', from).execute()
}

const REVIEW_PRIORITY: Record<string, number> = { escalated: 4, confirmed: 3, in_review: 2, new: 1, dismissed: 0 }

/**
 * Merges warnings into one (`keep`): the most advanced review status wins (dismissed only
 * when all were), their categories join, their history moves over with a `merged` event,
 * deliveries and corrections that named them name `keep` (a subscriber still holds a
 * warning once), and warning_merged maps the old ids to it. Scores follow at the next
 * warn pass.
 */
export async function mergeWarningInto(tx: Tx, keep: number, others: number[], now = new Date().toISOString()) {
  const ids = others.filter((id) => id !== keep)
  if (!ids.length) return
  const all = await tx.selectFrom('warning').selectAll().where('id', 'in', [keep, ...ids]).orderBy('id').execute()
  const kept = all.find((w) => w.id === keep)
  if (!kept) return
  const status = [...all].sort((a, b) => (REVIEW_PRIORITY[b.status] ?? 0) - (REVIEW_PRIORITY[a.status] ?? 0) || a.id - b.id)[0].status
  const notes = [...new Set(all.map((w) => w.note).filter((n): n is string => !!n))]
  await tx
    .updateTable('warning')
    .set({ status, assignee: kept.assignee ?? all.find((w) => w.assignee)?.assignee ?? null, note: notes.length ? notes.join('\n') : null, updated_at: now })
    .where('id', '=', keep)
    .execute()
  const cats = await tx.selectFrom('warning_category').selectAll().where('warning_id', 'in', ids).execute()
  const have = new Set((await tx.selectFrom('warning_category').select('category_id').where('warning_id', '=', keep).execute()).map((r) => r.category_id))
  for (const c of cats) if (!have.has(c.category_id)) await tx.insertInto('warning_category').values({ ...c, warning_id: keep }).execute()
  await tx.updateTable('warning_event').set({ warning_id: keep }).where('warning_id', 'in', ids).execute()
  await tx
    .insertInto('warning_event')
    .values({ warning_id: keep, at: now, actor: 'system', action: 'merged', from_status: kept.status, to_status: status, details: JSON.stringify({ merged: all.map((w) => ({ id: w.id, category: w.category_id, status: w.status })) }) })
    .execute()
  for (const dw of await tx.selectFrom('delivery_warning').selectAll().where('warning_id', 'in', ids).execute()) {
    const clash = await tx
      .selectFrom('delivery_warning')
      .select('delivery_id')
      .where('warning_id', '=', keep)
      .where((eb) => eb.or([eb('subscriber_id', '=', dw.subscriber_id), eb('delivery_id', '=', dw.delivery_id)]))
      .executeTakeFirst()
    if (clash) await tx.deleteFrom('delivery_warning').where('delivery_id', '=', dw.delivery_id).where('warning_id', '=', dw.warning_id).execute()
    else await tx.updateTable('delivery_warning').set({ warning_id: keep }).where('delivery_id', '=', dw.delivery_id).where('warning_id', '=', dw.warning_id).execute()
  }
  await tx.updateTable('category_correction').set({ warning_id: keep }).where('warning_id', 'in', ids).execute()
  await tx.updateTable('warning_merged').set({ warning_id: keep }).where('warning_id', 'in', ids).execute()
  await tx.insertInto('warning_merged').values(ids.map((id) => ({ id, warning_id: keep }))).onConflict((oc) => oc.column('id').doUpdateSet({ warning_id: keep })).execute()
  await tx.deleteFrom('warning_category').where('warning_id', 'in', ids).execute()
  await tx.deleteFrom('warning').where('id', 'in', ids).execute()
}

/** Recomputes a measure from all its documents; its key is the smallest base symbol. */
export async function refreshMeasure(tx: Tx, measureId: number, now: string) {
  await refreshMeasures(tx, [measureId], now)
}

/**
 * `refreshMeasure` for many measures, set-based: their documents, symbols, rows and members
 * read at once, each measure that changed updated (a page's ingest refreshes its measures
 * once, at its end, instead of once per document).
 */
export async function refreshMeasures(tx: Tx, measureIds: number[], now: string) {
  const ids = [...new Set(measureIds)].sort((a, b) => a - b)
  const noticesOf = new Map<number, NoticeRow[]>()
  const basesOf = new Map<number, string[]>()
  for (let i = 0; i < ids.length; i += 500) {
    const notices = await tx.selectFrom('notice').selectAll().where('measure_id', 'in', ids.slice(i, i + 500)).orderBy('id').execute()
    for (const n of notices) noticesOf.set(n.measure_id, [...(noticesOf.get(n.measure_id) ?? []), n])
    const measureOf = new Map(notices.map((n) => [n.id, n.measure_id]))
    for (let k = 0; k < notices.length; k += 500) {
      const bases = await tx.selectFrom('notice_symbol').select(['notice_id', 'base_symbol']).where('notice_id', 'in', notices.slice(k, k + 500).map((n) => n.id)).execute()
      for (const r of bases) {
        const m = measureOf.get(r.notice_id)!
        basesOf.set(m, [...(basesOf.get(m) ?? []), r.base_symbol])
      }
    }
  }
  // A measure left without documents (merged away, or its last document moved) goes.
  for (const id of ids.filter((m) => !noticesOf.has(m))) {
    await tx.deleteFrom('risk_score').where('measure_id', '=', id).execute()
    await tx.deleteFrom('measure_member').where('measure_id', '=', id).execute()
    const hasWarnings = await tx.selectFrom('warning').select('id').where('measure_id', '=', id).executeTakeFirst()
    if (!hasWarnings) await tx.deleteFrom('measure').where('id', '=', id).execute()
  }
  const live = ids.filter((m) => noticesOf.has(m))
  if (!live.length) return
  const currents = new Map<number, MeasureRow>()
  const storedMembers = new Map<number, string[]>()
  for (let i = 0; i < live.length; i += 500) {
    for (const m of await tx.selectFrom('measure').selectAll().where('id', 'in', live.slice(i, i + 500)).execute()) currents.set(m.id, m)
    for (const r of await tx.selectFrom('measure_member').select(['measure_id', 'member_code']).where('measure_id', 'in', live.slice(i, i + 500)).orderBy('measure_id').orderBy('position').execute()) {
      storedMembers.set(r.measure_id, [...(storedMembers.get(r.measure_id) ?? []), r.member_code])
    }
  }
  const members: { measure_id: number; member_code: string; position: number }[] = []
  const membersChanged: number[] = []
  for (const measureId of live) {
    const notices = noticesOf.get(measureId)!
    // A WTO symbol names the measure when there is one; a source's own key (FR:…) otherwise.
    const sorted = (basesOf.get(measureId) ?? []).sort()
    const key = sorted.find((b) => parseSymbol(b)) ?? sorted[0] ?? notices[0].symbol
    const s = deriveMeasure(
      notices.map((n) => ({
        docType: n.doc_type as StoredNotice['type'],
        title: n.title,
        description: n.description,
        member: n.member,
        distributionDate: n.distribution_date,
        commentDeadline: n.comment_deadline,
        adoptionDate: n.adoption_date,
        entryIntoForceDate: n.entry_into_force_date,
        language: n.language,
      })),
    )
    const current = currents.get(measureId)
    if (!current) throw new Error(`measure ${measureId} not found`)
    // The lifecycle status (open, closed...) depends on the local day as well: the score
    // stage and the daily lifecycle job set measure.status from this (lifecycle.service).
    const next = {
      key,
      // The agreement of the measure's WTO symbol; a national document's own otherwise.
      area: parseSymbol(key)?.agreement ?? (notices.some((n) => n.area === 'SPS') ? 'SPS' : 'TBT'),
      member: s.member,
      title: s.title,
      stated_status: s.status,
      comment_deadline: s.commentDeadline,
      adoption_date: s.adoptionDate,
      entry_into_force_date: s.entryIntoForceDate,
      first_distribution_date: s.firstDistributionDate,
    }
    const changed = (Object.keys(next) as (keyof typeof next)[]).some((k) => current[k] !== next[k])
    if (changed) await tx.updateTable('measure').set({ ...next, updated_at: now }).where('id', '=', measureId).execute()
    // The members that notified the measure (every symbol's member, then the sources' codes), in order.
    const codes: string[] = []
    for (const n of notices) {
      for (const c of memberCodesOf({ symbols: JSON.parse(n.symbols) as string[], memberCode: n.member_code })) if (!codes.includes(c)) codes.push(c)
    }
    if ((storedMembers.get(measureId) ?? []).join() === codes.join()) continue
    membersChanged.push(measureId)
    members.push(...codes.map((member_code, position) => ({ measure_id: measureId, member_code, position })))
  }
  for (let i = 0; i < membersChanged.length; i += 500) await tx.deleteFrom('measure_member').where('measure_id', 'in', membersChanged.slice(i, i + 500)).execute()
  for (let i = 0; i < members.length; i += 500) await tx.insertInto('measure_member').values(members.slice(i, i + 500)).execute()
}

function diffNotice(before: NoticeRow, after: Record<string, unknown>): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {}
  for (const [k, v] of Object.entries(after)) {
    if (k === 'updated_at' || k === 'content_hash' || k === 'raw_response_id') continue
    const old = (before as unknown as Record<string, unknown>)[k]
    if (old !== v) out[k] = [old, v]
  }
  return out
}

export function toStoredNotice(row: NoticeRow, hs: string[], ics: string[], measureKey?: string): StoredNotice {
  return {
    id: row.id,
    sourceId: row.source_id,
    sourceItemId: row.source_item_id,
    measureId: row.measure_id,
    measureKey,
    symbol: row.symbol,
    symbols: JSON.parse(row.symbols),
    type: row.doc_type as StoredNotice['type'],
    area: row.area,
    member: row.member,
    memberCode: row.member_code,
    title: row.title,
    products: row.products,
    description: row.description,
    objectives: JSON.parse(row.objectives),
    keywords: JSON.parse(row.keywords),
    hsCodes: hs,
    icsCodes: ics,
    language: row.language,
    distributionDate: row.distribution_date,
    commentDeadline: row.comment_deadline,
    adoptionDate: row.adoption_date,
    entryIntoForceDate: row.entry_into_force_date,
    links: JSON.parse(row.links),
    sourceUrl: row.source_url,
    contentHash: row.content_hash,
  }
}

export async function getNotices(db: Tx, ids: number[]): Promise<StoredNotice[]> {
  if (!ids.length) return []
  const rows = await db
    .selectFrom('notice')
    .innerJoin('measure', 'measure.id', 'notice.measure_id')
    .selectAll('notice')
    .select('measure.key as measure_key')
    .where('notice.id', 'in', ids)
    .orderBy('notice.id')
    .execute()
  const hs = await db.selectFrom('notice_hs').selectAll().where('notice_id', 'in', ids).orderBy('code').execute()
  const ics = await db.selectFrom('notice_ics').selectAll().where('notice_id', 'in', ids).orderBy('code').execute()
  return rows.map((r) =>
    toStoredNotice(
      r,
      hs.filter((h) => h.notice_id === r.id).map((h) => h.code),
      ics.filter((h) => h.notice_id === r.id).map((h) => h.code),
      r.measure_key,
    ),
  )
}

/** Notices with an HS code under a prefix: a range scan on notice_hs(code) on both engines. */
export async function noticeIdsByHsPrefix(db: Tx, prefix: string): Promise<number[]> {
  const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
  const rows = await db
    .selectFrom('notice_hs')
    .select('notice_id')
    .distinct()
    .where('code', '>=', prefix)
    .where('code', '<', upper)
    .execute()
  return rows.map((r) => r.notice_id).sort((a, b) => a - b)
}

export async function knownItemIds(db: Tx, sourceId: string, itemIds: string[]): Promise<Set<string>> {
  if (!itemIds.length) return new Set()
  const rows = await db
    .selectFrom('notice')
    .select('source_item_id')
    .where('source_id', '=', sourceId)
    .where('source_item_id', 'in', itemIds)
    .execute()
  return new Set(rows.map((r) => r.source_item_id))
}
