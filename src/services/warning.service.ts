import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from 'kysely'
import type { AppContext } from '../app-context.js'
import type { Db } from '../db/database.js'
import type { Database } from '../db/schema.js'
import { addDays, localDay } from '../domain/dates.js'
import { deadlineState, statusOn } from '../domain/measure.js'
import { loadMembers } from '../domain/members.js'
import { parseSymbol } from '../domain/symbols.js'
import { lifecycleFresh } from './lifecycle.service.js'
import { LEVEL_RANK, type Level, type TraceItem } from '../risk/score.js'
import { decodeCursor, encodeCursor, idsCondition, keysetRanges, orderOf, searchCondition, searchIdsQuery, searchIndex, sortColumns } from '../repositories/warning-query.js'

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
  /** the measure's lifecycle: open, closed, adopted, in_force, withdrawn */
  lifecycle?: string[]
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
  /** a cursor (QueuePage.next): the page after that row, in the same sort */
  after?: string
  /** a cursor (QueuePage.prev): the page before that row */
  before?: string
  /** the warnings a search found, when they are few (`narrowSearch`; never from a query string) */
  matchIds?: number[]
  /**
   * A search that finds many warnings, read row by row in the queue's order (`narrowSearch`
   * for a page: each row's own texts are checked, so a page costs what it shows, not
   * every match); with `seen`, the ids the search read before it stopped counting
   */
  dense?: { seen: number[] }
}

export interface QueueCategory {
  id: string
  zh: string
  en: string
  score: number
  level: Level
}

export interface QueueMember {
  code: string
  zh: string
  en: string
}

/**
 * One row per measure. `categoryId`/`categoryZh`/`categoryEn` name its top category
 * (kept for existing readers); `categories` lists all of them with their scores.
 */
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
  categories: QueueCategory[]
  measureId: number
  measureKey: string
  /** every base symbol of the measure (a joint notification has several), the key first */
  symbols: string[]
  /** TBT or SPS */
  area: string
  title: string | null
  member: string | null
  /** every member that notified the measure, named from seeds/members.yaml */
  members: QueueMember[]
  commentDeadline: string | null
  /** past, due within 7 days (soon) or later, on today's local date; null without a deadline */
  deadlineState: 'past' | 'soon' | 'later' | null
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
  /** per status, under every filter but the status filter: exact, or at least this many (`countsAtLeast`) */
  counts: Record<string, number>
  /** the statuses whose count stopped at `TBT_COUNT_MAX` (or at a dense search's first reads): there are at least that many */
  countsAtLeast: string[]
  /** `total` is a lower bound (a count it sums stopped early): the page says "N+" and has no last page */
  totalAtLeast: boolean
  /** cursor of the next page (?after=), null on the last */
  next: string | null
  /** cursor of the page before (?before=), null on the first */
  prev: string | null
}

type Eb = ExpressionBuilder<Database & { w: Database['warning']; m: Database['measure']; c: Database['category'] }, 'w' | 'm' | 'c'>

/** The member codes of chosen markets (a watched group's members, or the member itself). */
export function memberCodesOfMarkets(ctx: Pick<AppContext, 'markets'>, codes: string[]): string[] {
  const wanted = new Set(codes.map((c) => c.toUpperCase()))
  const out = new Set<string>()
  for (const m of ctx.markets) if (wanted.has(m.code)) m.members.forEach((x) => out.add(x))
  for (const c of wanted) if (!ctx.markets.some((m) => m.code === c)) out.add(c)
  return [...out]
}

