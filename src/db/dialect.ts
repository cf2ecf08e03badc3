import { PostgresAdapter, type Kysely } from 'kysely'

/** Whether a database handle (or a transaction of one) speaks to PostgreSQL; migrations and repositories ask it where the SQL differs. */
export const isPostgres = (db: Kysely<any>): boolean => db.getExecutor().adapter instanceof PostgresAdapter
