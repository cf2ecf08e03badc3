import type { AppContext } from '../app-context.js'
import { addDays, localDay } from '../domain/dates.js'
import { loadMembers } from '../domain/members.js'
import { parseSymbol } from '../domain/symbols.js'
import { COMMENT_STATUSES, REQUEST_KINDS, REQUEST_LABEL, type CommentStatus, type Lang, type RequestKind } from '../comments/words.js'

// 评议: enterprises' feedback on a measure, the totals analysts see, China's comment drafted
// from it, and where that comment stands. An enterprise is an e-mail address: a user and a
// subscriber with the same address are the same enterprise.

/** Bounds on one enterprise's feedback (also what the form accepts). */
export const FEEDBACK_LIMITS = { company: 200, products: 2000, hs: 30, markets: 30, concerns: 10, requirement: 500, why: 4000, requestOther: 2000, contact: 300, money: 1e12 } as const
/** Concern rows the form offers. */
export const CONCERN_ROWS = 3

export interface Concern {
  requirement: string
  why: string
}

export interface FeedbackInput {
  company: string
  products: string
  hs: string[]
  exportValue: number | null
  markets: string[]
  complianceCost: number | null
  concerns: Concern[]
  requests: RequestKind[]
  requestOther: string
  contact: string
}

export interface Feedback extends FeedbackInput {
  id: number
  measureId: number
  email: string
  createdAt: string
  updatedAt: string
}

export type FeedbackField = keyof FeedbackInput
export interface FeedbackProblem {
  field: FeedbackField
  kind: 'required' | 'too-long' | 'too-many' | 'number' | 'hs' | 'market' | 'request' | 'concern'
  max?: number
  value?: string
}

/** Feedback that cannot be accepted as sent: retrying the same input cannot help. */
export class FeedbackInputError extends Error {
  constructor(readonly problem: FeedbackProblem) {
    super(`${problem.field}: ${problem.kind}`)
    this.name = 'FeedbackInputError'
  }
}

/** A change refused in the measure's current state (feedback closed, a status change out of order). */
export class CommentStateError extends Error {
  constructor(
    message: string,
    readonly code: 'FEEDBACK_CLOSED' | 'BAD_TRANSITION' | 'NOT_FOUND',
  ) {
    super(message)
    this.name = 'CommentStateError'
  }
}

/** Text as the form gives it: control characters other than tab and newline removed, trimmed, Windows newlines folded. */
export const cleanText = (s: unknown): string =>
  String(s ?? '')
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, '')
    .trim()

export interface RawFeedback {
  company?: unknown
  products?: unknown
  hs?: unknown
  exportValue?: unknown
  markets?: unknown
  complianceCost?: unknown
  concerns?: { requirement?: unknown; why?: unknown }[]
  requests?: unknown[]
  requestOther?: unknown
  contact?: unknown
}

