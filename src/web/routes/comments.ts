import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RoutePlugin } from '../app.js'
import { REQUEST_LABEL, STATUS_LABEL, W, type CommentStatus, type Lang } from '../../comments/words.js'
import {
  CommentStateError,
  draftComment,
  feedbackForMeasure,
  FeedbackInputError,
  getComment,
  listComments,
  measureFacts,
  saveDraft,
  setCommentStatus,
  totalsOf,
  windowOf,
  DRAFT_MAX,
  REPLY_MAX,
  SUBMITTED_TO_MAX,
} from '../../services/comment.service.js'
import { html, type Raw } from '../../util/html.js'
import { READERS, requireRole, STAFF } from '../auth.js'
import { formFields, first } from '../forms.js'
import { sendPage, T } from '../layout.js'
import { localDay } from '../../domain/dates.js'

const money = (n: number | null, lang: Lang) => (n === null ? '—' : n.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US'))

/**
 * 评议 for analysts, admins (who draft and track) and officials (who read): every measure
 * with enterprise feedback or a comment (`/comments`), and one measure's feedback, totals,
 * draft and status (`/comments/:measureId`). Enterprises never reach these pages.
 */
const commentRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/comments', { preHandler: requireRole(...READERS) }, async (req, reply) => {
    const lang = req.lang
    const c = W[lang]
    const rows = await listComments(ctx)
    const table = rows.length
      ? html`<table class="comments"><thead><tr><th>${c.measure}</th><th>${c.wtoDeadline}</th><th>${c.internalDeadline}</th><th>${c.status}</th><th class="num">${c.enterprises}</th><th class="num">${c.totalExport}</th><th class="num">${c.totalCost}</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td><a href="/comments/${r.measureId}" class="key">${r.measureKey}</a><div class="title">${r.title ?? ''}</div></td><td class="nowrap">${r.commentDeadline ?? '—'}</td><td class="nowrap">${r.internalDeadline ?? '—'}</td>
<td>${STATUS_LABEL[lang][r.status]}</td><td class="num">${r.enterprises}</td><td class="num">${money(r.exportValue, lang)}</td><td class="num">${money(r.complianceCost, lang)}</td></tr>`)}</tbody></table>`
      : html`<p class="hint">${c.noFeedback}</p>`
    return sendPage(req, reply, { title: c.allComments, body: html`<h2>${c.allComments}</h2><p class="hint">${c.commentsIntro}</p>${table}` })
  })

  const idOf = (req: FastifyRequest) => Number((req.params as { measureId: string }).measureId)

  async function page(req: FastifyRequest, reply: FastifyReply, measureId: number, opts: { status?: number; message?: Raw; values?: { draftZh?: string; draftEn?: string } } = {}) {
    const lang = req.lang
    const c = W[lang]
    const t = T[lang]
    const m = Number.isSafeInteger(measureId) && measureId > 0 ? await measureFacts(ctx, measureId) : null
    if (!m) return reply.callNotFound()
    const fs = await feedbackForMeasure(ctx, measureId)
    const totals = totalsOf(fs)
    const comment = await getComment(ctx, measureId)
    const win = await windowOf(ctx, measureId)
    const staff = STAFF.includes(req.user!.role)
    const csrf = html`<input type="hidden" name="_csrf" value="${reply.generateCsrf()}">`
    const warning = await ctx.db.selectFrom('warning').select('id').where('measure_id', '=', measureId).orderBy('id').executeTakeFirst()
    const list = (xs: string[]) => xs.join(lang === 'zh' ? '、' : ', ')
    const marketName = (code: string) => {
      const mk = ctx.markets.find((x) => x.code === code)
      return mk ? (lang === 'zh' ? mk.zh : mk.en) : code
    }
    const feedbackTable = fs.length
      ? html`<table class="feedback-all"><thead><tr><th>${c.company}</th><th>${c.products}</th><th class="num">${c.exportValue}</th><th class="num">${c.complianceCost}</th><th>${c.concerns}</th><th>${c.requests}</th><th>${c.contact}</th></tr></thead><tbody>
