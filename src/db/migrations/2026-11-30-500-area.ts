import { sql, type Kysely } from 'kysely'

// Frozen once released: written against Kysely<any>; runs unchanged on SQLite and PostgreSQL.
//
// ePing's SPS notifications come in next to the TBT ones (the scrapers list both domains,
// the Excel import reads both). Notices carry their agreement in `area` since the first
// migration; the measure gets one too, so that the queue, exports, subscriptions and
// reports can filter warnings (which hang on measures) by TBT or SPS without a join.
// Existing measures take their area from their key (a WTO symbol names its agreement),
// else from their notices.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('measure').addColumn('area', 'text', (c) => c.notNull().defaultTo('TBT')).execute()
  await db
    .updateTable('measure')
    .set({ area: 'SPS' })
    .where((eb) =>
      eb.or([
        eb('key', 'like', 'G/SPS/%'),
        eb.and([
          eb.not(eb('key', 'like', 'G/TBT/%')),
          eb.exists(eb.selectFrom('notice').select(sql`1`.as('one')).whereRef('notice.measure_id', '=', 'measure.id').where('notice.area', '=', 'SPS')),
        ]),
      ]),
    )
    .execute()
  await db.schema.createIndex('measure_area_idx').on('measure').column('area').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('measure_area_idx').execute()
  await db.schema.alterTable('measure').dropColumn('area').execute()
}
