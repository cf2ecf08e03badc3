import { sql, type Kysely } from 'kysely'
import { isPostgres } from './dialect.js'

/**
 * Planner statistics kept up with a bulk load (PostgreSQL).
 *
 * A first scrape or an `import eping-xlsx` grows the tables from nothing to 100,000 rows in
 * minutes. Autovacuum analyses a table once a tenth of it changed, but only on its own
 * round (a minute apart by default, later on a busy server), and an operator may have
 * switched it off for the load. Until then the planner believes the tables are as small
 * as when they were last analysed, reads `notice where measure_id in (…100 ids)` with a
 * sequential scan, and every batch costs more than the one before (a 100,000-notice pass
 * on one worker took 8.8 times as long as 20,000). So the stages ask, at most every few
 * seconds per process, which of this schema's tables grew by more than a fifth since
 * their last analysis, and analyse those. On SQLite the planner needs no statistics for
 * these lookups (it prefers an index whenever one fits): nothing to do.
 */
const CHECK_EVERY_MS = 5_000
/** A table is analysed again when it grew by this share of the rows it had at its last analysis (plus a floor). */
const CHANGED_SHARE = 0.2
const CHANGED_FLOOR = 1_000
/** A table is vacuumed when its dead rows outnumber this many plus this share of its live ones. */
const DEAD_FLOOR = 5_000
const DEAD_SHARE = 2

const lastCheck = new WeakMap<object, number>()

export async function keepStatsFresh(db: Kysely<any>, now = Date.now()): Promise<string[]> {
  if (!isPostgres(db)) return []
  const key = db.getExecutor()
  if (now - (lastCheck.get(key) ?? 0) < CHECK_EVERY_MS) return []
  lastCheck.set(key, now)
  // Growth against what the planner believes (pg_class.reltuples, which every ANALYZE
  // sets; -1 before the first): the change counter of pg_stat_user_tables is reset only by
  // an analysis of all columns, and the analysis below names them.
  // With each table, its own columns: ANALYZE with a column list skips the statistics of
  // expression indexes, and those of the search indexes (migrations 710 and 720) compute
  // trigrams and grams of 30,000 sampled texts (35 s for notice, on a busy machine) that
  // the pipeline's lookups never use.
  const stale = await sql<{ relname: string; cols: string[] }>`
    select s.relname, array(select a.attname::text from pg_attribute a where a.attrelid = s.relid and a.attnum > 0 and not a.attisdropped order by a.attnum) as cols
    from pg_stat_user_tables s join pg_class c on c.oid = s.relid
    where s.schemaname = current_schema()
      and s.n_live_tup > ${CHANGED_FLOOR}::float8 + (1 + ${CHANGED_SHARE}::float8) * greatest(c.reltuples, 0)
    order by s.n_live_tup - greatest(c.reltuples, 0) desc`.execute(db)
  const done: string[] = []
  // A table whose rows come and go (the outbox: every notice and measure marked, then
  // settled, at each stage) is mostly dead rows until a vacuum: its lookups wade through
  // them (the outbox's 0.8 ms at 20,000 notices became 5.4 ms at 100,000). Vacuumed here
  // when its dead rows outnumber the live ones twice over; a plain vacuum blocks no writer.
  const churned = await sql<{ relname: string }>`
    select relname from pg_stat_user_tables
    where schemaname = current_schema() and n_dead_tup > ${DEAD_FLOOR}::float8 + ${DEAD_SHARE}::float8 * n_live_tup`.execute(db)
  for (const { relname } of churned.rows) {
    try {
      await sql`vacuum ${sql.table(relname)}`.execute(db)
      done.push(`vacuum ${relname}`)
    } catch {
      // Inside a transaction (a caller's), or a table dropped meanwhile: the next check retries.
    }
  }
  for (const { relname, cols } of stale.rows) {
    try {
      await sql`analyze ${sql.table(relname)} (${sql.join(cols.map((c) => sql.id(c)))})`.execute(db)
      done.push(relname)
    } catch {
      // A table dropped meanwhile, or a lock another analysis holds: the next check retries.
    }
  }
  return done
}
