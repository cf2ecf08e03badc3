import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPass } from '../../src/pipeline/run-pass.js'
import { DEFAULT_REPLAY_DIR, startReplayServer, type ReplayServer } from '../../src/replay/replay-server.js'
import { listWarnings, queueNeighbours } from '../../src/services/warning.service.js'
import { buildApp } from '../../src/web/app.js'
import { createTestEnv, logProblems, type TestEnv } from '../helpers/db.js'
import { addUsers, Agent, PASSWORDS } from '../helpers/web.js'

/** The text of the flash message on a page ('' without one). */
const flashOf = (body: string) => (/<div class="flash flash-(ok|error)"[^>]*><span class="flash-text">([^<]*)<\/span>/.exec(body)?.slice(1) ?? []).join(':')
const ids = (body: string) => [...body.matchAll(/<tr data-href="[^"]*" data-id="(\d+)"/g)].map((m) => Number(m[1]))
const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'")

describe('the review flow over HTTP: state, flash, undo, messages', () => {
  let replay: ReplayServer
  let env: TestEnv
  let app: Awaited<ReturnType<typeof buildApp>>
  let analyst: Agent
  beforeAll(async () => {
    replay = await startReplayServer(DEFAULT_REPLAY_DIR)
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: replay.url }, { clock: () => new Date('2026-11-28T04:00:00Z'), captureLog: true })
    await runPass(env.ctx, { sources: ['eping'], since: replay.manifest.since })
    await addUsers(env.ctx)
    app = await buildApp(env.ctx, { loginAttemptsPerMinute: 1000 })
    analyst = new Agent(app)
    expect((await analyst.login('analyst@example.com', PASSWORDS.analyst)).statusCode).toBe(303)
  }, 120_000)
  afterAll(async () => {
    await app?.close()
    await env?.cleanup()
    await replay?.close()
  })

  it('opens on 待处理 (new and in review); 全部 is status=all', async () => {
    const all = await env.ctx.db.selectFrom('warning').select(['id', 'status']).execute()
    const [first] = all
    await env.ctx.db.updateTable('warning').set({ status: 'confirmed' }).where('id', '=', first.id).execute()
    const page = await analyst.get('/?size=200')
    expect(page.statusCode).toBe(200)
    expect(page.body).toMatch(/<a href="\/\?size=200" data-status="open" class="on" aria-current="true">待处理 <b class="count">\d+<\/b><\/a>/)
    const shown = ids(page.body)
    expect(shown).not.toContain(first.id)
    expect(shown.length).toBe(all.length - 1)
    const everything = await analyst.get('/?status=all&size=200')
    expect(everything.body).toMatch(/data-status="all" class="on"[^>]*>全部 <b class="count">\d+/)
    expect(ids(everything.body)).toContain(first.id)
    // the status menu says which tab is shown
    expect(everything.body).toContain('<option value="all" selected>全部状态</option>')
    // the API and the exports keep their meaning: no status is every status
    expect((await analyst.get('/api/warnings?size=200')).json().total).toBe(all.length)
    await env.ctx.db.updateTable('warning').set({ status: 'new' }).where('id', '=', first.id).execute()
  })

  it('says "N+" where the counts stop (TBT_COUNT_MAX): tabs, pager, detail page and API, and pages on to the end', async () => {
    const config = env.ctx.config as { countMax: number }
    const was = config.countMax
    const all = (await listWarnings(env.ctx, { status: ['new', 'in_review'], pageSize: 200 })).rows.map((r) => r.id)
    expect(all.length).toBeGreaterThan(6)
    try {
      config.countMax = 2
      const page = await analyst.get('/?size=3')
      expect(page.statusCode).toBe(200)
      expect(page.body).toMatch(/data-status="open" class="on" aria-current="true">待处理 <b class="count" title="至少 \d+ 条[^"]*">\d+\+<\/b>/)
      expect(page.body).toContain('第 1 页，共 4+ 条')
      // the pages follow their cursors to the last one, which knows the total
      const seen = ids(page.body)
      let body = page.body
      for (let i = 0; i < 100; i++) {
        const next = /<a href="([^"]+)" rel="next">/.exec(body)
        if (!next) break
        body = (await analyst.get(unescape(next[1]))).body
        seen.push(...ids(body))
      }
      expect(seen).toEqual(all)
      const pages = Math.ceil(all.length / 3)
      expect(body).toContain(`第 ${pages}/${pages} 页，共 ${all.length} 条`)
      // a warning opened directly, deep in the queue: its place past the count
      const deep = await analyst.get(`/warnings/${all[5]}`)
      expect(deep.body).toMatch(/当前筛选第 3\+\/\d+\+ 条/)
      const near = await analyst.get(`/warnings/${all[1]}`)
      expect(near.body).toMatch(/当前筛选第 2\/\d+\+ 条/)
      const api = (await analyst.get('/api/warnings?size=2')).json()
      expect(api.totalAtLeast).toBe(true)
      expect(api.countsAtLeast).toContain('new')
      expect(api.counts.new).toBe(2)
      // English too
      expect((await analyst.get('/?size=3&lang=en')).body).toMatch(/Page 1, \d+\+ warnings/)
      await analyst.get('/?lang=zh')
      // a filter read up to the limit: a status absent from what was read is not "0+" but "…"
      const busiest = await env.ctx.db.selectFrom('warning_category').select(['category_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('category_id').orderBy('n', 'desc').executeTakeFirstOrThrow()
      config.countMax = 1
      const filtered = await analyst.get(`/?status=all&category=${busiest.category_id}`)
      expect(filtered.statusCode).toBe(200)
      expect(filtered.body).not.toMatch(/>0\+</)
      expect(filtered.body).toMatch(/<b class="count" title="未计数[^"]*">…<\/b>/)
      expect(filtered.body).toMatch(/<b class="count" title="至少 \d+ 条[^"]*">\d+\+<\/b>/)
    } finally {
      config.countMax = was
    }
  })

  it('carries filters, sort and page to the detail page and back, with previous/next in the queue order', async () => {
    const f = { level: ['high', 'medium'], sort: 'score' as const, dir: 'desc' as const, status: ['new', 'in_review'], pageSize: 3 }
    const order = (await listWarnings(env.ctx, { ...f, pageSize: 200 })).rows.map((r) => r.id)
    expect(order.length).toBeGreaterThan(4)
    const queue = await analyst.get('/?level=high&level=medium&sort=score&dir=desc&size=3&page=2')
    const onPage = ids(queue.body)
    expect(onPage).toEqual(order.slice(3, 6))
    const link = unescape(/<a href="(\/warnings\/\d+[^"]*)" class="key">/.exec(queue.body)![1])
    // the link says where the row stands (4th of the filtered queue): the page shows it without counting
    const n = order.length
    expect(link).toBe(`/warnings/${order[3]}?level=high&level=medium&sort=score&dir=desc&size=3&page=2&at=3&of=${n}`)
    const detail = await analyst.get(link)
    expect(detail.statusCode).toBe(200)
    const href = (id: string) => unescape(new RegExp(`href="([^"]+)"[^>]* id="${id}"`).exec(detail.body)?.[1] ?? '')
    // back: the same filters, page and the warning selected
    expect(href('back')).toBe(`/?level=high&level=medium&sort=score&dir=desc&size=3&page=2&sel=${order[3]}`)
    // previous is the last of page 1, next the second of page 2
    expect(href('prev-warning')).toBe(`/warnings/${order[2]}?level=high&level=medium&sort=score&dir=desc&size=3&at=2&of=${n}`)
    expect(href('next-warning')).toBe(`/warnings/${order[4]}?level=high&level=medium&sort=score&dir=desc&size=3&page=2&at=4&of=${n}`)
    expect(detail.body).toContain(`当前筛选第 4/${n} 条`)
    // the same page opened without the place (a bookmark) counts it: the same position and links
    const bare = await analyst.get(link.replace(/&at=.*$/, ''))
    expect(bare.body).toContain(`当前筛选第 4/${n} 条`)
    expect(bare.body).toContain(`/warnings/${order[4]}?level=high&amp;level=medium&amp;sort=score&amp;dir=desc&amp;size=3&amp;page=2&amp;at=4&amp;of=${n}`)
    // a place that cannot be (past the end) is counted again; one that is not a number is a 400 with a message
    expect((await analyst.get(link.replace(/at=3/, `at=${n + 5}`))).body).toContain(`当前筛选第 4/${n} 条`)
    const bad = await analyst.get(link.replace(/at=3/, 'at=x'))
    expect(bad.statusCode).toBe(400)
    expect(bad.body).toContain('at')
    expect(detail.body).toMatch(/data-key="j"/)
    // the queue selects the warning it comes back from
    const back = await analyst.get(href('back'))
    expect(back.body).toMatch(new RegExp(`<tr data-href="[^"]*" data-id="${order[3]}" class="[^"]* sel" aria-current="true">`))
  })

  it('keeps a warning that left the filter between the neighbours it had', async () => {
    const f = { status: ['new', 'in_review'], sort: 'score' as const }
    const order = (await listWarnings(env.ctx, { ...f, pageSize: 200 })).rows.map((r) => r.id)
    const mid = order[2]
    await env.ctx.db.updateTable('warning').set({ status: 'confirmed' }).where('id', '=', mid).execute()
    const n = await queueNeighbours(env.ctx, f, mid)
    expect(n.index).toBeNull()
    expect(n.prev?.id).toBe(order[1])
    expect(n.next?.id).toBe(order[3])
    const inside = await queueNeighbours(env.ctx, f, order[3])
    expect(inside).toMatchObject({ index: 2, prev: { id: order[1], page: 1 }, next: { id: order[4], page: 1 } })
    await env.ctx.db.updateTable('warning').set({ status: 'new' }).where('id', '=', mid).execute()
    // confirmed from its page opened at 3 of N: the page it returns to shows it out of the
    // filter and the queue one shorter; next leads to the row that now stands in its place
    const confirm = await analyst.post(`/warnings/${mid}/action?sort=score&at=2&of=${order.length}`, { action: 'confirm' })
    expect(unescape(confirm.headers.location as string)).toBe(`/warnings/${mid}?sort=score&at=2&of=${order.length}`)
    const left = await analyst.get(confirm.headers.location as string)
    expect(flashOf(left.body)).toMatch(/^ok:已确认预警/)
    expect(left.body).toContain('此预警已不在当前筛选结果中')
    expect(unescape(left.body)).toContain(`href="/warnings/${order[3]}?sort=score&at=2&of=${order.length - 1}"`)
    expect((await analyst.get(`/warnings/${order[3]}?sort=score&at=2&of=${order.length - 1}`)).body).toContain(`当前筛选第 3/${order.length - 1} 条`)
    await env.ctx.db.updateTable('warning').set({ status: 'new' }).where('id', '=', mid).execute()
  })

  it('says what an action did, offers only the actions that apply, and undoes a dismissal', async () => {
    const w = await env.ctx.db.selectFrom('warning').innerJoin('measure', 'measure.id', 'warning.measure_id').select(['warning.id', 'measure.key']).where('warning.status', '=', 'new').orderBy('warning.id').executeTakeFirstOrThrow()
    const state = '?level=high&level=medium&level=low'
    const page = await analyst.get(`/warnings/${w.id}${state}`)
    expect(page.body).toContain('id="act-confirm"')
    expect(page.body).toContain('id="act-review"')
    expect(page.body).not.toContain('id="act-reopen"')
    const confirm = await analyst.post(`/warnings/${w.id}/action${state}`, { action: 'confirm' })
    expect(confirm.statusCode).toBe(303)
    expect(unescape(confirm.headers.location as string)).toBe(`/warnings/${w.id}${state}`)
    const after = await analyst.get(confirm.headers.location as string)
    expect(flashOf(after.body)).toBe(`ok:已确认预警 ${w.key}。`)
    expect(after.body).not.toContain('id="act-confirm"')
    expect(after.body).not.toContain('id="act-review"')
    expect(after.body).toContain('id="act-reopen"')
    // the message shows once
    expect(flashOf((await analyst.get(`/warnings/${w.id}`)).body)).toBe('')

    // dismiss without a reason: a message in Chinese on the page, nothing changed
    const bare = await analyst.post(`/warnings/${w.id}/action`, { action: 'dismiss', reason: '  ' })
    expect(bare.statusCode).toBe(303)
    expect(flashOf((await analyst.get(bare.headers.location as string)).body)).toBe('error:排除预警需要填写排除理由，请在“排除理由”中填写后再执行。')

    const dismiss = await analyst.post(`/warnings/${w.id}/action`, { action: 'dismiss', reason: '不涉及北京出口产品' })
    const shown = await analyst.get(dismiss.headers.location as string)
    expect(flashOf(shown.body)).toBe(`ok:已排除预警 ${w.key}。理由：不涉及北京出口产品`)
    expect(shown.body).toMatch(/<form method="post" action="\/warnings\/undo" class="inline" data-key="u">/)
    expect((await env.ctx.db.selectFrom('warning').select('status').where('id', '=', w.id).executeTakeFirstOrThrow()).status).toBe('dismissed')
    const undo = await analyst.post('/warnings/undo', { ids: String(w.id), next: `/warnings/${w.id}` })
    expect(undo.statusCode).toBe(303)
    expect(flashOf((await analyst.get(undo.headers.location as string)).body)).toBe('ok:已撤销排除，预警恢复为排除前的状态。')
    // back to where it was before the dismissal: confirmed, not "in review"
    expect((await env.ctx.db.selectFrom('warning').select('status').where('id', '=', w.id).executeTakeFirstOrThrow()).status).toBe('confirmed')
    const again = await analyst.post('/warnings/undo', { ids: String(w.id), next: `/warnings/${w.id}` })
    expect(flashOf((await analyst.get(again.headers.location as string)).body)).toBe('error:无法撤销：预警在排除后已有新的处理。')
    const events = await env.ctx.db.selectFrom('warning_event').select('action').where('warning_id', '=', w.id).orderBy('id').execute()
    expect(events.map((e) => e.action).slice(-3)).toEqual(['confirm', 'dismiss', 'undo'])
    expect((await analyst.get(`/warnings/${w.id}`)).body).toContain('撤销排除')

    // note, assignment, level: each says what happened
    for (const [path, form, text] of [
      ['note', { note: '已与企业核实' }, 'ok:备注已保存。'],
      ['assign', { assignee: 'li@example.com' }, 'ok:已指派给 li@example.com。'],
      ['level', { level: 'low' }, 'ok:风险等级已更正为「低」。'],
    ] as const) {
      const r = await analyst.post(`/warnings/${w.id}/${path}`, form)
      expect(flashOf((await analyst.get(r.headers.location as string)).body)).toBe(text)
    }
    await analyst.post(`/warnings/${w.id}/level`, { level: '' })
    // a warning that does not exist is a 404 page, not a message about nothing
    expect((await analyst.post('/warnings/999999/action', { action: 'confirm' })).statusCode).toBe(404)
    expect((await analyst.post('/warnings/999999/note', { note: 'x' })).statusCode).toBe(404)
  })

  it('explains where a category correction lands', async () => {
    const w = await env.ctx.db.selectFrom('warning').select('id').orderBy('score', 'desc').executeTakeFirstOrThrow()
    await analyst.get(`/warnings/${w.id}`)
    const none = await analyst.post(`/warnings/${w.id}/categories`, {})
    expect(flashOf((await analyst.get(none.headers.location as string)).body)).toBe('error:请至少选择一个产品类别；如均不适用，请排除该预警。')
    const r = await analyst.post(`/warnings/${w.id}/categories`, { categories: 'lithium-batteries' })
    expect(r.headers.location).toBe(`/warnings/${w.id}`)
    const text = flashOf((await analyst.get(r.headers.location as string)).body)
    expect(text).toMatch(/^ok:产品类别已更正为：锂离子电池（原为：[^）]+）。已按新类别重新评分：风险等级「[高中低]」，分数 \d+。本措施的 \d+ 份文件已作为训练样本，分类器将在下次训练时学习。$/)
  })

  it('answers bulk actions with a message: nothing selected, no reason, done with undo', async () => {
    await analyst.get('/')
    const none = await analyst.post('/warnings/bulk', { action: 'confirm', next: '/?level=high' })
    expect(none.statusCode).toBe(303)
    expect(none.headers.location).toBe('/?level=high')
    const page = await analyst.get('/?level=high')
    expect(page.statusCode).toBe(200)
    expect(flashOf(page.body)).toBe('error:请先勾选要处理的预警，再执行批量操作。')

    const rows = await env.ctx.db.selectFrom('warning').select(['id', 'status']).where('status', '=', 'new').orderBy('id').limit(3).execute()
    const noReason = await analyst.post('/warnings/bulk', { ids: rows.map((x) => String(x.id)), action: 'dismiss', next: '/?level=high' })
    expect(noReason.statusCode).toBe(303)
    const shown = await analyst.get(noReason.headers.location as string)
    expect(shown.statusCode).toBe(200)
    expect(flashOf(shown.body)).toBe('error:排除预警需要填写排除理由，请在“排除理由”中填写后再执行。')
    expect(shown.body).not.toContain('dismissing a warning needs a reason')
    expect((await env.ctx.db.selectFrom('warning').select('status').where('id', 'in', rows.map((x) => x.id)).execute()).every((x) => x.status === 'new')).toBe(true)

    const english = await analyst.post('/warnings/bulk?lang=en', { ids: String(rows[0].id), action: 'dismiss', next: '/' })
    expect(flashOf((await analyst.get(english.headers.location as string)).body)).toMatch(/^error:Dismissing needs a reason/)
    await analyst.get('/?lang=zh')

    await env.ctx.db.updateTable('warning').set({ status: 'dismissed' }).where('id', '=', rows[2].id).execute()
    const done = await analyst.post('/warnings/bulk', { ids: rows.map((x) => String(x.id)), action: 'dismiss', reason: '重复', next: '/' })
    const after = await analyst.get(done.headers.location as string)
    expect(flashOf(after.body)).toBe('ok:已排除 2 条预警。（1 条原本已是该状态）')
    const undoIds = [...after.body.matchAll(/<input type="hidden" name="ids" value="(\d+)">/g)].map((m) => Number(m[1]))
    expect(undoIds.sort()).toEqual([rows[0].id, rows[1].id].sort())
    await analyst.post('/warnings/undo', { ids: undoIds.map(String), next: '/' })
    const back = await env.ctx.db.selectFrom('warning').select(['id', 'status']).where('id', 'in', rows.map((x) => x.id)).orderBy('id').execute()
    expect(back.map((x) => x.status)).toEqual(['new', 'new', 'dismissed'])
    const unknown = await analyst.post('/warnings/bulk', { ids: String(rows[0].id), action: 'delete', next: '/' })
    expect(flashOf((await analyst.get(unknown.headers.location as string)).body)).toBe('error:未知的操作，请从列表中选择。')
    const mine = await analyst.post('/warnings/bulk', { ids: [String(rows[0].id), '999999'], action: 'assign-me', next: '/' })
    expect(flashOf((await analyst.get(mine.headers.location as string)).body)).toBe('ok:已将 1 条预警指派给您。')
  })

  it('shows a banner on the queue when every source failed in the last pass', async () => {
    expect((await analyst.get('/')).body).not.toContain('id="sources-failed"')
    const before = await env.ctx.db.selectFrom('source').select(['id', 'last_status']).execute()
    await env.ctx.db.updateTable('source').set({ last_status: 'failed' }).execute()
    const page = await analyst.get('/')
    expect(page.body).toMatch(/<div class="banner" id="sources-failed" role="alert">上一轮抓取中全部 \d+ 个数据来源均失败/)
    expect(page.body).toContain('npm run demo')
    for (const s of before) await env.ctx.db.updateTable('source').set({ last_status: s.last_status }).where('id', '=', s.id).execute()
  })

  it('sends a bulk action or an undo back only to a path of this site', async () => {
    await analyst.get('/')
    const w = await env.ctx.db.selectFrom('warning').select('id').orderBy('id').executeTakeFirstOrThrow()
    for (const next of ['/%09/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example/']) {
      const bulk = await analyst.post('/warnings/bulk', { action: 'confirm', next })
      expect(bulk.headers.location, next).toBe('/')
      const undo = await analyst.post('/warnings/undo', { ids: String(w.id), next })
      expect(undo.headers.location, next).toBe('/')
    }
    await analyst.get('/') // the flash messages, shown once
  })

  it('refuses a forged flash cookie', async () => {
    const r = await app.inject({ url: '/login', headers: { cookie: `tbt_flash=${encodeURIComponent(JSON.stringify({ kind: 'ok', text: 'forged' }))}` } })
    expect(r.body).not.toContain('forged')
  })

  it('logs every request by path, and no token, address or double reply', () => {
    expect(env.logLines.some((l) => /"msg":"incoming request"/.test(l))).toBe(true)
    expect(logProblems(env.logLines)).toEqual([])
  })
})
