import type { Kysely } from 'kysely'

// Frozen once released. Written against Kysely<any>; runs unchanged on SQLite and PostgreSQL.
//
// - measure.stated_status keeps what the documents say (an addendum's "adopted",
//   "withdrawn"...); measure.status becomes the lifecycle on the current local day (open
//   through the comment deadline, then closed unless adopted, in force or withdrawn), moved
//   on by the daily lifecycle job. Existing rows keep their status until that job runs.
// - measure_member lists every member a measure was notified by (a joint notification
//   names several), in symbol order, for the market filter and for showing the names.

const SYMBOL_MEMBER = /^G\/(?:TBT|SPS)\/N\/([A-Za-z]{2,4})\/\d+/i

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('measure').addColumn('stated_status', 'text', (c) => c.notNull().defaultTo('open')).execute()
  await db.updateTable('measure').set((eb: any) => ({ stated_status: eb.ref('status') })).execute()
  await db.schema.createIndex('measure_status_idx').on('measure').columns(['status', 'comment_deadline']).execute()

  await db.schema
    .createTable('measure_member')
    .addColumn('measure_id', 'integer', (c) => c.notNull().references('measure.id').onDelete('cascade'))
    .addColumn('member_code', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('measure_member_pk', ['measure_id', 'member_code'])
    .execute()
  await db.schema.createIndex('measure_member_code_idx').on('measure_member').columns(['member_code', 'measure_id']).execute()

  // Backfill, a batch of notices at a time (symbol members first, then the source's code).
  const codes = new Map<number, string[]>()
  let after = 0
  for (;;) {
    const rows = await db.selectFrom('notice').select(['id', 'measure_id', 'symbols', 'member_code']).where('id', '>', after).orderBy('id').limit(1000).execute()
    if (!rows.length) break
    after = rows[rows.length - 1].id
    for (const r of rows) {
      const list = codes.get(r.measure_id) ?? []
      let symbols: string[] = []
      try {
        symbols = JSON.parse(r.symbols)
      } catch {
        symbols = []
      }
      for (const s of [...symbols.map((x) => SYMBOL_MEMBER.exec(String(x).replace(/\s+/g, ''))?.[1]), r.member_code]) {
        const c = s?.trim().toUpperCase()
        if (c && !list.includes(c)) list.push(c)
      }
      codes.set(r.measure_id, list)
    }
  }
  const values = [...codes].flatMap(([measure_id, list]) => list.map((member_code, position) => ({ measure_id, member_code, position })))
  for (let i = 0; i < values.length; i += 500) await db.insertInto('measure_member').values(values.slice(i, i + 500)).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('measure_member').ifExists().execute()
  await db.schema.dropIndex('measure_status_idx').ifExists().execute()
  await db.updateTable('measure').set((eb: any) => ({ status: eb.ref('stated_status') })).execute()
  await db.schema.alterTable('measure').dropColumn('stated_status').execute()
}
