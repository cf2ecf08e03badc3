import type { AppContext } from '../app-context.js'
import { daysBetween, isoWeekKey } from '../domain/dates.js'
import { marketOfMember } from '../domain/markets.js'
import { renderDigest, type DigestWarning } from '../digest/render.js'
import { LEVEL_RANK, type Level, type TraceItem } from '../risk/score.js'
import { signToken } from '../util/tokens.js'
import { createMailer, MailError, type OutgoingMail } from '../mail/mailer.js'

export type Period = 'daily' | 'weekly'

/** The local calendar day (YYYY-MM-DD) in the configured time zone. */
export function localDay(d: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
}

/** The key of the period holding `now`: `2026-11-28` for daily, `2026-W48` for weekly. */
export function periodKey(period: Period, now: Date, timeZone: string): string {
  const day = localDay(now, timeZone)
  return period === 'daily' ? day : isoWeekKey(new Date(`${day}T00:00:00Z`))
}

export const deliveryKind = (period: Period) => `digest-${period}`

/** Confirmed, subscribed recipients of this frequency who have not had this period's digest. */
export async function dueSubscribers(ctx: AppContext, period: Period, key: string): Promise<number[]> {
  const rows = await ctx.db
    .selectFrom('subscriber')
    .select('id')
    .where('frequency', '=', period)
    .where('confirmed_at', 'is not', null)
    .where('unsubscribed_at', 'is', null)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('email_delivery')
            .select('email_delivery.id')
            .whereRef('email_delivery.subscriber_id', '=', 'subscriber.id')
            .where('email_delivery.kind', '=', deliveryKind(period))
            .where('email_delivery.period_key', '=', key)
            .where('email_delivery.status', 'in', ['sent', 'sending']),
        ),
      ),
    )
    .orderBy('id')
    .execute()
  return rows.map((r) => r.id)
}

export type DeliveryOutcome = 'sent' | 'empty' | 'already-sent' | 'uncertain' | 'skipped'

/**
 * Builds and sends one subscriber's digest for one period, exactly once: a delivery
 * row keyed by (subscriber, kind, period) is written before sending and marked after.
 * A row left in `sending` by a crash is not sent again (at most once); it is marked
 * `uncertain` for an admin to check.
 */
export async function deliverDigest(ctx: AppContext, subscriberId: number, period: Period, key: string): Promise<DeliveryOutcome> {
  const { db } = ctx
  const sub = await db.selectFrom('subscriber').selectAll().where('id', '=', subscriberId).executeTakeFirst()
  if (!sub || !sub.confirmed_at || sub.unsubscribed_at) return 'skipped'
  const kind = deliveryKind(period)
  const now = ctx.clock().toISOString()
  await db
    .insertInto('email_delivery')
    .values({ subscriber_id: sub.id, kind, period_key: key, status: 'pending', attempts: 0, created_at: now })
    .onConflict((oc) => oc.columns(['subscriber_id', 'kind', 'period_key']).doNothing())
    .execute()
  ctx.fault('deliver:pending')
  const delivery = await db
    .selectFrom('email_delivery')
    .selectAll()
    .where('subscriber_id', '=', sub.id)
    .where('kind', '=', kind)
    .where('period_key', '=', key)
    .executeTakeFirstOrThrow()
  if (delivery.status === 'sent') return 'already-sent'
  if (delivery.status === 'sending' || delivery.status === 'uncertain') {
    await db.updateTable('email_delivery').set({ status: 'uncertain', error: 'a previous attempt stopped while sending; not re-sent' }).where('id', '=', delivery.id).execute()
    return 'uncertain'
  }

  // Claim the delivery and the warnings it carries in one step; a concurrent worker
  // that loses the claim does nothing.
  const warnings = await selectWarnings(ctx, sub.id, sub.role as 'enterprise' | 'official', sub.min_level as Level)
  if (!warnings.length) {
    await db.deleteFrom('email_delivery').where('id', '=', delivery.id).where('status', '=', 'pending').execute()
    return 'empty'
  }
  const claimed = await db.transaction().execute(async (tx) => {
    const r = await tx
      .updateTable('email_delivery')
      .set({ status: 'sending', attempts: delivery.attempts + 1 })
      .where('id', '=', delivery.id)
      .where('status', 'in', ['pending', 'failed'])
      .executeTakeFirst()
    if (Number(r.numUpdatedRows) !== 1) return false
    await tx.deleteFrom('delivery_warning').where('delivery_id', '=', delivery.id).execute()
    await tx
      .insertInto('delivery_warning')
      .values(warnings.map((w) => ({ delivery_id: delivery.id, subscriber_id: sub.id, warning_id: w.id })))
      .execute()
    return true
  })
  if (!claimed) return 'skipped'
  ctx.fault('deliver:claimed')

  const composed = composeMail(ctx, sub, period, key, warnings)
  try {
    await ctx.mailer().send({ ...composed, headers: { ...composed.headers, 'X-TBT-Delivery': String(delivery.id) } })
  } catch (err) {
    const retryable = err instanceof MailError ? err.retryable : true
    await db
      .updateTable('email_delivery')
      .set({ status: retryable ? 'failed' : 'failed-permanent', error: (err as Error).message })
      .where('id', '=', delivery.id)
      .execute()
    throw err
  }
  ctx.fault('deliver:sent')
  await db
    .updateTable('email_delivery')
    .set({ status: 'sent', subject: composed.subject, message_id: composed.messageId, sent_at: ctx.clock().toISOString(), error: null })
    .where('id', '=', delivery.id)
    .execute()
  ctx.log.info({ deliveryId: delivery.id, subscriberId: sub.id, warnings: warnings.length }, 'digest sent')
  return 'sent'
}

