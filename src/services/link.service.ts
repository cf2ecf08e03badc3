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
