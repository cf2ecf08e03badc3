import type { Db } from '../db/database.js'
import { getNotices } from '../repositories/notice.repository.js'
import { parseSymbol } from '../domain/symbols.js'
import { statusOn } from '../domain/measure.js'

export interface NoticeRecord {
  source: string
  sourceId: string
  measureId: string
  symbols: string[]
  member: string | null
  type: string
  area: string
  title: string
  products: string | null
  description: string | null
  objectives: string[]
  hsCodes: string[]
  icsCodes: string[]
  distributionDate: string | null
  commentDeadline: string | null
  measureCommentDeadline: string | null
  measureStatus: string
  language: string
  categories: string[]
  links: string[]
  sourceUrl: string | null
}

/**
 * One warning per measure. `category` is its top category (kept for older readers);
 * `categories` lists every category it touches, top first.
 */
export interface WarningRecord {
  id: number
  measureId: string
  /** TBT or SPS */
  area: string
  category: string
  categories: string[]
  symbols: string[]
  members: string[]
  measureStatus: string
  level: string
  score: number
  status: string
  assignee: string | null
  note: string | null
  member: string | null
  title: string | null
  commentDeadline: string | null
  createdAt: string
  updatedAt: string
}

export interface ExportOptions {
  /** The local day (TBT_TIMEZONE) the lifecycle status is given for; the stored status when absent. */
  today?: string
  batch?: number
}

/** Every stored notice, one record each, in a stable order (measure, then distribution). */
export async function* exportNotices(db: Db, opts: ExportOptions | number = {}): AsyncGenerator<NoticeRecord> {
  const { today, batch = 500 } = typeof opts === 'number' ? { batch: opts } : opts
  let after = 0
  for (;;) {
    const ids = (await db.selectFrom('notice').select('id').where('id', '>', after).orderBy('id').limit(batch).execute()).map((r) => r.id)
    if (!ids.length) return
    after = ids[ids.length - 1]
    const notices = await getNotices(db, ids)
    const measures = await db
      .selectFrom('measure')
      .select(['id', 'key', 'comment_deadline', 'status', 'stated_status', 'adoption_date', 'entry_into_force_date'])
      .where('id', 'in', [...new Set(notices.map((n) => n.measureId))])
      .execute()
    const cls = await db.selectFrom('classification').select(['notice_id', 'language']).where('notice_id', 'in', ids).execute()
    const cats = await db.selectFrom('classification_category').select(['notice_id', 'category_id', 'score']).where('notice_id', 'in', ids).execute()
    const measureOf = new Map(measures.map((x) => [x.id, x]))
    const languageOf = new Map(cls.map((c) => [c.notice_id, c.language]))
    const catsOf = groupBy(cats, (c) => c.notice_id)
    for (const n of notices) {
      const m = measureOf.get(n.measureId)
      yield {
        source: n.sourceId,
        sourceId: n.sourceItemId,
        measureId: m?.key ?? String(n.measureId),
        symbols: n.symbols,
        member: n.member,
        type: n.type,
        area: n.area,
        title: n.title,
        products: n.products,
        description: n.description,
        objectives: n.objectives,
        hsCodes: n.hsCodes,
        icsCodes: n.icsCodes,
        distributionDate: n.distributionDate,
        commentDeadline: n.commentDeadline,
        measureCommentDeadline: m?.comment_deadline ?? null,
        measureStatus: m ? (today ? statusOn(m, today) : m.status) : 'open',
        language: languageOf.get(n.id) ?? n.language,
        categories: (catsOf.get(n.id) ?? [])
          .sort((a, b) => b.score - a.score)
          .map((c) => c.category_id),
        links: n.links,
        sourceUrl: n.sourceUrl,
      }
    }
  }
}

export async function* exportWarnings(db: Db, opts: ExportOptions | number = {}): AsyncGenerator<WarningRecord> {
  const { today, batch = 500 } = typeof opts === 'number' ? { batch: opts } : opts
  let after = 0
  for (;;) {
    const rows = await db
      .selectFrom('warning')
      .innerJoin('measure', 'measure.id', 'warning.measure_id')
      .select([
        'warning.id',
        'warning.measure_id',
        'measure.key',
        'measure.area',
        'warning.category_id',
        'warning.level',
        'warning.score',
        'warning.status',
        'warning.assignee',
        'warning.note',
        'measure.member',
        'measure.title',
        'measure.status as measure_status',
        'measure.stated_status',
        'measure.adoption_date',
        'measure.entry_into_force_date',
        'measure.comment_deadline',
        'warning.created_at',
        'warning.updated_at',
      ])
      .where('warning.id', '>', after)
      .orderBy('warning.id')
      .limit(batch)
      .execute()
    if (!rows.length) return
    after = rows[rows.length - 1].id
    const ids = rows.map((r) => r.id)
    const mids = [...new Set(rows.map((r) => r.measure_id))]
    const cats = await db.selectFrom('warning_category').select(['warning_id', 'category_id', 'score']).where('warning_id', 'in', ids).execute()
    const members = await db.selectFrom('measure_member').select(['measure_id', 'member_code']).where('measure_id', 'in', mids).orderBy('measure_id').orderBy('position').execute()
    const symbols = await db
      .selectFrom('notice_symbol')
      .innerJoin('notice', 'notice.id', 'notice_symbol.notice_id')
      .select(['notice.measure_id', 'notice_symbol.base_symbol'])
      .distinct()
      .where('notice.measure_id', 'in', mids)
      .execute()
    // Grouped once per batch: a lookup per row, not a pass over the batch (linear in the rows).
    const catsOf = groupBy(cats, (c) => c.warning_id)
    const membersOf = groupBy(members, (m) => m.measure_id)
    const basesOf = groupBy(symbols.filter((x) => parseSymbol(x.base_symbol)), (x) => x.measure_id)
    for (const r of rows) {
      const own = (catsOf.get(r.id) ?? []).sort((a, b) => b.score - a.score || a.category_id.localeCompare(b.category_id))
      const bases = (basesOf.get(r.measure_id) ?? []).map((x) => x.base_symbol)
      yield {
        id: r.id,
        measureId: r.key,
        area: r.area,
        category: r.category_id,
        categories: own.length ? own.map((c) => c.category_id) : [r.category_id],
        symbols: [r.key, ...bases.filter((b) => b !== r.key).sort()],
        members: (membersOf.get(r.measure_id) ?? []).map((m) => m.member_code),
        measureStatus: today ? statusOn({ ...r, status: r.measure_status }, today) : r.measure_status,
        level: r.level,
        score: r.score,
        status: r.status,
        assignee: r.assignee,
        note: r.note,
        member: r.member,
        title: r.title,
        commentDeadline: r.comment_deadline,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }
    }
  }
}

function groupBy<T, K>(xs: T[], key: (x: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>()
  for (const x of xs) {
    const k = key(x)
    const list = out.get(k)
    if (list) list.push(x)
    else out.set(k, [x])
  }
  return out
}

/**
 * A text a spreadsheet would run as a formula (it starts with = + - @, a tab or a CR:
 * CSV injection) made plain text with a leading apostrophe; anything else unchanged.
 * Scraped titles and analysts' notes are text from strangers: every export (the CLI's
 * CSV, the web's CSV and XLSX) passes its cells through here.
 */
export function plainCell<T>(v: T): T | string {
  return typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v
}

/** One CSV field (RFC 4180), formula-neutralised (plainCell); arrays are joined with "|". */
export function csvField(v: unknown): string {
  const s = plainCell(Array.isArray(v) ? v.join('|') : v == null ? '' : String(v))
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}
