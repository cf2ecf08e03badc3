import type { Db } from '../../src/db/database.js'

/**
 * The database's content by natural keys: no surrogate ids, no timestamps. Two runs that
 * did the same work, in whatever order, dump the same.
 */
export async function dumpState(db: Db) {
  const measures = await db.selectFrom('measure').select(['id', 'key', 'member', 'title', 'status', 'stated_status', 'comment_deadline', 'adoption_date', 'entry_into_force_date', 'first_distribution_date']).execute()
  const key = new Map(measures.map((m) => [m.id, m.key]))
  const notices = await db.selectFrom('notice').select(['id', 'source_id', 'source_item_id', 'measure_id', 'symbols', 'doc_type', 'title', 'content_hash', 'comment_deadline']).execute()
  const noticeKey = new Map(notices.map((n) => [n.id, `${n.source_id}/${n.source_item_id}`]))
  const hs = await db.selectFrom('notice_hs').selectAll().execute()
  const cls = await db.selectFrom('classification').select(['notice_id', 'language', 'hs']).execute()
  const cats = await db.selectFrom('classification_category').selectAll().execute()
  const risks = await db.selectFrom('risk_score').select(['measure_id', 'category_id', 'score', 'level', 'trace']).execute()
  const members = await db.selectFrom('measure_member').selectAll().execute()
  // One warning per measure: its natural key is the measure's.
  const warnings = await db.selectFrom('warning').select(['id', 'measure_id', 'category_id', 'level', 'score', 'status', 'lifecycle_rank']).execute()
  const wKey = new Map(warnings.map((w) => [w.id, `${key.get(w.measure_id)}`]))
  const warningCats = await db.selectFrom('warning_category').selectAll().execute()
  // A report's snapshot names warnings by id and carries the time it was made: compare what it says.
  const reports = await db.selectFrom('report').select(['kind', 'period_key', 'snapshot']).execute()
  const events = await db.selectFrom('warning_event').select(['warning_id', 'action', 'from_status', 'to_status']).execute()
  const subs = await db.selectFrom('subscriber').select(['id', 'email']).execute()
  const email = new Map(subs.map((s) => [s.id, s.email]))
  const deliveries = await db.selectFrom('email_delivery').select(['id', 'subscriber_id', 'kind', 'period_key', 'status', 'subject']).execute()
  // An immediate alert's period key names its warning by id (`w12`): use the warning's natural key.
  const periodKey = (k: string) => (/^w\d+$/.test(k) ? `w:${wKey.get(Number(k.slice(1))) ?? k}` : k)
  const dKey = new Map(deliveries.map((d) => [d.id, `${email.get(d.subscriber_id)}|${d.kind}|${periodKey(d.period_key)}`]))
  const dw = await db.selectFrom('delivery_warning').selectAll().execute()
  const sort = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort()
  return {
    measures: sort(measures.map(({ id: _id, ...m }) => m)),
    notices: sort(notices.map(({ id: _id, measure_id, ...n }) => ({ ...n, measure: key.get(measure_id) }))),
    noticeHs: sort(hs.map((h) => [noticeKey.get(h.notice_id), h.code])),
    classifications: sort(cls.map((c) => [noticeKey.get(c.notice_id), c.language, c.hs])),
    categories: sort(cats.map((c) => [noticeKey.get(c.notice_id), c.category_id, c.score])),
    risks: sort(risks.map((r) => [key.get(r.measure_id), r.category_id, r.score, r.level, r.trace])),
    measureMembers: sort(members.map((m) => [key.get(m.measure_id), m.member_code, m.position])),
    warnings: sort(warnings.map((w) => [key.get(w.measure_id), w.category_id, w.level, w.score, w.status, w.lifecycle_rank])),
    warningCategories: sort(warningCats.map((c) => [wKey.get(c.warning_id), c.category_id, c.score, c.level])),
    reports: sort(
      reports.map((r) => {
        const s = JSON.parse(r.snapshot) as { total: number; byLevel: unknown; byMarket: unknown; byCategory: unknown; history: unknown; top: { measureKey: string }[]; deadlines: { measureKey: string }[]; entries: { measureKey: string }[] }
        return [r.kind, r.period_key, s.total, s.byLevel, s.byMarket, s.byCategory, s.history, s.top.map((x) => x.measureKey), s.deadlines.map((x) => x.measureKey), s.entries.map((x) => x.measureKey)]
      }),
    ),
    events: sort(events.map((e) => [wKey.get(e.warning_id), e.action, e.from_status, e.to_status])),
    deliveries: sort(deliveries.map((d) => [email.get(d.subscriber_id), d.kind, periodKey(d.period_key), d.status, d.subject])),
    deliveryWarnings: sort(dw.map((d) => [dKey.get(d.delivery_id), wKey.get(d.warning_id)])),
  }
}