type SubscriberRow = { id: number; email: string; name: string | null; role: string; lang: string; min_level: string }

function composeMail(ctx: AppContext, sub: SubscriberRow, period: Period, key: string, warnings: DigestWarning[]): OutgoingMail {
  const kind = deliveryKind(period)
  const unsubscribeUrl = `${ctx.config.publicBaseUrl}/unsubscribe?token=${signToken(ctx.config.secret, 'unsubscribe', String(sub.id))}`
  const mail = renderDigest({
    lang: sub.lang === 'en' ? 'en' : 'zh',
    role: sub.role as 'enterprise' | 'official',
    period,
    periodKey: key,
    recipientName: sub.name,
    warnings,
    unsubscribeUrl,
    baseUrl: ctx.config.publicBaseUrl,
  })
  return {
    to: sub.email,
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    messageId: `<${kind}.${key}.${sub.id}@tbt-watch>`,
    fileName: `${kind}-${key}-${sub.id}`,
    headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  }
}

/**
 * Writes the digests that are due as .eml files into `dir` without sending or
 * recording anything: what `digest --dry-run` shows.
 */
export async function previewDigests(ctx: AppContext, period: Period, key: string, dir: string): Promise<string[]> {
  const mailer = createMailer({ from: ctx.config.smtpFrom, outboxDir: dir })
  const files: string[] = []
  try {
    for (const id of await dueSubscribers(ctx, period, key)) {
      const sub = await ctx.db.selectFrom('subscriber').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
      const warnings = await selectWarnings(ctx, sub.id, sub.role as 'enterprise' | 'official', sub.min_level as Level)
      if (!warnings.length) continue
      const r = await mailer.send(composeMail(ctx, sub, period, key, warnings))
      if (r.file) files.push(r.file)
    }
  } finally {
    mailer.close()
  }
  return files
}

/**
 * The warnings a subscriber should read in this digest and has not received yet.
 * Enterprises get confirmed warnings (and those the rules publish without review)
 * that match their categories, HS prefixes, markets, keywords and minimum level;
 * officials get every open warning.
 */
