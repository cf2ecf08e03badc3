import { once } from 'node:events'
import { PassThrough, Readable } from 'node:stream'
import ExcelJS from 'exceljs'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RoutePlugin } from '../app.js'
import { csvField, plainCell } from '../../services/export.service.js'
import { ACTIONS, allWarnings, applyAction, assign, listWarnings, STATUSES, WarningError, type QueueFilter, type QueueRow, type WarningAction } from '../../services/warning.service.js'
import { setFlash } from '../flash.js'
import { html, raw } from '../../util/html.js'
import { READERS, requireRole, safeNext, STAFF } from '../auth.js'
import { formIds } from '../errors.js'
import { filterFromQuery, pageFilterFromQuery, pageQueryOf, placeKeys, queryOf, statusChoice } from '../filters.js'
import { deadlineCell, levelBadge, lifecycleBadge, sendPage, statusBadge, T, type Lang } from '../layout.js'
import { localDay } from '../../domain/dates.js'
import { localTimeLabelled, sourceName } from '../../domain/i18n.js'
import { marketOfMember } from '../../domain/markets.js'
import { MEASURE_STATUSES } from '../../domain/measure.js'
import { distinctValues } from '../../repositories/warning-query.js'


/** Export columns: the key (English, also the header with ?lang=en) and the Chinese header. */
const COLUMNS: [string, string][] = [
  ['id', '编号'],
  ['level', '风险等级'],
  ['score', '分数'],
  ['status', '审核状态'],
  ['measure', '措施'],
  ['symbols', '文件编号'],
  ['title', '标题'],
  ['members', '通报成员'],
  ['markets', '市场'],
  ['categories', '产品类别'],
  ['comment_deadline', '评议截止'],
  ['deadline_state', '截止情况'],
  ['measure_status', '措施状态'],
  ['assignee', '负责人'],
  ['note', '备注'],
  ['updated_at', '更新时间'],
  ['url', '链接'],
]
export const exportHeaders = (lang: Lang) => COLUMNS.map(([k, zh]) => (lang === 'zh' ? zh : k))

function exportRecord(ctx: Parameters<RoutePlugin>[1]['ctx'], r: QueueRow, lang: Lang, baseUrl: string): unknown[] {
  const t = T[lang]
  const join = (xs: string[]) => xs.join(lang === 'zh' ? '、' : '; ')
  const name = (x: { zh: string; en: string }) => (lang === 'zh' ? x.zh : x.en)
  const markets = [...new Set(r.members.map((m) => marketOfMember(ctx.markets, m.code)).filter((m) => !!m).map((m) => name(m!)))]
  return [
    r.id,
    t.levels[r.level] ?? r.level,
    r.score,
    t.statuses[r.status] ?? r.status,
    r.measureKey,
    join(r.symbols),
    r.title ?? '',
    join(r.members.map(name)) || (r.member ?? ''),
    join(markets),
    join(r.categories.length ? r.categories.map(name) : [lang === 'zh' ? r.categoryZh : r.categoryEn]),
    r.commentDeadline ?? '',
    r.deadlineState ? t.deadlineStates[r.deadlineState] ?? '' : '',
    t.measureStatus[r.measureStatus] ?? r.measureStatus,
    r.assignee ?? '',
    r.note ?? '',
    localTimeLabelled(lang, r.updatedAt, ctx.config.schedule.timezone),
    `${baseUrl}/warnings/${r.id}`,
  ]
}

