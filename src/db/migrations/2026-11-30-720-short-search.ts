import { sql, type Kysely } from 'kysely'
import { SEARCH_COLUMNS, searchText } from './2026-11-30-710-search-index.js'
import { isPostgres } from '../dialect.js'

// Frozen once released: written against Kysely<any>; runs on SQLite and PostgreSQL.
//
// Searches of one or two characters (电池, 玩具, 鞋, EU) through an index. A trigram index
// (migration 710) has no trigram to look up under three characters, so these scanned the
// searched text of every row (3.6 s at 100,000 notices on SQLite). Here every row's
// searched text (the same text as 710's) is also indexed by its grams: each distinct
// character and each distinct pair of adjacent characters, of the text case folded the
// way each engine's LIKE search folds it. A query of one or two characters is then one
// gram, and the rows that hold it are exactly the rows whose text contains it: the same
// rows as the LIKE search, read from an index.
//
// - SQLite: contentless FTS5 tables notice_gram, measure_gram, warning_note_gram (rowid =
//   the row's id), one token per gram: the hex of its UTF-8 bytes (the ascii tokenizer
//   keeps such a token whole, whatever the characters), postings without positions
//   (detail=none: a gram is looked up alone). The grams are computed by tbt_search_grams(),
//   a function every connection registers (openDatabase), in triggers beside 710's; rows
//   already stored are indexed here. SQLite's LIKE folds ASCII letters only: so do the grams.
// - PostgreSQL: GIN indexes on tbt_search_grams(lower(text)), an immutable SQL function
//   (text[]) created in the schema the migration runs in; the server keeps them in step.

export const GRAMS_FN = 'tbt_search_grams'
/** Queries of up to this many characters (after case folding) are one gram. */
export const GRAM_MAX = 2

const GRAM = { notice: 'notice_gram', measure: 'measure_gram', warning: 'warning_note_gram' } as const

/** A gram as an FTS5 token: the hex of its UTF-8 bytes (distinct grams, distinct tokens). */
export const gramToken = (gram: string) => Buffer.from(gram, 'utf8').toString('hex')

/**
 * The tokens of a text's grams, space-separated (SQLite's tbt_search_grams): ASCII letters
 * lower-cased as SQLite's LIKE folds them, then every distinct character and pair of
 * adjacent characters (code points, as SQLite's substr and length count them).
 */
export function searchGrams(text: string | null): string {
  if (!text) return ''
  const chars = [...text.replace(/[A-Z]+/g, (s) => s.toLowerCase())]
  const grams = new Set<string>()
  for (let i = 0; i < chars.length; i++) {
    grams.add(chars[i])
    if (i + 1 < chars.length) grams.add(chars[i] + chars[i + 1])
  }
  return [...grams].map(gramToken).join(' ')
}

/** PostgreSQL: the index expression of a table's grams (queries must repeat it exactly). */
export const pgGrams = (table: keyof typeof GRAM, alias: string) => `${GRAMS_FN}(lower(${searchText(table, alias)}))`

export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db)
  if (pg) {
    // One pass over the characters (unnest with their order, the next one by lead()): a
    // substr() per position would walk the text from its start each time.
    await sql.raw(`create function ${GRAMS_FN}(t text) returns text[] language sql immutable strict parallel safe as $$
      select array(select distinct g from (select c, lead(c) over (order by i) as d from unnest(regexp_split_to_array(t, '')) with ordinality as u(c, i)) s,
        lateral (values (c), (c || d)) as v(g) where g is not null)
    $$`).execute(db)
    for (const table of Object.keys(GRAM) as (keyof typeof GRAM)[]) {
      await sql.raw(`create index ${table}_search_gram_idx on ${table} using gin ((${pgGrams(table, table)}))`).execute(db)
    }
    for (const t of Object.keys(GRAM)) await sql`analyze ${sql.table(t)}`.execute(db)
    return
  }
  for (const [table, fts] of Object.entries(GRAM) as [keyof typeof GRAM, string][]) {
    const cols = SEARCH_COLUMNS[table].join(', ')
    await sql.raw(`create virtual table ${fts} using fts5(grams, content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'none')`).execute(db)
    await sql.raw(`create trigger ${fts}_ai after insert on ${table} begin insert into ${fts}(rowid, grams) values (new.id, ${GRAMS_FN}(${searchText(table, 'new')})); end`).execute(db)
    await sql.raw(`create trigger ${fts}_au after update of ${cols} on ${table} begin insert or replace into ${fts}(rowid, grams) values (new.id, ${GRAMS_FN}(${searchText(table, 'new')})); end`).execute(db)
    await sql.raw(`create trigger ${fts}_ad after delete on ${table} begin delete from ${fts} where rowid = old.id; end`).execute(db)
    await sql.raw(`insert into ${fts}(rowid, grams) select id, ${GRAMS_FN}(${searchText(table, table)}) from ${table}`).execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db)
  for (const [table, fts] of Object.entries(GRAM)) {
    if (pg) await db.schema.dropIndex(`${table}_search_gram_idx`).ifExists().execute()
    else {
      for (const s of ['ai', 'au', 'ad']) await sql.raw(`drop trigger if exists ${fts}_${s}`).execute(db)
      await sql.raw(`drop table if exists ${fts}`).execute(db)
    }
  }
  if (pg) await sql.raw(`drop function if exists ${GRAMS_FN}(text)`).execute(db)
}
