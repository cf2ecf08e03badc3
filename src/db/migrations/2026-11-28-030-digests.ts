import type { Kysely } from 'kysely'

// Frozen once released: written against Kysely<any>; runs unchanged on SQLite and PostgreSQL.
//
// - delivery_warning gets a unique (subscriber_id, warning_id): whichever delivery of a
//   subscriber (daily digest, immediate alert, weekly report) claims a warning first is the
//   only one that carries it, even when two workers build two deliveries at once.
// - subscriber.updated_at records the last preference change (web form, CLI).
// - indexes for the queries digests and reports run: warnings by creation time (weekly
//   trend), deliveries by status (failures shown to admins), subscribers by frequency.

export async function up(db: Kysely<any>): Promise<void> {
  // A database written before this migration may hold the same warning twice for a
  // subscriber (a failed delivery retried under another row): keep one row per pair.
  const rows = await db.selectFrom('delivery_warning').select(['delivery_id', 'subscriber_id', 'warning_id']).orderBy('delivery_id').execute()
  const seen = new Set<string>()
  for (const r of rows) {
    const k = `${r.subscriber_id}:${r.warning_id}`
    if (!seen.has(k)) {
      seen.add(k)
      continue
    }
    await db.deleteFrom('delivery_warning').where('delivery_id', '=', r.delivery_id).where('warning_id', '=', r.warning_id).execute()
  }
  await db.schema.dropIndex('delivery_warning_subscriber_idx').execute()
  await db.schema.createIndex('delivery_warning_once_key').on('delivery_warning').columns(['subscriber_id', 'warning_id']).unique().execute()

  await db.schema.alterTable('subscriber').addColumn('updated_at', 'text').execute()
  await db.schema.createIndex('subscriber_frequency_idx').on('subscriber').columns(['frequency', 'confirmed_at']).execute()
  await db.schema.createIndex('warning_created_idx').on('warning').column('created_at').execute()
  await db.schema.createIndex('email_delivery_status_idx').on('email_delivery').columns(['status', 'kind']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('email_delivery_status_idx').ifExists().execute()
  await db.schema.dropIndex('warning_created_idx').ifExists().execute()
  await db.schema.dropIndex('subscriber_frequency_idx').ifExists().execute()
  await db.schema.alterTable('subscriber').dropColumn('updated_at').execute()
  await db.schema.dropIndex('delivery_warning_once_key').ifExists().execute()
  await db.schema.createIndex('delivery_warning_subscriber_idx').on('delivery_warning').columns(['subscriber_id', 'warning_id']).execute()
}
