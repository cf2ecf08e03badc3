import { type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from 'kysely'
import { isPostgres } from '../dialect.js'

// Frozen once released (issue 15, security hardening). Runs unchanged on SQLite and PostgreSQL.
//
// - subscriber.token_version: part of every manage and unsubscribe link; raising it
//   voids every link sent before (rotation).
// - subscribe_request: what an anonymous sign-up asked for. It changes nothing until the
//   address's owner follows the confirmation link that names it; then its choices apply.
//   Also the per-address rate limit counts these rows.
// - form_nonce: public-form nonces already used (single use); kept until they expire.
// - login_failure: failed logins per account key (a hash of the e-mail, known or not),
//   for the per-account login limit.

function idColumn<T extends string>(db: Kysely<any>, table: CreateTableBuilder<T, never>) {
  const pg = isPostgres(db)
  return pg
    ? table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().generatedByDefaultAsIdentity())
    : table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement())
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscriber').addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0)).execute()

  await idColumn(db, db.schema.createTable('subscribe_request'))
    .addColumn('subscriber_id', 'integer', (c) => c.notNull().references('subscriber.id').onDelete('cascade'))
    .addColumn('prefs', 'text', (c) => c.notNull()) // JSON: the Preferences asked for
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('confirmed_at', 'text')
    .execute()
  await db.schema.createIndex('subscribe_request_subscriber_idx').on('subscribe_request').columns(['subscriber_id', 'created_at']).execute()
  await db.schema.createIndex('subscribe_request_created_idx').on('subscribe_request').column('created_at').execute()

  await db.schema
    .createTable('form_nonce')
    .addColumn('nonce_hash', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('form_nonce_expires_idx').on('form_nonce').column('expires_at').execute()

  await db.schema
    .createTable('login_failure')
    .addColumn('key_hash', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('first_at', 'text', (c) => c.notNull())
    .addColumn('locked_until', 'text')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('login_failure').ifExists().execute()
  await db.schema.dropTable('form_nonce').ifExists().execute()
  await db.schema.dropTable('subscribe_request').ifExists().execute()
  await db.schema.alterTable('subscriber').dropColumn('token_version').execute()
}
