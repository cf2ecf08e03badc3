import { sql, type RawBuilder, type SqlBool } from 'kysely'
import type { Db, Dialect } from '../db/database.js'
import { searchText } from '../db/migrations/2026-11-30-710-search-index.js'
import { GRAM_MAX, gramToken, pgGrams } from '../db/migrations/2026-11-30-720-short-search.js'
import { measureSearchText, pgMeasureGrams } from '../db/migrations/2026-12-01-740-measure-search-key.js'

// The queue's queries that depend on the engine or on the size of the data: the full-text
// search (FTS5 trigram on SQLite, pg_trgm on PostgreSQL; migration 710; grams of one or
// two characters, migration 720), keyset
// pagination (a cursor in the URL instead of an ever larger offset), and the filter
// options read without scanning the tables.

/** A LIKE pattern matching `s` anywhere, lower case, with % _ \ escaped (escape '\'). */
export const likePattern = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** Trigram indexes answer queries of three characters or more. */
export const TRIGRAM_MIN = 3

/**
 * Which index answers a search: `grams` (one or two characters, migration 720), `trigram`
 * (three or more, migration 710), or `scan` (none: two characters that case folding makes
 * three, as İ becomes i̇; rare).
 */
export function searchIndex(q: string): 'grams' | 'trigram' | 'scan' {
  if ([...q.toLowerCase()].length <= GRAM_MAX) return 'grams'
  return [...q].length >= TRIGRAM_MIN ? 'trigram' : 'scan'
}

/**
 * Warnings (alias `w`) whose measure, notices, note or categories contain `q` (case
 * folded, as a substring): the same rows on both engines, and the same rows through
 * whichever index answers (a LIKE over the searched text is what each one stands for;
 * `how` = 'scan' reads it so, which tests compare against).
 */
export function searchCondition(dialect: Dialect, q: string, how: ReturnType<typeof searchIndex> | 'row' = searchIndex(q)): RawBuilder<SqlBool> {
  if (how === 'row') return rowCondition(dialect, q)
  const { measures, notes, categories } = searchParts(dialect, q, how)
  return sql<SqlBool>`(w.measure_id in (${measures})
      or w.id in (${notes})
      or w.id in (${categories}))`
}

/**
 * The ids of the warnings `searchCondition` finds, read from the indexes outward (the
 * matching notices and measures, then their warnings), at most `limit` rows; an id may come
 * twice (UNION ALL, so that the limit stops the reads early).
 */
export function searchIdsQuery(dialect: Dialect, q: string, limit: number): RawBuilder<{ id: number }> {
  const { measures, notes, categories } = searchParts(dialect, q, searchIndex(q))
  return sql`select x.id from (select w.id from warning w where w.measure_id in (${measures})
    union all ${notes}
    union all ${categories}) x limit ${limit}`
}

/**
 * The same rows as `searchCondition`, checked on each warning by its own texts (its
 * measure's notices through their measure key, the measure, its note, its categories'
 * names) instead of read from the indexes as one set. For a search that matches many
 * warnings, read in the queue's order until a page is full: each row costs a few index
 * lookups and a LIKE, and the page stops after a few hundred rows, where the set would
 * cost every match.
 */
function rowCondition(dialect: Dialect, q: string): RawBuilder<SqlBool> {
  const p = likePattern(q)
  const like = (expr: RawBuilder<unknown>) => sql`${expr} like ${p} escape '\\'`
  const categories = sql`warning_category wq inner join category cq on cq.id = wq.category_id where wq.warning_id = w.id and (${like(sql`lower(cq.name_zh)`)} or ${like(sql`lower(cq.name_en)`)})`
  if (dialect === 'postgres') {
    // Scalar subqueries, not EXISTS: PostgreSQL turns an EXISTS into a semi-join and may
    // hash every notice's text first (a second at 100,000 notices); a scalar subquery
    // stays a per-row lookup through the measure's index. The texts are written so that
    // no trigram index matches them (`|| ''`): with sequential scans off (`planned`), the
    // planner would otherwise read a whole trigram index for each row.
    const any = (from: RawBuilder<unknown>) => sql`(select true from ${from} limit 1) is not null`
    const text = (expr: string) => like(sql`lower(${sql.raw(expr)} || '')`)
    return sql<SqlBool>`(${any(sql`notice sn where sn.measure_id = w.measure_id and ${text(searchText('notice', 'sn'))}`)}
      or ${any(sql`measure sm where sm.id = w.measure_id and ${text(measureSearchText('sm'))}`)}
      or ${text(searchText('warning', 'w'))}
      or ${any(categories)})`
  }
  // The FTS tables hold each row's searched text under its id (LIKE folds ASCII case; the
  // FTS 'scan' reading, which the other readings are tested against, is the same LIKE).
  return sql<SqlBool>`(exists (select 1 from notice sn inner join notice_fts nf on nf.rowid = sn.id where sn.measure_id = w.measure_id and ${like(sql`nf.body`)})
      or exists (select 1 from measure_fts mf where mf.rowid = w.measure_id and ${like(sql`mf.body`)})
      or exists (select 1 from warning_note_fts wf where wf.rowid = w.id and ${like(sql`wf.body`)})
      or exists (select 1 from ${categories}))`
}

