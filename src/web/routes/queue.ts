import ExcelJS from 'exceljs'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RoutePlugin } from '../app.js'
import { csvField, plainCell } from '../../services/export.service.js'
import { ACTIONS, allWarnings, applyAction, assign, listWarnings, STATUSES, WarningError, type QueueFilter, type QueueRow, type WarningAction } from '../../services/warning.service.js'
import { html, raw } from '../../util/html.js'
import { READERS, requireRole, safeNext, STAFF } from '../auth.js'
import { filterFromQuery, queryOf } from '../filters.js'
import { levelBadge, sendPage, statusBadge, T, type Lang } from '../layout.js'


function exportRecord(r: QueueRow, lang: Lang, baseUrl: string) {
  const t = T[lang]
  return {
    id: r.id,
    level: t.levels[r.level] ?? r.level,
    score: r.score,
    status: t.statuses[r.status] ?? r.status,
    measure: r.measureKey,
    title: r.title ?? '',
    member: r.member ?? '',
    category: lang === 'zh' ? r.categoryZh : r.categoryEn,
    comment_deadline: r.commentDeadline ?? '',
    measure_status: t.measureStatus[r.measureStatus] ?? r.measureStatus,
    assignee: r.assignee ?? '',
    note: r.note ?? '',
    updated_at: r.updatedAt,
    url: `${baseUrl}/warnings/${r.id}`,
  }
}

