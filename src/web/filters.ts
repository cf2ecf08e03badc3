import { LEVELS, STATUSES, type QueueFilter, type QueuePlace } from '../services/warning.service.js'
import { badParam } from './errors.js'
import { MEASURE_STATUSES } from '../domain/measure.js'
import { CURSOR_PATTERN } from '../repositories/warning-query.js'

type Query = Record<string, unknown>

const values = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean)

/** A comma-separated (or repeated) list whose every item matches `ok`; 400 otherwise. */
function list(q: Query, key: string, ok: (s: string) => boolean, zh: string, en: string): string[] | undefined {
  const a = values(q[key])
  if (a.length > 50) throw badParam(key, '最多50个值', '50 values at most')
  const bad = a.find((x) => !ok(x))
  if (bad !== undefined) throw badParam(key, `“${bad.slice(0, 40)}”不是${zh}`, `"${bad.slice(0, 40)}" is not ${en}`)
  return a.length ? a : undefined
}

/** An integer in [min, max], or undefined when absent or empty; 400 otherwise. */
function int(q: Query, key: string, min: number, max: number): number | undefined {
  const v = Array.isArray(q[key]) ? (q[key] as unknown[])[0] : q[key]
  if (v === undefined || v === '') return undefined
  const s = String(v).trim()
  const n = /^-?\d{1,12}$/.test(s) ? Number(s) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw badParam(key, `应为 ${min} 到 ${max} 之间的整数`, `expected a whole number from ${min} to ${max}`)
  return n
}

const str = (v: unknown): string | undefined => {
  const s = Array.isArray(v) ? v[0] : v
  return typeof s === 'string' && s.trim() ? s.trim().slice(0, 200) : undefined
}

const oneOf = <T extends string>(q: Query, key: string, allowed: readonly T[]): T | undefined => {
  const s = str(q[key])
  if (s === undefined) return undefined
  if (!(allowed as readonly string[]).includes(s)) throw badParam(key, `应为 ${allowed.join('、')} 之一`, `expected one of ${allowed.join(', ')}`)
  return s as T
}

const SORTS = ['score', 'deadline', 'created', 'updated', 'id'] as const
const ID = /^[\w-]{1,80}$/
/** The deepest page a filter may ask for (offset = page × size stays far inside every integer type). */
export const MAX_PAGE = 100_000

/**
 * The queue filter from a query string (the page, the API and the exports share it). A
 * value the queue cannot mean (an unknown status, a page number out of range, a control
 * character) is a BadRequestError: 400 with a message, as a page or as JSON.
 */
export function filterFromQuery(q: Query): QueueFilter {
  const size = int(q, 'size', 1, 100_000)
  return {
    status: list(q, 'status', (x) => (STATUSES as readonly string[]).includes(x), '已知的状态', 'a known status'),
    level: list(q, 'level', (x) => (LEVELS as readonly string[]).includes(x), '已知的风险等级', 'a known level'),
    category: list(q, 'category', (x) => ID.test(x), '产品类别编号', 'a category id'),
    market: list(q, 'market', (x) => ID.test(x), '市场代码', 'a market code'),
    source: list(q, 'source', (x) => ID.test(x), '数据来源编号', 'a source id'),
    language: list(q, 'language', (x) => /^[a-z]{2,3}$/.test(x), '语言代码（如 eng、zho）', 'a language code (eng, zho…)'),
    lifecycle: list(q, 'lifecycle', (x) => (MEASURE_STATUSES as string[]).includes(x), '措施状态（open、closed、adopted、in_force、withdrawn）', 'a measure status (open, closed, adopted, in_force, withdrawn)'),
    assignee: str(q.assignee),
    deadlineDays: int(q, 'deadline', 0, 3650),
    q: str(q.q),
    sort: oneOf(q, 'sort', SORTS),
    dir: oneOf(q, 'dir', ['asc', 'desc'] as const),
    page: int(q, 'page', 1, MAX_PAGE) ?? 1,
    // A larger page than the queue serves is served at its largest (200).
    pageSize: Math.min(200, size ?? 50),
    after: cursor(q, 'after'),
    before: cursor(q, 'before'),
  }
}