function conditions(ctx: AppContext, f: QueueFilter, eb: Eb, withStatus: boolean, forCounts = false): Expression<SqlBool>[] {
  const out: Expression<SqlBool>[] = []
  if (withStatus && f.status?.length) {
    // Several statuses (the default tab: new and in review, most of the queue): SQLite would
    // read them through the status index and sort them all (130 ms at 64,000 warnings); the
    // unary + keeps it on the order's index, which stops at the page. One status reads
    // warning_status_order_idx, already in order.
    out.push(ctx.dialect === 'sqlite' && f.status.length > 1 ? sql<SqlBool>`+w.status in (${sql.join(f.status)})` : eb('w.status', 'in', f.status))
  }
  if (f.level?.length) {
    // Counted, the level reads the status index (status, level), which holds both: SQLite
    // would otherwise read every warning of the level through the level's index and then
    // its row for the status (30 ms for a third of 64,000 warnings, against 5).
    out.push(forCounts && ctx.dialect === 'sqlite' ? sql<SqlBool>`+w.level in (${sql.join(f.level)})` : eb('w.level', 'in', f.level))
  }
  // Counted, a category is the counts query's driving table (countsQuery).
  if (f.category?.length && !forCounts) {
    out.push(eb.exists(eb.selectFrom('warning_category as wc').select('wc.warning_id').whereRef('wc.warning_id', '=', 'w.id').where('wc.category_id', 'in', f.category)))
  }
  if (f.lifecycle?.length) out.push(eb('m.status', 'in', f.lifecycle))
  if (f.area?.length) out.push(eb('m.area', 'in', f.area))
  if (f.assignee) out.push(f.assignee === '-' ? eb('w.assignee', 'is', null) : eb('w.assignee', '=', f.assignee))
  if (f.market?.length) {
    const members = memberCodesOfMarkets(ctx, f.market)
    out.push(eb.exists(eb.selectFrom('measure_member as mm').select('mm.measure_id').whereRef('mm.measure_id', '=', 'w.measure_id').where('mm.member_code', 'in', members.length ? members : ['-'])))
  }
  if (f.source?.length) out.push(eb.exists(eb.selectFrom('notice as ns').select('ns.id').whereRef('ns.measure_id', '=', 'w.measure_id').where('ns.source_id', 'in', f.source)))
  if (f.language?.length) out.push(eb.exists(eb.selectFrom('notice as nl').select('nl.id').whereRef('nl.measure_id', '=', 'w.measure_id').where('nl.language', 'in', f.language)))
  if (f.deadlineDays !== undefined && Number.isFinite(f.deadlineDays)) {
    const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
    out.push(eb.and([eb('m.comment_deadline', '>=', today), eb('m.comment_deadline', '<=', addDays(today, f.deadlineDays))]))
  }
  const q = f.q?.trim()
  // Through the full-text index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL; grams under
  // three characters): the same rows on both.
  if (q) out.push(searchCondition(ctx.dialect, q, f.dense ? 'row' : undefined))
  if (f.matchIds) out.push(idsCondition(ctx.dialect, f.matchIds))
  return out
}

/**
 * A search that finds few warnings (`TBT_SEARCH_IDS_MAX`, 2,000), read the other way round: their ids first, from the
 * text indexes outward (a few ms), then the page, counts and neighbours among those ids.
 * Read as a filter over the queue's order instead, a rare term walks most of the queue's
 * index before it fills a page, and counts every warning (at 100,000 notices on
 * PostgreSQL, 100 ms and more for a term on 300 notices). A search that finds more keeps
 * the filter: its rows are dense and a page fills early.
 */
export async function narrowSearch(ctx: AppContext, f: QueueFilter, opts: { page?: boolean } = {}): Promise<QueueFilter> {
  const q = f.q?.trim()
  const max = ctx.config.searchIdsMax
  if (!q || !max || f.matchIds || f.dense || searchIndex(q) === 'scan') return f
  // On PostgreSQL the matching measures' warnings are looked up by their key, a few hundred
  // index reads: priced by the planner, a hash join reads every warning instead (64,000 at
  // 100,000 notices: 11 to 40 ms against 3).
  const rows = await planned(ctx, f, (db) => searchIdsQuery(ctx.dialect, q, max + 1).execute(db), ['enable_hashjoin', 'enable_mergejoin'])
  const ids = [...new Set(rows.rows.map((r) => Number(r.id)))]
  if (rows.rows.length <= max) return { ...f, q: undefined, matchIds: ids }
  // Many: a page (and a detail page's neighbours) checks each row of the queue's order for
  // the text, and fills after a few hundred rows whatever the number of matches; its counts
  // are those of the warnings read so far (lower bounds). An export reads every match: the
  // indexes' whole answer, once, is cheaper there.
  return opts.page ? { ...f, dense: { seen: ids } } : f
}

function base(db: Db) {
  return db
    .selectFrom('warning as w')
    .innerJoin('measure as m', 'm.id', 'w.measure_id')
    .innerJoin('category as c', 'c.id', 'w.category_id')
}

export const MAX_PAGE_SIZE = 500

