import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { upsertNotice } from '../../src/repositories/notice.repository.js'
import { classifyNotices } from '../../src/services/classify.service.js'
import { trainClassifier } from '../../src/services/training.service.js'
import { correctCategories, currentCategories } from '../../src/services/correction.service.js'
import { raiseWarnings, scoreMeasure } from '../../src/services/risk.service.js'
import { applyAction, assign, getWarning, listWarnings, setLevel, setNote, WarningError } from '../../src/services/warning.service.js'
import { exportNotices, exportWarnings } from '../../src/services/export.service.js'
import { refreshLifecycle } from '../../src/services/lifecycle.service.js'
import { ensureReport, ReportNotReadyError } from '../../src/services/report.service.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'
import { scrapedNotice } from '../helpers/notices.js'

const NOW = new Date('2026-11-28T04:00:00Z')

describe.each(DIALECTS)('warnings workflow (%s)', (dialect) => {
  let replay: ReplayServer
  let env: TestEnv
  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => NOW })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
  })
  afterAll(async () => {
    await env?.cleanup()
    await replay?.close()
  })

  const warningOf = async (key: string) =>
    env.ctx.db.selectFrom('warning').innerJoin('measure', 'measure.id', 'warning.measure_id').selectAll('warning').where('measure.key', '=', key).orderBy('warning.score', 'desc').executeTakeFirstOrThrow()

  /** A follow-up document through the real stages: store, classify, score, warn. */
  const followUp = async (base: string, n: number, title: string, description: string) => {
    const parent = await env.ctx.db.selectFrom('notice').selectAll().where('symbol', '=', base).executeTakeFirstOrThrow()
    const doc = scrapedNotice({
      sourceItemId: `test-${base}-${n}`,
      symbols: [`${base}/Add.${n}`],
      docType: 'addendum',
      member: parent.member,
      memberCode: parent.member_code,
      title,
      products: parent.products,
      description,
      distributionDate: `2026-11-2${n}`,
    })
    const { noticeId, measureId } = await upsertNotice(env.ctx.db, doc, null, NOW.toISOString())
    await classifyNotices(env.ctx, [noticeId])
    await scoreMeasure(env.ctx, measureId)
    return raiseWarnings(env.ctx, measureId)
  }

  it('keeps one warning per measure, with every category it touches and the highest score', async () => {
    const counts = await env.ctx.db.selectFrom('warning').select(['measure_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('measure_id').execute()
    expect(counts.every((c) => Number(c.n) === 1)).toBe(true)
    const w = await warningOf('G/TBT/N/USA/2268')
    const cats = await env.ctx.db.selectFrom('warning_category').selectAll().where('warning_id', '=', w.id).orderBy('score', 'desc').execute()
    expect(cats.map((c) => c.category_id)).toEqual(['electromechanical', 'lithium-batteries'])
    expect(w.score).toBe(cats[0].score)
    expect(w.category_id).toBe('electromechanical')
    // the queue lists it once, with both categories, under either category's filter
    for (const category of ['electromechanical', 'lithium-batteries']) {
      const page = await listWarnings(env.ctx, { category: [category], pageSize: 500 })
      expect(page.rows.filter((r) => r.measureKey === 'G/TBT/N/USA/2268').map((r) => r.id)).toEqual([w.id])
    }
    const [row] = (await listWarnings(env.ctx, { q: 'G/TBT/N/USA/2268' })).rows
    expect(row.categories.map((c) => c.id)).toEqual(['electromechanical', 'lithium-batteries'])
    expect(row.members).toEqual([{ code: 'USA', zh: '美国', en: 'United States' }])
    // the joint East African notification: one measure, all five symbols and members
    const joint = (await listWarnings(env.ctx, { q: 'G/TBT/N/UGA/2274' })).rows[0]
    expect(joint.symbols).toEqual(['G/TBT/N/BDI/612', 'G/TBT/N/KEN/1847', 'G/TBT/N/RWA/1163', 'G/TBT/N/TZA/1329', 'G/TBT/N/UGA/2274'])
    expect(joint.members.map((m) => m.zh).sort()).toEqual(['乌干达', '卢旺达', '坦桑尼亚', '布隆迪', '肯尼亚'].sort())
    // a market outside the watch list filters like any other
    expect((await listWarnings(env.ctx, { market: ['UGA'] })).rows.map((r) => r.id)).toEqual([joint.id])
    expect((await listWarnings(env.ctx, { market: ['CHL'] })).rows.map((r) => r.measureKey)).toEqual(['G/TBT/N/CHL/712'])
    const exported = []
    for await (const x of exportWarnings(env.ctx.db)) exported.push(x)
    expect(exported.find((x) => x.id === w.id)).toMatchObject({ category: 'electromechanical', categories: ['electromechanical', 'lithium-batteries'], members: ['USA'], measureStatus: 'open' })
  })

  it('moves measures through their lifecycle with the calendar (the daily job), idempotently', async () => {
    // G/TBT/N/BRA/1625: comments close on 2026-11-28, "today" (Beijing time) in this file.
    const w = await warningOf('G/TBT/N/BRA/1625')
    const m = await env.ctx.db.selectFrom('measure').selectAll().where('id', '=', w.measure_id).executeTakeFirstOrThrow()
    expect([m.comment_deadline, m.status]).toEqual(['2026-11-28', 'open'])
    expect(w.lifecycle_rank).toBe(0)
    expect((await refreshLifecycle(env.ctx)).changed).toEqual([])
    // The next day (00:30 in Beijing is still 2026-11-28 in UTC): closed.
    const tomorrow = await env.reopen({ clock: () => new Date('2026-11-28T16:30:00Z') })
    const r = await refreshLifecycle(tomorrow)
    expect(r.today).toBe('2026-11-29')
    expect(r.changed).toContainEqual({ measureId: w.measure_id, from: 'open', to: 'closed' })
    expect((await refreshLifecycle(tomorrow)).changed).toEqual([])
    const after = await env.ctx.db.selectFrom('warning').selectAll().where('id', '=', w.id).executeTakeFirstOrThrow()
    expect(after.lifecycle_rank).toBe(2)
    const d = (await getWarning(tomorrow, w.id))!
    expect(d.measureStatus).toBe('closed')
    expect(d.deadlineState).toBe('past')
    expect(d.events.filter((e) => e.action === 'lifecycle').map((e) => e.details?.measureStatus)).toEqual(['closed'])
    expect(d.trace.find((t) => t.factor === 'lifecycle')?.zh).toMatch(/评议期已结束/)
    // the notice exports with measureStatus closed
    const notices = []
    for await (const n of exportNotices(tomorrow.db)) notices.push(n)
    expect(notices.filter((n) => n.measureId === 'G/TBT/N/BRA/1625').map((n) => n.measureStatus)).toEqual(['closed'])
    // closed measures rank below open ones in the queue's default order
    const page = await listWarnings(tomorrow, { pageSize: 500 })
    const firstClosed = page.rows.findIndex((x) => x.measureStatus === 'closed')
    expect(firstClosed).toBeGreaterThan(0)
    expect(page.rows.slice(firstClosed).every((x) => ['closed', 'withdrawn'].includes(x.measureStatus))).toBe(true)
    expect(page.rows.slice(0, firstClosed).some((x) => x.score < after.score)).toBe(true)
    // an adoption date that comes moves it on again
    await env.ctx.db.updateTable('measure').set({ adoption_date: '2026-12-01' }).where('id', '=', w.measure_id).execute()
    const later = await env.reopen({ clock: () => new Date('2026-12-01T01:00:00Z') })
    expect((await refreshLifecycle(later)).changed).toContainEqual({ measureId: w.measure_id, from: 'closed', to: 'adopted' })
    expect((await env.ctx.db.selectFrom('warning').select('lifecycle_rank').where('id', '=', w.id).executeTakeFirstOrThrow()).lifecycle_rank).toBe(1)
  })

  it('computes a period\'s report once, even when it is sent late, and reads it back as it was', async () => {
    // The warnings were raised on Saturday 2026-11-28 (W48). The report for W48 goes out late, on Wednesday of W49.
    const late = await env.reopen({ clock: () => new Date('2026-12-02T03:00:00Z') })
    await expect(ensureReport(late, 'weekly', '2026-W49')).rejects.toBeInstanceOf(ReportNotReadyError)
    const r = await ensureReport(late, 'weekly', '2026-W48')
    expect([r.from, r.to, r.asOf]).toEqual(['2026-11-23', '2026-11-29', '2026-11-30'])
    const warned = await env.ctx.db.selectFrom('warning').select('id').where('status', '!=', 'dismissed').execute()
    expect(r.total).toBe(warned.length)
    expect(r.history.map((h) => h.key).slice(-2)).toEqual(['2026-W47', '2026-W48'])
    // What happens afterwards does not change what was reported.
    const top = r.top[0]
    await applyAction(env.ctx, [top.warningId], 'dismiss', 'a@example.com', { reason: 'after the report' })
    const again = await ensureReport(await env.reopen({ clock: () => new Date('2027-01-05T03:00:00Z') }), 'weekly', '2026-W48')
    expect(again).toEqual(r)
    await applyAction(env.ctx, [top.warningId], 'reopen', 'a@example.com')
    // The month and the quarter have reports of their own, once they are over.
    expect((await ensureReport(late, 'monthly', '2026-11')).total).toBe(warned.length)
    await expect(ensureReport(late, 'quarterly', '2026-Q4')).rejects.toBeInstanceOf(ReportNotReadyError)
  })

  it('moves a warning through review with the history of every change', async () => {
    const w = await warningOf('G/TBT/N/AUS/219')
    expect(w.status).toBe('new')
    await applyAction(env.ctx, [w.id], 'review', 'a@example.com')
    await setNote(env.ctx, w.id, 'handset makers must re-test', 'a@example.com')
    await assign(env.ctx, w.id, 'b@example.com', 'a@example.com')
    const [r] = await applyAction(env.ctx, [w.id], 'confirm', 'b@example.com')
    expect(r).toMatchObject({ ok: true, from: 'in_review', to: 'confirmed' })
    const again = await applyAction(env.ctx, [w.id], 'confirm', 'b@example.com')
    expect(again[0].unchanged).toBe(true)
    const d = (await getWarning(env.ctx, w.id))!
    expect(d.events.map((e) => [e.action, e.actor, e.toStatus])).toEqual([
      ['raised', 'system', 'new'],
      ['review', 'a@example.com', 'in_review'],
      ['note', 'a@example.com', 'in_review'],
      ['assign', 'a@example.com', 'in_review'],
      ['confirm', 'b@example.com', 'confirmed'],
    ])
    expect(d.note).toBe('handset makers must re-test')
    await expect(applyAction(env.ctx, [w.id], 'dismiss', 'x')).rejects.toBeInstanceOf(WarningError)
    const [bad] = await applyAction(env.ctx, [999999], 'confirm', 'x')
    expect(bad.ok).toBe(false)
  })

  it('keeps an analyst-set level when the measure is rescored', async () => {
    const w = await warningOf('G/TBT/N/VNM/388')
    await setLevel(env.ctx, w.id, 'high', 'a@example.com')
    await env.ctx.db.deleteFrom('risk_score').where('measure_id', '=', w.measure_id).execute()
    await scoreMeasure(env.ctx, w.measure_id)
    await raiseWarnings(env.ctx, w.measure_id)
    const after = await env.ctx.db.selectFrom('warning').selectAll().where('id', '=', w.id).executeTakeFirstOrThrow()
    expect(after.level).toBe('high')
    expect(after.level_override).toBe('high')
  })

  it('turns a category correction into an override, warnings and training examples', async () => {
    const w = await warningOf('G/TBT/N/USA/2268')
    const before = await currentCategories(env.ctx, w.measure_id)
    expect(before.length).toBeGreaterThan(0)
    const r = await correctCategories(env.ctx, w.id, ['lithium-batteries'], 'a@example.com')
    expect(r.previous).toEqual(before)
    expect(r.examples).toBeGreaterThan(0)
    // The model learns at its next training: a correction newer than the model is reason enough.
    const t = await trainClassifier(env.ctx, { minNew: 10_000 })
    expect(t.trained).toBe(true)
    const examples = await env.ctx.db.selectFrom('training_example').selectAll().where('correction_id', '=', r.correctionId).execute()
    expect(examples.length).toBe(r.examples)
    for (const e of examples) {
      expect(e.learnt_at).not.toBeNull()
      // labelled with HS codes of the corrected category
      for (const code of JSON.parse(e.hs_codes) as string[]) expect(env.ctx.categoryIndex.categoryOf(code)?.id).toBe('lithium-batteries')
    }
    expect(fs.readdirSync(path.join(env.dataDir, 'models')).length).toBeGreaterThan(0)
    // The correction overrides the classifier in scoring, and the warnings follow it.
    const scores = await env.ctx.db.selectFrom('risk_score').selectAll().where('measure_id', '=', w.measure_id).execute()
    expect(scores.map((s) => s.category_id)).toEqual(['lithium-batteries'])
    expect(scores[0].trace).toContain('产品类别已由分析员确认')
    // One warning for the measure: the correction is part of it.
    const warnings = await env.ctx.db.selectFrom('warning').selectAll().where('measure_id', '=', w.measure_id).execute()
    expect(warnings.map((x) => [x.id, x.category_id, x.status])).toEqual([[w.id, 'lithium-batteries', w.status]])
    expect((await env.ctx.db.selectFrom('warning_category').select('category_id').where('warning_id', '=', w.id).execute()).map((c) => c.category_id)).toEqual(['lithium-batteries'])
    expect(r.warningId).toBe(w.id)
    expect(r.warnings).toEqual([{ categoryId: 'lithium-batteries', warningId: w.id }])
    // Reclassifying later does not undo it.
    await classifyNotices(env.ctx, (await env.ctx.db.selectFrom('notice').select('id').where('measure_id', '=', w.measure_id).execute()).map((n) => n.id))
    await scoreMeasure(env.ctx, w.measure_id)
    await raiseWarnings(env.ctx, w.measure_id)
    expect((await env.ctx.db.selectFrom('risk_score').select('category_id').where('measure_id', '=', w.measure_id).execute()).map((s) => s.category_id)).toEqual(['lithium-batteries'])
    await expect(correctCategories(env.ctx, w.id, ['no-such-category'], 'a')).rejects.toThrow(/unknown categories/)
  })

  it('closes warnings when a follow-up withdraws the measure, and reopens them when it is notified again', async () => {
    const w = await warningOf('G/TBT/N/THA/781')
    const closed = await followUp('G/TBT/N/THA/781', 1, 'Notification of withdrawal', 'The draft regulation notified in G/TBT/N/THA/781 has been withdrawn.')
    expect(closed.closed).toBeGreaterThan(0)
    const after = await env.ctx.db.selectFrom('warning').select('status').where('id', '=', w.id).executeTakeFirstOrThrow()
    expect(after.status).toBe('dismissed')
    // an analyst's dismissal elsewhere is not touched by what follows
    await env.ctx.db.updateTable('measure').set({ stated_status: 'open' }).where('id', '=', w.measure_id).execute()
    await scoreMeasure(env.ctx, w.measure_id)
    await raiseWarnings(env.ctx, w.measure_id)
    const d = (await getWarning(env.ctx, w.id))!
    expect(d.status).toBe('new')
    expect(d.events.map((e) => e.action)).toEqual(expect.arrayContaining(['raised', 'closed', 'reopened']))
  })

  it('brings back a dismissed warning for review when its measure is adopted', async () => {
    const w = await env.ctx.db
      .selectFrom('warning')
      .innerJoin('measure', 'measure.id', 'warning.measure_id')
      .selectAll('warning')
      .select('measure.key')
      .where('warning.status', '=', 'new')
      .where('measure.status', '=', 'open')
      .where('measure.key', 'not in', ['G/TBT/N/AUS/219', 'G/TBT/N/VNM/388', 'G/TBT/N/USA/2268', 'G/TBT/N/THA/781'])
      .where('measure.key', 'not like', '%,%')
      .orderBy('warning.id')
      .executeTakeFirstOrThrow()
    await applyAction(env.ctx, [w.id], 'dismiss', 'a@example.com', { reason: 'draft only' })
    await followUp(w.key, 1, 'Adoption of the final text', 'The regulation was adopted and published in the Official Journal.')
    const d = (await getWarning(env.ctx, w.id))!
    expect(d.status).toBe('new')
    expect(d.events.at(-1)?.action === 'reopened' || d.events.some((e) => e.action === 'reopened')).toBe(true)
    expect(d.trace.some((t) => t.factor === 'lifecycle' && /已正式通过/.test(t.zh))).toBe(true)
  })

  it('lists the queue with filters and counts on this engine', async () => {
    const page = await listWarnings(env.ctx, { q: 'lithium', pageSize: 5 })
    expect(page.total).toBeGreaterThan(0)
    expect(page.rows.length).toBeLessThanOrEqual(5)
    const mx = await listWarnings(env.ctx, { market: ['EU'], status: ['new'] })
    expect(mx.rows.every((r) => r.status === 'new')).toBe(true)
    expect(mx.counts.confirmed).toBeGreaterThanOrEqual(0)
    const deadline = await listWarnings(env.ctx, { sort: 'deadline', dir: 'asc', pageSize: 500 })
    const dl = deadline.rows.map((r) => r.commentDeadline ?? '9999-12-31')
    expect(dl).toEqual([...dl].sort())
  })
})
