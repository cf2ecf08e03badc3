import type { AppContext } from '../app-context.js'
import { localDay } from '../domain/dates.js'
import { lifecycleStatus } from '../domain/measure.js'
import { raiseWarnings, scoreMeasure } from './risk.service.js'

/** Today as a local day in TBT_TIMEZONE: a comment deadline lasts to the end of its day there. */
export const localToday = (ctx: Pick<AppContext, 'clock' | 'config'>) => localDay(ctx.clock(), ctx.config.schedule.timezone)

/**
 * Sets a measure's lifecycle status for today from what its documents say and its dates
 * (domain/measure lifecycleStatus). Returns the status and whether it changed.
 */
/** `applyLifecycle` for many measures: one read for all, an update for each whose status moves. Returns each found measure's status. */
export async function applyLifecycles(ctx: AppContext, measureIds: number[], today = localToday(ctx)): Promise<Map<number, string>> {
  const out = new Map<number, string>()
  if (!measureIds.length) return out
  const rows = await ctx.db
    .selectFrom('measure')
    .select(['id', 'status', 'stated_status', 'comment_deadline', 'adoption_date', 'entry_into_force_date'])
    .where('id', 'in', measureIds)
    .orderBy('id')
    .execute()
  for (const m of rows) {
    const status = lifecycleStatus({ stated: m.stated_status, commentDeadline: m.comment_deadline, adoptionDate: m.adoption_date, entryIntoForceDate: m.entry_into_force_date }, today)
    if (status !== m.status) {
      // Moved by someone else meanwhile: theirs stands (the same rule as one measure's).
      const r = await ctx.db.updateTable('measure').set({ status }).where('id', '=', m.id).where('status', '=', m.status).executeTakeFirst()
      if (Number(r.numUpdatedRows) === 0) continue
    }
    out.set(m.id, status)
  }
  return out
}

export async function applyLifecycle(ctx: AppContext, measureId: number, today = localToday(ctx)): Promise<{ status: string; changed: boolean } | null> {
  const m = await ctx.db
    .selectFrom('measure')
    .select(['status', 'stated_status', 'comment_deadline', 'adoption_date', 'entry_into_force_date'])
    .where('id', '=', measureId)
    .executeTakeFirst()
  if (!m) return null
  const status = lifecycleStatus({ stated: m.stated_status, commentDeadline: m.comment_deadline, adoptionDate: m.adoption_date, entryIntoForceDate: m.entry_into_force_date }, today)
  if (status === m.status) return { status, changed: false }
  await ctx.db.updateTable('measure').set({ status }).where('id', '=', measureId).where('status', '=', m.status).execute()
  return { status, changed: true }
}

export interface LifecycleReport {
  today: string
  checked: number
  changed: { measureId: number; from: string; to: string }[]
}

/**
 * The daily lifecycle pass (the `lifecycle` job and the inline pass): measures whose
 * status the calendar may have moved (a comment deadline passed, an adoption or
 * entry-into-force date came, a follow-up not yet applied) get their status for today;
 * each that changed is rescored and its warning follows (rank, score, a `lifecycle` event).
 * Idempotent: a second run on the same day changes nothing.
 */
export async function refreshLifecycle(ctx: AppContext): Promise<LifecycleReport> {
  const today = localToday(ctx)
  const rows = await ctx.db
    .selectFrom('measure')
    .select(['id', 'status'])
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'open'), eb('comment_deadline', '<', today)]),
        eb.and([eb('status', 'in', ['open', 'closed']), eb.or([eb('adoption_date', '<=', today), eb('entry_into_force_date', '<=', today)])]),
        eb.and([eb('status', '=', 'adopted'), eb('entry_into_force_date', '<=', today)]),
        eb.and([eb('status', '=', 'closed'), eb.or([eb('comment_deadline', 'is', null), eb('comment_deadline', '>=', today)])]),
        eb.and([eb('status', '!=', eb.ref('stated_status')), eb('stated_status', '!=', 'open')]),
      ]),
    )
    .orderBy('id')
    .execute()
  const out: LifecycleReport = { today, checked: rows.length, changed: [] }
  for (const r of rows) {
    const a = await applyLifecycle(ctx, r.id, today)
    if (!a?.changed) continue
    out.changed.push({ measureId: r.id, from: r.status, to: a.status })
    await scoreMeasure(ctx, r.id)
    await raiseWarnings(ctx, r.id)
  }
  if (out.changed.length) ctx.log.info({ today, changed: out.changed.length }, 'measure lifecycles moved on')
  return out
}

const freshDay = new WeakMap<object, string>()
/**
 * Makes sure today's lifecycle pass has run in this process before a view reads
 * statuses and ranks (the scheduled job normally has; between midnight and its run, or
 * without workers, this does it). One check per process and day: cheap after the first.
 */
export async function lifecycleFresh(ctx: AppContext): Promise<void> {
  const today = localToday(ctx)
  if (freshDay.get(ctx.db) === today) return
  freshDay.set(ctx.db, today)
  try {
    await refreshLifecycle(ctx)
  } catch (err) {
    freshDay.delete(ctx.db)
    throw err
  }
}