${fs.map((f) => html`<tr class="fb"><td>${f.company}<div class="hint">${f.email}</div></td><td><div class="pre">${f.products}</div>${f.hs.length ? html`<div class="hint">HS ${f.hs.join(', ')}</div>` : ''}${f.markets.length ? html`<div class="hint">${list(f.markets.map(marketName))}</div>` : ''}</td>
<td class="num">${money(f.exportValue, lang)}</td><td class="num">${money(f.complianceCost, lang)}</td>
<td><ol>${f.concerns.map((x) => html`<li><b>${x.requirement}</b><div class="pre">${x.why}</div></li>`)}</ol></td>
<td>${list(f.requests.map((r) => REQUEST_LABEL[lang][r]))}${f.requestOther ? html`<div class="pre">${f.requestOther}</div>` : ''}</td><td>${f.contact}</td></tr>`)}</tbody></table>`
      : html`<p class="hint">${c.noFeedback}</p>`
    const status: CommentStatus | 'none' = comment?.status ?? 'none'
    const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
    let draft: Raw
    if (!comment) draft = staff ? html`<form method="post" action="/comments/${measureId}/draft">${csrf}<input type="hidden" name="op" value="start"><button type="submit" id="start-draft">${c.startDraft}</button></form>` : html``
    else if (comment.status === 'drafting' && staff)
      draft = html`<form method="post" action="/comments/${measureId}/draft" class="stack">${csrf}<input type="hidden" name="op" value="save">
<label>${c.draftZh}<textarea name="draftZh" id="draft-zh" rows="16" maxlength="${DRAFT_MAX}">${opts.values?.draftZh ?? comment.draftZh}</textarea></label>
<label>${c.draftEn}<textarea name="draftEn" id="draft-en" rows="16" maxlength="${DRAFT_MAX}">${opts.values?.draftEn ?? comment.draftEn}</textarea></label>
<p><button type="submit" id="save-draft">${c.saveDraft}</button></p></form>
<form method="post" action="/comments/${measureId}/draft" class="inline">${csrf}<input type="hidden" name="op" value="rebuild"><button type="submit" id="rebuild-draft">${c.regenerate}</button></form>`
    else draft = html`<h4>${c.draftZh}</h4><div class="pre draft" id="draft-zh">${comment.draftZh}</div><h4>${c.draftEn}</h4><div class="pre draft" id="draft-en" lang="en">${comment.draftEn}</div>`
    const track = !staff || !comment
      ? html``
      : comment.status === 'drafting'
        ? html`<form method="post" action="/comments/${measureId}/status" class="row" id="submit-form">${csrf}<input type="hidden" name="to" value="submitted">
<label>${c.submittedOn}<input type="date" name="date" value="${today}" required></label><label>${c.submittedTo}<input type="text" name="submittedTo" maxlength="${SUBMITTED_TO_MAX}" placeholder="WTO/TBT"></label><button type="submit" id="mark-submitted">${c.markSubmitted}</button></form>`
        : comment.status === 'submitted'
          ? html`<form method="post" action="/comments/${measureId}/status" class="stack" id="reply-form">${csrf}<input type="hidden" name="to" value="replied">
<label>${c.replyOn}<input type="date" name="date" value="${today}" required></label><label>${c.replyText}<textarea name="replyText" rows="5" maxlength="${REPLY_MAX}"></textarea></label><button type="submit" id="mark-replied">${c.markReplied}</button></form>`
          : html``
    const close = staff && comment && comment.status !== 'closed' ? html`<form method="post" action="/comments/${measureId}/status" class="inline">${csrf}<input type="hidden" name="to" value="closed"><button type="submit" id="mark-closed">${c.close}</button></form>` : ''
    const facts = comment
      ? html`<p id="comment-status">${c.status}${t.colon}<b>${STATUS_LABEL[lang][status]}</b>${comment.submittedOn ? html` · ${c.submittedOn}${t.colon}${comment.submittedOn}${comment.submittedTo ? html` → ${comment.submittedTo}` : ''}` : ''}${comment.replyOn ? html` · ${c.replyOn}${t.colon}${comment.replyOn}` : ''}</p>${comment.replyText ? html`<blockquote class="pre" id="reply-text">${comment.replyText}</blockquote>` : ''}`
      : html`<p id="comment-status">${c.status}${t.colon}${STATUS_LABEL[lang].none}</p>`
    const body = html`<p><a href="/comments">${c.allComments}</a>${warning ? html` · <a href="/warnings/${warning.id}">${m.key}</a>` : ''}</p>
