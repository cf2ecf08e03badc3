import fs from 'node:fs/promises'
import path from 'node:path'
import type { AppContext } from '../app-context.js'
import { addDays, daysBetween, localDay, zonedMidnightIso } from '../domain/dates.js'
import { isComplete, isPeriodKey, isReportDue, lastCompletePeriod, type PeriodKind } from '../domain/periods.js'
import { marketOfMember } from '../domain/markets.js'
import { loadMembers, memberCodesOf } from '../domain/members.js'
import { parseSymbol } from '../domain/symbols.js'
import { statusOn } from '../domain/measure.js'
import { matchWarnings, type CatalogCategory, type CatalogWarning, type Match, type Preferences } from '../digest/match.js'
import { renderConfirmation, renderDigest, renderImmediate, renderReminder, type Lang, type MailLinks } from '../digest/render.js'
import { renderReport } from '../digest/report.js'
import { LEVEL_RANK, type Level, type TraceItem } from '../risk/score.js'
import { confirmationUrl, subscriberLinks, warningLinkUrl } from './subscriber.service.js'
import { redactEmails } from '../logger.js'
import { createMailer, MailError, type Mailer, type OutgoingMail } from '../mail/mailer.js'
import type { SubscriberRow } from '../db/schema.js'
import { chartAttachments, ensureReport } from './report.service.js'

export type Period = 'daily' | PeriodKind
export type DeliveryKind = 'digest-daily' | 'digest-weekly' | 'report-weekly' | 'report-monthly' | 'report-quarterly' | 'immediate' | 'reminder' | 'confirm' | 'comment-submitted' | 'comment-replied' | 'comment-reminder'
export const PERIODS: Period[] = ['daily', 'weekly', 'monthly', 'quarterly']

export { localDay, zonedMidnightIso }

/**
 * The key of a period's digests and reports at `now`: today (`2026-11-28`) for daily; the
 * last complete ISO week (`2026-W48`), month (`2026-11`) or quarter (`2026-Q4`) for the
 * others, in the time zone. Sent on Monday 2026-11-30, the weekly report covers 2026-W48.
 */
export function periodKey(period: Period, now: Date, timeZone: string): string {
  const day = localDay(now, timeZone)
  return period === 'daily' ? day : lastCompletePeriod(period, day)
}

/**
 * The periods a run for these periods sends: the weekly run (scheduled on Mondays) also
 * sends the monthly and quarterly reports once they are due (from the first Monday of the
 * new month or quarter).
 */
export function withDueReports(ctx: Pick<AppContext, 'clock' | 'config'>, periods: Period[]): Period[] {
  if (!periods.includes('weekly')) return periods
  const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
  const extra = (['monthly', 'quarterly'] as const).filter((k) => !periods.includes(k) && isReportDue(k, today))
  return [...periods, ...extra]
}

/** Enterprises get digests (daily, weekly); officials get reports (weekly, monthly, quarterly). */
export const deliveryKind = (period: Period, role: string = 'enterprise'): DeliveryKind =>
  role === 'official' && period !== 'daily' ? `report-${period}` : (`digest-${period}` as DeliveryKind)

// ---------------------------------------------------------------------------------------
// Links every e-mail carries (signed tokens: they work without a login).

export function mailLinks(ctx: AppContext, sub: { id: number; token_version?: number | null }): MailLinks {
  return { baseUrl: ctx.config.publicBaseUrl, ...subscriberLinks(ctx, sub) }
}

/** An enterprise's copy of a warning: its detail link opens without a login (signed for this subscriber and warning). */
export function withWarningLink(ctx: AppContext, sub: SubscriberRow, w: CatalogWarning): CatalogWarning {
  return sub.role === 'official' ? w : { ...w, detailUrl: warningLinkUrl(ctx, sub, w.id) }
}
const linked = (ctx: AppContext, sub: SubscriberRow, ms: Match[]): Match[] => ms.map((m) => ({ ...m, warning: withWarningLink(ctx, sub, m.warning) }))

// ---------------------------------------------------------------------------------------
// The catalog: publishable warnings with what matching and rendering need, in a few
// batched queries (not one per warning).

export interface CatalogFilter {
  /** `enterprise`: confirmed warnings and the levels the rules publish without review; `official`: every open warning. */
  audience: 'enterprise' | 'official'
  minLevel?: Level
  levels?: Level[]
  ids?: number[]
  categoryIds?: string[]
  measureIds?: number[]
  createdFrom?: string
  createdBefore?: string
  /** Measures whose comment deadline (or entry into force) falls in [from, to] (local dates). */
  deadlineBetween?: [string, string]
  entryIntoForceBetween?: [string, string]
  /** Only measures in these lifecycle states, or not in these. */
  measureStatuses?: string[]
  notMeasureStatuses?: string[]
  /** Leave out warnings this subscriber has received (or is being sent). */
  notDeliveredTo?: number
  /** With notDeliveredTo: the delivery being (re)claimed, whose own held warnings count as free. */
  reclaiming?: number
}

const chunks = <T>(xs: T[], n = 500) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n))

