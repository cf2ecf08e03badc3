import type { Kysely } from 'kysely'

// Frozen once released. Written against Kysely<any>; runs on SQLite and PostgreSQL.
// A source's first run is a baseline: what it finds older than the baseline window is
// recorded (notice.baseline = 1) but raises no warnings.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('source_run').addColumn('baseline', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  await db.schema.alterTable('notice').addColumn('baseline', 'integer', (c) => c.notNull().defaultTo(0)).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notice').dropColumn('baseline').execute()
  await db.schema.alterTable('source_run').dropColumn('baseline').execute()
}
