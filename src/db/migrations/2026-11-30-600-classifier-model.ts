import { type Kysely } from 'kysely'
import { isPostgres } from '../dialect.js'

// Frozen once released: written against Kysely<any>; runs unchanged on SQLite and PostgreSQL.
//
// - classifier_model: every model the training job produced, newest last. Workers on any
//   host load the newest by id, so a model trained by one worker serves all; `model` is
//   the gzipped JSON of the weights, base64 text (portable across both dialects);
//   `metrics` its held-out figures (per chapter and language) that /ops shows.
// - an index on classification.classifier: `reclassify` finds the notices a model change
//   left classified by an older version.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db)
  await db.schema
    .createTable('classifier_model')
    .addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
    .addColumn('version', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('examples', 'integer', (c) => c.notNull())
    .addColumn('metrics', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('classification_classifier_idx').on('classification').column('classifier').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('classification_classifier_idx').ifExists().execute()
  await db.schema.dropTable('classifier_model').ifExists().execute()
}
