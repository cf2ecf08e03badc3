// A queue of N notices written straight into the database (the queue benchmark, and the
// tests that need more rows than a pass over the fixtures gives): notice texts from the
// classifier's synthetic generator (titles, products and descriptions in English, Spanish,
// French and Chinese, from the lexicon's terms), about 15% follow-up documents of an
// earlier measure, about two thirds of notices raising a warning with one to three
// categories, statuses spread over the review workflow, deadlines around `today`.
// Bulk inserts in chunks inside one transaction: the stored rows have the shape the
// pipeline's stages write, but no job runs. Deterministic for a given N.
import { sql } from 'kysely'
import type { AppContext } from '../src/app-context.js'
import { addDays } from '../src/domain/dates.js'
import { seed as seedReference } from '../src/services/seed.service.js'
import { syntheticNotices } from './synthetic-notices.js'

const MEMBERS: [string, string][] = [
  ['USA', 'United States of America'], ['EU', 'European Union'], ['KEN', 'Kenya'], ['SAU', 'Saudi Arabia, Kingdom of'], ['CHL', 'Chile'],
  ['BRA', 'Brazil'], ['IND', 'India'], ['JPN', 'Japan'], ['KOR', 'Korea, Republic of'], ['VNM', 'Viet Nam'], ['MEX', 'Mexico'], ['EGY', 'Egypt'],
]
const STATUSES = ['new', 'new', 'new', 'new', 'in_review', 'confirmed', 'dismissed', 'escalated']
const LANGS: Record<string, string> = { eng: 'eng', spa: 'spa', fra: 'fra', cmn: 'cmn' }
// Batteries are a frequent subject of notifications: about 3% of notices are about them.
const BATTERIES = {
  eng: ['Safety requirements for lithium-ion batteries', 'Labelling of portable batteries and battery chargers', 'Draft regulation on lead-acid batteries for vehicles'],
  cmn: ['锂电池安全要求', '电动自行车用蓄电池技术法规草案', '便携式电池及充电器标签要求'],
}

export interface SeedExtra {
  /** notices to add with a given title/description (tests: known words to search for) */
  title: string
  description?: string
  note?: string
}

