import type { AppContext } from '../app-context.js'
import { CONCERN_ROWS, FEEDBACK_LIMITS, type Feedback, type FeedbackProblem, type FeedbackWindow, type RawFeedback } from '../services/comment.service.js'
import type { WarningDetail } from '../services/warning.service.js'
import { REQUEST_KINDS, REQUEST_LABEL, W, type Lang } from '../comments/words.js'
import { daysBetween, localDay } from '../domain/dates.js'
import type { CategoryIndex } from '../domain/categories.js'
import { loadMembers } from '../domain/members.js'
import { html, raw, type Raw } from '../util/html.js'
import { deadlineCell, levelBadge, lifecycleBadge, safeUrl, T } from './layout.js'

// What an enterprise sees of a warning (logged in, or through its e-mail link) and the
// feedback form (评议). Only what digests publish: no notes, assignee, history, scores'
// traces or classifier candidates.

/** The form's fields as the service's raw input. */
export function feedbackFromForm(f: Map<string, string[]>): RawFeedback {
  const one = (k: string) => f.get(k)?.[0] ?? ''
  const reqs = f.get('concernRequirement') ?? []
  const whys = f.get('concernWhy') ?? []
  const n = Math.max(reqs.length, whys.length)
  return {
    company: one('company'),
    products: one('products'),
    hs: one('hs'),
    exportValue: one('exportValue'),
    markets: f.get('markets') ?? [],
    complianceCost: one('complianceCost'),
    concerns: Array.from({ length: n }, (_, i) => ({ requirement: reqs[i] ?? '', why: whys[i] ?? '' })),
    requests: f.get('requests') ?? [],
    requestOther: one('requestOther'),
    contact: one('contact'),
  }
}

/** A feedback problem in the reader's language. */
export function feedbackProblemText(lang: Lang, p: FeedbackProblem): string {
  const w = W[lang]
  const label: Record<string, string> = { company: w.company, products: w.products, hs: w.hs, exportValue: w.exportValue, markets: w.markets, complianceCost: w.complianceCost, concerns: w.concerns, requests: w.requests, requestOther: w.requestOther, contact: w.contact }
  const f = label[p.field] ?? p.field
  switch (p.kind) {
    case 'required':
      return w.required(f)
    case 'too-long':
      return w.tooLong(f, p.max ?? 0)
    case 'too-many':
      return w.tooMany(f, p.max ?? 0)
    case 'number':
      return w.badNumber(f)
    case 'hs':
      return w.badHs
    case 'market':
      return w.badMarket(p.value ?? '')
    case 'request':
      return w.badRequest
    default:
      return w.needConcern
  }
}

