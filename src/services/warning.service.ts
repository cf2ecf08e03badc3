import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely'
import type { AppContext } from '../app-context.js'
import type { Db } from '../db/database.js'
import type { Database } from '../db/schema.js'
import { addDays, isoDay } from '../domain/dates.js'
import type { Level, TraceItem } from '../risk/score.js'

export const STATUSES = ['new', 'in_review', 'confirmed', 'dismissed', 'escalated'] as const
export type WarningStatus = (typeof STATUSES)[number]
export const LEVELS = ['high', 'medium', 'low'] as const

export const ACTIONS = ['review', 'confirm', 'dismiss', 'escalate', 'reopen'] as const
export type WarningAction = (typeof ACTIONS)[number]

/** Where each action leads, and from which statuses it may be taken. */
const TRANSITIONS: Record<WarningAction, { to: WarningStatus; from: WarningStatus[] }> = {
  review: { to: 'in_review', from: ['new'] },
  confirm: { to: 'confirmed', from: ['new', 'in_review', 'escalated'] },
  dismiss: { to: 'dismissed', from: ['new', 'in_review', 'escalated', 'confirmed'] },
  escalate: { to: 'escalated', from: ['new', 'in_review', 'confirmed'] },
  reopen: { to: 'in_review', from: ['confirmed', 'dismissed', 'escalated'] },
}

export class WarningError extends Error {
  readonly retryable = false
  constructor(
    readonly code: 'WARNING_NOT_FOUND' | 'TRANSITION_INVALID' | 'REASON_REQUIRED' | 'INPUT_INVALID',
    message: string,
  ) {
    super(message)
    this.name = 'WarningError'
  }
}

// ---------------------------------------------------------------------------------
// The queue

export interface QueueFilter {
  status?: string[]
  level?: string[]
  category?: string[]
  market?: string[]
  source?: string[]
  language?: string[]
  /** TBT or SPS: the measure's agreement */
  area?: string[]
  assignee?: string
  /** comment deadline within this many days from today (and not past) */
  deadlineDays?: number
  q?: string
  sort?: 'score' | 'deadline' | 'created' | 'updated' | 'id'
  dir?: 'asc' | 'desc'
  page?: number
  pageSize?: number
}

export interface QueueRow {
  id: number
  level: Level
  score: number
  status: WarningStatus
  assignee: string | null
  note: string | null
  categoryId: string
  categoryZh: string
  categoryEn: string
  measureId: number
  measureKey: string
  /** TBT or SPS */
  area: string
  title: string | null
  member: string | null
  commentDeadline: string | null
  measureStatus: string
  createdAt: string
  updatedAt: string
}

export interface QueuePage {
  rows: QueueRow[]
  total: number
  page: number
  pageSize: number
  pages: number
  /** per status, under every filter but the status filter */
  counts: Record<string, number>
}

type Eb = ExpressionBuilder<Database & { w: Database['warning']; m: Database['measure']; c: Database['category'] }, 'w' | 'm' | 'c'>

