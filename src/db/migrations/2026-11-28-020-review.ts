import { type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from 'kysely'
import { isPostgres } from '../dialect.js'

// Frozen once released. Users and sessions for the review queue, analysts' category
// corrections (which override the classifier and become training examples), and a
// level an analyst set by hand. Runs unchanged on SQLite and PostgreSQL.

function idColumn<T extends string>(db: Kysely<any>, table: CreateTableBuilder<T, never>) {
  const pg = isPostgres(db)
  return pg
    ? table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().generatedByDefaultAsIdentity())
    : table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement())
}

export async function up(db: Kysely<any>): Promise<void> {
  await idColumn(db, db.schema.createTable('app_user'))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lang', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('disabled_at', 'text')
    .execute()

  // The cookie carries a random id; only its hash is stored, so a leaked table opens no session.
  await db.schema
    .createTable('user_session')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('user_session_user_idx').on('user_session').column('user_id').execute()

  await idColumn(db, db.schema.createTable('category_correction'))
    .addColumn('measure_id', 'integer', (c) => c.notNull().references('measure.id'))
    .addColumn('warning_id', 'integer')
    .addColumn('categories', 'text', (c) => c.notNull()) // JSON array of category ids
    .addColumn('previous', 'text', (c) => c.notNull()) // JSON array of category ids
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('category_correction_measure_idx').on('category_correction').columns(['measure_id', 'id']).execute()

  await idColumn(db, db.schema.createTable('training_example'))
    .addColumn('notice_id', 'integer', (c) => c.notNull().references('notice.id').onDelete('cascade'))
    .addColumn('correction_id', 'integer', (c) => c.notNull().references('category_correction.id'))
    .addColumn('hs_codes', 'text', (c) => c.notNull()) // JSON array: the label the classifier learns
    .addColumn('categories', 'text', (c) => c.notNull()) // JSON array of category ids
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('learnt_at', 'text')
    .addUniqueConstraint('training_example_key', ['correction_id', 'notice_id'])
    .execute()

  await db.schema.alterTable('warning').addColumn('level_override', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('warning').dropColumn('level_override').execute()
  for (const t of ['training_example', 'category_correction', 'user_session', 'app_user']) await db.schema.dropTable(t).ifExists().execute()
}