/** A page cursor (QueuePage.next / prev): opaque URL-safe text; 400 when it is anything else. */
function cursor(q: Query, key: string): string | undefined {
  const s = str(q[key])
  if (s === undefined) return undefined
  if (!CURSOR_PATTERN.test(s)) throw badParam(key, '不是有效的翻页位置，请从第一页重新翻页', 'is not a valid page position; start again from the first page')
  return s
}

/**
 * The query string of a filter (links that keep the filters), with some keys changed. A
 * page cursor (after, before) is kept only when `over` names it: a link to another tab,
 * sort or filter starts again at its first page.
 */
export function queryOf(f: QueueFilter, over: Partial<Record<string, string | string[] | number | undefined>> = {}): string {
  const p = new URLSearchParams()
  const put = (k: string, v: unknown) => {
    if (v === undefined || v === null || v === '') return
    for (const x of Array.isArray(v) ? v : [v]) p.append(k, String(x))
  }
  const base: Record<string, unknown> = {
    q: f.q,
    status: f.status,
    level: f.level,
    category: f.category,
    market: f.market,
    lifecycle: f.lifecycle,
    source: f.source,
    language: f.language,
    assignee: f.assignee,
    deadline: f.deadlineDays,
    sort: f.sort,
    dir: f.dir,
    size: f.pageSize !== 50 ? f.pageSize : undefined,
    page: f.page && f.page > 1 ? f.page : undefined,
  }
  for (const [k, v] of Object.entries({ ...base, ...over })) put(k, v)
  const s = p.toString()
  return s ? `?${s}` : ''
}

/**
 * Where a row stood in the filtered queue when the queue page (or the previous/next link)
 * was drawn: `at` (0-based) of `of` rows. A detail page shows its position from it instead
 * of counting the whole filtered queue again; absent, or `at` past `of`, it counts.
 */
export function placeFromQuery(q: Query): QueuePlace | undefined {
  const index = int(q, 'at', 0, 100_000_000)
  const total = int(q, 'of', 0, 100_000_000)
  // more=1: the size was a lower bound (the counts stopped at TBT_COUNT_MAX); the place may lie beyond it.
  const totalAtLeast = String(q.more ?? '') === '1'
  if (index === undefined || total === undefined) return undefined
  if (totalAtLeast) return { index, total: Math.max(total, index + 1), totalAtLeast }
  return index < total ? { index, total } : undefined
}

/** The query keys of a place (`placeFromQuery` reads them back). */
export const placeKeys = (p: QueuePlace | undefined): { at?: number; of?: number; more?: 1 } => (p ? { at: p.index, of: p.total, ...(p.totalAtLeast ? { more: 1 as const } : {}) } : {})

/** The queue page's default tab, 待处理: the open work (new and in review). */
export const OPEN_WORK = ['new', 'in_review']
const isOpenWork = (s: string[] | undefined) => !!s && s.length === OPEN_WORK.length && OPEN_WORK.every((x) => s.includes(x))

/**
 * The queue page's state from its query string: the filter, with the page's default tab.
 * No `status` is the open work (待处理); `status=all` is every status (全部). The same
 * state travels to the detail page and back, so filters, sort and page survive the round trip.
 */
export function pageFilterFromQuery(q: Query): QueueFilter {
  const all = values(q.status).includes('all')
  const f = filterFromQuery(all ? { ...q, status: undefined } : q)
  return all || f.status ? f : { ...f, status: [...OPEN_WORK] }
}

/** The query string of a queue page state (`pageFilterFromQuery` reads it back), with some keys changed. */
export function pageQueryOf(f: QueueFilter, over: Partial<Record<string, string | string[] | number | undefined>> = {}): string {
  const status = !f.status?.length ? 'all' : isOpenWork(f.status) ? undefined : f.status
  return queryOf({ ...f, status: undefined }, { status, ...over })
}

/** The one status value a queue state shows in the status menu: '' for open work, 'all', or a status. */
export const statusChoice = (f: QueueFilter): string => (!f.status?.length ? 'all' : isOpenWork(f.status) ? '' : f.status.join(','))
