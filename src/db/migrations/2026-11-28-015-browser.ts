import type { Kysely } from 'kysely'

// Frozen once released. Runs unchanged on SQLite and PostgreSQL.
//
// raw_response.engine tells a browser snapshot (the DOM Chromium rendered for a URL)
// from the bytes the HTTP engine fetched for the same URL: both are kept, and only the
// fetched bytes carry the validators a conditional request may reuse.
// notice.source_status keeps a source's own word on an item (EU TRIS: "Standstill
// period running", "Closed").

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('raw_response')
    .addColumn('engine', 'text', (c) => c.notNull().defaultTo('http'))
    .execute()
  await db.schema.alterTable('notice').addColumn('source_status', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notice').dropColumn('source_status').execute()
  await db.schema.alterTable('raw_response').dropColumn('engine').execute()
}