/** Warnings (alias `w`) among `ids`: one parameter whatever their number. */
export function idsCondition(dialect: Dialect, ids: number[]): RawBuilder<SqlBool> {
  return dialect === 'postgres' ? sql<SqlBool>`w.id = any(${ids}::int[])` : sql<SqlBool>`w.id in (select value from json_each(${JSON.stringify(ids)}))`
}

/**
 * What a search reads, as three selects: the measures whose notices or own text hold `q`,
 * and the warnings (ids) whose note or category names hold it.
 */
function searchParts(dialect: Dialect, q: string, how: ReturnType<typeof searchIndex>): { measures: RawBuilder<unknown>; notes: RawBuilder<unknown>; categories: RawBuilder<unknown> } {
  const p = likePattern(q)
  const like = (expr: RawBuilder<unknown>) => sql`${expr} like ${p} escape '\\'`
  const categories = sql`select wq.warning_id from warning_category wq where wq.category_id in (select cq.id from category cq where ${like(sql`lower(cq.name_zh)`)} or ${like(sql`lower(cq.name_en)`)})`
  // One or two characters are one gram: the rows holding it hold the substring.
  const gram = q.toLowerCase()
  if (dialect === 'postgres') {
    // (A measure's searched text is its key alone since migration 740.)
    const text = (table: 'notice' | 'measure' | 'warning', alias: string) =>
      how === 'grams'
        ? sql`${sql.raw(table === 'measure' ? pgMeasureGrams(alias) : pgGrams(table, alias))} @> array[${gram}]::text[]`
        : like(sql`lower(${sql.raw(table === 'measure' ? measureSearchText(alias) : searchText(table, alias))})`)
    return {
      measures: sql`select sn.measure_id from notice sn where ${text('notice', 'sn')} union select sm.id from measure sm where ${text('measure', 'sm')}`,
      notes: sql`select sw.id from warning sw where ${text('warning', 'sw')}`,
      categories,
    }
  }
  // FTS5: a phrase of trigrams is a substring match; a gram's token is one term of the
  // gram tables; without either, LIKE scans the FTS table's text (FTS5 answers it itself).
  const phrase = `"${q.replace(/"/g, '""')}"`
  const hit = (fts: 'notice_fts' | 'measure_fts' | 'warning_note_fts') => {
    if (how === 'trigram') return sql`select rowid from ${sql.raw(fts)} where ${sql.raw(fts)} match ${phrase}`
    if (how === 'scan') return sql`select rowid from ${sql.raw(fts)} where ${like(sql`body`)}`
    const grams = fts.replace(/_fts$/, '_gram')
    return sql`select rowid from ${sql.raw(grams)} where ${sql.raw(grams)} match ${`"${gramToken(gram)}"`}`
  }
  return {
    measures: sql`select sn.measure_id from notice sn where sn.id in (${hit('notice_fts')}) union ${hit('measure_fts')}`,
    notes: hit('warning_note_fts'),
    categories,
  }
}

// ---------------------------------------------------------------------------------
// Keyset pagination

export type SortName = 'score' | 'deadline' | 'created' | 'updated' | 'id'
export type Dir = 'asc' | 'desc'