export async function loadCatalog(ctx: AppContext, f: CatalogFilter): Promise<CatalogWarning[]> {
  const { db } = ctx
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
      'warning.created_at',
      'category.name_zh',
      'category.name_en',
      'measure.id as measure_id',
      'measure.key',
      'measure.title',
      'measure.member',
      'measure.status as measure_status',
      'measure.stated_status',
      'measure.adoption_date',
      'measure.comment_deadline',
      'measure.entry_into_force_date',
    ])
  if (f.audience === 'official') q = q.where('warning.status', 'in', ['new', 'in_review', 'confirmed', 'escalated'])
  else {
    const auto = ctx.rules.warning.publishWithoutReview
    q = q.where((eb) =>
      eb.or([
        eb('warning.status', '=', 'confirmed'),
        ...(auto.length ? [eb.and([eb('warning.status', 'in', ['new', 'in_review', 'escalated']), eb('warning.level', 'in', auto)])] : []),
      ]),
    )
  }
  if (f.minLevel) q = q.where('warning.level', 'in', (['low', 'medium', 'high'] as Level[]).filter((l) => LEVEL_RANK[l] >= LEVEL_RANK[f.minLevel!]))
  if (f.levels) q = q.where('warning.level', 'in', f.levels)
  if (f.ids) q = q.where('warning.id', 'in', f.ids.length ? f.ids : [-1])
  if (f.categoryIds) {
    const ids = f.categoryIds.length ? f.categoryIds : ['-']
    q = q.where(({ exists, selectFrom }) => exists(selectFrom('warning_category').select('warning_category.warning_id').whereRef('warning_category.warning_id', '=', 'warning.id').where('warning_category.category_id', 'in', ids)))
  }
  if (f.measureIds) q = q.where('warning.measure_id', 'in', f.measureIds.length ? f.measureIds : [-1])
  if (f.createdFrom) q = q.where('warning.created_at', '>=', f.createdFrom)
  if (f.createdBefore) q = q.where('warning.created_at', '<', f.createdBefore)
  if (f.deadlineBetween) q = q.where('measure.comment_deadline', '>=', f.deadlineBetween[0]).where('measure.comment_deadline', '<=', f.deadlineBetween[1])
  if (f.entryIntoForceBetween) q = q.where('measure.entry_into_force_date', '>=', f.entryIntoForceBetween[0]).where('measure.entry_into_force_date', '<=', f.entryIntoForceBetween[1])
  if (f.measureStatuses) q = q.where('measure.status', 'in', f.measureStatuses.length ? f.measureStatuses : ['-'])
  if (f.notMeasureStatuses?.length) q = q.where('measure.status', 'not in', f.notMeasureStatuses)
  if (f.notDeliveredTo !== undefined) {
    const sid = f.notDeliveredTo
    q = q.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('delivery_warning')
            .innerJoin('email_delivery', 'email_delivery.id', 'delivery_warning.delivery_id')
            .select('delivery_warning.warning_id')
            .whereRef('delivery_warning.warning_id', '=', 'warning.id')
            .where('delivery_warning.subscriber_id', '=', sid)
            .where('email_delivery.status', 'not in', UNHELD)
            .$if(f.reclaiming !== undefined, (qb) => qb.where('email_delivery.id', '!=', f.reclaiming!)),
        ),
      ),
    )
  }
  const rows = await q.orderBy('warning.id').execute()
  if (!rows.length) return []

  const measureIds = [...new Set(rows.map((r) => r.measure_id))]
  type N = { id: number; measure_id: number; member_code: string | null; symbol: string; symbols: string; title: string; description: string | null; products: string | null; source_url: string | null; links: string }
  const notices: N[] = []
  const hs = new Map<number, Set<string>>()
  const traces = new Map<string, TraceItem[]>()
  const memberCodes = new Map<number, string[]>()
  const categories = new Map<number, CatalogCategory[]>()
  for (const ids of chunks(measureIds)) {
    notices.push(
      ...(await db
        .selectFrom('notice')
        .select(['id', 'measure_id', 'member_code', 'symbol', 'symbols', 'title', 'description', 'products', 'source_url', 'links'])
        .where('measure_id', 'in', ids)
        .orderBy('id')
        .execute()),
    )
    for (const r of await db.selectFrom('risk_score').select(['measure_id', 'category_id', 'trace']).where('measure_id', 'in', ids).execute()) {
      traces.set(`${r.measure_id}|${r.category_id}`, JSON.parse(r.trace))
    }
    for (const r of await db.selectFrom('measure_member').select(['measure_id', 'member_code']).where('measure_id', 'in', ids).orderBy('measure_id').orderBy('position').execute()) {
      memberCodes.set(r.measure_id, [...(memberCodes.get(r.measure_id) ?? []), r.member_code])
    }
  }
  for (const ids of chunks(rows.map((r) => r.id))) {
    const cats = await db
      .selectFrom('warning_category')
      .innerJoin('category', 'category.id', 'warning_category.category_id')
      .select(['warning_category.warning_id', 'warning_category.category_id', 'warning_category.score', 'warning_category.level', 'category.name_zh', 'category.name_en'])
      .where('warning_category.warning_id', 'in', ids)
      .execute()
    for (const c of cats) categories.set(c.warning_id, [...(categories.get(c.warning_id) ?? []), { id: c.category_id, zh: c.name_zh, en: c.name_en, score: c.score, level: c.level as Level }])
  }
  const noticeMeasure = new Map(notices.map((n) => [n.id, n.measure_id]))
  const addHs = (noticeId: number, code: string) => {
    const m = noticeMeasure.get(noticeId)!
    if (!hs.has(m)) hs.set(m, new Set())
    hs.get(m)!.add(code)
  }
  for (const ids of chunks(notices.map((n) => n.id))) {
    for (const r of await db.selectFrom('notice_hs').select(['notice_id', 'code']).where('notice_id', 'in', ids).execute()) addHs(r.notice_id, r.code)
    for (const r of await db.selectFrom('classification').select(['notice_id', 'hs']).where('notice_id', 'in', ids).execute()) {
      for (const h of JSON.parse(r.hs) as { code: string }[]) addHs(r.notice_id, h.code)
    }
  }
  const byMeasure = new Map<number, N[]>()
  for (const n of notices) byMeasure.set(n.measure_id, [...(byMeasure.get(n.measure_id) ?? []), n])

  const index = loadMembers()
  const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
  return rows.map((r) => {
    const ns = byMeasure.get(r.measure_id) ?? []
    const codes = memberCodes.get(r.measure_id) ?? [...new Set(ns.flatMap((n) => memberCodesOf({ symbols: JSON.parse(n.symbols) as string[], memberCode: n.member_code, member: r.member }, index)))]
    const members = codes.map((code) => {
      const m = index.byCode(code)
      return { code, zh: m?.zh ?? code, en: m?.en ?? code }
    })
    const markets = codes.map((code) => {
      const m = marketOfMember(ctx.markets, code)
      return m ? { code: m.code, zh: m.zh, en: m.en, watched: m.watched } : { ...members.find((x) => x.code === code)!, watched: false }
    }).filter((m, i, all) => all.findIndex((x) => x.code === m.code) === i)
    const market = markets.find((m) => m.watched) ?? markets[0]
    const trace = traces.get(`${r.measure_id}|${r.category_id}`) ?? []
    const top = [...trace].filter((t) => t.factor !== 'confidence' && t.points > 0).sort((a, b) => b.points - a.points).slice(0, 2)
    const urls = [...new Set(ns.flatMap((n) => [n.source_url, ...(JSON.parse(n.links) as string[])]).filter((u): u is string => !!u && /^https?:\/\//i.test(u)))]
    const bases = [...new Set(ns.flatMap((n) => (JSON.parse(n.symbols) as string[]).map((x) => parseSymbol(x)?.base).filter((x): x is string => !!x)))]
    const cats = (categories.get(r.id) ?? [{ id: r.category_id, zh: r.name_zh, en: r.name_en, score: r.score, level: r.level as Level }]).sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
    return {
      id: r.id,
      level: r.level as Level,
      score: r.score,
      status: r.status,
      categoryId: r.category_id,
      categoryZh: r.name_zh,
      categoryEn: r.name_en,
      categories: cats,
      measureId: r.measure_id,
      measureKey: r.key,
      symbols: [r.key, ...bases.filter((b) => b !== r.key).sort()],
      measureStatus: statusOn({ ...r, status: r.measure_status }, today),
      title: r.title ?? '',
      member: r.member,
      memberCode: codes[0] ?? null,
      members,
      marketCode: market?.code ?? null,
      marketZh: market?.zh ?? null,
      marketEn: market?.en ?? null,
      markets,
      commentDeadline: r.comment_deadline,
      entryIntoForce: r.entry_into_force_date,
      daysLeft: r.comment_deadline ? daysBetween(today, r.comment_deadline) : null,
      reasonZh: top.map((t) => t.zh).join('；'),
      reasonEn: top.map((t) => t.en).join('; '),
      detailUrl: `${ctx.config.publicBaseUrl}/warnings/${r.id}`,
      path: `/warnings/${r.id}`,
      sourceUrls: urls.slice(0, 3),
      hsCodes: [...(hs.get(r.measure_id) ?? [])].sort(),
      text: ns.map((n) => `${n.title} ${n.description ?? ''} ${n.products ?? ''}`).join(' ').toLowerCase(),
      createdAt: r.created_at,
    }
  })
}

/** Subscription rows as preferences, for many subscribers at once. */
export async function loadPreferences(ctx: AppContext, subs: Pick<SubscriberRow, 'id' | 'min_level'>[]): Promise<Map<number, Preferences>> {
  const out = new Map<number, Preferences>(subs.map((s) => [s.id, { minLevel: s.min_level as Level, categories: [], hs: [], markets: [], keywords: [] }]))
  const key = { category: 'categories', hs: 'hs', market: 'markets', keyword: 'keywords' } as const
  for (const ids of chunks(subs.map((s) => s.id))) {
    const rows = await ctx.db.selectFrom('subscription').select(['subscriber_id', 'kind', 'value']).where('subscriber_id', 'in', ids).orderBy('id').execute()
    for (const r of rows) {
      const k = key[r.kind as keyof typeof key]
      if (k) out.get(r.subscriber_id)![k].push(r.value)
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------
// Exactly-once delivery.

/** Delivery states from which an attempt may (re)claim a row: nothing of it reached SMTP. */
const RECLAIMABLE = ['pending', 'failed', 'claimed']
/**
 * Deliveries whose warnings count as not delivered. Every other delivery holds its
 * warnings, a `claimed` one too: only its own re-attempt may take them back (`reclaiming`).
 */
const UNHELD = ['failed', 'failed-permanent']

export type DeliveryOutcome = 'sent' | 'empty' | 'already-sent' | 'uncertain' | 'skipped' | 'failed-permanent'

export interface Prepared {
  /** The warnings this e-mail carries (claimed in delivery_warning); empty for reminders and confirmations. */
  warningIds: number[]
  compose(owned: Set<number>): Promise<OutgoingMail> | OutgoingMail
}

/**
 * Sends one e-mail per (subscriber, kind, key), exactly once: a delivery row is written
 * before sending (`pending`), claimed (`claimed`) together with the warnings it carries,
 * composed, handed to SMTP (`sending`) and marked `sent` after. A crash before the
 * hand-over loses nothing: the next attempt claims the row again. A row a crash left in
 * `sending` is never sent again (at most once): it becomes `uncertain` for an admin to
 * check. Claims are compare-and-set on `attempts`, so of two processes that reach one row
 * (a stalled job run twice) only the last claimer may hand it over. A warning can belong
 * to one delivery of a subscriber only (unique key), so two kinds of e-mail built at the
 * same moment never both carry it. Retryable SMTP failures leave `failed` (the next
 * attempt claims again); permanent ones `failed-permanent` with an operations alert.
 */
export async function deliverOnce(ctx: AppContext, sub: SubscriberRow, kind: DeliveryKind, key: string, prepare: (deliveryId: number) => Promise<Prepared | null>): Promise<DeliveryOutcome> {
  const { db } = ctx
  await db
    .insertInto('email_delivery')
    .values({ subscriber_id: sub.id, kind, period_key: key, status: 'pending', attempts: 0, created_at: ctx.clock().toISOString() })
    .onConflict((oc) => oc.columns(['subscriber_id', 'kind', 'period_key']).doNothing())
    .execute()
  ctx.fault('deliver:pending')
  const delivery = await db.selectFrom('email_delivery').selectAll().where('subscriber_id', '=', sub.id).where('kind', '=', kind).where('period_key', '=', key).executeTakeFirstOrThrow()
  if (delivery.status === 'sent') return 'already-sent'
  if (delivery.status === 'failed-permanent') return 'failed-permanent'
  if (delivery.status === 'sending' || delivery.status === 'uncertain') {
    await db.updateTable('email_delivery').set({ status: 'uncertain', error: 'a previous attempt stopped while sending; not re-sent' }).where('id', '=', delivery.id).execute()
    return 'uncertain'
  }

  const prepared = await prepare(delivery.id)
  // Only a row still in the state this attempt saw (or left) is removed: never another attempt's claim.
  const drop = (attempts: number) => db.deleteFrom('email_delivery').where('id', '=', delivery.id).where('status', 'in', RECLAIMABLE).where('attempts', '=', attempts).execute()
  if (!prepared) {
    await drop(delivery.attempts)
    return 'empty'
  }
  const attempt = delivery.attempts + 1
  const claimed = await db.transaction().execute(async (tx) => {
    const r = await tx
      .updateTable('email_delivery')
      .set({ status: 'claimed', attempts: attempt })
      .where('id', '=', delivery.id)
      .where('status', 'in', RECLAIMABLE)
      .where('attempts', '=', delivery.attempts)
      .executeTakeFirst()
    if (Number(r.numUpdatedRows) !== 1) return null
    // Warnings held by this subscriber's failed deliveries (this one included) are free again.
    await tx
      .deleteFrom('delivery_warning')
      .where('subscriber_id', '=', sub.id)
      .where('delivery_id', 'in', tx.selectFrom('email_delivery').select('id').where('subscriber_id', '=', sub.id).where((eb) => eb.or([eb('status', 'in', UNHELD), eb('id', '=', delivery.id)])))
      .execute()
    for (const ids of chunks(prepared.warningIds)) {
      await tx
        .insertInto('delivery_warning')
        .values(ids.map((warning_id) => ({ delivery_id: delivery.id, subscriber_id: sub.id, warning_id })))
        .onConflict((oc) => oc.columns(['subscriber_id', 'warning_id']).doNothing())
        .execute()
    }
    const owned = await tx.selectFrom('delivery_warning').select('warning_id').where('delivery_id', '=', delivery.id).execute()
    return new Set(owned.map((o) => o.warning_id))
  })
  if (!claimed) return 'skipped'
  ctx.fault('deliver:claimed')
  if (prepared.warningIds.length && !claimed.size) {
    // Another delivery took every warning first: nothing is left to say.
    await drop(attempt)
    return 'empty'
  }

  const mail = await prepared.compose(claimed)
  // The hand-over: from here a crash may have sent the e-mail, so it is never re-sent.
  const handed = await db.updateTable('email_delivery').set({ status: 'sending' }).where('id', '=', delivery.id).where('status', '=', 'claimed').where('attempts', '=', attempt).executeTakeFirst()
  if (Number(handed.numUpdatedRows) !== 1) return 'skipped'
  ctx.fault('deliver:handed')
  try {
    await ctx.mailer().send({ ...mail, headers: { ...mail.headers, 'X-TBT-Delivery': String(delivery.id) } })
  } catch (err) {
    const retryable = err instanceof MailError ? err.retryable : true
    // The mailer redacts SMTP replies already; anything else thrown here is redacted too.
    const message = redactEmails((err as Error).message)
    await db.transaction().execute(async (tx) => {
      await tx.updateTable('email_delivery').set({ status: retryable ? 'failed' : 'failed-permanent', error: message.slice(0, 500) }).where('id', '=', delivery.id).execute()
      if (!retryable) {
        await tx.deleteFrom('delivery_warning').where('delivery_id', '=', delivery.id).execute()
        await tx
          .insertInto('ops_alert')
          .values({ source_id: null, kind: 'delivery-failed', message: `e-mail to subscriber #${sub.id} (${kind} ${key}) refused permanently: ${message.slice(0, 200)}`, created_at: ctx.clock().toISOString(), resolved_at: null })
          .execute()
      }
    })
    ctx.log.warn({ deliveryId: delivery.id, subscriberId: sub.id, kind, retryable, err: message }, 'e-mail not sent')
    throw err instanceof MailError ? err : new MailError(message, retryable)
  }
  ctx.fault('deliver:sent')
  await db
    .updateTable('email_delivery')
    .set({ status: 'sent', subject: mail.subject, message_id: mail.messageId, sent_at: ctx.clock().toISOString(), error: null })
    .where('id', '=', delivery.id)
    .execute()
  ctx.log.info({ deliveryId: delivery.id, subscriberId: sub.id, kind, warnings: claimed.size }, 'e-mail sent')
  return 'sent'
}

const langOf = (sub: SubscriberRow): Lang => (sub.lang === 'en' ? 'en' : 'zh')
const activeSubscriber = async (ctx: AppContext, id: number) => {
  const sub = await ctx.db.selectFrom('subscriber').selectAll().where('id', '=', id).executeTakeFirst()
  return sub && sub.confirmed_at && !sub.unsubscribed_at ? sub : null
}

export function envelope(ctx: AppContext, sub: SubscriberRow, kind: DeliveryKind, key: string, rendered: { subject: string; html: string; text: string }, links: MailLinks | null): OutgoingMail {
  return {
    to: sub.email,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    messageId: `<${kind}.${key.replace(/[^\w.-]+/g, '_')}.${sub.id}@tbt-watch>`,
    fileName: `${kind}-${key}-${sub.id}`,
    headers: links ? { 'List-Unsubscribe': `<${links.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {},
  }
}

/**
 * What a subscriber's e-mail for a period holds, or null when there is nothing to send.
 * An official gets the period's report (weekly, monthly, quarterly), the stored snapshot
 * every reader of that period gets; it carries no warnings of its own (delivery_warning is
 * for digests). An enterprise gets a digest (daily, weekly) of the published warnings it
 * has not received. Used by sending and previews.
 */
export async function composeDigest(ctx: AppContext, sub: SubscriberRow, period: Period, key: string, opts: { catalog?: CatalogWarning[]; prefs?: Preferences; reclaiming?: number } = {}): Promise<Prepared | null> {
  const kind = deliveryKind(period, sub.role)
  const links = mailLinks(ctx, sub)
  if (sub.role === 'official') {
    if (period === 'daily') return null
    if (!isPeriodKey(period, key) || !isComplete(period, key, localDay(ctx.clock(), ctx.config.schedule.timezone))) {
      ctx.log.warn({ period, key }, 'no report for a period that has not ended (or does not exist); nothing sent')
      return null
    }
    return {
      warningIds: [],
      // The snapshot is loaded (or computed and stored, once) after the claim, like a digest's content.
      async compose() {
        const report = await ensureReport(ctx, period, key)
        const webUrl = `${ctx.config.publicBaseUrl}/reports/${period}/${key}`
        const rendered = renderReport(langOf(sub), report, { kind: 'email', baseUrl: ctx.config.publicBaseUrl, webUrl, links, recipientName: sub.name })
        return { ...envelope(ctx, sub, kind, key, rendered, links), attachments: chartAttachments(report, langOf(sub), ctx.log) }
      },
    }
  }
  if (period !== 'daily' && period !== 'weekly') return null
  const prefs = opts.prefs ?? (await loadPreferences(ctx, [sub])).get(sub.id)!
  // Categories alone narrow the catalog in SQL; HS prefixes need the documents' codes (matched in memory).
  const categoryIds = prefs.categories.length && !prefs.hs.length ? prefs.categories : undefined
  const catalog = opts.catalog ?? (await loadCatalog(ctx, { audience: 'enterprise', minLevel: prefs.minLevel, categoryIds, notDeliveredTo: sub.id, reclaiming: opts.reclaiming }))
  const matches = linked(ctx, sub, matchWarnings(catalog, prefs))
  if (!matches.length) return null
  return {
    warningIds: matches.map((m) => m.warning.id),
    compose(owned) {
      const rendered = renderDigest({ lang: langOf(sub), period, periodKey: key, recipientName: sub.name, matches: matches.filter((m) => owned.has(m.warning.id)), links })
      return envelope(ctx, sub, kind, key, rendered, links)
    },
  }
}

/** One subscriber's e-mail for one period: an enterprise digest, or an official's report. */
export async function deliverDigest(ctx: AppContext, subscriberId: number, period: Period, key: string): Promise<DeliveryOutcome> {
  const sub = await activeSubscriber(ctx, subscriberId)
  if (!sub) return 'skipped'
  if (sub.role === 'official' && period === 'daily') return 'skipped'
  if (sub.role !== 'official' && period !== 'daily' && period !== 'weekly') return 'skipped'
  return deliverOnce(ctx, sub, deliveryKind(period, sub.role), key, (deliveryId) => composeDigest(ctx, sub, period, key, { reclaiming: deliveryId }))
}

/**
 * Confirmed, subscribed recipients of this period who have not had its e-mail: daily,
 * enterprises (daily and immediate); weekly, enterprises choosing weekly and every official
 * (the weekly report, whatever their frequency); monthly and quarterly, every official.
 */
export async function dueSubscribers(ctx: AppContext, period: Period, key: string): Promise<number[]> {
  const rows = await ctx.db
    .selectFrom('subscriber')
    .select('id')
    .where('confirmed_at', 'is not', null)
    .where('unsubscribed_at', 'is', null)
    .where((eb) =>
      period === 'daily'
        ? eb.and([eb('role', '=', 'enterprise'), eb('frequency', 'in', ['daily', 'immediate'])])
        : period === 'weekly'
          ? eb.or([eb('role', '=', 'official'), eb('frequency', '=', 'weekly')])
          : eb('role', '=', 'official'),
    )
    .where(({ not, exists, selectFrom, eb, ref }) =>
      not(
        exists(
          selectFrom('email_delivery')
            .select('email_delivery.id')
            .whereRef('email_delivery.subscriber_id', '=', 'subscriber.id')
            .where((e) =>
              e.or([
                e.and([eb(ref('subscriber.role'), '=', 'official'), e('email_delivery.kind', '=', deliveryKind(period, 'official'))]),
                e.and([eb(ref('subscriber.role'), '!=', 'official'), e('email_delivery.kind', '=', deliveryKind(period, 'enterprise'))]),
              ]),
            )
            .where('email_delivery.period_key', '=', key)
            // Rows left `pending`, `claimed` or `failed` are due again; one left in `sending` is
            // due too: delivering it marks it `uncertain` (never re-sent).
            .where('email_delivery.status', 'in', ['sent', 'uncertain', 'failed-permanent']),
        ),
      ),
    )
    .orderBy('id')
    .execute()
  return rows.map((r) => r.id)
}

// ---------------------------------------------------------------------------------------
// Immediate alerts and comment-deadline reminders.

export interface ImmediateDue {
  subscriberId: number
  warningId: number
}

/**
 * (subscriber, warning) pairs to alert at once: high warnings, published (confirmed or
 * published without review) since the subscriber confirmed, matching their
 * preferences, not yet received in any e-mail.
 */
export async function dueImmediate(ctx: AppContext): Promise<ImmediateDue[]> {
  const subs = await ctx.db
    .selectFrom('subscriber')
    .selectAll()
    .where('frequency', '=', 'immediate')
    .where('role', '=', 'enterprise')
    .where('confirmed_at', 'is not', null)
    .where('unsubscribed_at', 'is', null)
    .orderBy('id')
    .execute()
  if (!subs.length) return []
  const catalog = await loadCatalog(ctx, { audience: 'enterprise', levels: ['high'] })
  if (!catalog.length) return []
  const prefs = await loadPreferences(ctx, subs)
  const updated = new Map((await ctx.db.selectFrom('warning').select(['id', 'updated_at']).where('id', 'in', catalog.map((w) => w.id)).execute()).map((w) => [w.id, w.updated_at]))
  const out: ImmediateDue[] = []
  for (const sub of subs) {
    const delivered = new Set(
      (await ctx.db.selectFrom('delivery_warning').innerJoin('email_delivery', 'email_delivery.id', 'delivery_warning.delivery_id').select('delivery_warning.warning_id').where('delivery_warning.subscriber_id', '=', sub.id).where('email_delivery.status', 'not in', UNHELD).execute()).map((r) => r.warning_id),
    )
    const fresh = catalog.filter((w) => !delivered.has(w.id) && (updated.get(w.id) ?? '') >= sub.confirmed_at!)
    for (const m of matchWarnings(fresh, prefs.get(sub.id)!)) out.push({ subscriberId: sub.id, warningId: m.warning.id })
  }
  return out
}

export async function deliverImmediate(ctx: AppContext, subscriberId: number, warningId: number): Promise<DeliveryOutcome> {
  const sub = await activeSubscriber(ctx, subscriberId)
  if (!sub) return 'skipped'
  const key = `w${warningId}`
  return deliverOnce(ctx, sub, 'immediate', key, async (deliveryId) => {
    const [w] = await loadCatalog(ctx, { audience: 'enterprise', ids: [warningId], levels: ['high'], notDeliveredTo: sub.id, reclaiming: deliveryId })
    const prefs = (await loadPreferences(ctx, [sub])).get(sub.id)!
    const [match] = w ? linked(ctx, sub, matchWarnings([w], prefs)) : []
    if (!match) return null
    const links = mailLinks(ctx, sub)
    return { warningIds: [w.id], compose: () => envelope(ctx, sub, 'immediate', key, renderImmediate({ lang: langOf(sub), recipientName: sub.name, match, links }), links) }
  })
}

export interface ReminderDue {
  subscriberId: number
  measureId: number
  deadline: string
}

export const reminderKey = (measureId: number, deadline: string) => `m${measureId}-${deadline}`

/**
 * Reminders due today: open measures whose comment deadline is within N days
 * (TBT_REMINDER_DAYS), of which the enterprise subscriber received a warning on an
 * earlier day, and not reminded yet for this deadline (a moved deadline reminds again).
 */
export async function dueReminders(ctx: AppContext): Promise<ReminderDue[]> {
  const today = localDay(ctx.clock(), ctx.config.schedule.timezone)
  const last = addDays(today, ctx.config.digest.reminderDays)
  const rows = await ctx.db
    .selectFrom('delivery_warning')
    .innerJoin('email_delivery', 'email_delivery.id', 'delivery_warning.delivery_id')
    .innerJoin('warning', 'warning.id', 'delivery_warning.warning_id')
    .innerJoin('measure', 'measure.id', 'warning.measure_id')
    .innerJoin('subscriber', 'subscriber.id', 'delivery_warning.subscriber_id')
    .select(['subscriber.id as subscriber_id', 'measure.id as measure_id', 'measure.comment_deadline', 'email_delivery.sent_at'])
    .where('email_delivery.status', '=', 'sent')
    .where('subscriber.role', '=', 'enterprise')
    .where('subscriber.confirmed_at', 'is not', null)
    .where('subscriber.unsubscribed_at', 'is', null)
    .where('measure.status', '=', 'open')
    .where('measure.comment_deadline', '>=', today)
    .where('measure.comment_deadline', '<=', last)
    .where('warning.status', '!=', 'dismissed')
    .orderBy('subscriber.id')
    .orderBy('measure.id')
    .execute()
  const done = new Set(
    (await ctx.db.selectFrom('email_delivery').select(['subscriber_id', 'period_key']).where('kind', '=', 'reminder').where('status', 'in', ['sent', 'sending', 'uncertain', 'failed-permanent']).execute()).map(
      (d) => `${d.subscriber_id}|${d.period_key}`,
    ),
  )
  const out = new Map<string, ReminderDue>()
  for (const r of rows) {
    // Told today already (the digest shows the days left): no reminder on the same day.
    if (!r.sent_at || localDay(new Date(r.sent_at), ctx.config.schedule.timezone) === today) continue
    const key = reminderKey(r.measure_id, r.comment_deadline!)
    if (done.has(`${r.subscriber_id}|${key}`)) continue
    out.set(`${r.subscriber_id}|${key}`, { subscriberId: r.subscriber_id, measureId: r.measure_id, deadline: r.comment_deadline! })
  }
  return [...out.values()]
}

export async function deliverReminder(ctx: AppContext, subscriberId: number, measureId: number, deadline: string): Promise<DeliveryOutcome> {
  const sub = await activeSubscriber(ctx, subscriberId)
  if (!sub) return 'skipped'
  const key = reminderKey(measureId, deadline)
  return deliverOnce(ctx, sub, 'reminder', key, async () => {
    const m = await ctx.db.selectFrom('measure').select(['status', 'comment_deadline']).where('id', '=', measureId).executeTakeFirst()
    if (!m || m.status !== 'open' || m.comment_deadline !== deadline) return null
    const sentIds = (
      await ctx.db
        .selectFrom('delivery_warning')
        .innerJoin('email_delivery', 'email_delivery.id', 'delivery_warning.delivery_id')
        .innerJoin('warning', 'warning.id', 'delivery_warning.warning_id')
        .select('warning.id')
        .where('delivery_warning.subscriber_id', '=', sub.id)
        .where('email_delivery.status', '=', 'sent')
        .where('warning.measure_id', '=', measureId)
        .execute()
    ).map((r) => r.id)
    const audience = sub.role === 'official' ? 'official' : 'enterprise'
    const warnings = (await loadCatalog(ctx, { audience, ids: sentIds })).sort((a, b) => b.score - a.score).map((w) => withWarningLink(ctx, sub, w))
    if (!warnings.length) return null
    const links = mailLinks(ctx, sub)
    return { warningIds: [], compose: () => envelope(ctx, sub, 'reminder', key, renderReminder({ lang: langOf(sub), recipientName: sub.name, warnings, links }), links) }
  })
}

/**
 * The double opt-in e-mail for an unconfirmed subscriber. For a sign-up request of the
 * public form (`requestId`): one e-mail per request (the form allows an address a few
 * requests a day), greeting no one by name (the name is a stranger's text until
 * confirmed), whose link applies that request's choices. Without one (the CLI): at most
 * one a day per address (the delivery key is the day), confirming the subscriber as is.
 */
export async function sendConfirmation(ctx: AppContext, subscriberId: number, requestId?: number): Promise<DeliveryOutcome> {
  const sub = await ctx.db.selectFrom('subscriber').selectAll().where('id', '=', subscriberId).executeTakeFirst()
  if (!sub || (sub.confirmed_at && !sub.unsubscribed_at)) return 'skipped'
  const key = requestId === undefined ? localDay(ctx.clock(), ctx.config.schedule.timezone) : `request-${requestId}`
  const url = requestId === undefined ? confirmationUrl(ctx, sub) : confirmationUrl(ctx, { requestId })
  return deliverOnce(ctx, sub, 'confirm', key, async () => ({
    warningIds: [],
    compose: () => envelope(ctx, sub, 'confirm', key, renderConfirmation({ lang: langOf(sub), recipientName: requestId === undefined ? sub.name : null, confirmUrl: url }), null),
  }))
}

// ---------------------------------------------------------------------------------------
// Inline drivers (the one-pass run and the CLI); the BullMQ jobs call the same functions.

/** Retries a delivery in-process on retryable SMTP failures, with exponential backoff and jitter. */
export async function withMailRetries<T>(ctx: AppContext, fn: () => Promise<T>): Promise<T> {
  const { mailAttempts, mailRetryMs } = ctx.config.digest
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (!(err instanceof MailError) || !err.retryable || attempt >= mailAttempts) throw err
      await new Promise((r) => setTimeout(r, mailRetryMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2)))
    }
  }
}

export interface SendReport {
  sent: number
  failed: number
}

/** Runs deliveries one after another; a failing address is recorded and the others still go out. */
export async function runDeliveries(ctx: AppContext, jobs: (() => Promise<DeliveryOutcome>)[]): Promise<SendReport> {
  const r: SendReport = { sent: 0, failed: 0 }
  for (const job of jobs) {
    try {
      if ((await withMailRetries(ctx, job)) === 'sent') r.sent++
    } catch (err) {
      if (!(err instanceof MailError)) throw err
      r.failed++
    }
  }
  return r
}

export async function sendImmediateAlerts(ctx: AppContext): Promise<SendReport> {
  return runDeliveries(ctx, (await dueImmediate(ctx)).map((d) => () => deliverImmediate(ctx, d.subscriberId, d.warningId)))
}

export async function sendReminders(ctx: AppContext): Promise<SendReport> {
  return runDeliveries(ctx, (await dueReminders(ctx)).map((d) => () => deliverReminder(ctx, d.subscriberId, d.measureId, d.deadline)))
}

// ---------------------------------------------------------------------------------------
// Previews (`digest --dry-run`) and bulk building (benchmarks).

/**
 * Builds every due subscriber's digest for a period without sending or recording
 * anything, loading the catalog once for all of them.
 */
export async function* buildDueDigests(ctx: AppContext, period: Period, key: string): AsyncGenerator<{ subscriberId: number; mail: OutgoingMail }> {
  const ids = await dueSubscribers(ctx, period, key)
  const enterprise = await loadCatalog(ctx, { audience: 'enterprise' })
  const official = await loadCatalog(ctx, { audience: 'official' })
  for (const batch of chunks(ids, 500)) {
    const subs = await ctx.db.selectFrom('subscriber').selectAll().where('id', 'in', batch).orderBy('id').execute()
    const prefs = await loadPreferences(ctx, subs)
    const delivered = new Map<number, Set<number>>()
    const rows = await ctx.db
      .selectFrom('delivery_warning')
      .innerJoin('email_delivery', 'email_delivery.id', 'delivery_warning.delivery_id')
      .select(['delivery_warning.subscriber_id', 'delivery_warning.warning_id'])
      .where('delivery_warning.subscriber_id', 'in', batch)
      .where('email_delivery.status', 'not in', UNHELD)
      .execute()
    for (const r of rows) delivered.set(r.subscriber_id, (delivered.get(r.subscriber_id) ?? new Set()).add(r.warning_id))
    for (const sub of subs) {
      const seen = delivered.get(sub.id) ?? new Set<number>()
      const catalog = (sub.role === 'official' ? official : enterprise).filter((w) => !seen.has(w.id))
      const prepared = await composeDigest(ctx, sub, period, key, { catalog, prefs: prefs.get(sub.id) })
      if (!prepared) continue
      yield { subscriberId: sub.id, mail: await prepared.compose(new Set(prepared.warningIds)) }
    }
  }
}

/**
 * Writes the due digests as .eml files into `dir`, and for a report period the officials'
 * report as HTML (`report-2026-W48.html`): the period's stored snapshot (computed and
 * stored now if it was not yet: it is the same for every reader). No delivery is recorded.
 */
export async function previewDigests(ctx: AppContext, period: Period, key: string, dir: string): Promise<string[]> {
  const mailer: Mailer = createMailer({ from: ctx.config.smtpFrom, outboxDir: dir })
  const files: string[] = []
  try {
    for await (const { mail } of buildDueDigests(ctx, period, key)) {
      const r = await mailer.send(mail)
      if (r.file) files.push(r.file)
    }
  } finally {
    mailer.close()
  }
  if (period !== 'daily') {
    const { renderReportPage } = await import('../digest/report-page.js')
    const report = await ensureReport(ctx, period, key)
    const file = path.join(dir, `report-${key}.html`)
    await fs.mkdir(dir, { recursive: true })
    await fs.writeFile(file, renderReportPage(ctx.config.lang, report, { baseUrl: ctx.config.publicBaseUrl, url: `${ctx.config.publicBaseUrl}/reports/${period}/${key}` }))
    files.push(file)
  }
  return files
}

export type { Match }
