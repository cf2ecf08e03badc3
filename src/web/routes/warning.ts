import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RoutePlugin } from '../app.js'
import { correctCategories } from '../../services/correction.service.js'
import { actionApplies, ACTIONS, applyAction, assign, getWarning, isPublished, mergedInto, queueNeighbours, setLevel, setNote, undoDismiss, WarningError, type WarningAction, type WarningDetail } from '../../services/warning.service.js'
import { pageFilterFromQuery, pageQueryOf, placeFromQuery, placeKeys } from '../filters.js'
import { setFlash, type Flash } from '../flash.js'
import { html, raw, type Raw } from '../../util/html.js'
import { requireRole, safeNext, STAFF } from '../auth.js'
import { formIds } from '../errors.js'
import { CHIP_MIN_SHARE, deadlineCell, levelBadge, lifecycleBadge, safeUrl, sendPage, significantChips, statusBadge, T, type Words } from '../layout.js'
import { evidenceKindLabel, evidenceText, localTime, sourceName, timeZoneLabel } from '../../domain/i18n.js'
import { loadMembers, memberCodesOf } from '../../domain/members.js'
import { parseSymbol } from '../../domain/symbols.js'
import type { Level } from '../../risk/score.js'
import { W } from '../../comments/words.js'

/** The queue state (filters, sort, page) a detail page carries, as its query string; '' when there is none. */
const stateOf = (req: FastifyRequest) => {
  try {
    const q = req.query as Record<string, unknown>
    return pageQueryOf(pageFilterFromQuery(q), placeKeys(placeFromQuery(q)))
  } catch {
    return ''
  }
}

const pts = (p: number) => `${p > 0 ? '+' : ''}${Math.round(p * 10) / 10}`

/** What each role may see of a warning; enterprises only what digests publish. */
async function load(req: FastifyRequest, reply: FastifyReply, ctx: Parameters<RoutePlugin>[1]['ctx']) {
  const id = Number((req.params as { id: string }).id)
  const w = Number.isInteger(id) ? await getWarning(ctx, id) : undefined
  if (!w && Number.isInteger(id)) {
    // A warning merged into its measure's one warning: links in e-mails already sent still work.
    const into = await mergedInto(ctx.db, id)
    if (into) {
      reply.redirect(`/warnings/${into}${stateOf(req)}`, 301)
      return undefined
    }
  }
  if (!w || (req.user!.role === 'enterprise' && !isPublished(ctx, w))) {
    reply.callNotFound()
    return undefined
  }
  return w
}

function actionsPanel(t: Words, w: WarningDetail, csrf: string, me: string, ctxCategories: { id: string; zh: string; en: string }[], lang: 'zh' | 'en', state: string): Raw {
  const hidden = html`<input type="hidden" name="_csrf" value="${csrf}">`
  const to = (what: string) => `/warnings/${w.id}/${what}${state}`
  // Only the actions that apply to the warning's status (no 确认 on a confirmed warning).
  const btn = (a: WarningAction, key: string) =>
    actionApplies(a, w.status)
      ? html`<form method="post" action="${to('action')}" class="inline" data-key="${key}"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="action" value="${a}"><button type="submit" id="act-${a}">${t.actions[a]} <kbd>${key}</kbd></button></form>`
      : ''
  const current = w.correctedCategories ?? w.measureCategories
  return html`<section class="actions" aria-label="actions">
<div class="row">${btn('review', 'r')}${btn('confirm', 'c')}${btn('escalate', 'e')}${btn('reopen', 'o')}</div>
${actionApplies('dismiss', w.status)
  ? html`<form method="post" action="${to('action')}" class="row">${hidden}<input type="hidden" name="action" value="dismiss">
<input type="text" name="reason" id="dismiss-reason" placeholder="${t.reason}" aria-label="${t.reason}" required maxlength="2000" data-key="d"><button type="submit" id="act-dismiss">${t.actions.dismiss}</button></form>`
  : ''}
<form method="post" action="${to('note')}" class="stack">${hidden}<label>${t.note}<textarea name="note" id="note" rows="3" maxlength="10000" data-key="n">${w.note ?? ''}</textarea></label><button type="submit">${t.saveNote}</button></form>
<form method="post" action="${to('assign')}" class="row">${hidden}<label>${t.assignee}<input type="text" name="assignee" value="${w.assignee ?? ''}" maxlength="320"></label><button type="submit">${t.assign}</button></form>
${w.assignee === me ? '' : html`<form method="post" action="${to('assign')}" class="inline" data-key="a">${hidden}<input type="hidden" name="assignee" value="${me}"><button type="submit">${t.assignMe} <kbd>a</kbd></button></form>`}
<form method="post" action="${to('level')}" class="row">${hidden}<label>${t.levelOverride}<select name="level" id="level"><option value="">${t.levelAuto}</option>
${(['high', 'medium', 'low'] as const).map((l) => html`<option value="${l}"${raw(w.levelOverride === l ? ' selected' : '')}>${t.levels[l]}</option>`)}</select></label><button type="submit">${t.save}</button></form>
<details${raw(w.correctedCategories ? ' open' : '')}><summary>${t.correctCategories}</summary><form method="post" action="${to('categories')}" class="categories">${hidden}
<p class="hint">${t.correctHint}</p><div class="checks">${ctxCategories.map((c) => html`<label><input type="checkbox" name="categories" value="${c.id}"${raw(current.includes(c.id) ? ' checked' : '')}> ${lang === 'zh' ? c.zh : c.en}</label>`)}</div>
<button type="submit" id="save-categories">${t.save}</button></form></details></section>`
}

const warningRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/warnings/:id', { preHandler: requireRole() }, async (req, reply) => {
    const w = await load(req, reply, ctx)
    if (!w) return reply
    // An enterprise reads a warning on its own page: its categories, its feedback form.
    if (req.user!.role === 'enterprise') return reply.redirect(`/me/warnings/${w.id}`, 303)
    const t = T[req.lang]
    const lang = req.lang
    const tz = ctx.config.schedule.timezone
    const staff = STAFF.includes(req.user!.role)
    const name = (x: { zh: string; en: string }) => (lang === 'zh' ? x.zh : x.en)
    const list = (xs: string[]) => xs.join(lang === 'zh' ? '、' : ', ')
    const catName = (id: string) => {
      const c = ctx.categoryIndex.byId(id)
      return c ? name(c) : id
    }
    const members = loadMembers()
    // The queue state this page came with: back, previous and next keep it (staff and officials read the queue).
    const f = pageFilterFromQuery(req.query as Record<string, unknown>)
    const hint = placeFromQuery(req.query as Record<string, unknown>)
    const state = pageQueryOf(f, placeKeys(hint))
    const around = await queueNeighbours(ctx, f, w.id, hint)
    const queuePath = staff ? '/' : '/queue'
    const backHref = `${queuePath}${pageQueryOf(f, { sel: w.id })}`
    // A neighbour's page and place are unknown past TBT_COUNT_MAX rows: its page counts them again.
    const go = (n: { id: number; page: number | null; index: number | null }) =>
      `/warnings/${n.id}${pageQueryOf(f, { page: n.page && n.page > 1 ? n.page : undefined, ...placeKeys(n.index === null ? undefined : { index: n.index, total: around!.total, totalAtLeast: around!.totalAtLeast }) })}`
    const nav = around
      ? html`<nav class="walk" aria-label="${t.queue}">${around.prev ? html`<a href="${go(around.prev)}" rel="prev" id="prev-warning" data-key="k">← ${t.prevWarning} <kbd>k</kbd></a>` : html`<span class="off">← ${t.prevWarning}</span>`}
<span class="pos">${around.index !== null ? t.position(around.index + 1, around.total, around.indexAtLeast, around.totalAtLeast) : t.notInFilter}</span>
${around.next ? html`<a href="${go(around.next)}" rel="next" id="next-warning" data-key="j">${t.nextWarning} → <kbd>j</kbd></a>` : html`<span class="off">${t.nextWarning} →</span>`}</nav>`
      : ''
    const traceTable = (trace: WarningDetail['trace'], cls = 'trace') => {
      const total = trace.reduce((s2, x) => s2 + x.points, 0)
      return html`<table class="${cls}"><tbody>
${trace.map((x) => html`<tr><td>${lang === 'zh' ? x.zh : x.en}</td><td class="num">${pts(x.points)}</td></tr>`)}
<tr class="sum"><td>${t.total}</td><td class="num">${Math.round(total)}</td></tr></tbody></table>`
    }
    const top = w.categories[0]
    const traceBox = html`<section><h3>${t.trace}${top ? html` · ${name(top)}` : ''}</h3>${traceTable(w.trace)}
<p>${t.level}${t.colon}${levelBadge(t, w.level)}${w.levelOverride ? html` <small>(${t.levelOverride})</small>` : ''}</p>
${w.categories.length > 1
  ? html`<h4>${t.categoryScores}</h4><table class="cat-scores"><tbody>${w.categories.map((c) => html`<tr><td>${name(c)}</td><td>${levelBadge(t, c.level)}</td><td class="num">${c.score}</td></tr>`)}</tbody></table>