const fmt = (n: number | null, lang: Lang) => (n === null ? '—' : n.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US'))

/** The warning as an enterprise may read it. */
/** What an enterprise subscribed to: categories, HS code prefixes, or both. */
export interface Interest {
  categories?: readonly string[] | null
  hs?: readonly string[] | null
}

/**
 * The categories of a measure an enterprise sees: those it subscribed to; else those whose
 * HS codes meet the prefixes it subscribed to (8517 meets mobile phones, 851713); else the
 * top one. Never the measure's others.
 */
export function enterpriseCategories<C extends { id: string }>(all: C[], interest: Interest | null | undefined, index: Pick<CategoryIndex, 'byId'>): C[] {
  const cats = interest?.categories ?? []
  const mine = cats.length ? all.filter((x) => cats.includes(x.id)) : []
  if (mine.length) return mine
  const hs = interest?.hs ?? []
  const meets = hs.length ? all.filter((x) => index.byId(x.id)?.hs.some((p) => hs.some((h) => p.startsWith(h) || h.startsWith(p)))) : []
  return meets.length ? meets : all.slice(0, 1)
}

export function enterpriseWarning(ctx: AppContext, lang: Lang, w: WarningDetail, interest: Interest | null, internalDeadline: string | null): Raw {
  const t = T[lang]
  const c = W[lang]
  const members = loadMembers()
  const name = (x: { zh: string; en: string }) => (lang === 'zh' ? x.zh : x.en)
  const list = (xs: string[]) => xs.join(lang === 'zh' ? '、' : ', ')
  const shown = enterpriseCategories(w.categories, interest, ctx.categoryIndex)
  const products = [...new Set(w.notices.map((n) => n.products).filter((p): p is string => !!p))]
  const hs = [...new Set(w.notices.flatMap((n) => n.hsCodes))]
  const description = w.notices.find((n) => n.description)?.description
  const links = [...new Set(w.notices.flatMap((n) => [n.sourceUrl, ...n.links]))].map(safeUrl).filter((u): u is string => !!u).slice(0, 6)
  const days = w.commentDeadline ? daysBetween(localDay(ctx.clock(), ctx.config.schedule.timezone), w.commentDeadline) : null
  return html`<h2><span class="key">${list(w.symbols.length ? w.symbols : [w.measureKey])}</span> · <span id="warning-title">${w.title ?? ''}</span></h2>
<dl class="facts">
<dt>${t.level}</dt><dd>${levelBadge(t, w.level)}</dd>
<dt>${t.members}</dt><dd id="members">${list(w.members.map(name)) || members.name(w.member, lang)}</dd>
<dt>${t.categories}</dt><dd>${shown.map((x) => html`<span class="chip">${name(x)}</span>`)}</dd>
${products.length ? html`<dt>${t.products}</dt><dd>${products.join('；')}</dd>` : ''}
${hs.length ? html`<dt>${t.hs}</dt><dd>${hs.slice(0, 20).join(', ')}</dd>` : ''}
<dt>${t.deadline}</dt><dd>${deadlineCell(t, w.commentDeadline, w.deadlineState)}${days !== null ? html` <small>${t.daysLeft(days)}</small>` : ''}</dd>
${internalDeadline ? html`<dt>${c.internalDeadline}</dt><dd id="internal-deadline">${internalDeadline}</dd>` : ''}
<dt>${t.lifecycle}</dt><dd>${lifecycleBadge(t, w.measureStatus)}</dd>
${description ? html`<dt>${t.description}</dt><dd class="pre">${description}</dd>` : ''}
${links.length ? html`<dt>${t.links}</dt><dd><ul>${links.map((u) => html`<li><a href="${u}" rel="noopener noreferrer nofollow" target="_blank">${u}</a></li>`)}</ul></dd>` : ''}
</dl>`
}

/** The enterprise's own feedback, read-only. */
export function feedbackSummary(lang: Lang, f: Feedback): Raw {
  const c = W[lang]
  return html`<dl class="facts feedback-own">
<dt>${c.company}</dt><dd>${f.company}</dd><dt>${c.products}</dt><dd class="pre">${f.products}</dd>
${f.hs.length ? html`<dt>${c.hs}</dt><dd>${f.hs.join(', ')}</dd>` : ''}
<dt>${c.exportValue}</dt><dd>${fmt(f.exportValue, lang)}</dd><dt>${c.complianceCost}</dt><dd>${fmt(f.complianceCost, lang)}</dd>
${f.markets.length ? html`<dt>${c.markets}</dt><dd>${f.markets.join(', ')}</dd>` : ''}
<dt>${c.concerns}</dt><dd><ol>${f.concerns.map((x) => html`<li><b>${x.requirement}</b><div class="pre">${x.why}</div></li>`)}</ol></dd>
<dt>${c.requests}</dt><dd>${f.requests.map((r) => REQUEST_LABEL[lang][r]).join(lang === 'zh' ? '、' : '; ')}${f.requestOther ? html`<div class="pre">${f.requestOther}</div>` : ''}</dd>
<dt>${c.contact}</dt><dd>${f.contact}</dd></dl>`
}

export interface FeedbackFormOptions {
  action: string
  hidden: Record<string, string>
  window: FeedbackWindow
  /** What the form shows: the enterprise's saved feedback, or what it just sent (an error). */
  values: RawFeedback | null
  saved: boolean
  message?: Raw
  /** Markets offered: the watched ones and the measure's own. */
  markets: { code: string; zh: string; en: string }[]
}

/** The feedback section: the form while the window is open, else the saved feedback (if any). */
export function feedbackSection(lang: Lang, o: FeedbackFormOptions, own: Feedback | null): Raw {
  const c = W[lang]
  const L = FEEDBACK_LIMITS
  const win = o.window
  const status = win.open
    ? win.internalDeadline
      ? html`<p class="hint">${c.editableUntil(win.internalDeadline)}</p>`
      : ''
    : html`<p class="err" id="feedback-closed">${win.reason === 'submitted' ? c.closedSubmitted : win.reason === 'closed' && win.internalDeadline ? c.closedAt(win.internalDeadline) : c.notOpen}</p>`
  if (!win.open) return html`<section id="feedback" class="feedback"><h3>${c.feedback}</h3>${status}${own ? html`<h4>${c.yours}</h4>${feedbackSummary(lang, own)}` : ''}</section>`
  const v = o.values ?? {}
  const s = (x: unknown) => (typeof x === 'string' ? x : x === null || x === undefined ? '' : String(x))
  const hs = Array.isArray(v.hs) ? v.hs.join(' ') : s(v.hs)
  const markets = (Array.isArray(v.markets) ? v.markets : []).map((m) => String(m).toUpperCase())
  const requests = (v.requests ?? []).map(String)
  const concerns = [...(v.concerns ?? [])]
  while (concerns.length < CONCERN_ROWS) concerns.push({ requirement: '', why: '' })
  const checked = (on: boolean) => raw(on ? ' checked' : '')
  return html`<section id="feedback" class="feedback"><h3>${c.feedback}</h3><p>${c.feedbackIntro}</p>${status}
${o.saved ? html`<p class="ok" id="feedback-saved">${c.saved}</p>` : ''}${o.message ?? ''}
<form method="post" action="${o.action}" class="stack feedback-form">
${Object.entries(o.hidden).map(([k, x]) => html`<input type="hidden" name="${k}" value="${x}">`)}
<label>${c.company}<input type="text" name="company" required maxlength="${L.company}" value="${s(v.company)}"></label>
<label>${c.products}<textarea name="products" rows="2" required maxlength="${L.products}">${s(v.products)}</textarea></label>
<label>${c.hs}<input type="text" name="hs" maxlength="400" inputmode="numeric" value="${hs}"></label>
<div class="row2"><label>${c.exportValue}<input type="text" name="exportValue" inputmode="numeric" maxlength="20" value="${s(v.exportValue)}"></label>
<label>${c.complianceCost}<input type="text" name="complianceCost" inputmode="numeric" maxlength="20" value="${s(v.complianceCost)}"></label></div>
<fieldset><legend>${c.markets}</legend>${o.markets.map((m) => html`<label class="opt"><input type="checkbox" name="markets" value="${m.code}"${checked(markets.includes(m.code))}> ${lang === 'zh' ? m.zh : m.en}</label>`)}</fieldset>
<fieldset><legend>${c.concerns}</legend>${concerns.slice(0, L.concerns).map(
    (x, i) => html`<div class="concern"><label>${i + 1}. ${c.requirement}<input type="text" name="concernRequirement" maxlength="${L.requirement}" value="${s(x.requirement)}"${raw(i === 0 ? ' required' : '')}></label>
<label>${c.why}<textarea name="concernWhy" rows="3" maxlength="${L.why}">${s(x.why)}</textarea></label></div>`,
  )}</fieldset>
<fieldset><legend>${c.requests}</legend>${REQUEST_KINDS.map((k) => html`<label class="opt"><input type="checkbox" name="requests" value="${k}"${checked(requests.includes(k))}> ${REQUEST_LABEL[lang][k]}</label>`)}
<label>${c.requestOther}<textarea name="requestOther" rows="2" maxlength="${L.requestOther}">${s(v.requestOther)}</textarea></label></fieldset>
<label>${c.contact}<input type="text" name="contact" required maxlength="${L.contact}" value="${s(v.contact)}"></label>
<p><button type="submit" id="feedback-submit">${own ? c.update : c.submit}</button></p></form></section>`
}

/** A saved feedback as the form's values. */
export const feedbackValues = (f: Feedback): RawFeedback => ({ ...f, exportValue: f.exportValue ?? '', complianceCost: f.complianceCost ?? '' })
