import { sql, type Kysely } from 'kysely'
import { isPostgres } from '../dialect.js'

// Frozen once released: written against Kysely<any>; runs on SQLite and PostgreSQL.
//
// The queue's full-text search through a real index, and indexes for every filter and sort
// the queue offers.
//
// What a search looks in (unchanged from the LIKE search it replaces): a notice's title,
// description, products, symbols, keywords and member; a measure's key and title; a
// warning's note (and category names, a table of a few dozen rows).
//
// - SQLite: FTS5 tables with the trigram tokenizer (substring matching, Chinese without a
//   segmenter, case folded): notice_fts (rowid = notice.id), measure_fts (rowid =
//   measure.id), warning_note_fts (rowid = warning.id), each holding the searched text of
//   its row (searchText below), kept in step by triggers on insert, update and delete, and
//   filled here from the rows already stored.
// - PostgreSQL: pg_trgm GIN indexes on lower(searchText), which the server keeps in step
//   by itself. The extension is created once per database in a schema of its own choosing
//   (public unless it already exists elsewhere); the operator class is named with it, so
//   per-tenant schemas (search_path) share it.

export const SEARCH_SEP = '\n'

/** The searched text of a row, one SQL expression (the same on both dialects). */
export const SEARCH_COLUMNS = {
  notice: ['title', 'description', 'products', 'symbols', 'keywords', 'member'],
  measure: ['key', 'title'],
  warning: ['note'],
} as const

/** `coalesce(a,'') || '\n' || coalesce(b,'') ...` over the columns of `alias` (or bare names, in a trigger: new.x). */
export function searchText(table: keyof typeof SEARCH_COLUMNS, alias: string): string {
  return SEARCH_COLUMNS[table].map((c) => `coalesce(${alias}.${c}, '')`).join(` || '${SEARCH_SEP}' || `)
}

const FTS = { notice: 'notice_fts', measure: 'measure_fts', warning: 'warning_note_fts' } as const

export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db)
  if (pg) {
    // Two migrations creating the extension at once would race on pg_extension's unique
    // name: the first one holds this lock until it commits.
    await sql`select pg_advisory_xact_lock(hashtext('tbt-watch:pg_trgm'))`.execute(db)
    const found = await sql<{ nspname: string }>`select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db)
    let schema = found.rows[0]?.nspname
    if (!schema) {
      await sql`create extension if not exists pg_trgm with schema public`.execute(db)
      schema = 'public'
    }
    const ops = sql.raw(`${JSON.stringify(schema)}.gin_trgm_ops`)
    for (const table of Object.keys(FTS) as (keyof typeof FTS)[]) {
      await sql`create index ${sql.raw(`${table}_search_trgm_idx`)} on ${sql.table(table)} using gin ((lower(${sql.raw(searchText(table, table))})) ${ops})`.execute(db)
    }
  } else {
    for (const [table, fts] of Object.entries(FTS) as [keyof typeof FTS, string][]) {
      const cols = SEARCH_COLUMNS[table].join(', ')
      await sql.raw(`create virtual table ${fts} using fts5(body, tokenize = 'trigram case_sensitive 0')`).execute(db)
      await sql.raw(`create trigger ${fts}_ai after insert on ${table} begin insert into ${fts}(rowid, body) values (new.id, ${searchText(table, 'new')}); end`).execute(db)
      await sql.raw(`create trigger ${fts}_au after update of ${cols} on ${table} begin update ${fts} set body = ${searchText(table, 'new')} where rowid = new.id; end`).execute(db)
      await sql.raw(`create trigger ${fts}_ad after delete on ${table} begin delete from ${fts} where rowid = old.id; end`).execute(db)
      await sql.raw(`insert into ${fts}(rowid, body) select id, ${searchText(table, table)} from ${table}`).execute(db)
    }
  }

  // The queue's default order (open measures first, then the score, highest first; id breaks
  // ties) and the same with the score ascending; per status for the tabs.
  await sql`create index warning_queue_order_idx on warning (lifecycle_rank, score desc, id)`.execute(db)
  await sql`create index warning_queue_order_asc_idx on warning (lifecycle_rank, score, id)`.execute(db)
  await sql`create index warning_status_order_idx on warning (status, lifecycle_rank, score desc, id)`.execute(db)
  // Filters: level, assignee (and its distinct values), the other sorts.
  await db.schema.createIndex('warning_level_idx').on('warning').columns(['level', 'lifecycle_rank', 'score']).execute()
  await db.schema.createIndex('warning_assignee_idx').on('warning').column('assignee').execute()
  await db.schema.createIndex('warning_updated_idx').on('warning').columns(['updated_at', 'id']).execute()
  await db.schema.createIndex('measure_deadline_idx').on('measure').column('comment_deadline').execute()
  // Filters on a measure's notices (source, language) and the language list.
  await db.schema.createIndex('notice_measure_source_idx').on('notice').columns(['measure_id', 'source_id']).execute()
  await db.schema.createIndex('notice_measure_language_idx').on('notice').columns(['measure_id', 'language']).execute()
  await db.schema.createIndex('notice_language_idx').on('notice').column('language').execute()
  if (pg) for (const t of ['warning', 'measure', 'notice']) await sql`analyze ${sql.table(t)}`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db)
  for (const i of ['warning_queue_order_idx', 'warning_queue_order_asc_idx', 'warning_status_order_idx', 'warning_level_idx', 'warning_assignee_idx', 'warning_updated_idx', 'measure_deadline_idx', 'notice_measure_source_idx', 'notice_measure_language_idx', 'notice_language_idx']) {
    await db.schema.dropIndex(i).ifExists().execute()
  }
  for (const [table, fts] of Object.entries(FTS)) {
    if (pg) await db.schema.dropIndex(`${table}_search_trgm_idx`).ifExists().execute()
    else {
      for (const s of ['ai', 'au', 'ad']) await sql.raw(`drop trigger if exists ${fts}_${s}`).execute(db)
      await sql.raw(`drop table if exists ${fts}`).execute(db)
    }
  }
}
