import type { Db } from '../db/database.js'
import { getNotices } from '../repositories/notice.repository.js'

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

export interface WarningRecord {
  id: number
  measureId: string
  /** TBT or SPS */
  area: string
  category: string
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

/** Every stored notice, one record each, in a stable order (measure, then distribution). */
export async function* exportNotices(db: Db, batch = 500): AsyncGenerator<NoticeRecord> {
  let after = 0
  for (;;) {
    const ids = (await db.selectFrom('notice').select('id').where('id', '>', after).orderBy('id').limit(batch).execute()).map((r) => r.id)
    if (!ids.length) return
    after = ids[ids.length - 1]
    const notices = await getNotices(db, ids)
    const measures = await db
      .selectFrom('measure')
      .select(['id', 'key', 'comment_deadline', 'status'])
      .where('id', 'in', [...new Set(notices.map((n) => n.measureId))])
      .execute()
    const cls = await db.selectFrom('classification').select(['notice_id', 'language']).where('notice_id', 'in', ids).execute()
    const cats = await db.selectFrom('classification_category').select(['notice_id', 'category_id', 'score']).where('notice_id', 'in', ids).execute()
    for (const n of notices) {
      const m = measures.find((x) => x.id === n.measureId)
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
        measureStatus: m?.status ?? 'open',
        language: cls.find((c) => c.notice_id === n.id)?.language ?? n.language,
        categories: cats
          .filter((c) => c.notice_id === n.id)
          .sort((a, b) => b.score - a.score)
          .map((c) => c.category_id),
        links: n.links,
        sourceUrl: n.sourceUrl,
      }
    }
  }
}

export async function* exportWarnings(db: Db): AsyncGenerator<WarningRecord> {
  const rows = await db
    .selectFrom('warning')
    .innerJoin('measure', 'measure.id', 'warning.measure_id')
    .select([
      'warning.id',
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
      'measure.comment_deadline',
      'warning.created_at',
      'warning.updated_at',
    ])
    .orderBy('warning.id')
    .execute()
  for (const r of rows) {
    yield {
      id: r.id,
      measureId: r.key,
      area: r.area,
      category: r.category_id,
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