/** A sort column: its SQL, its direction, and where its value sits in a selected row. */
interface SortColumn {
  expr: RawBuilder<unknown>
  dir: Dir
  field: string
}

/** The queue's order for a sort and direction; the warning id always ends it (a total order). */
export function sortColumns(sort: SortName, dir: Dir): SortColumn[] {
  const id: SortColumn = { expr: sql`w.id`, dir: sort === 'id' ? dir : 'asc', field: 'id' }
  switch (sort) {
    case 'deadline':
      return [{ expr: sql`coalesce(m.comment_deadline, '9999-12-31')`, dir, field: 'sort_deadline' }, id]
    case 'created':
      return [{ expr: sql`w.created_at`, dir, field: 'created_at' }, id]
    case 'updated':
      return [{ expr: sql`w.updated_at`, dir, field: 'updated_at' }, id]
    case 'id':
      return [id]
    default:
      // Measures still open for comments first, closed ones below, then the score.
      return [{ expr: sql`w.lifecycle_rank`, dir: 'asc', field: 'lifecycle_rank' }, { expr: sql`w.score`, dir, field: 'score' }, id]
  }
}

const flip = (d: Dir): Dir => (d === 'asc' ? 'desc' : 'asc')

/** The columns in the order a query reads them: reversed for the page before a cursor. */
export function orderOf(cols: SortColumn[], backwards: boolean): { expr: RawBuilder<unknown>; dir: Dir }[] {
  return cols.map((c) => ({ expr: c.expr, dir: backwards ? flip(c.dir) : c.dir }))
}

/**
 * Rows strictly after `values` in the order of `cols` (before them when `backwards`), as
 * ranges to read one after the other: (c1 = v1 AND c2 = v2 AND c3 > v3), then (c1 = v1 AND
 * c2 > v2), then (c1 > v1), with > or < per column's direction. Each is one contiguous
 * range of an index on (c1, c2, c3) even when the directions are mixed (the default
 * order is rank ascending, score descending), so a page deep in the queue reads only its
 * rows; a single OR of the three would make the engine scan from the first row.
 */
export function keysetRanges(cols: SortColumn[], values: unknown[], backwards: boolean): RawBuilder<SqlBool>[] {
  const op = (c: SortColumn) => sql.raw((c.dir === 'asc') !== backwards ? '>' : '<')
  const out: RawBuilder<SqlBool>[] = []
  for (let i = cols.length - 1; i >= 0; i--) {
    const eq = cols.slice(0, i).map((c, j) => sql`${c.expr} = ${values[j]}`)
    out.push(sql<SqlBool>`(${sql.join([...eq, sql`${cols[i].expr} ${op(cols[i])} ${values[i]}`], sql` and `)})`)
  }
  return out
}

/** A cursor: the sort, its direction and the sort values of a row, as URL-safe text. */
export function encodeCursor(sort: SortName, dir: Dir, cols: SortColumn[], row: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify([sort, dir, ...cols.map((c) => row[c.field])])).toString('base64url')
}

/** The sort values of a cursor made for this sort and direction; undefined for any other (a stale link). */
export function decodeCursor(cursor: string, sort: SortName, dir: Dir, cols: SortColumn[]): unknown[] | undefined {
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (!Array.isArray(v) || v.length !== cols.length + 2 || v[0] !== sort || v[1] !== dir) return undefined
  const values = v.slice(2)
  return values.every((x) => typeof x === 'number' ? Number.isFinite(x) : typeof x === 'string' && x.length <= 100) ? values : undefined
}

/** A cursor's shape (the query-string check): base64url, bounded. */
export const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,400}$/

// ---------------------------------------------------------------------------------
// Filter options

/**
 * The distinct values of an indexed column, in order, by a loose index scan: one index
 * seek per value (a recursive query, the same on both engines), not a scan of the table.
 */
export async function distinctValues(db: Db, table: 'notice' | 'warning', column: 'language' | 'assignee'): Promise<string[]> {
  const t = sql.table(table)
  const c = sql.ref(column)
  const r = await sql<{ v: string | null }>`with recursive d(v) as (
      select min(${c}) from ${t}
      union all
      select (select min(${c}) from ${t} where ${c} > d.v) from d where d.v is not null
    ) select v from d where v is not null`.execute(db)
  return r.rows.map((x) => x.v!)
}