/** Checks and normalises feedback; throws FeedbackInputError naming the first problem. */
export function validateFeedback(ctx: Pick<AppContext, 'markets'>, r: RawFeedback): FeedbackInput {
  const L = FEEDBACK_LIMITS
  const text = (field: FeedbackField, v: unknown, max: number, required: boolean) => {
    const s = cleanText(v)
    if (required && !s) throw new FeedbackInputError({ field, kind: 'required' })
    if ([...s].length > max) throw new FeedbackInputError({ field, kind: 'too-long', max })
    return s
  }
  const money = (field: FeedbackField, v: unknown): number | null => {
    const s = cleanText(v).replace(/[,，\s]/g, '')
    if (!s) return null
    if (!/^\d{1,13}$/.test(s) || Number(s) > L.money) throw new FeedbackInputError({ field, kind: 'number' })
    return Number(s)
  }
  const list = (v: unknown) => (Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,，;；]+/) : []).map(cleanText).filter(Boolean)
  const company = text('company', r.company, L.company, true)
  const products = text('products', r.products, L.products, true)
  const hs = [...new Set(list(r.hs))]
  if (hs.length > L.hs) throw new FeedbackInputError({ field: 'hs', kind: 'too-many', max: L.hs })
  for (const h of hs) if (!/^\d{2,10}$/.test(h)) throw new FeedbackInputError({ field: 'hs', kind: 'hs' })
  const markets = [...new Set(list(r.markets).map((m) => m.toUpperCase()))]
  if (markets.length > L.markets) throw new FeedbackInputError({ field: 'markets', kind: 'too-many', max: L.markets })
  for (const m of markets) if (!ctx.markets.some((x) => x.code === m)) throw new FeedbackInputError({ field: 'markets', kind: 'market', value: m.slice(0, 20) })
  const exportValue = money('exportValue', r.exportValue)
  const complianceCost = money('complianceCost', r.complianceCost)
  const rawConcerns = r.concerns ?? []
  if (rawConcerns.length > L.concerns) throw new FeedbackInputError({ field: 'concerns', kind: 'too-many', max: L.concerns })
  const concerns: Concern[] = []
  for (const c of rawConcerns) {
    const requirement = text('concerns', c.requirement, L.requirement, false)
    const why = text('concerns', c.why, L.why, false)
    if (requirement || why) concerns.push({ requirement, why })
  }
  if (!concerns.length) throw new FeedbackInputError({ field: 'concerns', kind: 'concern' })
  const requests = [...new Set((r.requests ?? []).map((x) => cleanText(x)).filter(Boolean))]
  if (requests.length > REQUEST_KINDS.length || requests.some((x) => !(REQUEST_KINDS as readonly string[]).includes(x))) throw new FeedbackInputError({ field: 'requests', kind: 'request' })
  const requestOther = text('requestOther', r.requestOther, L.requestOther, false)
  const contact = text('contact', r.contact, L.contact, true)
  return { company, products, hs, exportValue, markets, complianceCost, concerns, requests: requests as RequestKind[], requestOther, contact }
}

// ---------------------------------------------------------------------------------------
// The window: feedback is open while the measure is open for comments, until the internal
// deadline (TBT_COMMENT_LEAD_DAYS working days before the WTO deadline), and before the
// comment is submitted.

/** `days` working days (Monday to Friday) before `date`. */
export function workingDaysBefore(date: string, days: number): string {
  let d = date
  let left = days
  while (left > 0) {
    d = addDays(d, -1)
    const wd = new Date(`${d}T00:00:00Z`).getUTCDay()
    if (wd !== 0 && wd !== 6) left--
  }
  return d
}

export interface FeedbackWindow {
  open: boolean
  /** The last day enterprises may send or change feedback, when the measure has a deadline. */
  internalDeadline: string | null
  reason: 'open' | 'closed' | 'submitted' | 'not-open'
}

export function feedbackWindow(ctx: Pick<AppContext, 'config' | 'clock'>, m: { status: string; comment_deadline: string | null }, commentStatus: string | null): FeedbackWindow {
  const internalDeadline = m.comment_deadline ? workingDaysBefore(m.comment_deadline, ctx.config.comments.leadDays) : null
  if (commentStatus && commentStatus !== 'drafting') return { open: false, internalDeadline, reason: 'submitted' }
  if (m.status !== 'open') return { open: false, internalDeadline, reason: 'not-open' }
  const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
  if (internalDeadline && today > internalDeadline) return { open: false, internalDeadline, reason: 'closed' }
  return { open: true, internalDeadline, reason: 'open' }
}

export async function windowOf(ctx: AppContext, measureId: number): Promise<FeedbackWindow> {
  const m = await ctx.db.selectFrom('measure').select(['status', 'comment_deadline']).where('id', '=', measureId).executeTakeFirst()
  if (!m) throw new CommentStateError(`no measure ${measureId}`, 'NOT_FOUND')
  const c = await ctx.db.selectFrom('measure_comment').select('status').where('measure_id', '=', measureId).executeTakeFirst()
  return feedbackWindow(ctx, m, c?.status ?? null)
}