<section class="more-traces"><h4>${t.otherTraces}</h4>${w.categories.slice(1).map((c) => html`<h5>${name(c)}</h5>${traceTable(c.trace, 'trace-more')}`)}</section>`
  : ''}
${w.rulesVersion ? html`<p class="hint">${lang === 'zh' ? '规则版本' : 'rules'} ${w.rulesVersion}</p>` : ''}</section>`
    const timeline = html`<section><h3>${t.timeline}</h3><ol class="timeline">${w.timeline.map(
      (e) => html`<li><time>${e.date}</time> ${t.timelineKinds[e.kind] ?? e.kind}${e.docType && e.docType !== 'regular' ? html` · ${t.docTypes[e.docType] ?? e.docType}` : ''}${e.detail ? html` · <span class="key">${e.detail}</span>` : ''}</li>`,
    )}</ol>
<p>${t.lifecycle}${t.colon}${lifecycleBadge(t, w.measureStatus)}</p></section>`
    // The first document of a symbol is the original; others with the same symbol are translations.
    // Chips under CHIP_MIN_SHARE are noise: hidden, the top one kept, the rest counted.
    const chips = (xs: { label: string; score: number }[]) => {
      const { shown, hidden } = significantChips(xs)
      return html`${shown.map((c) => html`<span class="chip">${c.label} ${Math.round(c.score * 100)}%</span>`)}${hidden ? html` <small class="hint chips-hidden">${t.chipsHidden(hidden, Math.round(CHIP_MIN_SHARE * 100))}</small>` : ''}`
    }
    const seen = new Set<string>()
    const notices = w.notices.map((n) => {
      const isTranslation = seen.has(n.symbol)
      seen.add(n.symbol)
      const links = [...new Set([n.sourceUrl, ...n.links])].map(safeUrl).filter((u): u is string => !!u)
      const cls = n.classification
      const who = memberCodesOf({ symbols: n.symbols, member: n.member }, members)
      return html`<article class="notice" lang="${n.language === 'eng' ? 'en' : n.language === 'fra' ? 'fr' : n.language === 'spa' ? 'es' : n.language.startsWith('zh') || n.language === 'cmn' ? 'zh' : ''}">
<h4><span class="key">${n.symbols.join(' · ')}</span> <small>${t.docTypes[n.docType] ?? n.docType} · ${n.distributionDate ?? ''} · ${isTranslation ? t.translation : t.original}（${t.langNames[n.language] ?? n.language}）· ${sourceName(lang, n.sourceId, ctx.sources.find((x) => x.id === n.sourceId)?.name)}</small></h4>
<dl><dt>${t.symbols}</dt><dd>${n.symbols.map((sym) => html`<span class="key">${sym}</span> <small>${members.name(parseSymbol(sym)?.member ?? '', lang)}</small>`).reduce<unknown[]>((acc, x, i) => (i ? [...acc, html`；`, x] : [x]), [])}</dd>
<dt>${t.members}</dt><dd>${list(who.map((c) => members.name(c, lang))) || members.name(n.member, lang)}</dd>
<dt>${t.measure}</dt><dd class="notice-title">${n.title}</dd>
${n.products ? html`<dt>${t.products}</dt><dd>${n.products}</dd>` : ''}
${n.description ? html`<dt>${t.description}</dt><dd class="pre">${n.description}</dd>` : ''}
${n.objectives.length ? html`<dt>${t.objectives}</dt><dd>${n.objectives.join('; ')}</dd>` : ''}
${n.keywords.length ? html`<dt>${t.keywords}</dt><dd>${n.keywords.join('; ')}</dd>` : ''}
${n.hsCodes.length ? html`<dt>${t.hs}</dt><dd>${n.hsCodes.join(', ')}</dd>` : ''}
${n.icsCodes.length ? html`<dt>${t.ics}</dt><dd>${n.icsCodes.join(', ')}</dd>` : ''}
${n.commentDeadline ? html`<dt>${t.docDeadline}</dt><dd>${n.commentDeadline}</dd>` : ''}
${n.adoptionText ? html`<dt>${t.timelineKinds.adoption}</dt><dd>${n.adoptionText}</dd>` : ''}
${n.entryIntoForceText ? html`<dt>${t.timelineKinds['entry-into-force']}</dt><dd>${n.entryIntoForceText}</dd>` : ''}
${links.length ? html`<dt>${t.links}</dt><dd><ul>${links.map((u) => html`<li><a href="${u}" rel="noopener noreferrer nofollow" target="_blank">${u}</a></li>`)}</ul></dd>` : ''}</dl>
${cls ? html`<div class="classification"><h5>${t.classification}</h5>
<p>${t.categories}: ${chips(cls.categories.map((c) => ({ label: catName(c.id), score: c.score })))}
${w.correctedCategories ? html` → <strong>${list(w.correctedCategories.map(catName))}</strong> (${t.corrected})` : ''}</p>
<p>${t.hs}: ${chips(cls.hs.slice(0, 8).map((h) => ({ label: h.code, score: h.score })))}</p>
<ul class="evidence">${cls.evidence.slice(0, 20).map((e) => html`<li><b>${evidenceKindLabel(lang, String(e.kind ?? ''))}</b> ${evidenceText(lang, e)}</li>`)}</ul></div>` : ''}
</article>`
    })
    const translationNote = w.notices.every((n, i) => w.notices.findIndex((m) => m.symbol === n.symbol) === i) ? html`<p class="hint">${t.translation}: ${t.noTranslation}</p>` : ''
    const history = html`<section><h3>${t.history}</h3><p class="hint">${t.times(timeZoneLabel(lang, tz))}</p><table class="history"><thead><tr><th>${t.at}</th><th>${t.actor}</th><th>${t.action}</th><th>${t.status}</th><th>${t.details}</th></tr></thead><tbody>
${w.events.map((e) => html`<tr><td class="nowrap">${localTime(e.at, tz)}</td><td>${e.actor === 'system' ? t.system : e.actor}</td><td>${(e.action === 'categories' && e.actor === 'system' ? t.events['categories-auto'] : t.events[e.action]) ?? e.action}</td><td>${e.fromStatus && e.fromStatus !== e.toStatus ? html`${t.statuses[e.fromStatus] ?? e.fromStatus} → ` : ''}${e.toStatus ? t.statuses[e.toStatus] ?? e.toStatus : ''}</td>
<td>${e.details ? describeDetails(t, e.details, catName) : ''}</td></tr>`)}</tbody></table></section>`
    const cats = w.categories.length ? w.categories : [{ id: w.categoryId, zh: w.categoryZh, en: w.categoryEn }]
    const head = html`<div class="walkbar"><a href="${backHref}" data-key="q" id="back">← ${t.back} <kbd>q</kbd></a>${nav}<a href="/comments/${w.measureId}" id="measure-comments">${W[lang].measureComments}</a></div>
<h2><span class="key">${list(w.symbols.length ? w.symbols : [w.measureKey])}</span> · <span id="warning-title">${w.title ?? ''}</span></h2>
<p class="meta">${levelBadge(t, w.level)} ${t.score} <b id="score">${w.score}</b> · ${t.members}${t.colon}<span id="members">${list(w.members.map(name)) || members.name(w.member, lang)}</span> · ${statusBadge(t, w.status)}
· ${t.assignee}${t.colon}${w.assignee ?? t.unassigned}<br>
${t.allCategories}${t.colon}<span id="category">${cats.map((c) => html`<span class="chip">${name(c)}</span>`)}</span><br>
${t.deadline}${t.colon}${deadlineCell(t, w.commentDeadline, w.deadlineState)} · ${t.lifecycle}${t.colon}${lifecycleBadge(t, w.measureStatus)}</p>
${w.note ? html`<p class="note"><b>${t.note}:</b> ${w.note}</p>` : ''}`
    return sendPage(req, reply, {
      title: w.measureKey,
      body: html`${head}<div class="cols"><div class="main">${traceBox}${timeline}<section><h3>${t.notices}</h3>${translationNote}${notices}</section>${history}</div>
${staff ? html`<aside>${actionsPanel(t, w, reply.generateCsrf(), req.user!.email, ctx.categories, lang, state)}<p class="hint">${t.shortcuts}</p></aside>` : ''}</div>`,
    })
  })

  const idOf = (req: FastifyRequest) => Number((req.params as { id: string }).id)
  const body = (req: FastifyRequest) => (req.body ?? {}) as Record<string, string | string[] | undefined>
  /** Back to the warning's page, with the queue state it was opened with and a message saying what happened. */
  const back = (req: FastifyRequest, reply: FastifyReply, flash: Flash, id = idOf(req)) => setFlash(reply, flash).redirect(`/warnings/${id}${stateOf(req)}`, 303)
  const keyOf = async (id: number) => (await ctx.db.selectFrom('warning').innerJoin('measure', 'measure.id', 'warning.measure_id').select('measure.key').where('warning.id', '=', id).executeTakeFirst())?.key ?? `#${id}`
  const notFound = (reply: FastifyReply) => {
    reply.callNotFound()
    return reply
  }
  const fail = (req: FastifyRequest, reply: FastifyReply, err: unknown) => {
    const t = T[req.lang]
    if (err instanceof WarningError) {
      if (err.code === 'WARNING_NOT_FOUND') return notFound(reply)
      return back(req, reply, { kind: 'error', text: err.code === 'REASON_REQUIRED' ? t.flash.reasonNeeded : t.flash.invalid })
    }
    throw err
  }

  app.post('/warnings/:id/action', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const t = T[req.lang]
    const b = body(req)
    const action = String(b.action ?? '')
    if (!(ACTIONS as readonly string[]).includes(action)) return back(req, reply, { kind: 'error', text: t.flash.unknownAction })
    const reason = typeof b.reason === 'string' ? b.reason.trim() : ''
    try {
      const [r] = await applyAction(ctx, [idOf(req)], action as WarningAction, req.user!.email, { reason, note: b.note as string })
      if (!r.ok && r.error === 'not found') return notFound(reply)
      const st = (s?: string) => (s ? t.statuses[s] ?? s : '')
      if (!r.ok) return back(req, reply, { kind: 'error', text: t.flash.cannot(t.actions[action], st(r.from)) })
      if (r.unchanged) return back(req, reply, { kind: 'ok', text: t.flash.unchanged(st(r.to)) })
      const text = `${t.flash.one(t.flash.done[action], await keyOf(r.id))}${action === 'dismiss' ? `${req.lang === 'zh' ? '' : ' '}${t.flash.reason(reason)}` : ''}`
      const undo = action === 'dismiss' ? { ids: [r.id], next: `/warnings/${r.id}${stateOf(req)}`, label: t.flash.undo } : undefined
      return back(req, reply, { kind: 'ok', text, undo })
    } catch (err) {
      return fail(req, reply, err)
    }
  })
  // Undo a dismissal (the flash's button): each warning back to the status it was dismissed from.
  app.post('/warnings/undo', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const t = T[req.lang]
    const b = body(req)
    const ids = formIds(b.ids).slice(0, 200)
    const results = []
    for (const id of ids) results.push(await undoDismiss(ctx, id, req.user!.email))
    const done = results.filter((r) => r.ok).length
    return setFlash(reply, done ? { kind: 'ok', text: t.flash.undone(done) } : { kind: 'error', text: t.flash.cannotUndo }).redirect(safeNext(b.next as string | undefined), 303)
  })
  app.post('/warnings/:id/note', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const t = T[req.lang]
    const note = String(body(req).note ?? '').slice(0, 10000)
    try {
      await setNote(ctx, idOf(req), note, req.user!.email)
    } catch (err) {
      return fail(req, reply, err)
    }
    return back(req, reply, { kind: 'ok', text: note.trim() ? t.flash.noteSaved : t.flash.noteCleared })
  })
  app.post('/warnings/:id/assign', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const t = T[req.lang]
    const who = String(body(req).assignee ?? '').slice(0, 320).trim()
    try {
      await assign(ctx, idOf(req), who, req.user!.email)
    } catch (err) {
      return fail(req, reply, err)
    }
    return back(req, reply, { kind: 'ok', text: who ? t.flash.assigned(who) : t.flash.unassigned })
  })
  app.post('/warnings/:id/level', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const t = T[req.lang]
    const level = String(body(req).level ?? '')
    try {
      await setLevel(ctx, idOf(req), level ? (level as Level) : null, req.user!.email)
    } catch (err) {
      return fail(req, reply, err)
    }
    const now = await ctx.db.selectFrom('warning').select('level').where('id', '=', idOf(req)).executeTakeFirst()
    return back(req, reply, { kind: 'ok', text: level ? t.flash.level(t.levels[level] ?? level) : t.flash.levelAuto(t.levels[now?.level ?? ''] ?? now?.level ?? '') })
  })
  app.post('/warnings/:id/categories', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const t = T[req.lang]
    const raw = body(req).categories
    const cats = (Array.isArray(raw) ? raw : raw ? [raw] : []).map(String)
    if (!cats.length) return back(req, reply, { kind: 'error', text: t.flash.categoriesNone })
    try {
      const r = await correctCategories(ctx, idOf(req), cats, req.user!.email)
      // Say where the correction lands: the new categories, the new score, and another warning if the measure moved.
      const names = (ids: string[]) => ids.map((id) => { const c = ctx.categoryIndex.byId(id); return c ? (req.lang === 'zh' ? c.zh : c.en) : id }).join(req.lang === 'zh' ? '、' : ', ')
      const now = await ctx.db.selectFrom('warning').select(['level', 'score']).where('id', '=', r.warningId).executeTakeFirst()
      const parts = [t.flash.categories(names(r.categories), names(r.previous))]
      if (now) parts.push(t.flash.rescored(t.levels[now.level] ?? now.level, now.score))
      if (r.examples) parts.push(t.flash.learnt(r.examples))
      const moved = r.warningId !== idOf(req)
      if (moved) parts.push(t.flash.moved(r.warningId))
      return back(req, reply, { kind: 'ok', text: parts.join(req.lang === 'zh' ? '' : ' '), link: moved ? { href: `/warnings/${r.warningId}${stateOf(req)}`, label: t.flash.openMoved(r.warningId) } : undefined })
    } catch (err) {
      return fail(req, reply, err)
    }
  })
}