/** Categories, members and symbols of a page of warnings: three index lookups for the whole page. */
export async function measureFacts(ctx: AppContext, rows: { id: number; measure_id: number; key: string }[]) {
  const wids = rows.map((r) => r.id)
  const mids = [...new Set(rows.map((r) => r.measure_id))]
  const [cats, members, symbols] = await Promise.all([
    wids.length
      ? ctx.db.selectFrom('warning_category as wc').innerJoin('category as c', 'c.id', 'wc.category_id').select(['wc.warning_id', 'wc.category_id', 'wc.score', 'wc.level', 'c.name_zh', 'c.name_en']).where('wc.warning_id', 'in', wids).execute()
      : [],
    mids.length ? ctx.db.selectFrom('measure_member').select(['measure_id', 'member_code', 'position']).where('measure_id', 'in', mids).orderBy('measure_id').orderBy('position').execute() : [],
    mids.length
      ? ctx.db.selectFrom('notice_symbol').innerJoin('notice', 'notice.id', 'notice_symbol.notice_id').select(['notice.measure_id', 'notice_symbol.base_symbol']).distinct().where('notice.measure_id', 'in', mids).execute()
      : [],
  ])
  const index = loadMembers()
  const catsOf = new Map<number, QueueCategory[]>()
  for (const c of cats) catsOf.set(c.warning_id, [...(catsOf.get(c.warning_id) ?? []), { id: c.category_id, zh: c.name_zh, en: c.name_en, score: c.score, level: c.level as Level }])
  for (const xs of catsOf.values()) xs.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
  const membersOf = new Map<number, QueueMember[]>()
  for (const m of members) {
    const known = index.byCode(m.member_code)
    membersOf.set(m.measure_id, [...(membersOf.get(m.measure_id) ?? []), { code: m.member_code, zh: known?.zh ?? m.member_code, en: known?.en ?? m.member_code }])
  }
  const symbolsOf = new Map<number, string[]>()
  for (const s of symbols) if (parseSymbol(s.base_symbol)) symbolsOf.set(s.measure_id, [...(symbolsOf.get(s.measure_id) ?? []), s.base_symbol])
  const keyOf = new Map(rows.map((r) => [r.measure_id, r.key]))
  return {
    categories: (warningId: number) => catsOf.get(warningId) ?? [],
    members: (measureId: number) => membersOf.get(measureId) ?? [],
    symbols: (measureId: number) => {
      const key = keyOf.get(measureId) ?? ''
      return [key, ...(symbolsOf.get(measureId) ?? []).filter((x) => x !== key).sort()].filter(Boolean)
    },
  }
}

/** Whether the filter reads the measure's columns (the counts join measure only then). */
const needsMeasure = (f: QueueFilter) => !!(f.lifecycle?.length || f.area?.length || (f.deadlineDays !== undefined && Number.isFinite(f.deadlineDays)))

/**
 * Runs `fn` on a connection planned for the filter. PostgreSQL's planner underestimates
 * what the search expression costs per row and prices the trigram GIN index too high, so
 * below about 50,000 notices it would scan the table (100+ ms) rather than use the index
 * (a few ms): a search reads with sequential scans off, in a transaction of its own.
 */
async function planned<T>(ctx: AppContext, f: QueueFilter, fn: (db: Db) => Promise<T>, alsoOff: ('enable_hashjoin' | 'enable_mergejoin')[] = []): Promise<T> {
  const off = plannerOff(ctx, f, alsoOff)
  if (!off.length) return fn(ctx.db)
  return ctx.db.transaction().execute(async (tx) => {
    // One round trip for the settings (set_config with is_local is SET LOCAL).
    await sql`select ${sql.join(off.map((s) => sql`set_config(${s}, 'off', true)`))}`.execute(tx)
    return fn(tx)
  })
}

/**
 * The planner settings `planned` turns off for a filter on PostgreSQL (none elsewhere).
 * (Without an index for the query, the scan is the plan.) A search's ids (matchIds) are
 * read by their keys the same way: for a few hundred ids the planner prices a parallel
 * scan of every warning at what their index reads cost (at 100,000 notices 544 ids: 24 ms
 * scanned, 3.5 by the keys), and the scan grows with the table.
 */
export function plannerOff(ctx: AppContext, f: QueueFilter, alsoOff: string[] = []): string[] {
  const q = f.q?.trim()
  const search = !!q && searchIndex(q) !== 'scan'
  return ctx.dialect === 'postgres' && (search || f.matchIds?.length) ? ['enable_seqscan', ...alsoOff] : []
}

/**
 * The tab counts' query. A category filter is read from the category's side: its warnings'
 * ids from the (category, warning) index, once each, then each warning by its key, so the
 * count costs the category's warnings, not every warning the other filters leave (a
 * category among the high-level warnings read a third of the table: 31 ms at 64,000
 * warnings on SQLite, 4 ms this way; 34 and 21 ms on PostgreSQL).
 */
function countsBase(ctx: AppContext, f: QueueFilter, db: Db = ctx.db) {
  const plain = () => db.selectFrom('warning as w')
  let q = f.category?.length
    ? (db
        .selectFrom(db.selectFrom('warning_category').select('warning_id').distinct().where('category_id', 'in', f.category).as('cw'))
        .innerJoin('warning as w', 'w.id', 'cw.warning_id') as unknown as ReturnType<typeof plain>)
    : plain()
  if (needsMeasure(f)) q = q.innerJoin('measure as m', 'm.id', 'w.measure_id') as typeof q
  return q.where(((eb: Eb) => eb.and(conditions(ctx, f, eb, false, true))) as never)
}

