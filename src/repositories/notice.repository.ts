import { sql, type Transaction } from 'kysely'
import type { Db } from '../db/database.js'
import { inTx } from '../db/tx.js'
import type { Database, MeasureRow, NoticeRow } from '../db/schema.js'
import { deriveMeasure } from '../domain/measure.js'
import { memberCodesOf } from '../domain/members.js'
import type { ScrapedNotice } from '../domain/notice.js'
import { parseSymbol, symbolKey } from '../domain/symbols.js'
import { sha256, stableStringify } from '../util/text.js'
import { isPostgres } from '../db/dialect.js'

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
 * Holds, until the transaction ends, a lock on each base symbol a write is about to file
 * (PostgreSQL; SQLite has one writer at a time anyway). Two transactions filing notices
 * of one measure (a joint notification and a follow-up of one of its symbols, ingested by
 * two workers at once, as a restart after a crash does) would otherwise each find no
 * measure for their bases and open two. Locks are taken in one order, so they cannot
 * deadlock each other, and per schema, so tests in other schemas do not wait.
 */
async function lockBases(tx: Tx, bases: string[]): Promise<void> {
  if (!bases.length || !isPostgres(tx)) return
  const sorted = [...new Set(bases)].sort()
  await sql`select pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || b, 0)) from (select unnest(${sorted}::text[]) as b order by 1) s`.execute(tx)
}

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
    await lockBases(tx, baseSymbols(n.symbols))
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
    const row = noticeRow(n, hash, measureId, rawId, now)
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
    await insertNoticeParts(tx, [{ noticeId, notice: n }])
    // Refreshed now, or by the caller once for a whole page (`refreshLater`).
    const touched = existing && existing.measure_id !== measureId ? [existing.measure_id, measureId] : [measureId]
    if (opts.refreshLater) touched.forEach((m) => opts.refreshLater!.add(m))
    else await refreshMeasures(tx, touched, now)
    return { noticeId, measureId, outcome: existing ? ('changed' as const) : ('new' as const) }
  })
}

