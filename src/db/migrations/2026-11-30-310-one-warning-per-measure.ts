import type { Kysely } from 'kysely'

// Frozen once released. Written against Kysely<any>; runs unchanged on SQLite and PostgreSQL.
//
// One measure, one warning. A warning used to be one (measure, category) pair, so a
// measure touching two categories was triaged twice and counted twice. Now:
// - warning_category holds every category a measure's warning touches, with that
//   category's score and computed level; warning.score and warning.level are the highest
//   (warning.category_id names the top category).
// - the warnings a measure had are merged into its oldest one: the most advanced review
//   status wins (escalated > confirmed > in_review > new; dismissed only when all were),
//   the highest score and level (and an analyst's highest level override), the first
//   assignee, every note; their history (warning_event) moves to the merged warning with a
//   `merged` event saying what was merged; what deliveries and corrections pointed at them
//   points at it (a subscriber's delivery_warning stays unique); warning_merged maps the
//   old ids, so links in e-mails already sent still open the measure.
// - a unique index on warning(measure_id) keeps it that way (the warn stage inserts with
//   ON CONFLICT DO NOTHING on it).
// - warning.lifecycle_rank orders the queue by the measure's lifecycle (open 0, adopted or
//   in force 1, closed 2, withdrawn 3) before the score, from an index.

const PRIORITY: Record<string, number> = { escalated: 4, confirmed: 3, in_review: 2, new: 1, dismissed: 0 }
const LEVEL: Record<string, number> = { low: 0, medium: 1, high: 2 }

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('warning_category')
    .addColumn('warning_id', 'integer', (c) => c.notNull().references('warning.id').onDelete('cascade'))
    .addColumn('category_id', 'text', (c) => c.notNull())
    .addColumn('score', 'real', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('warning_category_pk', ['warning_id', 'category_id'])
    .execute()
  await db.schema.createIndex('warning_category_category_idx').on('warning_category').columns(['category_id', 'warning_id']).execute()

  await db.schema
    .createTable('warning_merged')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('warning_id', 'integer', (c) => c.notNull())
    .execute()

  await db.schema.alterTable('warning').addColumn('lifecycle_rank', 'integer', (c) => c.notNull().defaultTo(0)).execute()

  const warnings = await db.selectFrom('warning').selectAll().orderBy('measure_id').orderBy('id').execute()
  const risk = new Map<string, { score: number; level: string }>()
  for (const r of await db.selectFrom('risk_score').select(['measure_id', 'category_id', 'score', 'level']).execute()) risk.set(`${r.measure_id}|${r.category_id}`, r)
  const byMeasure = new Map<number, any[]>()
  for (const w of warnings) byMeasure.set(w.measure_id, [...(byMeasure.get(w.measure_id) ?? []), w])

  for (const [measureId, group] of byMeasure) {
    const [keep, ...others] = group
    const cats = group.map((w) => {
      const r = risk.get(`${measureId}|${w.category_id}`)
      return { warning_id: keep.id, category_id: w.category_id, score: Number(w.score), level: r && w.level_override ? r.level : w.level }
    })
    await db.insertInto('warning_category').values(cats).execute()
    if (!others.length) continue
    const top = [...group].sort((a, b) => Number(b.score) - Number(a.score) || a.id - b.id)[0]
    const status = [...group].sort((a, b) => PRIORITY[b.status] - PRIORITY[a.status] || a.id - b.id)[0].status
    const maxLevel = (xs: (string | null)[]) => xs.filter((x): x is string => !!x).sort((a, b) => LEVEL[b] - LEVEL[a])[0] ?? null
    const override = maxLevel(group.map((w) => w.level_override))
    const notes = [...new Set(group.map((w) => w.note).filter(Boolean))]
    const ids = others.map((w) => w.id)
    const now = [...group].map((w) => w.updated_at).sort().at(-1)
    await db.updateTable('warning_event').set({ warning_id: keep.id }).where('warning_id', 'in', ids).execute()
    await db
      .insertInto('warning_event')
      .values({
        warning_id: keep.id,
        at: now,
        actor: 'system',
        action: 'merged',
        from_status: keep.status,
        to_status: status,
        details: JSON.stringify({ merged: group.map((w) => ({ id: w.id, category: w.category_id, status: w.status })) }),
      })
      .execute()
    // Deliveries: a row that would repeat the subscriber's or the delivery's pair is dropped.
    for (const dw of await db.selectFrom('delivery_warning').selectAll().where('warning_id', 'in', ids).execute()) {
      const clash = await db
        .selectFrom('delivery_warning')
        .select('delivery_id')
        .where('warning_id', '=', keep.id)
        .where((eb: any) => eb.or([eb('subscriber_id', '=', dw.subscriber_id), eb('delivery_id', '=', dw.delivery_id)]))
        .executeTakeFirst()
      if (clash) await db.deleteFrom('delivery_warning').where('delivery_id', '=', dw.delivery_id).where('warning_id', '=', dw.warning_id).execute()
      else await db.updateTable('delivery_warning').set({ warning_id: keep.id }).where('delivery_id', '=', dw.delivery_id).where('warning_id', '=', dw.warning_id).execute()
    }
    await db.updateTable('category_correction').set({ warning_id: keep.id }).where('warning_id', 'in', ids).execute()
    await db.insertInto('warning_merged').values(ids.map((id) => ({ id, warning_id: keep.id }))).execute()
    await db.deleteFrom('warning').where('id', 'in', ids).execute()
    // Only now: (measure_id, category_id) is still unique, and the top category was another row's.
    await db
      .updateTable('warning')
      .set({
        status,
        score: top.score,
        level: override ?? maxLevel(group.map((w) => w.level)),
        level_override: override,
        category_id: top.category_id,
        assignee: keep.assignee ?? group.find((w) => w.assignee)?.assignee ?? null,
        note: notes.length ? notes.join('\n') : null,
        created_at: [...group].map((w) => w.created_at).sort()[0],
        updated_at: now,
      })
      .where('id', '=', keep.id)
      .execute()
  }

  await db
    .updateTable('warning')
    .set({ lifecycle_rank: 3 })
    .where('measure_id', 'in', db.selectFrom('measure').select('id').where('status', '=', 'withdrawn'))
    .execute()
  await db
    .updateTable('warning')
    .set({ lifecycle_rank: 1 })
    .where('measure_id', 'in', db.selectFrom('measure').select('id').where('status', 'in', ['adopted', 'in_force']))
    .execute()
  await db.schema.createIndex('warning_measure_once_key').on('warning').column('measure_id').unique().execute()
  await db.schema.createIndex('warning_queue_idx').on('warning').columns(['status', 'lifecycle_rank', 'score']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  // The merge cannot be undone: the merged warnings stay one; their categories return to
  // the one column.
  await db.schema.dropIndex('warning_queue_idx').ifExists().execute()
  await db.schema.dropIndex('warning_measure_once_key').ifExists().execute()
  await db.schema.alterTable('warning').dropColumn('lifecycle_rank').execute()
  await db.schema.dropTable('warning_merged').ifExists().execute()
  await db.schema.dropTable('warning_category').ifExists().execute()
}
