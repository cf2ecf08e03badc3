import type { QueueFilter } from '../services/warning.service.js'

type Query = Record<string, unknown>

const list = (v: unknown): string[] | undefined => {
  const a = (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean)
  return a.length ? a.slice(0, 50) : undefined
}
const int = (v: unknown): number | undefined => {
  const n = Number(Array.isArray(v) ? v[0] : v)
  return v === undefined || v === '' || !Number.isInteger(n) ? undefined : n
}
const str = (v: unknown): string | undefined => {
  const s = Array.isArray(v) ? v[0] : v
  return typeof s === 'string' && s.trim() ? s.trim().slice(0, 200) : undefined
}

const SORTS = ['score', 'deadline', 'created', 'updated', 'id'] as const

/** The queue filter from a query string (the page, the API and the exports share it). */
export function filterFromQuery(q: Query): QueueFilter {
  const sort = str(q.sort)
  const dir = str(q.dir)
  const days = int(q.deadline)
  return {
    status: list(q.status),
    level: list(q.level),
    category: list(q.category),
    market: list(q.market),
    lifecycle: list(q.lifecycle),
    source: list(q.source),
    language: list(q.language),
    assignee: str(q.assignee),
    deadlineDays: days !== undefined && days >= 0 ? days : undefined,
    q: str(q.q),
    sort: SORTS.includes(sort as never) ? (sort as QueueFilter['sort']) : undefined,
    dir: dir === 'asc' || dir === 'desc' ? dir : undefined,
    page: Math.max(1, int(q.page) ?? 1),
    pageSize: Math.min(200, Math.max(1, int(q.size) ?? 50)),
  }
}

/** The query string of a filter (links that keep the filters), with some keys changed. */
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