const queueRoutes: RoutePlugin = async (app, { ctx }) => {
  const distinct = async (col: 'language' | 'assignee') =>
    col === 'language'
      ? (await ctx.db.selectFrom('notice').select('language').distinct().orderBy('language').execute()).map((r) => r.language)
      : (await ctx.db.selectFrom('warning').select('assignee').distinct().where('assignee', 'is not', null).orderBy('assignee').execute()).map((r) => r.assignee!)

  app.get('/', { preHandler: requireRole(...READERS) }, async (req, reply) => {
    const t = T[req.lang]
    const f = filterFromQuery(req.query as Record<string, unknown>)
    const page = await listWarnings(ctx, f)
    const [languages, assignees] = await Promise.all([distinct('language'), distinct('assignee')])
    const alerts = await ctx.db.selectFrom('ops_alert').selectAll().where('resolved_at', 'is', null).orderBy('id', 'desc').limit(5).execute()
    const staff = STAFF.includes(req.user!.role)
    const here = `/${queryOf(f)}`
    const sel = (name: string, options: [string, string][], current: string[] | string | undefined, label: string) => {
      const cur = Array.isArray(current) ? current : current ? [current] : []
      return html`<label>${label}<select name="${name}"><option value="">${t.any}</option>${options.map(([v, l]) => html`<option value="${v}"${raw(cur.includes(v) ? ' selected' : '')}>${l}</option>`)}</select></label>`
    }
    const total = Object.values(page.counts).reduce((a, b) => a + b, 0)
    const tabs = html`<nav class="tabs" aria-label="${t.status}"><a href="/${queryOf(f, { status: undefined, page: undefined })}"${raw(!f.status ? ' class="on"' : '')}>${t.all} <b>${total}</b></a>
${STATUSES.map((s) => html`<a href="/${queryOf(f, { status: s, page: undefined })}" data-status="${s}"${raw(f.status?.length === 1 && f.status[0] === s ? ' class="on"' : '')}>${t.statuses[s]} <b class="count">${page.counts[s] ?? 0}</b></a>`)}</nav>`
    const filters = html`<form method="get" action="/" class="filters" id="filters">
<label class="grow">${t.search}<input type="search" name="q" value="${f.q ?? ''}" placeholder="${t.searchHint}" data-key="/"></label>
${sel('status', STATUSES.map((s) => [s, t.statuses[s]]), f.status, t.status)}
${sel('level', (['high', 'medium', 'low'] as const).map((l) => [l, t.levels[l]]), f.level, t.level)}
${sel('category', ctx.categories.map((c) => [c.id, req.lang === 'zh' ? c.zh : c.en]), f.category, t.category)}
${sel('market', ctx.markets.map((m) => [m.code, req.lang === 'zh' ? m.zh : m.en]), f.market, t.market)}
${sel('source', ctx.sources.map((s) => [s.id, s.name]), f.source, t.source)}
${sel('language', languages.map((l) => [l, t.langNames[l] ?? l]), f.language, t.language)}
${sel('assignee', [['-', t.unassigned], ...assignees.map((a): [string, string] => [a, a])], f.assignee, t.assignee)}
<label>${t.deadlineWithin}<input type="number" name="deadline" min="0" max="3650" value="${f.deadlineDays ?? ''}" class="num"></label>
${sel('sort', Object.entries(t.sorts), f.sort, t.sort)}
${sel('dir', [['desc', t.desc], ['asc', t.asc]], f.dir, req.lang === 'zh' ? '顺序' : 'Order')}
<button type="submit">${t.filter}</button><a href="/" class="button">${t.reset}</a></form>`
    const rows = page.rows.map(
      (r) => html`<tr data-href="/warnings/${r.id}" data-id="${r.id}">
${staff ? html`<td><input type="checkbox" name="ids" value="${r.id}" form="bulk" aria-label="#${r.id}"></td>` : ''}
<td>${levelBadge(t, r.level)}</td><td class="num">${r.score}</td>
<td><a href="/warnings/${r.id}" class="key">${r.measureKey}</a><div class="title">${r.title ?? ''}</div></td>
<td>${r.member ?? ''}</td><td>${req.lang === 'zh' ? r.categoryZh : r.categoryEn}</td>
<td>${r.commentDeadline ?? '—'}</td><td>${statusBadge(t, r.status)}</td><td>${r.assignee ?? ''}</td></tr>`,
    )
    const table = page.rows.length
      ? html`<table class="queue"><thead><tr>${staff ? html`<th><input type="checkbox" id="select-all" aria-label="${t.all}"></th>` : ''}<th>${t.level}</th><th>${t.score}</th><th>${t.measure}</th><th>${t.member}</th><th>${t.category}</th><th>${t.deadline}</th><th>${t.status}</th><th>${t.assignee}</th></tr></thead>
<tbody>${rows}</tbody></table>`
      : html`<p class="empty">${t.none}</p>`
    const bulk = staff
      ? html`<form method="post" action="/warnings/bulk" id="bulk" class="bulk"><input type="hidden" name="_csrf" value="${reply.generateCsrf()}"><input type="hidden" name="next" value="${here}">
<strong>${t.bulk}</strong> ${t.selected}: <select name="action" aria-label="${t.action}">${ACTIONS.map((a) => html`<option value="${a}">${t.actions[a]}</option>`)}<option value="assign-me">${t.assignMe}</option></select>
<input type="text" name="reason" placeholder="${t.reason}" maxlength="2000"><button type="submit">${t.apply}</button></form>`
      : ''
    const pager = html`<nav class="pager">${page.page > 1 ? html`<a href="/${queryOf(f, { page: page.page - 1 })}" rel="prev">${t.prev}</a>` : ''}
<span>${t.page(page.page, page.pages, page.total)}</span>${page.page < page.pages ? html`<a href="/${queryOf(f, { page: page.page + 1 })}" rel="next">${t.next}</a>` : ''}
<span class="exports">${t.export}: <a href="/queue.csv${queryOf(f, { page: undefined })}">CSV</a> · <a href="/queue.xlsx${queryOf(f, { page: undefined })}">XLSX</a></span></nav>`
    const alertsBox = alerts.length
      ? html`<section class="alerts"><h3>${t.alerts}</h3>${alerts.map((a) => html`<div class="alert">${a.source_id ?? ''} · ${a.kind} · ${a.message}</div>`)}</section>`
      : ''
    return sendPage(req, reply, {
      title: t.queue,
      body: html`${alertsBox}<h2>${t.queue}</h2>${tabs}${filters}${bulk}${table}${pager}<p class="hint">${t.shortcuts}</p>`,
    })
  })

  app.post('/warnings/bulk', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const b = (req.body ?? {}) as { ids?: string | string[]; action?: string; reason?: string; next?: string }
    const ids = (Array.isArray(b.ids) ? b.ids : b.ids ? [b.ids] : []).map(Number).filter(Number.isInteger)
    const next = safeNext(b.next)
    if (!ids.length) return reply.redirect(next, 303)
    const actor = req.user!.email
    if (b.action === 'assign-me') {
      for (const id of ids) await assign(ctx, id, actor, actor)
    } else if ((ACTIONS as readonly string[]).includes(b.action ?? '')) {
      try {
        await applyAction(ctx, ids, b.action as WarningAction, actor, { reason: b.reason, note: null })
      } catch (err) {
        if (err instanceof WarningError) return reply.code(400).send(err.message)
        throw err
      }
    } else return reply.code(400).send('unknown action')
    return reply.redirect(next, 303)
  })

  const exportRows = async function* (req: FastifyRequest, f: QueueFilter) {
    for await (const r of allWarnings(ctx, { ...f, page: 1 })) yield exportRecord(r, req.lang, ctx.config.publicBaseUrl)
  }
  const stamp = () => ctx.clock().toISOString().slice(0, 10)

  app.get('/queue.csv', { preHandler: requireRole(...READERS) }, async (req, reply: FastifyReply) => {
    const f = filterFromQuery(req.query as Record<string, unknown>)
    let out = '\ufeff' // Excel reads UTF-8 CSV as Chinese only with a BOM
    let header: string[] | undefined
    for await (const rec of exportRows(req, f)) {
      if (!header) {
        header = Object.keys(rec)
        out += `${header.join(',')}\r\n`
      }
      out += `${header.map((k) => csvField((rec as Record<string, unknown>)[k])).join(',')}\r\n`
    }
    if (!header) out += 'id\r\n'
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="tbt-warnings-${stamp()}.csv"`)
      .send(out)
  })

  app.get('/queue.xlsx', { preHandler: requireRole(...READERS) }, async (req, reply) => {
    const f = filterFromQuery(req.query as Record<string, unknown>)
    const wb = new ExcelJS.Workbook()
    wb.creator = 'tbt-watch'
    const ws = wb.addWorksheet(T[req.lang].warnings)
    let first = true
    for await (const rec of exportRows(req, f)) {
      if (first) {
        ws.columns = Object.keys(rec).map((k) => ({ header: k, key: k, width: k === 'title' || k === 'note' ? 60 : 16 }))
        ws.getRow(1).font = { bold: true }
        ws.views = [{ state: 'frozen', ySplit: 1 }]
        first = false
      }
      ws.addRow(Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, plainCell(v)])))
    }
    const buf = await wb.xlsx.writeBuffer()
    return reply
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('content-disposition', `attachment; filename="tbt-warnings-${stamp()}.xlsx"`)
      .send(Buffer.from(buf as ArrayBuffer))
  })
}

export default queueRoutes
