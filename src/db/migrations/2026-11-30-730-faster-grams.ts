import { sql, type Kysely } from 'kysely'
import { isPostgres } from '../dialect.js'

// Frozen once released: written against Kysely<any>; runs on SQLite and PostgreSQL.
//
// PostgreSQL's tbt_search_grams (migration 720) gives the same grams, faster. 720 walked
// the characters with a window function (lead() over their order), which costs the server
// about 2 ms for a notice of 900 characters: at a scrape page of 100 notices, most of the
// time of its multi-row insert, since every index expression is computed on insert. Here
// the characters come from string_to_array(t, null) and the adjacent pairs from two
// regular-expression passes (pairs starting at odd and at even positions; `.` matches a
// newline in PostgreSQL's default regex mode, as 720's split did), 2.5× faster, same set.
// The only difference is the empty text (720 gave {""}, this {}), which a searched text,
// its columns joined by newlines, never is. The indexes are rebuilt so that they hold
// exactly what the new body computes. SQLite computes grams in the process (openDatabase):
// nothing to do there.

const FASTER = `select array(select distinct g from (
    select unnest(string_to_array(t, null)) as g
    union all select (regexp_matches(t, '..', 'g'))[1]
    union all select (regexp_matches(substr(t, 2), '..', 'g'))[1]) s)`

const EARLIER = `select array(select distinct g from (select c, lead(c) over (order by i) as d from unnest(regexp_split_to_array(t, '')) with ordinality as u(c, i)) s,
        lateral (values (c), (c || d)) as v(g) where g is not null)`

async function replaceBody(db: Kysely<any>, body: string) {
  await sql.raw(`create or replace function tbt_search_grams(t text) returns text[] language sql immutable strict parallel safe as $$ ${body} $$`).execute(db)
  for (const table of ['notice', 'measure', 'warning']) await sql.raw(`reindex index ${table}_search_gram_idx`).execute(db)
}

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) await replaceBody(db, FASTER)
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) await replaceBody(db, EARLIER)
}