const queueRoutes: RoutePlugin = async (app, { ctx }) => {
  // One index seek per distinct value, not a scan of notice or warning.
  const distinct = (col: 'language' | 'assignee') => distinctValues(ctx.db, col === 'language' ? 'notice' : 'warning', col)

  const queuePage = async (req: FastifyRequest, reply: FastifyReply, path: '/' | '/queue') => {
    const t = T[req.lang]
    const lang = req.lang
    const query = req.query as Record<string, unknown>
    const f = pageFilterFromQuery(query)
    const page = await listWarnings(ctx, f)
    // The warning the analyst comes back from (返回队列 / q): highlighted and selected.
    const selId = /^\d{1,12}$/.test(String(query.sel ?? '')) ? Number(query.sel) : null
    const [languages, assignees] = await Promise.all([distinct('language'), distinct('assignee')])
    const alerts = await ctx.db.selectFrom('ops_alert').selectAll().where('resolved_at', 'is', null).orderBy('id', 'desc').limit(5).execute()
    const staff = STAFF.includes(req.user!.role)
    const here = `${path}${pageQueryOf(f)}`
    // A row's link says where it stands (at, of): its page shows its position without counting the queue again.
    const first = (page.page - 1) * page.pageSize
    const detail = (id: number, i: number) => `/warnings/${id}${pageQueryOf(f, placeKeys({ index: first + i, total: page.total, totalAtLeast: page.totalAtLeast }))}`
    const name = (x: { zh: string; en: string }) => (lang === 'zh' ? x.zh : x.en)
    const sel = (nm: string, options: [string, string][], current: string[] | string | undefined, label: string, groups?: { label: string; options: [string, string][] }[]) => {
      const cur = Array.isArray(current) ? current : current ? [current] : []
      const opt = ([v, l]: [string, string]) => html`<option value="${v}"${raw(cur.includes(v) ? ' selected' : '')}>${l}</option>`
      return html`<label>${label}<select name="${nm}"><option value="">${t.any}</option>${options.map(opt)}${(groups ?? []).map((g) => html`<optgroup label="${g.label}">${g.options.map(opt)}</optgroup>`)}</select></label>`
    }
    const watched = ctx.markets.filter((m) => m.watched)
    const others = ctx.markets.filter((m) => !m.watched).sort((a, b) => (lang === 'zh' ? a.zh.localeCompare(b.zh, 'zh-Hans-CN') : a.en.localeCompare(b.en)))
    // Counts that stopped at TBT_COUNT_MAX are lower bounds: "1000+".
    const sum = (sts: readonly string[]) => ({ n: sts.reduce((a, st) => a + (page.counts[st] ?? 0), 0), more: sts.some((st) => page.countsAtLeast.includes(st)) })
    const choice = statusChoice(f)
    // A bound of 0 says nothing ("0+": none among the rows read so far): the tab says "…".
    const count = (c: { n: number; more: boolean }) =>
      !c.more ? html`<b class="count">${c.n}</b>` : c.n ? html`<b class="count" title="${t.countAtLeast(c.n)}">${c.n}+</b>` : html`<b class="count" title="${t.countNotYet}">…</b>`
    const tab = (value: string | undefined, label: string, c: { n: number; more: boolean }, on: boolean, status?: string) =>
      html`<a href="${path}${pageQueryOf(f, { status: value, page: undefined })}"${raw(status ? ` data-status="${status}"` : '')}${raw(on ? ' class="on" aria-current="true"' : '')}>${label} ${count(c)}</a>`
    const tabs = html`<nav class="tabs" aria-label="${t.status}">${tab(undefined, t.openWork, sum(['new', 'in_review']), choice === '', 'open')}
${STATUSES.map((st) => tab(st, t.statuses[st], sum([st]), choice === st, st))}
${tab('all', t.all, sum(STATUSES), choice === 'all', 'all')}</nav>`
    // Collapsible (app.js folds it on a phone, where it would push the warnings a screen down).
    const active = [f.level, f.category, f.market, f.lifecycle, f.source, f.language].filter((x) => x?.length).length + (f.assignee ? 1 : 0) + (f.deadlineDays !== undefined ? 1 : 0) + (f.q ? 1 : 0) + (f.sort ? 1 : 0)
    const filters = html`<details class="filterbox" id="filterbox" open><summary>${t.filterSummary(active)}</summary><form method="get" action="${path}" class="filters" id="filters">
<label class="grow">${t.search}<input type="search" name="q" value="${f.q ?? ''}" placeholder="${t.searchHint}" data-key="/"></label>
<label>${t.status}<select name="status"><option value="">${t.openWork}</option>${STATUSES.map((st) => html`<option value="${st}"${raw(choice === st ? ' selected' : '')}>${t.statuses[st]}</option>`)}<option value="all"${raw(choice === 'all' ? ' selected' : '')}>${t.statusAll}</option></select></label>
${sel('level', (['high', 'medium', 'low'] as const).map((l) => [l, t.levels[l]]), f.level, t.level)}
${sel('category', ctx.categories.map((c) => [c.id, name(c)]), f.category, t.category)}
${sel('market', [], f.market, t.market, [
  { label: lang === 'zh' ? '重点市场' : 'Watched markets', options: watched.map((m) => [m.code, name(m)]) },
  { label: lang === 'zh' ? '其他成员' : 'Other members', options: others.map((m) => [m.code, name(m)]) },
])}
${sel('lifecycle', MEASURE_STATUSES.map((m) => [m, t.measureStatus[m]]), f.lifecycle, t.lifecycle)}
${sel('source', ctx.sources.map((src) => [src.id, sourceName(lang, src.id, src.name)]), f.source, t.source)}
${sel('language', languages.map((l) => [l, t.langNames[l] ?? l]), f.language, t.language)}
${sel('assignee', [['-', t.unassigned], ...assignees.map((a): [string, string] => [a, a])], f.assignee, t.assignee)}
<label>${t.deadlineWithin}<input type="number" name="deadline" min="0" max="3650" value="${f.deadlineDays ?? ''}" class="num"></label>
${sel('sort', Object.entries(t.sorts), f.sort, t.sort)}
${sel('dir', [['desc', t.desc], ['asc', t.asc]], f.dir, lang === 'zh' ? '顺序' : 'Order')}
<button type="submit">${t.filter}</button><a href="${path}" class="button">${t.reset}</a></form></details>`
    const rows = page.rows.map(
      (r, i) => html`<tr data-href="${detail(r.id, i)}" data-id="${r.id}" class="ms-row-${r.measureStatus}${r.id === selId ? ' sel' : ''}"${raw(r.id === selId ? ' aria-current="true"' : '')}>
${staff ? html`<td class="pick"><input type="checkbox" name="ids" value="${r.id}" form="bulk" aria-label="#${r.id}"></td>` : ''}
<td>${levelBadge(t, r.level)}</td><td class="num opt">${r.score}</td>
<td class="m"><a href="${detail(r.id, i)}" class="key">${r.symbols.length > 1 ? r.symbols.join(', ') : r.measureKey}</a><div class="title">${r.title ?? ''}</div></td>
<td class="mem">${r.members.length ? r.members.map(name).join(lang === 'zh' ? '、' : ', ') : (r.member ?? '')}</td>
<td class="cats">${(r.categories.length ? r.categories : [{ id: r.categoryId, zh: r.categoryZh, en: r.categoryEn }]).map((c) => html`<span class="chip">${name(c)}</span>`)}</td>
<td>${deadlineCell(t, r.commentDeadline, r.deadlineState)}<div>${lifecycleBadge(t, r.measureStatus)}</div></td><td>${statusBadge(t, r.status)}</td><td class="opt">${r.assignee ?? ''}</td></tr>`,
    )
    const table = page.rows.length
      ? html`<div class="scroll"><table class="queue"><thead><tr>${staff ? html`<th><input type="checkbox" id="select-all" aria-label="${t.all}"></th>` : ''}<th>${t.level}</th><th class="opt">${t.score}</th><th>${t.measure}</th><th>${t.member}</th><th>${t.categories}</th><th>${t.deadline}</th><th>${t.status}</th><th class="opt">${t.assignee}</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
      : html`<p class="empty">${t.none}</p>`
    const bulk = staff
      ? html`<form method="post" action="/warnings/bulk" id="bulk" class="bulk"><input type="hidden" name="_csrf" value="${reply.generateCsrf()}"><input type="hidden" name="next" value="${here}">
<strong>${t.bulk}</strong> ${t.selected}: <select name="action" aria-label="${t.action}">${ACTIONS.map((a) => html`<option value="${a}">${t.actions[a]}</option>`)}<option value="assign-me">${t.assignMe}</option></select>
<input type="text" name="reason" placeholder="${t.reason}" maxlength="2000"><button type="submit">${t.apply}</button></form>`
      : ''
    // Page links carry a cursor (keyset pagination): the page number is what the pager shows.
    const prevLink = page.page <= 2 || !page.prev ? pageQueryOf(f, { page: undefined }) : pageQueryOf(f, { page: page.page - 1, before: page.prev })
    const pager = html`<nav class="pager">${page.page > 1 ? html`<a href="${path}${prevLink}" rel="prev">${t.prev}</a>` : ''}
<span>${t.page(page.page, page.pages, page.total, page.totalAtLeast)}</span>${(page.totalAtLeast || page.page < page.pages) && page.next ? html`<a href="${path}${pageQueryOf(f, { page: page.page + 1, after: page.next })}" rel="next">${t.next}</a>` : ''}
<span class="exports">${t.export}: <a href="/queue.csv${queryOf(f, { page: undefined })}">CSV</a> · <a href="/queue.xlsx${queryOf(f, { page: undefined })}">XLSX</a></span></nav>`
    const alertsBox =
      alerts.length && staff
        ? html`<section class="alerts"><h3>${t.alerts}</h3>${alerts.map((a) => html`<div class="alert">${a.source_id ?? ''} · ${a.kind} · ${a.message}</div>`)}</section>`
        : ''
    // Every enabled source failed in its last run: the queue may be stale (say so, and what to do).
    const sources = staff ? await ctx.db.selectFrom('source').select(['id', 'last_status']).where('enabled', '=', 1).execute() : []
    const allFailed = sources.length > 0 && sources.every((x) => x.last_status === 'failed')
    const failedBanner = allFailed
      ? html`<div class="banner" id="sources-failed" role="alert">${t.allSourcesFailed(sources.length)} <a href="/ops">${t.allSourcesFailedHint}</a><br><small>${t.allSourcesFailedDemo}</small></div>`
      : ''
    const selNote = selId !== null && !page.rows.some((r) => r.id === selId) ? html`<p class="hint" id="sel-note">${t.leftFilter(`#${selId}`)}</p>` : ''
    const officialHint = req.user!.role === 'official' ? html`<p class="hint"><a href="/reports/latest">${t.latestReport}</a> · <a href="/reports">${t.reports}</a></p>` : ''
    return sendPage(req, reply, {
      title: staff ? t.queue : t.warnings,
      body: html`${failedBanner}${alertsBox}<h2>${staff ? t.queue : t.warnings}</h2>${officialHint}${tabs}${filters}${bulk}${selNote}${table}${pager}<p class="hint">${staff ? t.shortcuts : ''}</p>`,
    })
  }

  // An official's home is the latest complete weekly report; the warnings list is /queue.
  // An enterprise's home is its own page (routes/enterprise.ts).
  const enterpriseHome = async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.user?.role === 'enterprise' && !req.user.mustChangePassword) return reply.redirect('/me')
  }
  app.get('/', { preHandler: [enterpriseHome, requireRole(...READERS)] }, async (req, reply) => {
    if (req.user!.role === 'official') return reply.redirect('/reports/latest')
    return queuePage(req, reply, '/')
  })
  app.get('/queue', { preHandler: requireRole(...READERS) }, async (req, reply) => queuePage(req, reply, '/queue'))

  app.post('/warnings/bulk', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const t = T[req.lang]
    const b = (req.body ?? {}) as { ids?: string | string[]; action?: string; reason?: string; next?: string }
    const ids = formIds(b.ids).slice(0, 1000)
    const next = safeNext(b.next)
    const back = (flash: Parameters<typeof setFlash>[1]) => setFlash(reply, flash).redirect(next, 303)
    const action = b.action ?? ''
    if (action !== 'assign-me' && !(ACTIONS as readonly string[]).includes(action)) return back({ kind: 'error', text: t.flash.unknownAction })
    if (!ids.length) return back({ kind: 'error', text: t.flash.bulkNone })
    const actor = req.user!.email
    if (action === 'assign-me') {
      let n = 0
      for (const id of ids) n += await assign(ctx, id, actor, actor).then(() => 1, (err) => (err instanceof WarningError ? 0 : Promise.reject(err)))
      return back(n ? { kind: 'ok', text: t.flash.bulkAssigned(n) } : { kind: 'error', text: t.flash.bulkNothing })
    }
    let results
    try {
      results = await applyAction(ctx, ids, action as WarningAction, actor, { reason: b.reason, note: null })
    } catch (err) {
      if (err instanceof WarningError) return back({ kind: 'error', text: err.code === 'REASON_REQUIRED' ? t.flash.reasonNeeded : t.flash.invalid })
      throw err
    }
    const changed = results.filter((r) => r.ok && !r.unchanged)
    const unchanged = results.filter((r) => r.ok && r.unchanged).length
    const failed = results.filter((r) => !r.ok).length
    const more = [unchanged ? t.flash.bulkUnchanged(unchanged) : '', failed ? t.flash.bulkFailed(failed) : ''].filter(Boolean).join(req.lang === 'zh' ? '，' : ', ')
    const text = `${changed.length ? t.flash.bulkDone(t.flash.done[action], changed.length) : t.flash.bulkNothing}${more ? (req.lang === 'zh' ? `（${more}）` : ` (${more})`) : ''}`
    return back({
      kind: changed.length ? 'ok' : 'error',
      text,
      undo: action === 'dismiss' && changed.length && changed.length <= 200 ? { ids: changed.map((r) => r.id), next, label: t.flash.undo } : undefined,
    })
  })

  const exportRows = async function* (req: FastifyRequest, f: QueueFilter) {
    for await (const r of allWarnings(ctx, { ...f, page: 1 })) yield exportRecord(ctx, r, req.lang, ctx.config.publicBaseUrl)
  }
  const stamp = () => localDay(ctx.clock(), ctx.config.schedule.timezone)

  // Headers in the reader's language (Chinese by default; ?lang=en gives the English keys).
  // Both exports stream: rows leave as they are read, in keyset batches (constant memory).
  app.get('/queue.csv', { preHandler: requireRole(...READERS) }, async (req, reply: FastifyReply) => {
    const f = filterFromQuery(req.query as Record<string, unknown>)
    const lines = async function* () {
      // Excel reads UTF-8 CSV as Chinese only with a BOM
      let chunk = `\ufeff${exportHeaders(req.lang).map(csvField).join(',')}\r\n`
      for await (const rec of exportRows(req, f)) {
        chunk += `${rec.map((v) => csvField(v)).join(',')}\r\n`
        if (chunk.length >= 64 * 1024) {
          yield chunk
          chunk = ''
        }
      }
      yield chunk
    }
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="tbt-warnings-${stamp()}.csv"`)
      .send(Readable.from(lines(), { objectMode: false }))
  })

  app.get('/queue.xlsx', { preHandler: requireRole(...READERS) }, async (req, reply) => {
    const f = filterFromQuery(req.query as Record<string, unknown>)
    const out = new PassThrough()
    // exceljs' streaming writer: each row is committed (written to the zip) as it comes;
    // no shared-strings table, which would hold every text in memory.
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false })
    wb.creator = 'tbt-watch'
    const ws = wb.addWorksheet(T[req.lang].warnings, { views: [{ state: 'frozen', ySplit: 1 }] })
    ws.columns = exportHeaders(req.lang).map((header, i) => ({ header, key: COLUMNS[i][0], width: ['title', 'note'].includes(COLUMNS[i][0]) ? 60 : ['symbols', 'members', 'categories', 'updated_at', 'url'].includes(COLUMNS[i][0]) ? 28 : 14 }))
    ws.getRow(1).font = { bold: true }
    const write = async () => {
      let n = 0
      for await (const rec of exportRows(req, f)) {
        ws.addRow(rec.map(plainCell)).commit()
        // Let the zip reach the reply, and wait while the reader is slower than we are.
        if (++n % 500 === 0) {
          await new Promise((r) => setImmediate(r))
          if (out.writableNeedDrain) await once(out, 'drain')
        }
      }
      ws.commit()
      await wb.commit()
    }
    write().catch((err: Error) => {
      req.log.error({ err: err.message }, 'xlsx export failed')
      out.destroy(err)
    })
    return reply
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('content-disposition', `attachment; filename="tbt-warnings-${stamp()}.xlsx"`)
      .send(out)
  })
}

export default queueRoutes
