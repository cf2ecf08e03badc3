import { type Kysely } from 'kysely'
import { isPostgres } from '../dialect.js'

// Frozen once released: written against Kysely<any>; runs unchanged on SQLite and PostgreSQL.
//
// Nothing is lost when workers die again and again (issue 18): the database, not Redis,
// holds what is left to do.
// - pipeline_outbox: one row per (stage, entity) whose next step is owed, written in the same
//   transaction as the write that makes it owed (a classification marks its measure for
//   scoring), consumed in the transaction that marks the following step. `token` changes on
//   every (re)write: a job names it in its id, and a step consumes the row only if the token
//   it read is still there (a newer change keeps the row for another run).
// - job_failure: work that failed for good (attempts or stalls used up, or unrecoverable),
//   recorded, then removed from Redis so that the same work can be queued again;
//   `retried_at` is set by `tbt-watch retry-failed`.
// - indexes for the reconciliation's sweeps: pending raw responses, scores of older rules.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db)
  await db.schema
    .createTable('pipeline_outbox')
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('ref_id', 'integer', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('pipeline_outbox_pkey', ['stage', 'ref_id'])
    .execute()

  await db.schema
    .createTable('job_failure')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed_at', 'text', (c) => c.notNull())
    .addColumn('retried_at', 'text')
    .addColumn('retries', 'integer', (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint('job_failure_key', ['queue', 'job_id'])
    .execute()
  await db.schema.createIndex('job_failure_open_idx').on('job_failure').columns(['retried_at', 'queue']).execute()

  await db.schema.createIndex('raw_response_parse_idx').on('raw_response').columns(['parse_status', 'id']).execute()
  await db.schema.createIndex('risk_score_rules_idx').on('risk_score').columns(['rules_version', 'measure_id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('risk_score_rules_idx').ifExists().execute()
  await db.schema.dropIndex('raw_response_parse_idx').ifExists().execute()
  await db.schema.dropIndex('job_failure_open_idx').ifExists().execute()
  await db.schema.dropTable('job_failure').ifExists().execute()
  await db.schema.dropTable('pipeline_outbox').ifExists().execute()
}