/** Writes `n` notices (plus `extra`) and their measures and warnings; returns the counts. */
export async function seedQueue(ctx: AppContext, n: number, opts: { today: string; extra?: SeedExtra[]; seed?: number } = { today: '2026-11-28' }) {
  // mulberry32: successive draws independent enough that one test on a draw does not decide the next
  let s = opts.seed ?? 7
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]
  await seedReference(ctx, { subscribers: false }) // sources, categories, markets (what `tbt-watch` seeds)
  const texts = syntheticNotices(n)
  const sourceId = ctx.sources[0]?.id ?? 'eping'
  const categories = ctx.categories.map((c) => c.id)
  const now = `${opts.today}T04:00:00.000Z`
  const max = async (t: 'notice' | 'measure' | 'warning') => Number((await ctx.db.selectFrom(t).select((eb) => eb.fn.max('id').as('m')).executeTakeFirst())?.m ?? 0)
  let noticeId = await max('notice')
  let measureId = await max('measure')
  let warningId = await max('warning')
  const notices: Record<string, unknown>[] = []
  const measures: Record<string, unknown>[] = []
  const members: Record<string, unknown>[] = []
  const symbols: Record<string, unknown>[] = []
  const warnings: Record<string, unknown>[] = []
  const warningCats: Record<string, unknown>[] = []
  const measureOf: { id: number; key: string; member: [string, string]; deadline: string | null; count: number }[] = []
  const serial = new Map<string, number>()
  const all = [...texts.map((t) => ({ title: t.input.title ?? "", description: t.input.description ?? null, products: t.input.products ?? null, lang: /[\u4e00-\u9fff]/.test(t.input.title ?? "") ? 'cmn' : pick(['eng', 'spa', 'fra']), note: null as string | null })), ...(opts.extra ?? []).map((e) => ({ title: e.title, description: e.description ?? null, products: null, lang: /[\u4e00-\u9fff]/.test(e.title) ? 'cmn' : 'eng', note: e.note ?? null }))]
  for (const [i, t] of all.entries()) {
    if (i < texts.length && rand() < 0.03) t.title = (t.lang === 'cmn' ? BATTERIES.cmn : BATTERIES.eng)[i % 3]
    const followUp = measureOf.length > 10 && rand() < 0.15 && i < texts.length
    let m: (typeof measureOf)[number]
    let symbol: string
    if (followUp) {
      m = pick(measureOf)
      m.count++
      symbol = `${m.key}/Add.${m.count}`
    } else {
      const member = pick(MEMBERS)
      const k = (serial.get(member[0]) ?? 1000) + 1
      serial.set(member[0], k)
      const key = `G/TBT/N/${member[0]}/${k}`
      const deadline = rand() < 0.9 ? addDays(opts.today, Math.floor(rand() * 120) - 60) : null
      m = { id: ++measureId, key, member, deadline, count: 0 }
      measureOf.push(m)
      symbol = key
      const open = !deadline || deadline >= opts.today
      measures.push({ id: m.id, key, member: member[1], title: t.title, status: open ? 'open' : 'closed', comment_deadline: deadline, first_distribution_date: addDays(opts.today, -Math.floor(rand() * 365)), created_at: now, updated_at: now, area: 'TBT' })
      members.push({ measure_id: m.id, member_code: member[0], position: 0 })
      // about two thirds of notices raise a warning (a measure's follow-ups share it)
      if (rand() < 0.76 || i >= texts.length) {
        const cats = [...new Set([pick(categories), pick(categories), pick(categories)].slice(0, 1 + Math.floor(rand() * 3)))]
        const scores = cats.map(() => Math.round(rand() * 1000) / 10)
        const top = scores.indexOf(Math.max(...scores))
        const level = (x: number) => (x >= 70 ? 'high' : x >= 40 ? 'medium' : 'low')
        const id = ++warningId
        warnings.push({ id, measure_id: m.id, category_id: cats[top], level: level(scores[top]), score: scores[top], status: pick(STATUSES), assignee: rand() < 0.1 ? pick(['analyst@example.com', 'lead@example.com']) : null, note: t.note, lifecycle_rank: open ? 0 : 2, created_at: addDays(opts.today, -Math.floor(rand() * 90)) + 'T04:00:00.000Z', updated_at: now })
        cats.forEach((c, j) => warningCats.push({ warning_id: id, category_id: c, score: scores[j], level: level(scores[j]) }))
      }
    }
    const id = ++noticeId
    notices.push({
      id, source_id: sourceId, source_item_id: `bench-${id}`, measure_id: m.id, symbol, symbols: JSON.stringify([symbol]), doc_type: followUp ? 'addendum' : 'regular', area: 'TBT',
      member: m.member[1], member_code: m.member[0], title: t.title, products: t.products, description: t.description, objectives: '[]', keywords: '[]', language: LANGS[t.lang] ?? t.lang,
      distribution_date: opts.today, comment_deadline: m.deadline, links: '[]', source_url: null, content_hash: `h${id}`, raw_response_id: null, first_seen_at: now, updated_at: now,
    })
    symbols.push({ notice_id: id, symbol, base_symbol: m.key })
  }
  const chunked = async (tx: typeof ctx.db, table: string, rows: Record<string, unknown>[]) => {
    const size = Math.max(1, Math.floor(10_000 / Math.max(1, Object.keys(rows[0] ?? {}).length)))
    for (let i = 0; i < rows.length; i += size) await tx.insertInto(table as 'notice').values(rows.slice(i, i + size) as never).execute()
  }
  await ctx.db.transaction().execute(async (tx) => {
    await chunked(tx, 'measure', measures)
    await chunked(tx, 'measure_member', members)
    await chunked(tx, 'notice', notices)
    await chunked(tx, 'notice_symbol', symbols)
    await chunked(tx, 'warning', warnings)
    await chunked(tx, 'warning_category', warningCats)
    if (ctx.dialect === 'postgres') {
      // Ids were given: move the identity sequences past them.
      for (const t of ['measure', 'notice', 'warning']) await sql`select setval(pg_get_serial_sequence(${t}, 'id'), (select max(id) from ${sql.table(t)}))`.execute(tx)
    }
  })
  // What autovacuum (on by default; off on the machines these benches ran on) does within
  // a minute of a bulk load: statistics for the planner, and the visibility map, without
  // which an index-only scan (the tab counts) reads every row's page as well.
  if (ctx.dialect === 'postgres') for (const t of ['measure', 'notice', 'warning', 'warning_category', 'measure_member', 'notice_symbol']) await sql`vacuum (analyze) ${sql.table(t)}`.execute(ctx.db)
  return { notices: notices.length, measures: measures.length, warnings: warnings.length }
}
