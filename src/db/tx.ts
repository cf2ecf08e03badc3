import type { Kysely, Transaction } from 'kysely'
import type { Database } from './schema.js'

/**
 * Runs `fn` in a transaction: a new one, or the caller's when `db` already is one. A
 * service that writes in its own transaction (a notice's upsert, a classification, a
 * warning) then joins a batch's transaction when the pipeline runs it for many items at
 * once: one commit per batch instead of one per item, and all of the batch or none of it.
 */
export function inTx<T>(db: Kysely<Database>, fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db as Transaction<Database>) : db.transaction().execute(fn)
}