/** A notice's row as stored (its measure, version and the response it came from). */
function noticeRow(n: ScrapedNotice, hash: string, measureId: number, rawId: number | null, now: string) {
  return {
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
}

/** Rows a multi-row statement carries at once: well under SQLite's and PostgreSQL's bound-parameter limits. */
const ROWS_PER_STATEMENT = 250

async function insertRows<T>(list: T[], insert: (rows: T[]) => Promise<unknown>) {
  for (let i = 0; i < list.length; i += ROWS_PER_STATEMENT) await insert(list.slice(i, i + ROWS_PER_STATEMENT))
}

/** The symbols, HS and ICS codes of stored notices: one multi-row insert per table. */
async function insertNoticeParts(tx: Tx, stored: { noticeId: number; notice: ScrapedNotice }[]) {
  const symbols = stored.flatMap(({ noticeId, notice }) => notice.symbols.map((s) => ({ notice_id: noticeId, symbol: s, base_symbol: parseSymbol(s)?.base ?? s })))
  const hs = stored.flatMap(({ noticeId, notice }) => notice.hsCodes.map((code) => ({ notice_id: noticeId, code })))
  const ics = stored.flatMap(({ noticeId, notice }) => notice.icsCodes.map((code) => ({ notice_id: noticeId, code })))
  await insertRows(symbols, (rows) => tx.insertInto('notice_symbol').values(rows).execute())
  await insertRows(hs, (rows) => tx.insertInto('notice_hs').values(rows).execute())
  await insertRows(ics, (rows) => tx.insertInto('notice_ics').values(rows).execute())
}

/** A page's notice, and whether it is history a baseline run records without warning about it. */
export interface PageNotice {
  notice: ScrapedNotice
  baseline: boolean
  /** the stored response it came from, where a page holds several (an import's batch); else the page's */
  rawId?: number
}

/**
 * `upsertNotice` for a page's notices, in one transaction (the caller's when it holds one),
 * with the page's measures refreshed once at its end. Same keys, same outcomes as storing
 * them one by one in page order, in a few statements instead of about nine per notice:
 * the stored rows are read at once; a notice stored already and unchanged is left alone; a
 * new one whose base symbols no other notice of the page shares, and that at most one
 * stored measure holds, is inserted with the others in multi-row statements (its measure
 * created by key, as `resolveMeasure` does). Everything else (a changed notice, measures
 * to merge, notices of the page that may find each other, an import's symbol-named notice
 * whose first symbol a stored notice of its source holds) goes through `upsertNotice` one
 * by one: none of it can touch what the set-based part wrote. A page may gather several
 * stored responses (an import's notifications): each notice then names its own (`rawId`).
 */
export async function upsertNotices(db: Db, page: PageNotice[], rawId: number | null, now: string): Promise<UpsertOutcome[]> {
  return inTx(db, async (tx) => {
    await lockBases(tx, page.flatMap((p) => baseSymbols(p.notice.symbols)))
    const out: UpsertOutcome[] = new Array(page.length)
    const refreshLater = new Set<number>()
    const rawOf = (i: number) => page[i].rawId ?? rawId
    const { unchanged, fresh, one } = await planPage(tx, page)
    for (const [i, row] of unchanged) out[i] = { noticeId: row.id, measureId: row.measure_id, outcome: 'unchanged' }
    if (fresh.length) {
      // New measures by key (bases[0]): one made meanwhile, or left without documents, is found.
      // A new one is written whole, as refreshMeasures would derive it from its one document
      // (planPage gives a fresh notice bases no other notice of the page has), so that the
      // refresh at the end finds it unchanged instead of rewriting the row and its indexes.
      const created = fresh
        .filter((f) => f.measureId === undefined)
        .map((f) => {
          const n = page[f.i].notice
          const bases = baseSymbols(n.symbols)
          const { key: _derived, ...columns } = measureColumns(bases, [noticeRow(n, '', 0, rawOf(f.i), now)])
          return { ...columns, key: bases[0], status: 'open', created_at: now, updated_at: now }
        })
      const measureOf = new Map<string, number>()
      await insertRows(created, async (chunk) => {
        await tx
          .insertInto('measure')
          .values(chunk)
          .onConflict((oc) => oc.column('key').doNothing())
          .execute()
        for (const m of await tx.selectFrom('measure').select(['id', 'key']).where('key', 'in', chunk.map((c) => c.key)).execute()) measureOf.set(m.key, m.id)
      })
      const rows = fresh.map((f) => {
        const n = page[f.i].notice
        const measureId = f.measureId ?? measureOf.get(baseSymbols(n.symbols)[0])!
        return { i: f.i, row: { ...noticeRow(n, noticeHash(n), measureId, rawOf(f.i), now), first_seen_at: now, baseline: page[f.i].baseline ? 1 : 0 } }
      })
      // Two workers ingesting pages that share an item race here: the loser's insert waits
      // for the winner's commit and skips the row, leaving it (unchanged) to the winner.
      const idOf = new Map<string, number>()
      await insertRows(rows, async (chunk) => {
        const inserted = await tx
          .insertInto('notice')
          .values(chunk.map((r) => r.row))
          .onConflict((oc) => oc.columns(['source_id', 'source_item_id']).doNothing())
          .returning(['id', 'source_id', 'source_item_id'])
          .execute()
        for (const r of inserted) idOf.set(itemKey(r.source_id, r.source_item_id), r.id)
      })
      const lost = rows.filter((r) => !idOf.has(itemKey(r.row.source_id, r.row.source_item_id)))
      for (const { i, row } of lost) {
        const winner = await tx.selectFrom('notice').select(['id', 'measure_id']).where('source_id', '=', row.source_id).where('source_item_id', '=', row.source_item_id).executeTakeFirstOrThrow()
        out[i] = { noticeId: winner.id, measureId: winner.measure_id, outcome: 'unchanged' }
      }
      const stored = rows.filter((r) => idOf.has(itemKey(r.row.source_id, r.row.source_item_id)))
      await insertNoticeParts(tx, stored.map(({ i, row }) => ({ noticeId: idOf.get(itemKey(row.source_id, row.source_item_id))!, notice: page[i].notice })))
      for (const { i, row } of stored) {
        out[i] = { noticeId: idOf.get(itemKey(row.source_id, row.source_item_id))!, measureId: row.measure_id, outcome: 'new' }
        refreshLater.add(row.measure_id)
      }
    }
    for (const i of one) out[i] = await upsertNotice(tx, page[i].notice, rawOf(i), now, { baseline: page[i].baseline, refreshLater })
    if (refreshLater.size) await refreshMeasures(tx, [...refreshLater], now)
    return out
  })
}

const itemKey = (sourceId: string, itemId: string) => `${sourceId}\n${itemId}`

/**
 * Which of a page's notices `upsertNotices` may store set-based: `unchanged` (stored, same
 * version), `fresh` (new; `measureId` the one stored measure its bases belong to, if any),
 * and the rest, to store `one` by one in page order.
 */
async function planPage(tx: Tx, page: PageNotice[]) {
  const unchanged: [number, NoticeRow][] = []
  const fresh: { i: number; measureId?: number }[] = []
  const one: number[] = []
  const notices = page.map((p) => p.notice)
  const keys = notices.map((n) => symbolKey(n.symbols))
  if (notices.some((n) => !n.symbols.length)) return { unchanged, fresh, one: notices.map((_, i) => i) }
  // An import's notices are named by their symbols (ePing's Excel export), and
  // `sameDocument` finds a stored one by its first symbol: those whose first symbol a
  // stored notice of their source holds go one by one; the others are new to their
  // source and are planned as any.
  const firstOf = (i: number) => keys[i].split(',')[0]
  const named = notices.map((n, i) => n.sourceItemId === keys[i])
  const held = new Set<string>()
  const firsts = [...new Set(notices.flatMap((_, i) => (named[i] ? [firstOf(i)] : [])))]
  const namedSources = [...new Set(notices.filter((_, i) => named[i]).map((n) => n.sourceId))]
  for (let k = 0; k < firsts.length; k += 500) {
    // (read by the symbol's index; the source is checked here: as a condition, SQLite
    // would read the source's every notice first)
    const rows = await tx
      .selectFrom('notice_symbol')
      .innerJoin('notice', 'notice.id', 'notice_symbol.notice_id')
      .select(['notice.source_id', 'notice_symbol.symbol'])
      .where('notice_symbol.symbol', 'in', firsts.slice(k, k + 500))
      .execute()
    for (const r of rows) if (namedSources.includes(r.source_id)) held.add(itemKey(r.source_id, r.symbol))
  }
  // Notices of the page that may meet: the same item twice, an item named by another's
  // symbol key, a base symbol two of them share. They keep the one-by-one order.
  const seen = new Map<string, number>()
  const bump = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1)
  notices.forEach((n, i) => {
    bump(`item\n${itemKey(n.sourceId, n.sourceItemId)}`)
    // (an import's notice is named by its key: one name, counted once)
    if (!named[i]) bump(`item\n${itemKey(n.sourceId, keys[i])}`)
    for (const b of baseSymbols(n.symbols)) bump(`base\n${b}`)
  })
  const bases = notices.map((n) => baseSymbols(n.symbols))
  const entangled = notices.map((n, i) => (seen.get(`item\n${itemKey(n.sourceId, n.sourceItemId)}`) ?? 0) > 1 || (seen.get(`item\n${itemKey(n.sourceId, keys[i])}`) ?? 0) > 1 || bases[i].some((b) => (seen.get(`base\n${b}`) ?? 0) > 1))
  // The rows stored under the page's items or their symbol keys, and the measures holding its bases.
  const stored = new Map<string, NoticeRow>()
  const sources = [...new Set(notices.map((n) => n.sourceId))]
  const names = [...new Set([...notices.map((n) => n.sourceItemId), ...keys])]
  for (let k = 0; k < names.length; k += 500) {
    for (const r of await tx.selectFrom('notice').selectAll().where('source_id', 'in', sources).where('source_item_id', 'in', names.slice(k, k + 500)).execute()) stored.set(itemKey(r.source_id, r.source_item_id), r)
  }
  const allBases = [...new Set(bases.flat())]
  const measuresOf = new Map<string, Set<number>>()
  for (let k = 0; k < allBases.length; k += 500) {
    const rows = await tx
      .selectFrom('notice_symbol')
      .innerJoin('notice', 'notice.id', 'notice_symbol.notice_id')
      .select(['notice_symbol.base_symbol', 'notice.measure_id'])
      .distinct()
      .where('notice_symbol.base_symbol', 'in', allBases.slice(k, k + 500))
      .execute()
    for (const r of rows) measuresOf.set(r.base_symbol, (measuresOf.get(r.base_symbol) ?? new Set()).add(r.measure_id))
  }
  notices.forEach((n, i) => {
    const existing = stored.get(itemKey(n.sourceId, n.sourceItemId))
    if (entangled[i] || (named[i] && held.has(itemKey(n.sourceId, firstOf(i))))) one.push(i)
    else if (existing) (existing.content_hash === noticeHash(n) ? unchanged.push([i, existing]) : one.push(i))
    // A scraped item that finds a row an import stored under its symbol key: one by one.
    else if (stored.has(itemKey(n.sourceId, keys[i]))) one.push(i)
    else {
      const measures = new Set(bases[i].flatMap((b) => [...(measuresOf.get(b) ?? [])]))
      if (measures.size > 1) one.push(i)
      else fresh.push({ i, measureId: [...measures][0] })
    }
  })
  return { unchanged, fresh, one }
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

/** A notice's columns that a measure is derived from (a stored row, or one about to be). */
type MeasureSource = Pick<NoticeRow, 'doc_type' | 'title' | 'description' | 'member' | 'distribution_date' | 'comment_deadline' | 'adoption_date' | 'entry_into_force_date' | 'language' | 'area' | 'symbol'>

/**
 * What a measure's row says, derived from its documents (in id order) and their base
 * symbols. The lifecycle status (open, closed...) depends on the local day as well: the
 * score stage and the daily lifecycle job set measure.status from this (lifecycle.service).
 */
function measureColumns(bases: string[], notices: MeasureSource[]) {
  // A WTO symbol names the measure when there is one; a source's own key (FR:…) otherwise.
  const sorted = [...bases].sort()
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
  return {
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
  const updates: (Omit<MeasureRow, 'stated_status' | 'area'> & { stated_status: string; area: string })[] = []
  for (const measureId of live) {
    const notices = noticesOf.get(measureId)!
    const current = currents.get(measureId)
    if (!current) throw new Error(`measure ${measureId} not found`)
    const next = measureColumns(basesOf.get(measureId) ?? [], notices)
    const changed = (Object.keys(next) as (keyof typeof next)[]).some((k) => current[k] !== next[k])
    if (changed) updates.push({ id: measureId, status: current.status, created_at: current.created_at, ...next, updated_at: now })
    // The members that notified the measure (every symbol's member, then the sources' codes), in order.
    const codes: string[] = []
    for (const n of notices) {
      for (const c of memberCodesOf({ symbols: JSON.parse(n.symbols) as string[], memberCode: n.member_code })) if (!codes.includes(c)) codes.push(c)
    }
    if ((storedMembers.get(measureId) ?? []).join() === codes.join()) continue
    membersChanged.push(measureId)
    members.push(...codes.map((member_code, position) => ({ measure_id: measureId, member_code, position })))
  }
  // The changed measures in multi-row statements: an insert of rows that all exist turns
  // into an update of each (the columns below), on both engines.
  await insertRows(updates, (rows) =>
    tx
      .insertInto('measure')
      .values(rows)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          key: eb.ref('excluded.key'),
          area: eb.ref('excluded.area'),
          member: eb.ref('excluded.member'),
          title: eb.ref('excluded.title'),
          stated_status: eb.ref('excluded.stated_status'),
          comment_deadline: eb.ref('excluded.comment_deadline'),
          adoption_date: eb.ref('excluded.adoption_date'),
          entry_into_force_date: eb.ref('excluded.entry_into_force_date'),
          first_distribution_date: eb.ref('excluded.first_distribution_date'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute(),
  )
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