function describeDetails(t: Words, d: Record<string, unknown>, catName: (id: string) => string): string {
  const parts: string[] = []
  if (typeof d.reason === 'string') parts.push(t.reasons[d.reason] ?? d.reason)
  if (Array.isArray(d.merged)) parts.push((d.merged as { category: string; status: string }[]).map((m) => `${catName(m.category)}（${t.statuses[m.status] ?? m.status}）`).join('、'))
  if (typeof d.note === 'string') parts.push(d.note)
  if (typeof d.assignee === 'string' || d.assignee === null) parts.push(String(d.assignee ?? t.unassigned))
  if (Array.isArray(d.from) && Array.isArray(d.to)) parts.push(`${(d.from as string[]).map(catName).join('、') || '—'} → ${(d.to as string[]).map(catName).join('、')}`)
  else if (d.from && d.to && typeof d.from === 'object') {
    const f = d.from as { score: number; level: string }
    const to = d.to as { score: number; level: string }
    parts.push(`${f.score} (${t.levels[f.level] ?? f.level}) → ${to.score} (${t.levels[to.level] ?? to.level})`)
  }
  if ('level' in d && !('from' in d) && !('score' in d)) parts.push(d.level ? (t.levels[String(d.level)] ?? String(d.level)) : t.levelAuto)
  if (Array.isArray(d.categories)) parts.push((d.categories as string[]).map(catName).join('、'))
  if (typeof d.measureStatus === 'string' && !parts.length) parts.push(t.measureStatus[d.measureStatus] ?? d.measureStatus)
  if (typeof d.score === 'number') parts.push(`${d.score} (${t.levels[String(d.level)] ?? d.level})`)
  return parts.join(' · ')
}

export default warningRoutes
