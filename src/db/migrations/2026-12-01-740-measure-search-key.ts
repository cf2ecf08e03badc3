import { sql, type Kysely } from 'kysely'
import { searchText } from './2026-11-30-710-search-index.js'
import { GRAMS_FN } from './2026-11-30-720-short-search.js'
import { isPostgres } from '../dialect.js'

// Frozen once released: written against Kysely<any>; runs on SQLite and PostgreSQL.
//
// A measure's searched text is its key alone. Migrations 710 and 720 indexed its key and
// title, but the title is always one of its documents' titles (deriveMeasure takes it from
// a notice), and a notice's searched text holds its title: a search finds the measure
// through that notice anyway. Indexing the title twice was not free: on PostgreSQL every
// index expression is computed when a row is written, and the grams and trigrams of
// 20,000 measure titles cost the server 7.1 s against 0.2 s for the rows alone (a bulk
// load writes each new measure once). The key stays: it is the base symbol, which a
// document's own symbols spell out only when they were written the way parseSymbol writes
// them (G/TBT/N/USA/0123 is the measure G/TBT/N/USA/123).

/** A measure's searched text, one SQL expression (the same on both dialects, as the indexes hold it). */
export const measureSearchText = (alias: string) => `coalesce(${alias}.key, '')`
/** PostgreSQL: the index expression of a measure's grams (queries must repeat it exactly). */
export const pgMeasureGrams = (alias: string) => `${GRAMS_FN}(lower(${measureSearchText(alias)}))`

async function trigramOps(db: Kysely<any>) {
  const found = await sql<{ nspname: string }>`select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db)
  return sql.raw(`${JSON.stringify(found.rows[0]?.nspname ?? 'public')}.gin_trgm_ops`)
}

/** Rebuilds the measure's search indexes over `text(alias)`, watching `cols`. */
async function rebuild(db: Kysely<any>, text: (alias: string) => string, cols: string[]) {
  if (isPostgres(db)) {
    await db.schema.dropIndex('measure_search_trgm_idx').ifExists().execute()
    await db.schema.dropIndex('measure_search_gram_idx').ifExists().execute()
    await sql`create index measure_search_trgm_idx on measure using gin ((lower(${sql.raw(text('measure'))})) ${await trigramOps(db)})`.execute(db)
    await sql.raw(`create index measure_search_gram_idx on measure using gin ((${GRAMS_FN}(lower(${text('measure')}))))`).execute(db)
    await sql`analyze measure`.execute(db)
    return
  }
  for (const fts of ['measure_fts', 'measure_gram']) {
    for (const s of ['ai', 'au', 'ad']) await sql.raw(`drop trigger if exists ${fts}_${s}`).execute(db)
    await sql.raw(`drop table if exists ${fts}`).execute(db)
  }
  // As 710 and 720 made them, over the new text.
  await sql.raw(`create virtual table measure_fts using fts5(body, tokenize = 'trigram case_sensitive 0')`).execute(db)
  await sql.raw(`create trigger measure_fts_ai after insert on measure begin insert into measure_fts(rowid, body) values (new.id, ${text('new')}); end`).execute(db)
  await sql.raw(`create trigger measure_fts_au after update of ${cols.join(', ')} on measure begin update measure_fts set body = ${text('new')} where rowid = new.id; end`).execute(db)
  await sql.raw(`create trigger measure_fts_ad after delete on measure begin delete from measure_fts where rowid = old.id; end`).execute(db)
  await sql.raw(`insert into measure_fts(rowid, body) select id, ${text('measure')} from measure`).execute(db)
  await sql.raw(`create virtual table measure_gram using fts5(grams, content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'none')`).execute(db)
  await sql.raw(`create trigger measure_gram_ai after insert on measure begin insert into measure_gram(rowid, grams) values (new.id, ${GRAMS_FN}(${text('new')})); end`).execute(db)
  await sql.raw(`create trigger measure_gram_au after update of ${cols.join(', ')} on measure begin insert or replace into measure_gram(rowid, grams) values (new.id, ${GRAMS_FN}(${text('new')})); end`).execute(db)
  await sql.raw(`create trigger measure_gram_ad after delete on measure begin delete from measure_gram where rowid = old.id; end`).execute(db)
  await sql.raw(`insert into measure_gram(rowid, grams) select id, ${GRAMS_FN}(${text('measure')}) from measure`).execute(db)
}

export async function up(db: Kysely<any>): Promise<void> {
  await rebuild(db, measureSearchText, ['key'])
}

export async function down(db: Kysely<any>): Promise<void> {
  await rebuild(db, (alias) => searchText('measure', alias), ['key', 'title'])
}