<h2>${c.measureComments} · <span class="key">${list(m.symbols)}</span> · <span id="measure-title">${m.title ?? ''}</span></h2>
<p class="meta">${t.members}${t.colon}${list(m.members.map((x) => (lang === 'zh' ? x.zh : x.en)))} · ${c.wtoDeadline}${t.colon}${m.commentDeadline ?? '—'} · ${c.internalDeadline}${t.colon}${win.internalDeadline ?? '—'}</p>
${opts.message ?? ''}
<section><h3>${c.totals}</h3><table class="totals" id="totals"><tbody><tr><th>${c.enterprises}</th><td class="num" id="total-enterprises">${totals.enterprises}</td></tr>
<tr><th>${c.totalExport}</th><td class="num" id="total-export">${money(totals.exportValue, lang)}</td></tr><tr><th>${c.totalCost}</th><td class="num" id="total-cost">${money(totals.complianceCost, lang)}</td></tr></tbody></table></section>
<section><h3>${c.feedback}</h3>${feedbackTable}</section>
<section><h3>${c.draft}</h3>${facts}${draft}${track}${close}</section>`
    return sendPage(req, reply, { title: `${c.commentsTitle} · ${m.key}`, status: opts.status, body })
  }

  app.get('/comments/:measureId', { preHandler: requireRole(...READERS) }, async (req, reply) => page(req, reply, idOf(req)))

  const problem = (req: FastifyRequest, reply: FastifyReply, id: number, e: unknown, values?: { draftZh?: string; draftEn?: string }) => {
    const c = W[req.lang]
    const msg = (m: string) => html`<p class="err" id="comment-error">${m}</p>`
    if (e instanceof FeedbackInputError) return page(req, reply, id, { status: 400, values, message: msg(e.problem.kind === 'number' ? c.badDate : e.problem.kind === 'too-long' ? c.tooLong(c.draft, e.problem.max ?? 0) : c.badTransition) })
    if (e instanceof CommentStateError) return e.code === 'NOT_FOUND' ? reply.callNotFound() : page(req, reply, id, { status: 409, message: msg(c.badTransition) })
    throw e
  }

  app.post('/comments/:measureId/draft', { preHandler: requireRole(...STAFF), bodyLimit: 512 * 1024 }, async (req, reply) => {
    const id = idOf(req)
    const f = formFields(req.body)
    const op = first(f, 'op')
    const values = { draftZh: f.get('draftZh')?.[0] ?? '', draftEn: f.get('draftEn')?.[0] ?? '' }
    try {
      if (op === 'start') await draftComment(ctx, id, req.user!.email)
      else if (op === 'rebuild') await draftComment(ctx, id, req.user!.email, { rebuild: true })
      else if (op === 'save') await saveDraft(ctx, id, values.draftZh, values.draftEn, req.user!.email)
      else return page(req, reply, id, { status: 400, message: html`<p class="err">${W[req.lang].badTransition}</p>` })
    } catch (e) {
      return problem(req, reply, id, e, values)
    }
    return reply.redirect(`/comments/${id}`, 303)
  })

  app.post('/comments/:measureId/status', { preHandler: requireRole(...STAFF), bodyLimit: 256 * 1024 }, async (req, reply) => {
    const id = idOf(req)
    const f = formFields(req.body)
    const to = first(f, 'to') as CommentStatus
    try {
      await setCommentStatus(ctx, id, to, req.user!.email, { date: first(f, 'date'), submittedTo: f.get('submittedTo')?.[0], replyText: f.get('replyText')?.[0] })
    } catch (e) {
      return problem(req, reply, id, e)
    }
    ctx.log.info({ measureId: id, status: to }, 'comment status changed')
    // The enterprises are told now; what a failure (or a crash) leaves unsent, the daily sweep sends.
    if (to === 'submitted' || to === 'replied') {
      const { sendCommentMails } = await import('../../comments/notify.js')
      await sendCommentMails(ctx, id).catch((err: Error) => ctx.log.warn({ err: err.message, measureId: id }, 'comment e-mails not sent yet'))
    }
    return reply.redirect(`/comments/${id}`, 303)
  })
}

export default commentRoutes