function countsQuery(ctx: AppContext, f: QueueFilter, db: Db = ctx.db) {
  return countsBase(ctx, f, db)
    .select(['w.status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('w.status')
}

/** Tab counts: per status, exact, or a lower bound for the statuses in `atLeast`. */
export interface StatusCounts {
  counts: Record<string, number>
  atLeast: string[]
}

/**
 * Warnings per status under every filter but the status filter. Each status is counted up
 * to `TBT_COUNT_MAX` (1,000) warnings and stops there ("1,000+"), so the tabs cost the same
 * at 20,000 notices as at a million: a count reads every row it counts, and a filter
 * that leaves 30,000 warnings would read them all on every page. 0 counts everything.
 * A dense search (`narrowSearch`) counts the warnings its first reads found: lower bounds.
 */
export async function statusCounts(ctx: AppContext, f: QueueFilter, db: Db = ctx.db): Promise<StatusCounts> {
  const counts: Record<string, number> = Object.fromEntries(STATUSES.map((s) => [s, 0]))
  if (f.dense) {
    const rows = await countsQuery(ctx, { ...f, q: undefined, dense: undefined, matchIds: f.dense.seen }, db).execute()
    for (const r of rows) counts[r.status] = Number(r.n)
    return { counts, atLeast: [...STATUSES] }
  }
  const max = ctx.config.countMax
  if (!countsStop(ctx, f)) {
    for (const r of await countsQuery(ctx, f, db).execute()) counts[r.status] = Number(r.n)
    return { counts, atLeast: [] }
  }
  // A filter the status index cannot drive (categories, markets, sources, languages, a
  // search's ids) reads its own set once: counted together, up to max rows in all; past
  // that, every count is a lower bound.
  if (f.category?.length || f.market?.length || f.source?.length || f.language?.length || f.matchIds) {
    const limit = max
    const inner = countsBase(ctx, f, db).select('w.status').limit(limit + 1)
    const rows = await db.selectFrom(inner.as('x')).select(['x.status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('x.status').execute()
    let seen = 0
    for (const r of rows) seen += counts[r.status] = Number(r.n)
    return { counts, atLeast: seen > limit ? [...STATUSES] : [] }
  }
  // Otherwise one statement: per status, through the status index, at most max + 1 of its rows.
  const one = (st: string) => sql<{ status: string; n: number }>`select ${st} as status, (select count(*) from (${cappedStatusRows(ctx, f, st, max, db)}) x) as n`
  const rows = await sql<{ status: string; n: number }>`${sql.join(STATUSES.map(one), sql` union all `)}`.execute(db)
  const atLeast: string[] = []
  for (const r of rows.rows) {
    const n = Number(r.n)
    counts[r.status] = Math.min(n, max)
    if (n > max) atLeast.push(r.status)
  }
  return { counts, atLeast }
}

/**
 * Whether the filter's counts stop at TBT_COUNT_MAX. Not with 0, and not for a search read
 * as a filter (TBT_SEARCH_IDS_MAX=0, or no index for it), which reads its whole set from the
 * indexes anyway: under a limit, PostgreSQL would check it row by row through the trigram
 * index instead (half a second for 600 warnings). Nor for a search's ids (at most
 * TBT_SEARCH_IDS_MAX): one grouped count reads each id once, where a capped count per
 * status reads them all five times (544 ids at 100,000 notices: 1.6 ms against 4.3).
 */
const countsStop = (ctx: AppContext, f: QueueFilter) => !!ctx.config.countMax && !f.q?.trim() && !f.matchIds

/** At most max + 1 of a status's rows under the filter (a tab's capped count reads them through the status index). */
const cappedStatusRows = (ctx: AppContext, f: QueueFilter, status: string, max: number, db: Db = ctx.db) =>
  countsBase(ctx, f, db).where('w.status', '=', status).select(sql<number>`1`.as('one')).limit(max + 1)

/** The filtered queue's size from its tab counts (the chosen statuses, or all), and whether it is a lower bound. */
const totalOf = (f: QueueFilter, c: StatusCounts) => {
  const statuses = f.status?.length ? f.status : [...STATUSES]
  return { total: statuses.reduce((s, st) => s + (c.counts[st] ?? 0), 0), atLeast: statuses.some((st) => c.atLeast.includes(st)) }
}

/** The page query of the queue: rows in the queue's order, from an offset or after/before a cursor. */
function orderFor(f: QueueFilter) {
  const sort = f.sort ?? 'score'
  const dir = f.dir ?? (sort === 'deadline' ? 'asc' : 'desc')
  return { sort, dir, cols: sortColumns(sort, dir) }
}

function queueQuery(ctx: AppContext, f: QueueFilter, at: { offset?: number; range?: RawBuilder<SqlBool>; backwards?: boolean }, limit: number, db: Db = ctx.db) {
  const { sort, dir, cols } = orderFor(f)
  let q = base(db)
    .where(((eb: Eb) => eb.and(conditions(ctx, f, eb, true))) as never)
    .select([
      'w.id', 'w.level', 'w.score', 'w.status', 'w.assignee', 'w.note', 'w.category_id', 'w.created_at', 'w.updated_at', 'w.measure_id', 'w.lifecycle_rank',
      'c.name_zh', 'c.name_en', 'm.key', 'm.area', 'm.title', 'm.member', 'm.comment_deadline', 'm.status as measure_status',
      'm.stated_status', 'm.adoption_date', 'm.entry_into_force_date', sql<string>`coalesce(m.comment_deadline, '9999-12-31')`.as('sort_deadline'),
    ])
  if (at.range) q = q.where(at.range)
  // A search's few ids (matchIds) are read by their keys and sorted. PostgreSQL would walk
  // the order's index instead, checking each row against the ids, sure to fill a page
  // early: at 100,000 notices it read 8,000 rows for a page of 500 hits (10 ms against 2).
  // An order by an expression the index does not hold leaves it the keys' plan.
  const byKeys = !!f.matchIds && ctx.dialect === 'postgres'
  orderOf(cols, !!at.backwards).forEach((o, i) => {
    q = q.orderBy(byKeys && i === 0 ? sql`coalesce(${o.expr}, ${o.expr})` : o.expr, o.dir)
  })
  q = q.limit(limit)
  if (at.offset) q = q.offset(at.offset)
  return { q, sort, dir, cols }
}

type PageRow = Awaited<ReturnType<ReturnType<typeof queueQuery>['q']['execute']>>[number]

/** Up to `limit` rows after (or before) a cursor: the keyset's ranges read in turn, each through the index. */
async function readFrom(ctx: AppContext, f: QueueFilter, cursor: unknown[], backwards: boolean, limit: number, db: Db = ctx.db): Promise<PageRow[]> {
  const rows: PageRow[] = []
  for (const range of keysetRanges(orderFor(f).cols, cursor, backwards)) {
    rows.push(...(await queueQuery(ctx, f, { range, backwards }, limit - rows.length, db).q.execute()))
    if (rows.length >= limit) break
  }
  return rows
}

async function toQueueRows(ctx: AppContext, rows: PageRow[]): Promise<QueueRow[]> {
  const facts = await measureFacts(ctx, rows)
  const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
  return rows.map((r) => ({
    id: r.id,
    level: r.level as Level,
    score: r.score,
    status: r.status as WarningStatus,
    assignee: r.assignee,
    note: r.note,
    categoryId: r.category_id,
    categoryZh: r.name_zh,
    categoryEn: r.name_en,
    categories: facts.categories(r.id),
    measureId: r.measure_id,
    measureKey: r.key,
    symbols: facts.symbols(r.measure_id),
    area: r.area,
    title: r.title,
    member: r.member,
    members: facts.members(r.measure_id),
    commentDeadline: r.comment_deadline,
    deadlineState: deadlineState(r.comment_deadline, today),
    measureStatus: statusOn({ ...r, status: r.measure_status }, today),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }))
}

/** The SQL of a queue page and of its tab counts (tests EXPLAIN them). */
export function queueSql(ctx: AppContext, f: QueueFilter = {}) {
  return { page: queueQuery(ctx, f, {}, (f.pageSize ?? 50) + 1).q.compile(), counts: countsQuery(ctx, f).compile(), countOne: cappedStatusRows(ctx, f, 'new', ctx.config.countMax).compile() }
}

/**
 * A page of the queue. `page` alone reads from an offset (links and scripts that count
 * pages keep working); with `after` (or `before`), a cursor from the page before (after),
 * it reads from the cursor through the index: as fast on page 1,000 as on page 1.
 */
export async function listWarnings(ctx: AppContext, asked: QueueFilter = {}): Promise<QueuePage> {
  await lifecycleFresh(ctx)
  const f = await narrowSearch(ctx, asked, { page: true })
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, f.pageSize ?? 50))
  const page = Math.max(1, f.page ?? 1)
  const order = orderFor(f)
  const cursorText = f.after ?? f.before
  // A cursor of another sort (a stale link) is ignored: the page is read from its offset.
  const cursor = cursorText ? decodeCursor(cursorText, order.sort, order.dir, order.cols) : undefined
  const backwards = !!cursor && !f.after
  const { sort, dir, cols } = order
  const [counts, fetched] = await planned(ctx, f, (db) =>
    Promise.all([
      statusCounts(ctx, f, db),
      cursor ? readFrom(ctx, f, cursor, backwards, pageSize + 1, db) : queueQuery(ctx, f, { offset: (page - 1) * pageSize }, pageSize + 1, db).q.execute(),
    ]),
  )
  const more = fetched.length > pageSize
  const rows = backwards ? fetched.slice(0, pageSize).reverse() : fetched.slice(0, pageSize)
  const hasNext = backwards ? true : more
  const hasPrev = backwards ? more : page > 1 || !!cursor
  // A lower bound is at least the rows up to this page (its number says how many pages came
  // before), and a page with no next page knows the total exactly.
  const sized = totalOf(f, counts)
  const known = sized.atLeast && rows.length > 0
  const total = known ? Math.max(sized.total, (page - 1) * pageSize + rows.length + (hasNext ? 1 : 0)) : sized.total
  const totalAtLeast = sized.atLeast && !(known && !hasNext)
  return {
    rows: await toQueueRows(ctx, rows),
    total,
    totalAtLeast,
    page,
    pageSize,
    pages: Math.max(1, Math.ceil(total / pageSize)),
    counts: counts.counts,
    countsAtLeast: counts.atLeast,
    next: hasNext && rows.length ? encodeCursor(sort, dir, cols, rows[rows.length - 1]) : null,
    prev: hasPrev && rows.length ? encodeCursor(sort, dir, cols, rows[0]) : null,
  }
}

/**
 * Every row of the filtered queue in the queue's order (exports), read in keyset batches:
 * each batch starts at the cursor of the one before, no count, no offset; linear in the
 * rows, constant memory.
 */
/**
 * Rows an export reads at a time: each keyset read costs about what a queue page does
 * (on PostgreSQL the ordered read of a large filter is most of it), so fewer, larger reads
 * make a whole-queue export several times faster; 2,000 rows stay a few megabytes.
 */
export const EXPORT_BATCH = 2_000

export async function* allWarnings(ctx: AppContext, asked: QueueFilter, batch = EXPORT_BATCH): AsyncGenerator<QueueRow> {
  await lifecycleFresh(ctx)
  const f = await narrowSearch(ctx, asked)
  const { cols } = orderFor(f)
  let cursor: unknown[] | undefined
  for (;;) {
    const at = cursor
    const rows = await planned(ctx, f, (db) => (at ? readFrom(ctx, f, at, false, batch, db) : queueQuery(ctx, f, {}, batch, db).q.execute()))
    yield* await toQueueRows(ctx, rows)
    if (rows.length < batch) return
    const last = rows[rows.length - 1] as Record<string, unknown>
    cursor = cols.map((c) => last[c.field])
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
  /** the document's symbol(s), for notified and follow-up entries */
  detail: string
  /** regular | addendum | corrigendum | revision, for notified and follow-up entries */
  docType?: string
}

export interface DetailCategory extends QueueCategory {
  trace: TraceItem[]
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
  /** every category of the measure, highest score first, each with its own trace */
  categories: DetailCategory[]
  symbols: string[]
  members: QueueMember[]
  deadlineState: 'past' | 'soon' | 'later' | null
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
  /** the categories of the measure's warning (ids) */
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
  await lifecycleFresh(ctx)
  const { db } = ctx
  const w = await base(db)
    .selectAll('w')
    .select(['m.key', 'm.title', 'm.member', 'm.comment_deadline', 'm.adoption_date', 'm.entry_into_force_date', 'm.first_distribution_date', 'm.status as measure_status', 'm.stated_status', 'c.name_zh', 'c.name_en'])
    .where('w.id', '=', id)
    .executeTakeFirst()
  if (!w) return undefined
  // What depends on the warning alone is read at once (on PostgreSQL, each on its own connection).
  const [risks, facts, rows] = await Promise.all([
    db.selectFrom('risk_score').select(['category_id', 'trace', 'rules_version']).where('measure_id', '=', w.measure_id).execute(),
    measureFacts(ctx, [{ id: w.id, measure_id: w.measure_id, key: w.key }]),
    db.selectFrom('notice').selectAll().where('measure_id', '=', w.measure_id).orderBy('distribution_date').orderBy('id').execute(),
  ])
  const risk = risks.find((r) => r.category_id === w.category_id)
  const ids = rows.map((r) => r.id)
  const [cls, cats, hs, ics, events, corr, measureCats] = await Promise.all([
    ids.length ? db.selectFrom('classification').selectAll().where('notice_id', 'in', ids).execute() : [],
    ids.length ? db.selectFrom('classification_category').selectAll().where('notice_id', 'in', ids).orderBy('score', 'desc').execute() : [],
    ids.length ? db.selectFrom('notice_hs').selectAll().where('notice_id', 'in', ids).orderBy('code').execute() : [],
    ids.length ? db.selectFrom('notice_ics').selectAll().where('notice_id', 'in', ids).orderBy('code').execute() : [],
    db.selectFrom('warning_event').selectAll().where('warning_id', '=', id).orderBy('at').orderBy('id').execute(),
    latestCorrection(db, w.measure_id),
    facts.categories(w.id),
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
    timeline.push({ date: n.distributionDate, kind: n.docType === 'regular' ? 'notified' : 'follow-up', detail: n.symbols.join(', '), docType: n.docType })
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
    measureStatus: statusOn({ ...w, status: w.measure_status }, localDay(ctx.clock(), ctx.config.schedule.timezone)),
    commentDeadline: w.comment_deadline,
    adoptionDate: w.adoption_date,
    entryIntoForceDate: w.entry_into_force_date,
    categoryId: w.category_id,
    categoryZh: w.name_zh,
    categoryEn: w.name_en,
    categories: measureCats.map((c) => ({ ...c, trace: parse(risks.find((r) => r.category_id === c.id)?.trace, []) })),
    symbols: facts.symbols(w.measure_id),
    members: facts.members(w.measure_id),
    deadlineState: deadlineState(w.comment_deadline, localDay(ctx.clock(), ctx.config.schedule.timezone)),
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
    measureCategories: measureCats.map((c) => c.id),
  }
}

/** The warning an id now stands for: itself, or the measure's warning it was merged into (links in old e-mails). */
export async function mergedInto(db: Db, id: number): Promise<number | undefined> {
  return (await db.selectFrom('warning_merged').select('warning_id').where('id', '=', id).executeTakeFirst())?.warning_id
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
  const w = await ctx.db.selectFrom('warning').select(['measure_id', 'level']).where('id', '=', id).executeTakeFirst()
  if (!w) throw new WarningError('WARNING_NOT_FOUND', `no warning ${id}`)
  // The computed level is the highest of the measure's categories.
  const cats = await ctx.db.selectFrom('warning_category').select('level').where('warning_id', '=', id).execute()
  const computed = cats.length ? (cats.map((c) => c.level as Level).sort((a, b) => LEVEL_RANK[b] - LEVEL_RANK[a])[0] ?? null) : null
  const effective = level ?? computed ?? w.level
  await change(ctx, id, actor, 'level', { level: effective, level_override: level }, { level, computed })
}

// ---------------------------------------------------------------------------------
// The review flow: where a warning stands in the queue, which actions apply, undo.

export interface QueueNeighbours {
  /** the warning's position in the filtered queue (0-based), or null when it no longer matches the filter */
  index: number | null
  /** the position is a lower bound: more than `TBT_COUNT_MAX` rows come before it (its page is not known) */
  indexAtLeast: boolean
  total: number
  /** the queue's size is a lower bound (its counts stopped at `TBT_COUNT_MAX`) */
  totalAtLeast: boolean
  /** the warning before it and the one after it, with their page and 0-based place in the filtered queue (null when not known) */
  prev: { id: number; page: number | null; index: number | null } | null
  next: { id: number; page: number | null; index: number | null } | null
}

/**
 * The warnings before and after `id` in the queue's order under filter `f` (the detail
 * page's previous/next). A warning that left the filter (confirmed while the tab shows
 * open work) keeps its place in the order: its neighbours are those it would sit between.
 */
export async function queueNeighbours(ctx: AppContext, asked: QueueFilter, id: number, hint?: QueuePlace): Promise<QueueNeighbours> {
  await lifecycleFresh(ctx)
  const f = await narrowSearch(ctx, asked, { page: true })
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, f.pageSize ?? 50))
  const { cols } = orderFor(f)
  return planned(ctx, f, async (db) => {
    // The warning's place in the order, whether it matches the filter or not: its sort values.
    const self = await base(db)
      .where('w.id', '=', id)
      .select(['w.id', 'w.lifecycle_rank', 'w.score', 'w.created_at', 'w.updated_at', sql<string>`coalesce(m.comment_deadline, '9999-12-31')`.as('sort_deadline')])
      .executeTakeFirst()
    if (!self) {
      const sized = totalOf(f, await statusCounts(ctx, f, db))
      return { index: null, indexAtLeast: false, total: sized.total, totalAtLeast: sized.atLeast, prev: null, next: null }
    }
    const at = cols.map((c) => (self as Record<string, unknown>)[c.field])
    // Two keyset reads (the row before it and the row after it), and one pass over the
    // filtered queue for its size, whether the warning is in it and how many rows sit
    // before it (its position and its neighbours' pages).
    // The queue page's links say where the row stood (`hint`): then only whether it still
    // matches the filter is read, by its key, not the whole filtered queue.
    const [prev, next, place] = await Promise.all([readFrom(ctx, f, at, true, 1, db), readFrom(ctx, f, at, false, 1, db), hint ? placeFromHint(ctx, f, id, hint, db) : placeOf(ctx, f, id, at, db)])
    const { before, inQueue, beforeAtLeast } = place
    const pageOf = (i: number) => Math.floor(i / pageSize) + 1
    const placed = (i: number) => (beforeAtLeast ? { page: null, index: null } : { page: pageOf(i), index: i })
    // Positions in the filtered queue: a warning outside it takes no place. A lower bound
    // of the size is at least the rows up to the one after this.
    const total = place.totalAtLeast ? Math.max(place.total, before + (beforeAtLeast ? 1 : 0) + (inQueue ? 1 : 0) + (next[0] ? 1 : 0)) : place.total
    return {
      index: inQueue ? before : null,
      indexAtLeast: inQueue && beforeAtLeast,
      total,
      totalAtLeast: place.totalAtLeast,
      prev: prev[0] ? { id: prev[0].id, ...placed(Math.max(0, before - 1)) } : null,
      next: next[0] ? { id: next[0].id, ...placed(inQueue ? before + 1 : before) } : null,
    }
  })
}

/** Where a warning stood in the filtered queue when its link was made: its 0-based index and the queue's size then (a lower bound when `totalAtLeast`). */
export interface QueuePlace {
  index: number
  total: number
  totalAtLeast?: boolean
}

interface Place {
  total: number
  totalAtLeast: boolean
  before: number
  beforeAtLeast: boolean
  inQueue: boolean
}

/**
 * The place a link carried, checked by one read of the warning under the filter. A warning
 * that left the filter (confirmed from the open work) took its place with it: the queue is
 * one shorter and the row after it now stands where it stood.
 */
async function placeFromHint(ctx: AppContext, f: QueueFilter, id: number, hint: QueuePlace, db: Db): Promise<Place> {
  const self = await filteredQueue(ctx, f, db).where('w.id', '=', id).select('w.id').executeTakeFirst()
  const inQueue = !!self
  return { total: inQueue ? hint.total : Math.max(0, hint.total - 1), totalAtLeast: !!hint.totalAtLeast, before: hint.index, beforeAtLeast: false, inQueue }
}

/** The warnings (alias `w`, with `m` where the filter or the order reads the measure) under filter `f`, status included. */
function filteredQueue(ctx: AppContext, f: QueueFilter, db: Db) {
  let q = db.selectFrom('warning as w')
  if (needsMeasure(f) || orderFor(f).sort === 'deadline') q = q.innerJoin('measure as m', 'm.id', 'w.measure_id') as typeof q
  return q.where(((eb: Eb) => eb.and(conditions(ctx, f, eb, true))) as never)
}

/**
 * The filtered queue's size, whether warning `id` is in it, and how many of its rows come
 * before the sort values `at`: the rows before it are counted backwards through the
 * order's index, up to `TBT_COUNT_MAX` ("after the first 1,000"), and the size is the tab
 * counts'. A warning near the top, the one most often opened, costs a few rows.
 */
async function placeOf(ctx: AppContext, f: QueueFilter, id: number, at: unknown[], db: Db): Promise<Place> {
  const { cols } = orderFor(f)
  const max = ctx.config.countMax
  if (countsStop(ctx, f) || f.dense) {
    const limit = max || ctx.config.searchIdsMax || 1_000
    const [self, sized] = await Promise.all([filteredQueue(ctx, f, db).where('w.id', '=', id).select('w.id').executeTakeFirst(), statusCounts(ctx, f, db)])
    let before = 0
    for (const range of keysetRanges(cols, at, true)) {
      let q = filteredQueue(ctx, f, db).where(range).select(sql<number>`1`.as('one'))
      for (const o of orderOf(cols, true)) q = q.orderBy(o.expr, o.dir)
      const r = await db.selectFrom(q.limit(limit + 1 - before).as('x')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
      before += Number(r.n)
      if (before > limit) break
    }
    const { total, atLeast } = totalOf(f, sized)
    return { total, totalAtLeast: atLeast, before: Math.min(before, limit), beforeAtLeast: before > limit, inQueue: !!self }
  }
  const earlier = sql.join(keysetRanges(cols, at, true), sql` or `)
  const r = await filteredQueue(ctx, f, db)
    .select([
      (eb) => eb.fn.countAll<number>().as('total'),
      sql<number>`coalesce(sum(case when ${earlier} then 1 else 0 end), 0)`.as('before'),
      sql<number>`coalesce(max(case when w.id = ${id} then 1 else 0 end), 0)`.as('self'),
    ])
    .executeTakeFirstOrThrow()
  return { total: Number(r.total), totalAtLeast: false, before: Number(r.before), beforeAtLeast: false, inQueue: Number(r.self) === 1 }
}

/** Whether an action may be taken on a warning in this status (the detail page offers only these). */
export function actionApplies(action: WarningAction, status: string): boolean {
  return (TRANSITIONS[action].from as string[]).includes(status)
}

/**
 * Undo a dismissal: the warning goes back to the status its last dismissal took it from.
 * Only when that dismissal is still the warning's latest event (nothing happened since).
 */
export async function undoDismiss(ctx: AppContext, id: number, actor: string): Promise<ActionResult> {
  return ctx.db.transaction().execute(async (tx) => {
    const w = await tx.selectFrom('warning').select(['id', 'status']).where('id', '=', id).executeTakeFirst()
    if (!w) return { id, ok: false, error: 'not found' }
    const last = await tx.selectFrom('warning_event').select(['action', 'from_status']).where('warning_id', '=', id).orderBy('id', 'desc').limit(1).executeTakeFirst()
    const to = last?.from_status as WarningStatus | null | undefined
    if (w.status !== 'dismissed' || last?.action !== 'dismiss' || !to || to === 'dismissed') return { id, ok: false, from: w.status as WarningStatus, error: 'nothing to undo' }
    const now = ctx.clock().toISOString()
    await tx.updateTable('warning').set({ status: to, updated_at: now }).where('id', '=', id).where('status', '=', 'dismissed').execute()
    await tx.insertInto('warning_event').values({ warning_id: id, at: now, actor, action: 'undo', from_status: 'dismissed', to_status: to, details: JSON.stringify({ undone: 'dismiss' }) }).execute()
    return { id, ok: true, from: 'dismissed', to }
  })
}
