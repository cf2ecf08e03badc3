import type { Db } from '../db/database.js'
import { inTx } from '../db/tx.js'
import type { NoticeRow } from '../db/schema.js'
import { bestLink, type LinkDocument, type LinkScore } from '../domain/cross-source.js'
import { addDays } from '../domain/dates.js'
import { mergeMeasure, refreshMeasure } from '../repositories/notice.repository.js'

export const FEDREG_SOURCE = 'us-fedreg'

const doc = (n: NoticeRow): LinkDocument & { row: NoticeRow } => ({
  row: n,
  title: n.title,
  description: n.description,
  keywords: JSON.parse(n.keywords) as string[],
  distributionDate: n.distribution_date,
  commentDeadline: n.comment_deadline,
})

export interface LinkOutcome {
  linked: boolean
  /** The WTO measure the Federal Register document now belongs to. */
  measureId?: number
  score?: LinkScore
}

/** Of these notices, those `linkAcrossSources` may link (a Federal Register document, a US WTO notification): one query for a page. */
export async function linkable(db: Db, noticeIds: number[]): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < noticeIds.length; i += 500) {
    const rows = await db
      .selectFrom('notice')
      .select('id')
      .where('id', 'in', noticeIds.slice(i, i + 500))
      .where('distribution_date', 'is not', null)
      .where((eb) => eb.or([eb('source_id', '=', FEDREG_SOURCE), eb.and([eb('doc_type', '=', 'regular'), eb('symbol', 'like', 'G/TBT/N/USA/%')])]))
      .orderBy('id')
      .execute()
    out.push(...rows.map((r) => r.id))
  }
  return out
}

/**
 * Links a Federal Register proposed rule and the G/TBT/N/USA notification of the same
 * draft into one measure (keyed by the WTO symbol), whichever of the two arrives first.
 * Called for each new or changed notice; anything else is left alone.
 */
export async function linkAcrossSources(db: Db, noticeId: number, now: string): Promise<LinkOutcome> {
  const n = await db.selectFrom('notice').selectAll().where('id', '=', noticeId).executeTakeFirst()
  if (!n || !n.distribution_date) return { linked: false }
  const isFr = n.source_id === FEDREG_SOURCE
  const isUsaWto = !isFr && n.doc_type === 'regular' && n.symbol.startsWith('G/TBT/N/USA/')
  if (!isFr && !isUsaWto) return { linked: false }
  const unlinkedFr = (q: ReturnType<typeof frQuery>) => q.where('measure.key', 'like', 'FR:%')
  const frQuery = () =>
    db.selectFrom('notice').innerJoin('measure', 'measure.id', 'notice.measure_id').selectAll('notice').where('notice.source_id', '=', FEDREG_SOURCE)
  let fr: NoticeRow
  let wto: NoticeRow
  let score: LinkScore
  if (isFr) {
    const mine = await db.selectFrom('measure').select('key').where('id', '=', n.measure_id).executeTakeFirst()
    if (!mine?.key.startsWith('FR:')) return { linked: false } // already linked
    const candidates = await db
      .selectFrom('notice')
      .selectAll()
      .where('symbol', 'like', 'G/TBT/N/USA/%')
      .where('doc_type', '=', 'regular')
      .where('source_id', '!=', FEDREG_SOURCE)
      .where('distribution_date', '>=', addDays(n.distribution_date, -30))
      .where('distribution_date', '<=', addDays(n.distribution_date, 120))
      .execute()
    const best = bestLink(doc(n), candidates.map(doc))
    if (!best) return { linked: false }
    ;[fr, wto, score] = [n, best.candidate.row, best.score]
  } else {
    const candidates = await unlinkedFr(frQuery())
      .where('notice.distribution_date', '>=', addDays(n.distribution_date, -120))
      .where('notice.distribution_date', '<=', addDays(n.distribution_date, 30))
      .execute()
    const target = doc(n)
    let best: { row: NoticeRow; score: LinkScore } | null = null
    for (const c of candidates) {
      const b = bestLink(doc(c), [target])
      if (b && (!best || b.score.score > best.score.score)) best = { row: c, score: b.score }
    }
    if (!best) return { linked: false }
    ;[fr, wto, score] = [best.row, n, best.score]
  }
  if (fr.measure_id === wto.measure_id) return { linked: false }
  await inTx(db, async (tx) => {
    await mergeMeasure(tx, fr.measure_id, wto.measure_id)
    await refreshMeasure(tx, wto.measure_id, now)
  })
  return { linked: true, measureId: wto.measure_id, score }
}

/**
 * `linkAcrossSources` for a page's new or changed notices, in their order, in a few queries
 * when nothing links: the notices are read at once, and so are the documents either kind
 * could link to across the page's dates; only a notice with a candidate in its own window
 * goes on to `linkAcrossSources`. Exact: a link only takes Federal Register documents out
 * of their unlinked measures, so it never makes a candidate for a later notice.
 */
export async function linkPage(db: Db, noticeIds: number[], now: string): Promise<void> {
  const mayLink = new Set(await linkable(db, noticeIds))
  const ids = noticeIds.filter((id) => mayLink.has(id))
  if (!ids.length) return
  const rows: NoticeRow[] = []
  for (let i = 0; i < ids.length; i += 500) rows.push(...(await db.selectFrom('notice').selectAll().where('id', 'in', ids.slice(i, i + 500)).execute()))
  const byId = new Map(rows.map((r) => [r.id, r]))
  const day = (r: NoticeRow) => r.distribution_date!
  const frs = rows.filter((r) => r.source_id === FEDREG_SOURCE)
  const wtos = rows.filter((r) => r.source_id !== FEDREG_SOURCE)
  const span = (list: NoticeRow[], before: number, after: number) => [addDays(list.map(day).sort()[0], -before), addDays(list.map(day).sort().at(-1)!, after)] as const
  // The same windows as linkAcrossSources: a WTO notification looks 120 days back and 30 ahead for FR documents, an FR document the reverse.
  let unlinkedFr: string[] = []
  if (wtos.length) {
    const [from, to] = span(wtos, 120, 30)
    const found = await db
      .selectFrom('notice')
      .innerJoin('measure', 'measure.id', 'notice.measure_id')
      .select('notice.distribution_date')
      .where('notice.source_id', '=', FEDREG_SOURCE)
      .where('measure.key', 'like', 'FR:%')
      .where('notice.distribution_date', '>=', from)
      .where('notice.distribution_date', '<=', to)
      .execute()
    unlinkedFr = found.map((r) => r.distribution_date!)
  }
  let usaWto: string[] = []
  if (frs.length) {
    const [from, to] = span(frs, 30, 120)
    const found = await db
      .selectFrom('notice')
      .select('distribution_date')
      .where('symbol', 'like', 'G/TBT/N/USA/%')
      .where('doc_type', '=', 'regular')
      .where('source_id', '!=', FEDREG_SOURCE)
      .where('distribution_date', '>=', from)
      .where('distribution_date', '<=', to)
      .execute()
    usaWto = found.map((r) => r.distribution_date!)
  }
  const within = (dates: string[], d: string, before: number, after: number) => dates.some((x) => x >= addDays(d, -before) && x <= addDays(d, after))
  for (const id of ids) {
    const r = byId.get(id)!
    const candidates = r.source_id === FEDREG_SOURCE ? within(usaWto, day(r), 30, 120) : within(unlinkedFr, day(r), 120, 30)
    if (candidates) await linkAcrossSources(db, id, now)
  }
}
