import { type ColumnDefinitionBuilder, type Kysely } from 'kysely'
import { isPostgres } from '../dialect.js'

// Frozen once released. Written against Kysely<any>; runs unchanged on SQLite and PostgreSQL.
//
// The officials' reports: one row per period (weekly `2026-W48`, monthly `2026-11`,
// quarterly `2026-Q4`), computed once when the period is complete and stored as a JSON
// snapshot. The e-mail and the web page both render the snapshot, so a past period reads
// as it was sent.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db)
  let t = db.schema.createTable('report')
  t = pg
    ? t.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().generatedByDefaultAsIdentity())
    : t.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement())
  await t
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('period_key', 'text', (c) => c.notNull())
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('report_period_key', ['kind', 'period_key'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('report').ifExists().execute()
}
