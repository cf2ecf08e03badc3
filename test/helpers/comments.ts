import type { AppContext } from '../../src/app-context.js'
import { addSubscriber, validatePreferences } from '../../src/services/subscriber.service.js'
import { createUser } from '../../src/services/user.service.js'
import { PASSWORDS } from './web.js'

export const MOBILE = 'G/TBT/N/AUS/219'

export interface CommentFixtures {
  /** The mobile-phone warning (published, open for comments until 2027-01-15) and its measure. */
  mobile: { warningId: number; measureId: number }
  /** A warning on mobile phones' HS lines that is not published. */
  unpublishedId: number
  /** A published warning for other products. */
  otherId: number
}

/**
 * After a replay pass: the mobile-phone warning published and open for comments, an
 * unpublished warning that would otherwise match HS 8517, a published one that does not,
 * a second enterprise user (rival@example.com), and enterprise@example.com subscribed to
 * HS 8517 (the user and the subscriber are the same enterprise).
 */
export async function prepareCommentFixtures(ctx: AppContext, now: Date): Promise<CommentFixtures> {
  const { db } = ctx
  await createUser(db, { email: 'rival@example.com', role: 'enterprise', password: PASSWORDS.enterprise }, now.toISOString())
  const m = await db.selectFrom('warning').innerJoin('measure', 'measure.id', 'warning.measure_id').select(['warning.id', 'measure.id as measure_id']).where('measure.key', '=', MOBILE).executeTakeFirstOrThrow()
  await db.updateTable('warning').set({ status: 'confirmed' }).where('id', '=', m.id).execute()
  await db.updateTable('measure').set({ status: 'open', comment_deadline: '2027-01-15' }).where('id', '=', m.measure_id).execute()
  const others = await db.selectFrom('warning').select(['id', 'measure_id']).where('id', '!=', m.id).orderBy('id').execute()
  const [unpublished, other] = others
  await db.updateTable('warning').set({ status: 'new', level: 'medium' }).where('id', '=', unpublished.id).execute()
  const u = await db.selectFrom('notice').select('id').where('measure_id', '=', unpublished.measure_id).executeTakeFirstOrThrow()
  await db.insertInto('notice_hs').values({ notice_id: u.id, code: '851713' }).onConflict((oc) => oc.doNothing()).execute()
  await db.updateTable('warning').set({ status: 'confirmed' }).where('id', '=', other.id).execute()
  const otherNotices = (await db.selectFrom('notice').select('id').where('measure_id', '=', other.measure_id).execute()).map((n) => n.id)
  await db.deleteFrom('notice_hs').where('notice_id', 'in', otherNotices).where('code', 'like', '8517%').execute()
  await db.deleteFrom('classification').where('notice_id', 'in', otherNotices).execute()
  await addSubscriber(ctx, 'enterprise@example.com', validatePreferences(ctx, { name: '北京某某通信', hs: ['8517'], frequency: 'daily' }), { confirmed: true })
  return { mobile: { warningId: m.id, measureId: m.measure_id }, unpublishedId: unpublished.id, otherId: other.id }
}