const likePattern = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`

function conditions(ctx: AppContext, f: QueueFilter, eb: Eb, withStatus: boolean): Expression<SqlBool>[] {
  const out: Expression<SqlBool>[] = []
  if (withStatus && f.status?.length) out.push(eb('w.status', 'in', f.status))
  if (f.level?.length) out.push(eb('w.level', 'in', f.level))
  if (f.category?.length) out.push(eb('w.category_id', 'in', f.category))
  if (f.area?.length) out.push(eb('m.area', 'in', f.area))
  if (f.assignee) out.push(f.assignee === '-' ? eb('w.assignee', 'is', null) : eb('w.assignee', '=', f.assignee))
  if (f.market?.length) {
    const members = ctx.markets.filter((m) => f.market!.includes(m.code)).flatMap((m) => m.members)
    out.push(eb.exists(eb.selectFrom('notice as nm').select('nm.id').whereRef('nm.measure_id', '=', 'w.measure_id').where('nm.member_code', 'in', members.length ? members : ['-'])))
  }
  if (f.source?.length) out.push(eb.exists(eb.selectFrom('notice as ns').select('ns.id').whereRef('ns.measure_id', '=', 'w.measure_id').where('ns.source_id', 'in', f.source)))
  if (f.language?.length) out.push(eb.exists(eb.selectFrom('notice as nl').select('nl.id').whereRef('nl.measure_id', '=', 'w.measure_id').where('nl.language', 'in', f.language)))
  if (f.deadlineDays !== undefined && Number.isFinite(f.deadlineDays)) {
    const today = isoDay(ctx.clock())
    out.push(eb.and([eb('m.comment_deadline', '>=', today), eb('m.comment_deadline', '<=', addDays(today, f.deadlineDays))]))
  }
  const q = f.q?.trim()
  if (q) {
    // Plain LIKE over the measure and its documents: the same on SQLite and PostgreSQL,
    // and fast enough for a queue of thousands of warnings.
    const p = likePattern(q)
    const like = (col: string) => sql<SqlBool>`lower(${sql.ref(col)}) like ${p} escape '\\'`
    out.push(
      eb.or([
        like('m.key'),
        like('m.title'),
        like('c.name_zh'),
        like('c.name_en'),
        like('w.note'),
        eb.exists(
          eb
            .selectFrom('notice as nq')
            .select('nq.id')
            .whereRef('nq.measure_id', '=', 'w.measure_id')
            .where((e) => e.or([like('nq.title'), like('nq.description'), like('nq.products'), like('nq.symbols'), like('nq.keywords')])),
        ),
      ]),
    )
  }
  return out
}

function base(db: Db) {
  return db
    .selectFrom('warning as w')
    .innerJoin('measure as m', 'm.id', 'w.measure_id')
    .innerJoin('category as c', 'c.id', 'w.category_id')
}

export const MAX_PAGE_SIZE = 500

export async function listWarnings(ctx: AppContext, f: QueueFilter = {}): Promise<QueuePage> {
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, f.pageSize ?? 50))
  const page = Math.max(1, f.page ?? 1)
  const where = (withStatus: boolean) => (eb: Eb) => eb.and(conditions(ctx, f, eb, withStatus))
  const countRows = await base(ctx.db)
    .where(where(false) as never)
    .select(['w.status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('w.status')
    .execute()
  const counts: Record<string, number> = Object.fromEntries(STATUSES.map((s) => [s, 0]))
  for (const r of countRows) counts[r.status] = Number(r.n)
  const total = f.status?.length ? f.status.reduce((s, st) => s + (counts[st] ?? 0), 0) : Object.values(counts).reduce((a, b) => a + b, 0)
  const dir = f.dir ?? (f.sort === 'deadline' ? 'asc' : 'desc')
  let q = base(ctx.db)
    .where(where(true) as never)
    .select([
      'w.id', 'w.level', 'w.score', 'w.status', 'w.assignee', 'w.note', 'w.category_id', 'w.created_at', 'w.updated_at', 'w.measure_id',
      'c.name_zh', 'c.name_en', 'm.key', 'm.area', 'm.title', 'm.member', 'm.comment_deadline', 'm.status as measure_status',
    ])
  switch (f.sort ?? 'score') {
    case 'deadline':
      q = q.orderBy(sql`coalesce(m.comment_deadline, '9999-12-31')`, dir)
      break
    case 'created':
      q = q.orderBy('w.created_at', dir)
      break
    case 'updated':
      q = q.orderBy('w.updated_at', dir)
      break
    case 'id':
      break
    default:
      q = q.orderBy('w.score', dir)
  }
  const rows = await q
    .orderBy('w.id', f.sort === 'id' ? dir : 'asc')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute()
  return {
    rows: rows.map((r) => ({
      id: r.id,
      level: r.level as Level,
      score: r.score,
      status: r.status as WarningStatus,
      assignee: r.assignee,
      note: r.note,
      categoryId: r.category_id,
      categoryZh: r.name_zh,
      categoryEn: r.name_en,
      measureId: r.measure_id,
      measureKey: r.key,
      area: r.area,
      title: r.title,
      member: r.member,
      commentDeadline: r.comment_deadline,
      measureStatus: r.measure_status,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    })),
    total,
    page,
    pageSize,
    pages: Math.max(1, Math.ceil(total / pageSize)),
    counts,
  }
}

/** Every row of the filtered queue, page by page (exports). */
export async function* allWarnings(ctx: AppContext, f: QueueFilter): AsyncGenerator<QueueRow> {
  for (let page = 1; ; page++) {
    const p = await listWarnings(ctx, { ...f, page, pageSize: MAX_PAGE_SIZE })
    yield* p.rows
    if (page >= p.pages) return
  }
}

// ---------------------------------------------------------------------------------
// One warning

export interface WarningEvent {
  at: string
  actor: string
  action: string
  fromStatus: string | null
  toStatus: string | null
  details: Record<string, unknown> | null
}

export interface NoticeDetail {
  id: number
  sourceId: string
  symbol: string
  symbols: string[]
  docType: string
  member: string | null
  title: string
  products: string | null
  description: string | null
  objectives: string[]
  keywords: string[]
  language: string
  distributionDate: string | null
  commentDeadline: string | null
  adoptionDate: string | null
  adoptionText: string | null
  entryIntoForceDate: string | null
  entryIntoForceText: string | null
  links: string[]
  sourceUrl: string | null
  hsCodes: string[]
  icsCodes: string[]
  classification: { language: string; hs: { code: string; score: number }[]; evidence: Record<string, unknown>[]; classifier: string; categories: { id: string; score: number }[] } | null
}

export interface TimelineEntry {
  date: string
  kind: 'notified' | 'follow-up' | 'comment-deadline' | 'adoption' | 'entry-into-force'
  detail: string
}

export interface WarningDetail {
  id: number
  measureId: number
  measureKey: string
  title: string | null
  member: string | null
  measureStatus: string
  commentDeadline: string | null
  adoptionDate: string | null
  entryIntoForceDate: string | null
  categoryId: string
  categoryZh: string
  categoryEn: string
  level: Level
  levelOverride: Level | null
  score: number
  status: WarningStatus
  assignee: string | null
  note: string | null
  createdAt: string
  updatedAt: string
  trace: TraceItem[]
  rulesVersion: string | null
  notices: NoticeDetail[]
  timeline: TimelineEntry[]
  events: WarningEvent[]
  /** the analyst's categories for the measure, when corrected */
  correctedCategories: string[] | null
  /** every category the measure has a warning in */
  measureCategories: string[]
}

const parse = <T>(s: string | null | undefined, fallback: T): T => {
  if (!s) return fallback
  try {
    return JSON.parse(s) as T
  } catch {
    return fallback
  }
}

export async function getWarning(ctx: AppContext, id: number): Promise<WarningDetail | undefined> {
  const { db } = ctx
  const w = await base(db)
    .selectAll('w')
    .select(['m.key', 'm.title', 'm.member', 'm.comment_deadline', 'm.adoption_date', 'm.entry_into_force_date', 'm.first_distribution_date', 'm.status as measure_status', 'c.name_zh', 'c.name_en'])
    .where('w.id', '=', id)
    .executeTakeFirst()
  if (!w) return undefined
  const risk = await db.selectFrom('risk_score').select(['trace', 'rules_version']).where('measure_id', '=', w.measure_id).where('category_id', '=', w.category_id).executeTakeFirst()
  const rows = await db.selectFrom('notice').selectAll().where('measure_id', '=', w.measure_id).orderBy('distribution_date').orderBy('id').execute()
  const ids = rows.map((r) => r.id)
  const [cls, cats, hs, ics, events, corr, measureCats] = await Promise.all([
    ids.length ? db.selectFrom('classification').selectAll().where('notice_id', 'in', ids).execute() : [],
    ids.length ? db.selectFrom('classification_category').selectAll().where('notice_id', 'in', ids).orderBy('score', 'desc').execute() : [],
    ids.length ? db.selectFrom('notice_hs').selectAll().where('notice_id', 'in', ids).orderBy('code').execute() : [],
    ids.length ? db.selectFrom('notice_ics').selectAll().where('notice_id', 'in', ids).orderBy('code').execute() : [],
    db.selectFrom('warning_event').selectAll().where('warning_id', '=', id).orderBy('at').orderBy('id').execute(),
    latestCorrection(db, w.measure_id),
    db.selectFrom('warning').select('category_id').where('measure_id', '=', w.measure_id).orderBy('category_id').execute(),
  ])
  const notices: NoticeDetail[] = rows.map((n) => {
    const c = cls.find((x) => x.notice_id === n.id)
    return {
      id: n.id,
      sourceId: n.source_id,
      symbol: n.symbol,
      symbols: parse(n.symbols, [n.symbol]),
      docType: n.doc_type,
      member: n.member,
      title: n.title,
      products: n.products,
      description: n.description,
      objectives: parse(n.objectives, []),
      keywords: parse(n.keywords, []),
      language: n.language,
      distributionDate: n.distribution_date,
      commentDeadline: n.comment_deadline,
      adoptionDate: n.adoption_date,
      adoptionText: n.adoption_text,
      entryIntoForceDate: n.entry_into_force_date,
      entryIntoForceText: n.entry_into_force_text,
      links: parse(n.links, []),
      sourceUrl: n.source_url,
      hsCodes: hs.filter((h) => h.notice_id === n.id).map((h) => h.code),
      icsCodes: ics.filter((h) => h.notice_id === n.id).map((h) => h.code),
      classification: c
        ? {
            language: c.language,
            hs: parse(c.hs, []),
            evidence: parse(c.evidence, []),
            classifier: c.classifier,
            categories: cats.filter((x) => x.notice_id === n.id).map((x) => ({ id: x.category_id, score: x.score })),
          }
        : null,
    }
  })
  const timeline: TimelineEntry[] = []
  for (const n of notices) {
    if (!n.distributionDate) continue
    timeline.push({ date: n.distributionDate, kind: n.docType === 'regular' ? 'notified' : 'follow-up', detail: `${n.symbol} (${n.docType})` })
  }
  if (w.comment_deadline) timeline.push({ date: w.comment_deadline, kind: 'comment-deadline', detail: '' })
  if (w.adoption_date) timeline.push({ date: w.adoption_date, kind: 'adoption', detail: '' })
  if (w.entry_into_force_date) timeline.push({ date: w.entry_into_force_date, kind: 'entry-into-force', detail: '' })
  timeline.sort((a, b) => a.date.localeCompare(b.date))
  return {
    id: w.id,
    measureId: w.measure_id,
    measureKey: w.key,
    title: w.title,
    member: w.member,
    measureStatus: w.measure_status,
    commentDeadline: w.comment_deadline,
    adoptionDate: w.adoption_date,
    entryIntoForceDate: w.entry_into_force_date,
    categoryId: w.category_id,
    categoryZh: w.name_zh,
    categoryEn: w.name_en,
    level: w.level as Level,
    levelOverride: (w.level_override as Level | null) ?? null,
    score: w.score,
    status: w.status as WarningStatus,
    assignee: w.assignee,
    note: w.note,
    createdAt: w.created_at,
    updatedAt: w.updated_at,
    trace: parse(risk?.trace, []),
    rulesVersion: risk?.rules_version ?? null,
    notices,
    timeline,
    events: events.map((e) => ({ at: e.at, actor: e.actor, action: e.action, fromStatus: e.from_status, toStatus: e.to_status, details: parse(e.details, null) })),
    correctedCategories: corr ? parse<string[]>(corr.categories, []) : null,
    measureCategories: measureCats.map((r) => r.category_id),
  }
}

export async function latestCorrection(db: Db, measureId: number) {
  return db.selectFrom('category_correction').selectAll().where('measure_id', '=', measureId).orderBy('id', 'desc').limit(1).executeTakeFirst()
}

/** Whether a role-limited reader (enterprise) may see this warning: what digests publish. */
export function isPublished(ctx: AppContext, w: { status: string; level: string }): boolean {
  if (w.status === 'confirmed') return true
  return ['new', 'in_review', 'escalated'].includes(w.status) && (ctx.rules.warning.publishWithoutReview as string[]).includes(w.level)
}

// ---------------------------------------------------------------------------------
// Changes. Each is one transaction and leaves one warning_event row: who, when, what.

export interface ActionResult {
  id: number
  ok: boolean
  from?: WarningStatus
  to?: WarningStatus
  /** true when the warning already was where the action leads */
  unchanged?: boolean
  error?: string
}

export interface ActionInput {
  note?: string | null
  reason?: string | null
}

export async function applyAction(ctx: AppContext, ids: number[], action: WarningAction, actor: string, input: ActionInput = {}): Promise<ActionResult[]> {
  const t = TRANSITIONS[action]
  if (!t) throw new WarningError('INPUT_INVALID', `unknown action ${action}`)
  const reason = input.reason?.trim() || null
  if (action === 'dismiss' && !reason) throw new WarningError('REASON_REQUIRED', 'dismissing a warning needs a reason')
  const note = input.note?.trim() || null
  const out: ActionResult[] = []
  for (const id of [...new Set(ids)]) {
    out.push(
      await ctx.db.transaction().execute(async (tx) => {
        const w = await tx.selectFrom('warning').select(['id', 'status', 'note']).where('id', '=', id).executeTakeFirst()
        if (!w) return { id, ok: false, error: 'not found' }
        const from = w.status as WarningStatus
        if (from === t.to) return { id, ok: true, from, to: from, unchanged: true }
        if (!t.from.includes(from)) return { id, ok: false, from, error: `cannot ${action} a warning that is ${from}` }
        const now = ctx.clock().toISOString()
        await tx
          .updateTable('warning')
          .set({ status: t.to, updated_at: now, ...(note ? { note } : {}) })
          .where('id', '=', id)
          .where('status', '=', from) // a concurrent change wins; this one reports it
          .execute()
        await tx
          .insertInto('warning_event')
          .values({ warning_id: id, at: now, actor, action, from_status: from, to_status: t.to, details: reason || note ? JSON.stringify({ ...(reason ? { reason } : {}), ...(note ? { note } : {}) }) : null })
          .execute()
        return { id, ok: true, from, to: t.to }
      }),
    )
  }
  return out
}

async function change(ctx: AppContext, id: number, actor: string, action: string, set: Partial<{ note: string | null; assignee: string | null; level: string; level_override: string | null }>, details: Record<string, unknown>) {
  return ctx.db.transaction().execute(async (tx) => {
    const w = await tx.selectFrom('warning').selectAll().where('id', '=', id).executeTakeFirst()
    if (!w) throw new WarningError('WARNING_NOT_FOUND', `no warning ${id}`)
    const now = ctx.clock().toISOString()
    await tx.updateTable('warning').set({ ...set, updated_at: now }).where('id', '=', id).execute()
    await tx.insertInto('warning_event').values({ warning_id: id, at: now, actor, action, from_status: w.status, to_status: w.status, details: JSON.stringify(details) }).execute()
    return w
  })
}

export async function setNote(ctx: AppContext, id: number, note: string, actor: string) {
  const value = note.trim() || null
  await change(ctx, id, actor, 'note', { note: value }, { note: value })
}

export async function assign(ctx: AppContext, id: number, assignee: string | null, actor: string) {
  const value = assignee?.trim() || null
  await change(ctx, id, actor, 'assign', { assignee: value }, { assignee: value })
}

/** An analyst's level; the computed score stays visible, and rescoring keeps this level. */
export async function setLevel(ctx: AppContext, id: number, level: Level | null, actor: string) {
  if (level !== null && !LEVELS.includes(level)) throw new WarningError('INPUT_INVALID', `unknown level ${level}`)
  const w = await ctx.db.selectFrom('warning').select('measure_id').select('category_id').where('id', '=', id).executeTakeFirst()
  if (!w) throw new WarningError('WARNING_NOT_FOUND', `no warning ${id}`)
  const computed = await ctx.db.selectFrom('risk_score').select('level').where('measure_id', '=', w.measure_id).where('category_id', '=', w.category_id).executeTakeFirst()
  const effective = level ?? computed?.level ?? 'low'
  await change(ctx, id, actor, 'level', { level: effective, level_override: level }, { level, computed: computed?.level ?? null })
}
