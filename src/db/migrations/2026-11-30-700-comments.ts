import { type Kysely } from 'kysely'
import { isPostgres } from '../dialect.js'

// Frozen once released (issue 13, 评议). Written against Kysely<any>; runs unchanged on
// SQLite and PostgreSQL.
//
// - enterprise_feedback: what one enterprise (identified by its e-mail address: a user and
//   a subscriber with the same address are the same enterprise) says a measure costs it,
//   one row per (measure, enterprise), edited in place until the internal deadline.
//   Lists (HS codes, markets, concerns, requests) are JSON text; money in whole yuan.
// - measure_comment: China's comment on a measure drafted from that feedback, and where
//   it stands: drafting → submitted (date, to whom) → replied (date, text) → closed.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db)
  await db.schema
    .createTable('enterprise_feedback')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('measure_id', 'integer', (c) => c.notNull().references('measure.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('subscriber_id', 'integer', (c) => c.references('subscriber.id').onDelete('set null'))
    .addColumn('user_id', 'integer', (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('products', 'text', (c) => c.notNull())
    .addColumn('hs_codes', 'text', (c) => c.notNull()) // JSON string[]
    .addColumn('export_value', 'bigint') // yuan a year
    .addColumn('markets', 'text', (c) => c.notNull()) // JSON string[]
    .addColumn('compliance_cost', 'bigint') // yuan
    .addColumn('concerns', 'text', (c) => c.notNull()) // JSON { requirement, why }[]
    .addColumn('requests', 'text', (c) => c.notNull()) // JSON string[] (request kinds)
    .addColumn('request_other', 'text', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('enterprise_feedback_measure_email_uq', ['measure_id', 'email'])
    .execute()
  await db.schema.createIndex('enterprise_feedback_email_idx').on('enterprise_feedback').column('email').execute()

  await db.schema
    .createTable('measure_comment')
    .addColumn('measure_id', 'integer', (c) => c.primaryKey().references('measure.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull()) // drafting | submitted | replied | closed
    .addColumn('draft_zh', 'text', (c) => c.notNull())
    .addColumn('draft_en', 'text', (c) => c.notNull())
    .addColumn('submitted_on', 'text') // YYYY-MM-DD
    .addColumn('submitted_to', 'text')
    .addColumn('reply_on', 'text') // YYYY-MM-DD
    .addColumn('reply_text', 'text')
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('measure_comment_status_idx').on('measure_comment').column('status').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('measure_comment').ifExists().execute()
  await db.schema.dropTable('enterprise_feedback').ifExists().execute()
}