async function selectWarnings(ctx: AppContext, subscriberId: number, role: 'enterprise' | 'official', minLevel: Level): Promise<DigestWarning[]> {
  const { db } = ctx
  const subs = await db.selectFrom('subscription').select(['kind', 'value']).where('subscriber_id', '=', subscriberId).execute()
  const want = (kind: string) => subs.filter((s) => s.kind === kind).map((s) => s.value)
  let q = db
    .selectFrom('warning')
    .innerJoin('measure', 'measure.id', 'warning.measure_id')
    .innerJoin('category', 'category.id', 'warning.category_id')
    .select([
      'warning.id',
      'warning.level',
      'warning.score',
      'warning.status',
      'warning.category_id',
      'category.name_zh',
      'category.name_en',
      'measure.id as measure_id',
      'measure.key',
      'measure.title',
      'measure.member',
      'measure.comment_deadline',
    ])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('delivery_warning')
            .innerJoin('email_delivery', 'email_delivery.id', 'delivery_warning.delivery_id')
            .select('delivery_warning.warning_id')
            .whereRef('delivery_warning.warning_id', '=', 'warning.id')
            .where('delivery_warning.subscriber_id', '=', subscriberId)
            .where('email_delivery.status', 'in', ['sent', 'sending', 'uncertain']),
        ),
      ),
    )
  if (role === 'official') {
    q = q.where('warning.status', 'in', ['new', 'in_review', 'confirmed', 'escalated'])
  } else {
    const auto = ctx.rules.warning.publishWithoutReview
    q = q.where((eb) =>
      eb.or([
        eb('warning.status', '=', 'confirmed'),
        ...(auto.length ? [eb.and([eb('warning.status', 'in', ['new', 'in_review', 'escalated']), eb('warning.level', 'in', auto)])] : []),
      ]),
    )
    const cats = want('category')
    if (cats.length) q = q.where('warning.category_id', 'in', cats)
  }
  const rows = await q.orderBy('warning.id').execute()
  const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
  const markets = want('market')
  const hsPrefixes = want('hs')
  const keywords = want('keyword').map((k) => k.toLowerCase())
  const out: DigestWarning[] = []
  for (const r of rows) {
    if (LEVEL_RANK[r.level as Level] < LEVEL_RANK[minLevel]) continue
    const notices = await db.selectFrom('notice').select(['id', 'member_code', 'symbol', 'title', 'description', 'products', 'source_url']).where('measure_id', '=', r.measure_id).orderBy('id').execute()
    const memberCode = notices.map((n) => n.member_code).find(Boolean) ?? notices[0]?.symbol.split('/')[3] ?? null
    const market = marketOfMember(ctx.markets, memberCode)
    if (role === 'enterprise') {
      if (markets.length && !(market && markets.includes(market.code)) && !(memberCode && markets.includes(memberCode))) continue
      if (hsPrefixes.length) {
        const codes = await db.selectFrom('notice_hs').select('code').where('notice_id', 'in', notices.map((n) => n.id)).execute()
        const cls = await db.selectFrom('classification').select('hs').where('notice_id', 'in', notices.map((n) => n.id)).execute()
        const all = [...codes.map((c) => c.code), ...cls.flatMap((c) => (JSON.parse(c.hs) as { code: string }[]).map((h) => h.code))]
        if (!all.some((c) => hsPrefixes.some((p) => c.startsWith(p) || p.startsWith(c)))) continue
      }
      if (keywords.length) {
        const text = notices.map((n) => `${n.title} ${n.description ?? ''} ${n.products ?? ''}`).join(' ').toLowerCase()
        if (!keywords.some((k) => text.includes(k))) continue
      }
    }
    const risk = await db.selectFrom('risk_score').select('trace').where('measure_id', '=', r.measure_id).where('category_id', '=', r.category_id).executeTakeFirst()
    const trace: TraceItem[] = risk ? JSON.parse(risk.trace) : []
    const top = [...trace].filter((t) => t.factor !== 'confidence' && t.points > 0).sort((a, b) => b.points - a.points).slice(0, 2)
    out.push({
      id: r.id,
      level: r.level as Level,
      score: r.score,
      status: r.status,
      categoryId: r.category_id,
      categoryZh: r.name_zh,
      categoryEn: r.name_en,
      measureKey: r.key,
      title: r.title ?? '',
      member: r.member,
      marketZh: market?.zh ?? null,
      marketEn: market?.en ?? null,
      commentDeadline: r.comment_deadline,
      daysLeft: r.comment_deadline ? daysBetween(today, r.comment_deadline) : null,
      reasonZh: top.map((t) => t.zh).join('；'),
      reasonEn: top.map((t) => t.en).join('; '),
      detailUrl: `${ctx.config.publicBaseUrl}/warnings/${r.id}`,
      sourceUrl: notices.find((n) => n.source_url)?.source_url ?? null,
    })
  }
  return out
}