// ---------------------------------------------------------------------------------------
// Feedback rows.

type FeedbackRow = {
  id: number
  measure_id: number
  email: string
  company: string
  products: string
  hs_codes: string
  export_value: number | string | null
  markets: string
  compliance_cost: number | string | null
  concerns: string
  requests: string
  request_other: string
  contact: string
  created_at: string
  updated_at: string
}
const num = (v: number | string | null) => (v === null || v === undefined ? null : Number(v))
const toFeedback = (r: FeedbackRow): Feedback => ({
  id: r.id,
  measureId: r.measure_id,
  email: r.email,
  company: r.company,
  products: r.products,
  hs: JSON.parse(r.hs_codes) as string[],
  exportValue: num(r.export_value),
  markets: JSON.parse(r.markets) as string[],
  complianceCost: num(r.compliance_cost),
  concerns: JSON.parse(r.concerns) as Concern[],
  requests: JSON.parse(r.requests) as RequestKind[],
  requestOther: r.request_other,
  contact: r.contact,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export interface Enterprise {
  email: string
  subscriberId?: number | null
  userId?: number | null
}

/** Sends or replaces an enterprise's feedback on a measure, while its window is open. */
export async function saveFeedback(ctx: AppContext, measureId: number, who: Enterprise, input: FeedbackInput): Promise<{ id: number; created: boolean }> {
  const w = await windowOf(ctx, measureId)
  if (!w.open) throw new CommentStateError(`feedback on measure ${measureId} is ${w.reason}`, 'FEEDBACK_CLOSED')
  const email = who.email.trim().toLowerCase()
  const now = ctx.clock().toISOString()
  const values = {
    company: input.company,
    products: input.products,
    hs_codes: JSON.stringify(input.hs),
    export_value: input.exportValue,
    markets: JSON.stringify(input.markets),
    compliance_cost: input.complianceCost,
    concerns: JSON.stringify(input.concerns),
    requests: JSON.stringify(input.requests),
    request_other: input.requestOther,
    contact: input.contact,
    updated_at: now,
  }
  const existing = await ctx.db.selectFrom('enterprise_feedback').select('id').where('measure_id', '=', measureId).where('email', '=', email).executeTakeFirst()
  if (existing) {
    await ctx.db
      .updateTable('enterprise_feedback')
      .set({ ...values, ...(who.subscriberId ? { subscriber_id: who.subscriberId } : {}), ...(who.userId ? { user_id: who.userId } : {}) })
      .where('id', '=', existing.id)
      .execute()
    return { id: existing.id, created: false }
  }
  const row = await ctx.db
    .insertInto('enterprise_feedback')
    .values({ measure_id: measureId, email, subscriber_id: who.subscriberId ?? null, user_id: who.userId ?? null, created_at: now, ...values })
    .onConflict((oc) => oc.columns(['measure_id', 'email']).doUpdateSet(values))
    .returning('id')
    .executeTakeFirstOrThrow()
  return { id: row.id, created: true }
}

/** One enterprise's feedback on a measure (only its own: the address is the key). */
export async function feedbackOf(ctx: AppContext, measureId: number, email: string): Promise<Feedback | null> {
  const r = await ctx.db.selectFrom('enterprise_feedback').selectAll().where('measure_id', '=', measureId).where('email', '=', email.trim().toLowerCase()).executeTakeFirst()
  return r ? toFeedback(r) : null
}

/** Every enterprise's feedback on a measure: for analysts, admins and officials only. */
export async function feedbackForMeasure(ctx: AppContext, measureId: number): Promise<Feedback[]> {
  const rows = await ctx.db.selectFrom('enterprise_feedback').selectAll().where('measure_id', '=', measureId).orderBy('id').execute()
  return rows.map(toFeedback)
}

export interface Totals {
  enterprises: number
  exportValue: number
  complianceCost: number
}
export const totalsOf = (fs: Feedback[]): Totals => ({
  enterprises: new Set(fs.map((f) => f.email)).size,
  exportValue: fs.reduce((s, f) => s + (f.exportValue ?? 0), 0),
  complianceCost: fs.reduce((s, f) => s + (f.complianceCost ?? 0), 0),
})

export interface MyFeedbackRow {
  measureId: number
  measureKey: string
  title: string | null
  commentDeadline: string | null
  updatedAt: string
  commentStatus: CommentStatus | null
  warningId: number | null
}

/** The measures an enterprise gave feedback on, newest change first. */
export async function feedbackByEnterprise(ctx: AppContext, email: string): Promise<MyFeedbackRow[]> {
  const rows = await ctx.db
    .selectFrom('enterprise_feedback as f')
    .innerJoin('measure as m', 'm.id', 'f.measure_id')
    .leftJoin('measure_comment as c', 'c.measure_id', 'f.measure_id')
    .select(['m.id', 'm.key', 'm.title', 'm.comment_deadline', 'f.updated_at', 'c.status'])
    .where('f.email', '=', email.trim().toLowerCase())
    .orderBy('f.updated_at', 'desc')
    .execute()
  const warnings = rows.length ? await ctx.db.selectFrom('warning').select(['id', 'measure_id']).where('measure_id', 'in', rows.map((r) => r.id)).orderBy('id').execute() : []
  return rows.map((r) => ({
    measureId: r.id,
    measureKey: r.key,
    title: r.title,
    commentDeadline: r.comment_deadline,
    updatedAt: r.updated_at,
    commentStatus: (r.status as CommentStatus | null) ?? null,
    warningId: warnings.find((w) => w.measure_id === r.id)?.id ?? null,
  }))
}

// ---------------------------------------------------------------------------------------
// China's comment: a draft from a template, then its status.

export interface MeasureFacts {
  id: number
  key: string
  title: string | null
  members: { code: string; zh: string; en: string }[]
  symbols: string[]
  commentDeadline: string | null
  status: string
}

export async function measureFacts(ctx: AppContext, measureId: number): Promise<MeasureFacts | null> {
  const m = await ctx.db.selectFrom('measure').select(['id', 'key', 'title', 'member', 'comment_deadline', 'status']).where('id', '=', measureId).executeTakeFirst()
  if (!m) return null
  const index = loadMembers()
  const codes = (await ctx.db.selectFrom('measure_member').select('member_code').where('measure_id', '=', measureId).orderBy('position').execute()).map((r) => r.member_code)
  const notices = await ctx.db.selectFrom('notice').select('symbols').where('measure_id', '=', measureId).orderBy('id').execute()
  const symbols = [...new Set(notices.flatMap((n) => (JSON.parse(n.symbols) as string[]).map((s) => parseSymbol(s)?.symbol ?? s)))]
  const members = (codes.length ? codes : [index.find(m.member)?.code ?? m.member ?? '']).filter(Boolean).map((c) => {
    const x = index.byCode(c)
    return { code: c, zh: x?.zh ?? c, en: x?.en ?? c }
  })
  return { id: m.id, key: m.key, title: m.title, members, symbols: symbols.length ? symbols : [m.key], commentDeadline: m.comment_deadline, status: m.status }
}

export async function measureIdByKey(ctx: AppContext, key: string): Promise<number | null> {
  const k = key.trim()
  const m = await ctx.db.selectFrom('measure').select('id').where('key', '=', k).executeTakeFirst()
  if (m) return m.id
  const s = await ctx.db.selectFrom('notice_symbol').innerJoin('notice', 'notice.id', 'notice_symbol.notice_id').select('notice.measure_id').where((eb) => eb.or([eb('notice_symbol.symbol', '=', k), eb('notice_symbol.base_symbol', '=', k)])).executeTakeFirst()
  return s?.measure_id ?? null
}

const yuan = (n: number, lang: Lang) => (lang === 'zh' ? `${n.toLocaleString('zh-CN')}元` : `CNY ${n.toLocaleString('en-US')}`)

/**
 * The comment draft the template gives for a measure: the measure, the member, its
 * symbols, the concerns grouped by requirement, the requests, and the supporting figures
 * (enterprises, export value, compliance cost). Plain text, Chinese and English; the
 * enterprises' own words are quoted as written (they are not translated).
 */
export function draftFromTemplate(m: MeasureFacts, fs: Feedback[]): { zh: string; en: string } {
  const t = totalsOf(fs)
  const byReq = new Map<string, { requirement: string; whys: string[] }>()
  for (const f of fs)
    for (const c of f.concerns) {
      const key = c.requirement.toLowerCase().replace(/\s+/g, ' ') || '-'
      const g = byReq.get(key) ?? { requirement: c.requirement, whys: [] }
      if (c.why) g.whys.push(c.why)
      byReq.set(key, g)
    }
  const reqCount = new Map<RequestKind, number>()
  for (const f of fs) for (const r of f.requests) reqCount.set(r, (reqCount.get(r) ?? 0) + 1)
  const others = fs.map((f) => f.requestOther).filter(Boolean)
  const products = [...new Set(fs.map((f) => f.products))]
  const hs = [...new Set(fs.flatMap((f) => f.hs))].sort()
  const build = (lang: Lang) => {
    const zh = lang === 'zh'
    const member = m.members.map((x) => (zh ? x.zh : x.en)).join(zh ? '、' : ', ') || m.key
    const lines: string[] = []
    lines.push(zh ? `关于${member}通报 ${m.symbols.join('、')} 的评议意见` : `Comments of China on ${m.symbols.join(', ')} notified by ${member}`)
    lines.push('')
    lines.push(zh ? `措施：${m.title ?? m.key}` : `Measure: ${m.title ?? m.key}`)
    if (m.commentDeadline) lines.push(zh ? `评议截止日期：${m.commentDeadline}` : `Comment deadline: ${m.commentDeadline}`)
    lines.push('')
    lines.push(
      zh
        ? `中方感谢${member}通报上述措施并提供评议机会。经征求${t.enterprises}家相关出口企业的意见（涉及产品：${products.join('；') || '—'}${hs.length ? `；HS编码：${hs.join('、')}` : ''}），中方提出以下意见：`
        : `China thanks ${member} for notifying the measure and for the opportunity to comment. Having consulted ${t.enterprises} exporting enterprise${t.enterprises === 1 ? '' : 's'} concerned (products: ${products.join('; ') || '-'}${hs.length ? `; HS codes: ${hs.join(', ')}` : ''}), China would like to make the following comments:`,
    )
    lines.push('')
    lines.push(zh ? '一、关注的问题' : '1. Concerns')
    let i = 0
    for (const g of byReq.values()) {
      i++
      lines.push(zh ? `${i}. 关于“${g.requirement || '总体要求'}”：` : `${i}. On "${g.requirement || 'the requirements in general'}":`)
      for (const w of g.whys) lines.push(`   - ${w}`)
    }
    if (!byReq.size) lines.push(zh ? '（尚无企业意见）' : '(no feedback yet)')
    lines.push('')
    lines.push(zh ? '二、建议' : '2. Requests')
    const kinds = REQUEST_KINDS.filter((k) => reqCount.has(k) && k !== 'other')
    kinds.forEach((k, j) => lines.push(zh ? `${j + 1}. 建议${REQUEST_LABEL.zh[k]}（${reqCount.get(k)}家企业提出）。` : `${j + 1}. China requests ${REQUEST_LABEL.en[k]} (asked by ${reqCount.get(k)} enterprise${reqCount.get(k) === 1 ? '' : 's'}).`))
    others.forEach((o, j) => lines.push(`${kinds.length + j + 1}. ${o}`))
    if (!kinds.length && !others.length) lines.push(zh ? '（无）' : '(none)')
    lines.push('')
    lines.push(zh ? '三、影响' : '3. Trade effect')
    lines.push(
      zh
        ? `据${t.enterprises}家企业估算，涉及年出口额约${yuan(t.exportValue, 'zh')}，预计合规成本约${yuan(t.complianceCost, 'zh')}。`
        : `By the estimates of ${t.enterprises} enterprise${t.enterprises === 1 ? '' : 's'}, the yearly exports concerned amount to about ${yuan(t.exportValue, 'en')} and the compliance cost to about ${yuan(t.complianceCost, 'en')}.`,
    )
    lines.push('')
    lines.push(zh ? `中方希望${member}在最终通过该措施前考虑上述意见，并给予书面答复。` : `China asks ${member} to take these comments into account before the measure is adopted, and to reply in writing.`)
    return lines.join('\n')
  }
  return { zh: build('zh'), en: build('en') }
}

export const DRAFT_MAX = 50_000
export const REPLY_MAX = 20_000
export const SUBMITTED_TO_MAX = 300

export interface MeasureComment {
  measureId: number
  status: CommentStatus
  draftZh: string
  draftEn: string
  submittedOn: string | null
  submittedTo: string | null
  replyOn: string | null
  replyText: string | null
  updatedBy: string
  updatedAt: string
}

export async function getComment(ctx: AppContext, measureId: number): Promise<MeasureComment | null> {
  const r = await ctx.db.selectFrom('measure_comment').selectAll().where('measure_id', '=', measureId).executeTakeFirst()
  if (!r) return null
  return {
    measureId: r.measure_id,
    status: r.status as CommentStatus,
    draftZh: r.draft_zh,
    draftEn: r.draft_en,
    submittedOn: r.submitted_on,
    submittedTo: r.submitted_to,
    replyOn: r.reply_on,
    replyText: r.reply_text,
    updatedBy: r.updated_by,
    updatedAt: r.updated_at,
  }
}

/** Starts the comment (status drafting) from the template, or rebuilds its text while drafting. */
export async function draftComment(ctx: AppContext, measureId: number, actor: string, opts: { rebuild?: boolean } = {}): Promise<MeasureComment> {
  const m = await measureFacts(ctx, measureId)
  if (!m) throw new CommentStateError(`no measure ${measureId}`, 'NOT_FOUND')
  const existing = await getComment(ctx, measureId)
  if (existing && !opts.rebuild) return existing
  if (existing && existing.status !== 'drafting') throw new CommentStateError('only a draft can be rebuilt', 'BAD_TRANSITION')
  const d = draftFromTemplate(m, await feedbackForMeasure(ctx, measureId))
  const now = ctx.clock().toISOString()
  if (existing) await ctx.db.updateTable('measure_comment').set({ draft_zh: d.zh, draft_en: d.en, updated_by: actor, updated_at: now }).where('measure_id', '=', measureId).execute()
  else
    await ctx.db
      .insertInto('measure_comment')
      .values({ measure_id: measureId, status: 'drafting', draft_zh: d.zh, draft_en: d.en, submitted_on: null, submitted_to: null, reply_on: null, reply_text: null, updated_by: actor, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('measure_id').doNothing())
      .execute()
  return (await getComment(ctx, measureId))!
}

export async function saveDraft(ctx: AppContext, measureId: number, zh: string, en: string, actor: string): Promise<void> {
  const c = await draftComment(ctx, measureId, actor)
  if (c.status !== 'drafting') throw new CommentStateError('the comment was submitted; its text is kept as submitted', 'BAD_TRANSITION')
  const z = cleanText(zh)
  const e = cleanText(en)
  if (z.length > DRAFT_MAX || e.length > DRAFT_MAX) throw new FeedbackInputError({ field: 'concerns', kind: 'too-long', max: DRAFT_MAX })
  await ctx.db.updateTable('measure_comment').set({ draft_zh: z, draft_en: e, updated_by: actor, updated_at: ctx.clock().toISOString() }).where('measure_id', '=', measureId).execute()
}

const NEXT: Record<CommentStatus, CommentStatus[]> = { drafting: ['submitted', 'closed'], submitted: ['replied', 'closed'], replied: ['closed'], closed: [] }

export const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s)

/**
 * Moves the comment on: `submitted` (date, to whom), `replied` (date, text), `closed`.
 * In one transaction with a compare-and-set on the status, so two analysts cannot both
 * submit it; the e-mails to the enterprises follow (sendCommentNotices).
 */
export async function setCommentStatus(ctx: AppContext, measureId: number, to: CommentStatus, actor: string, data: { date?: string; submittedTo?: string; replyText?: string } = {}): Promise<MeasureComment> {
  if (!(COMMENT_STATUSES as readonly string[]).includes(to)) throw new CommentStateError(`unknown status ${to}`, 'BAD_TRANSITION')
  const c = await draftComment(ctx, measureId, actor)
  if (!NEXT[c.status].includes(to)) throw new CommentStateError(`${c.status} → ${to} is not allowed`, 'BAD_TRANSITION')
  const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
  const date = cleanText(data.date) || today
  if ((to === 'submitted' || to === 'replied') && !isDate(date)) throw new FeedbackInputError({ field: 'concerns', kind: 'number' })
  const set: Record<string, string | null> = { status: to, updated_by: actor, updated_at: ctx.clock().toISOString() }
  if (to === 'submitted') {
    const who = cleanText(data.submittedTo)
    if ([...who].length > SUBMITTED_TO_MAX) throw new FeedbackInputError({ field: 'contact', kind: 'too-long', max: SUBMITTED_TO_MAX })
    set.submitted_on = date
    set.submitted_to = who || null
  }
  if (to === 'replied') {
    const text = cleanText(data.replyText)
    if (text.length > REPLY_MAX) throw new FeedbackInputError({ field: 'requestOther', kind: 'too-long', max: REPLY_MAX })
    set.reply_on = date
    set.reply_text = text
  }
  const r = await ctx.db.updateTable('measure_comment').set(set).where('measure_id', '=', measureId).where('status', '=', c.status).executeTakeFirst()
  if (Number(r.numUpdatedRows) !== 1) throw new CommentStateError('the comment changed meanwhile; reload', 'BAD_TRANSITION')
  return (await getComment(ctx, measureId))!
}

// ---------------------------------------------------------------------------------------
// Lists for the analysts' index, the CLI and the weekly report.

export interface CommentListing {
  measureId: number
  measureKey: string
  title: string | null
  commentDeadline: string | null
  internalDeadline: string | null
  status: CommentStatus | 'none'
  enterprises: number
  exportValue: number
  complianceCost: number
  submittedOn: string | null
  submittedTo: string | null
  replyOn: string | null
}

/** Measures with feedback or a comment, deadline first. */
export async function listComments(ctx: AppContext, opts: { measureId?: number } = {}): Promise<CommentListing[]> {
  let fq = ctx.db.selectFrom('enterprise_feedback').select(['measure_id', 'email', 'export_value', 'compliance_cost'])
  let cq = ctx.db.selectFrom('measure_comment').selectAll()
  if (opts.measureId !== undefined) {
    fq = fq.where('measure_id', '=', opts.measureId)
    cq = cq.where('measure_id', '=', opts.measureId)
  }
  const feedback = await fq.execute()
  const comments = await cq.execute()
  const ids = [...new Set([...feedback.map((f) => f.measure_id), ...comments.map((c) => c.measure_id)])]
  if (!ids.length) return []
  const measures = await ctx.db.selectFrom('measure').select(['id', 'key', 'title', 'comment_deadline']).where('id', 'in', ids).execute()
  return measures
    .map((m) => {
      const fs = feedback.filter((f) => f.measure_id === m.id)
      const c = comments.find((x) => x.measure_id === m.id)
      return {
        measureId: m.id,
        measureKey: m.key,
        title: m.title,
        commentDeadline: m.comment_deadline,
        internalDeadline: m.comment_deadline ? workingDaysBefore(m.comment_deadline, ctx.config.comments.leadDays) : null,
        status: (c?.status as CommentStatus | undefined) ?? ('none' as const),
        enterprises: new Set(fs.map((f) => f.email)).size,
        exportValue: fs.reduce((s, f) => s + (num(f.export_value) ?? 0), 0),
        complianceCost: fs.reduce((s, f) => s + (num(f.compliance_cost) ?? 0), 0),
        submittedOn: c?.submitted_on ?? null,
        submittedTo: c?.submitted_to ?? null,
        replyOn: c?.reply_on ?? null,
      }
    })
    .sort((a, b) => (a.commentDeadline ?? '9999').localeCompare(b.commentDeadline ?? '9999') || a.measureKey.localeCompare(b.measureKey))
}

/**
 * The weekly report's 评议 figures for the local days [from, to]: comments submitted in
 * the period, comments in drafting, warned measures (a warning not dismissed) whose WTO
 * deadline passed in the period without a submitted comment, and the yearly export value
 * the enterprises' feedback on those measures reports (yuan).
 */
export async function commentFigures(ctx: AppContext, from: string, to: string): Promise<{ submitted: number; drafting: number; missedDeadline: number; exportValue: number }> {
  const all = await listComments(ctx)
  const submitted = all.filter((c) => c.submittedOn && c.submittedOn >= from && c.submittedOn <= to)
  const drafting = all.filter((c) => c.status === 'drafting')
  const missed = await ctx.db
    .selectFrom('measure')
    .leftJoin('measure_comment', 'measure_comment.measure_id', 'measure.id')
    .select('measure.id')
    .where('measure.comment_deadline', '>=', from)
    .where('measure.comment_deadline', '<=', to)
    .where('measure_comment.submitted_on', 'is', null)
    .where(({ exists, selectFrom }) => exists(selectFrom('warning').select('warning.id').whereRef('warning.measure_id', '=', 'measure.id').where('warning.status', '!=', 'dismissed')))
    .execute()
  const concerned = new Set([...submitted, ...drafting].map((c) => c.measureId).concat(missed.map((m) => m.id)))
  return {
    submitted: submitted.length,
    drafting: drafting.length,
    missedDeadline: missed.length,
    exportValue: all.filter((c) => concerned.has(c.measureId)).reduce((sum, c) => sum + c.exportValue, 0),
  }
}

export const REMINDER_LEAD_DAYS = 2
/** Feedback whose internal deadline is within REMINDER_LEAD_DAYS days from today (still editable). */
export async function feedbackClosingSoon(ctx: AppContext): Promise<{ feedbackId: number; measureId: number; email: string; internalDeadline: string }[]> {
  const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
  const rows = await ctx.db
    .selectFrom('enterprise_feedback as f')
    .innerJoin('measure as m', 'm.id', 'f.measure_id')
    .leftJoin('measure_comment as c', 'c.measure_id', 'f.measure_id')
    .select(['f.id', 'f.measure_id', 'f.email', 'm.comment_deadline', 'm.status', 'c.status as comment_status'])
    .where('m.status', '=', 'open')
    .where('m.comment_deadline', 'is not', null)
    .where('m.comment_deadline', '>=', today)
    .execute()
  return rows
    .filter((r) => !r.comment_status || r.comment_status === 'drafting')
    .map((r) => ({ feedbackId: r.id, measureId: r.measure_id, email: r.email, internalDeadline: workingDaysBefore(r.comment_deadline!, ctx.config.comments.leadDays) }))
    .filter((r) => r.internalDeadline >= today && r.internalDeadline <= addDays(today, REMINDER_LEAD_DAYS))
}
