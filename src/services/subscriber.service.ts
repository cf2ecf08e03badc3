import { z } from 'zod'
import type { AppContext } from '../app-context.js'
import type { SubscriberRow } from '../db/schema.js'
import { DAY_MS, tokenSigner } from '../util/tokens.js'

/** What was wrong with subscriber input, for a message in the reader's language. */
export interface InputProblem {
  field: 'email' | 'name' | 'categories' | 'hs' | 'markets' | 'keywords' | 'minLevel' | 'frequency' | 'lang' | 'role' | 'input'
  kind: 'invalid' | 'unknown' | 'too-many' | 'too-long'
  /** The offending values (unknown ids), when there are any. */
  values?: string[]
  /** The bound that was exceeded. */
  max?: number
}

/** Bad subscriber input (CLI flags, web form): retrying the same input cannot help. */
export class SubscriberInputError extends Error {
  readonly code = 'SUBSCRIBER_INVALID'
  readonly retryable = false
  constructor(
    message: string,
    readonly problem: InputProblem = { field: 'input', kind: 'invalid' },
  ) {
    super(message)
    this.name = 'SubscriberInputError'
  }
}

/** Bounds on what one subscriber may ask for (also what a public form may submit). */
export const LIMITS = { name: 200, categories: 100, hs: 50, markets: 50, keywords: 50, keyword: 80 } as const

export const LEVELS = ['low', 'medium', 'high'] as const
export const FREQUENCIES = ['immediate', 'daily', 'weekly'] as const
export const LANGS = ['zh', 'en'] as const
export const ROLES = ['enterprise', 'official'] as const

export const PreferencesInput = z.object({
  name: z.string().trim().max(LIMITS.name).nullable().optional(),
  role: z.enum(ROLES).default('enterprise'),
  lang: z.enum(LANGS).default('zh'),
  frequency: z.enum(FREQUENCIES).default('daily'),
  minLevel: z.enum(LEVELS).default('low'),
  categories: z.array(z.string().trim().min(1).max(80)).max(LIMITS.categories).default([]),
  hs: z.array(z.string().trim().regex(/^\d{2,10}$/, 'HS prefixes are 2 to 10 digits, without dots')).max(LIMITS.hs).default([]),
  markets: z.array(z.string().trim().min(1).max(20)).max(LIMITS.markets).default([]),
  keywords: z.array(z.string().trim().min(1).max(LIMITS.keyword)).max(LIMITS.keywords).default([]),
})
export type PreferencesInput = z.input<typeof PreferencesInput>
export type Preferences = z.output<typeof PreferencesInput>

export const EmailSchema = z.string().trim().toLowerCase().email('not an e-mail address').max(254)

/** Validates preferences against the seeded categories and markets, with a message that names what is wrong. */
export function validatePreferences(ctx: AppContext, input: PreferencesInput): Preferences {
  const r = PreferencesInput.safeParse(input)
  if (!r.success) {
    const i = r.error.issues[0]
    const field = (typeof i.path[0] === 'string' ? i.path[0] : 'input') as InputProblem['field']
    const max = (i as { maximum?: number | bigint }).maximum
    const kind: InputProblem['kind'] = i.code === 'too_big' ? (i.path.length > 1 || field === 'name' ? 'too-long' : 'too-many') : 'invalid'
    throw new SubscriberInputError(`${i.path.join('.') || 'input'}: ${i.message}`, { field, kind, max: max === undefined ? undefined : Number(max) })
  }
  const p = r.data
  const unknownCats = p.categories.filter((c) => !ctx.categories.some((x) => x.id === c))
  if (unknownCats.length) throw new SubscriberInputError(`unknown categor${unknownCats.length > 1 ? 'ies' : 'y'} ${unknownCats.join(', ')}; known: ${ctx.categories.map((c) => c.id).join(', ')}`, { field: 'categories', kind: 'unknown', values: unknownCats })
  p.markets = p.markets.map((m) => m.toUpperCase())
  const unknownMarkets = p.markets.filter((m) => !ctx.markets.some((x) => x.code === m))
  if (unknownMarkets.length) throw new SubscriberInputError(`unknown market${unknownMarkets.length > 1 ? 's' : ''} ${unknownMarkets.join(', ')}; known: ${ctx.markets.map((m) => m.code).join(', ')}`, { field: 'markets', kind: 'unknown', values: unknownMarkets })
  const dedupe = (xs: string[]) => [...new Set(xs)]
  return { ...p, categories: dedupe(p.categories), hs: dedupe(p.hs), markets: dedupe(p.markets), keywords: dedupe(p.keywords.map((k) => k.toLowerCase())) }
}

export function parseEmail(email: string): string {
  const r = EmailSchema.safeParse(email)
  if (!r.success) throw new SubscriberInputError(`--email: ${r.error.issues[0].message}`, { field: 'email', kind: 'invalid' })
  return r.data
}

const KIND_OF = { categories: 'category', hs: 'hs', markets: 'market', keywords: 'keyword' } as const

/** Replaces a subscriber's preferences (subscription rows and settings) in one transaction. */
export async function savePreferences(ctx: AppContext, subscriberId: number, p: Preferences): Promise<void> {
  const now = ctx.clock().toISOString()
  await ctx.db.transaction().execute(async (tx) => {
    await tx
      .updateTable('subscriber')
      .set({ name: p.name ?? null, role: p.role, lang: p.lang, frequency: p.frequency, min_level: p.minLevel, updated_at: now })
      .where('id', '=', subscriberId)
      .execute()
    await tx.deleteFrom('subscription').where('subscriber_id', '=', subscriberId).execute()
    const rows = (Object.keys(KIND_OF) as (keyof typeof KIND_OF)[]).flatMap((k) => p[k].map((value) => ({ subscriber_id: subscriberId, kind: KIND_OF[k], value })))
    if (rows.length) await tx.insertInto('subscription').values(rows).execute()
  })
}

export interface AddResult {
  id: number
  created: boolean
  /** True when the address still has to confirm (a confirmation e-mail is due). */
  needsConfirmation: boolean
}

/**
 * Adds a subscriber, or updates the preferences of an existing address. `confirmed`
 * (an admin vouching for the address) skips the double opt-in; otherwise the address
 * stays unconfirmed until its owner follows the confirmation link. An address that had
 * unsubscribed is re-activated only through a new confirmation (or by an admin).
 */
export async function addSubscriber(ctx: AppContext, email: string, prefs: Preferences, opts: { confirmed?: boolean } = {}): Promise<AddResult> {
  const address = parseEmail(email)
  const now = ctx.clock().toISOString()
  const inserted = await ctx.db
    .insertInto('subscriber')
    .values({
      email: address,
      name: prefs.name ?? null,
      role: prefs.role,
      lang: prefs.lang,
      frequency: prefs.frequency,
      min_level: prefs.minLevel,
      confirmed_at: opts.confirmed ? now : null,
      unsubscribed_at: null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('email').doNothing())
    .returning('id')
    .executeTakeFirst()
  const row = await ctx.db.selectFrom('subscriber').selectAll().where('email', '=', address).executeTakeFirstOrThrow()
  await savePreferences(ctx, row.id, prefs)
  if (opts.confirmed && (!row.confirmed_at || row.unsubscribed_at)) {
    await ctx.db.updateTable('subscriber').set({ confirmed_at: now, unsubscribed_at: null }).where('id', '=', row.id).execute()
    return { id: row.id, created: !!inserted, needsConfirmation: false }
  }
  return { id: row.id, created: !!inserted, needsConfirmation: !row.confirmed_at || !!row.unsubscribed_at }
}

/** Marks an address unsubscribed: idempotent, and nothing is deleted (its history stays for audit). */
export async function unsubscribeSubscriber(ctx: AppContext, id: number): Promise<boolean> {
  const sub = await ctx.db.selectFrom('subscriber').select(['id', 'unsubscribed_at']).where('id', '=', id).executeTakeFirst()
  if (!sub) return false
  if (!sub.unsubscribed_at) await ctx.db.updateTable('subscriber').set({ unsubscribed_at: ctx.clock().toISOString() }).where('id', '=', id).where('unsubscribed_at', 'is', null).execute()
  return true
}

// ---------------------------------------------------------------------------------------
// Links and tokens. Every e-mail carries a manage and an unsubscribe link, signed for the
// subscriber and their token version (raising the version voids every earlier link);
// a confirmation link names one sign-up request. See src/util/tokens.ts.

export const LINK_TTL_MS = { unsubscribe: 365 * DAY_MS, manage: 90 * DAY_MS, confirm: 7 * DAY_MS, warning: 90 * DAY_MS } as const
/** Unconfirmed sign-ups (and their requests) are deleted after this many days. */
export const PENDING_DAYS = 7
/** Sign-up requests one address may make in 24 hours (each may send a confirmation e-mail). */
export const REQUESTS_PER_ADDRESS_PER_DAY = 3

const tokens = (ctx: AppContext) => tokenSigner(ctx.config.secret, ctx.clock)
const subjectOf = (sub: { id: number; token_version?: number | null }) => `s${sub.id}.v${sub.token_version ?? 0}`

/** The manage and unsubscribe links of a subscriber's e-mails. */
export function subscriberLinks(ctx: AppContext, sub: { id: number; token_version?: number | null }): { unsubscribeUrl: string; manageUrl: string } {
  const base = ctx.config.publicBaseUrl
  const t = tokens(ctx)
  return {
    unsubscribeUrl: `${base}/unsubscribe?token=${t.sign('unsubscribe', subjectOf(sub), LINK_TTL_MS.unsubscribe)}`,
    manageUrl: `${base}/subscriptions?token=${t.sign('manage', subjectOf(sub), LINK_TTL_MS.manage)}`,
  }
}

/**
 * A warning's link in an enterprise's e-mail: it opens the warning read-only, with the
 * feedback form, without a login (`/me/warnings/<id>?token=`). Signed for the subscriber,
 * its token version and the warning (`s<id>.v<version>.w<warningId>`, purpose `warning-link`).
 */
export function warningLinkUrl(ctx: AppContext, sub: { id: number; token_version?: number | null }, warningId: number): string {
  return `${ctx.config.publicBaseUrl}/me/warnings/${warningId}?token=${tokens(ctx).sign('warning-link', `${subjectOf(sub)}.w${warningId}`, LINK_TTL_MS.warning)}`
}

/**
 * The subscriber and warning a warning link names, or null: forged or expired, another
 * token version, another warning than `warningId`, or a subscriber no longer active.
 */
export async function warningLinkTarget(ctx: AppContext, token: unknown, warningId: number): Promise<SubscriberRow | null> {
  const v = tokens(ctx).verify('warning-link', token)
  const m = v ? /^s(\d{1,15})\.v(\d{1,9})\.w(\d{1,15})$/.exec(v.subject) : null
  if (!m || Number(m[3]) !== warningId) return null
  const sub = await ctx.db.selectFrom('subscriber').selectAll().where('id', '=', Number(m[1])).executeTakeFirst()
  if (!sub || Number(sub.token_version ?? 0) !== Number(m[2]) || !sub.confirmed_at || sub.unsubscribed_at) return null
  return sub
}

/** The double opt-in link: for a sign-up request (its choices apply on confirmation), or for the subscriber as it is (CLI). */
export function confirmationUrl(ctx: AppContext, target: { requestId: number } | { id: number; token_version?: number | null }): string {
  const subject = 'requestId' in target ? `r${target.requestId}` : subjectOf(target)
  return `${ctx.config.publicBaseUrl}/subscribe/confirm?token=${tokens(ctx).sign('confirm', subject, LINK_TTL_MS.confirm)}`
}

/**
 * The subscriber a manage or unsubscribe token names: `invalid` when the token is forged,
 * expired, of an earlier token version, or names no subscriber.
 */
export async function subscriberByToken(ctx: AppContext, purpose: 'manage' | 'unsubscribe', token: unknown): Promise<SubscriberRow | null> {
  const v = tokens(ctx).verify(purpose, token)
  const m = v ? /^s(\d{1,15})\.v(\d{1,9})$/.exec(v.subject) : null
  if (!m) return null
  const sub = await ctx.db.selectFrom('subscriber').selectAll().where('id', '=', Number(m[1])).executeTakeFirst()
  return sub && Number(sub.token_version ?? 0) === Number(m[2]) ? sub : null
}

/** Voids every manage and unsubscribe link sent to this subscriber so far; the next e-mail carries new ones. */
export async function rotateSubscriberTokens(ctx: AppContext, id: number): Promise<boolean> {
  const r = await ctx.db
    .updateTable('subscriber')
    .set((eb) => ({ token_version: eb('token_version', '+', 1), updated_at: ctx.clock().toISOString() }))
    .where('id', '=', id)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}

export type SubscriptionRequestOutcome =
  /** Recorded: a confirmation e-mail for this request is due. */
  | { outcome: 'requested'; subscriberId: number; requestId: number }
  /** The address is subscribed and confirmed: nothing changes (a stranger must not change it). */
  | { outcome: 'active' }
  /** The address asked too often today: nothing is recorded or sent. */
  | { outcome: 'limited' }

/**
 * An anonymous sign-up (the public form). It never changes an existing subscriber: a new
 * address gets a pending subscriber with these choices; a pending or unsubscribed address
 * keeps what it has, and the choices wait in a request that applies only when the
 * confirmation link for it is followed. At most REQUESTS_PER_ADDRESS_PER_DAY a day.
 */
export async function requestSubscription(ctx: AppContext, email: string, prefs: Preferences): Promise<SubscriptionRequestOutcome> {
  const address = parseEmail(email)
  const now = ctx.clock()
  const nowIso = now.toISOString()
  let sub = await ctx.db.selectFrom('subscriber').select(['id', 'confirmed_at', 'unsubscribed_at']).where('email', '=', address).executeTakeFirst()
  if (sub && sub.confirmed_at && !sub.unsubscribed_at) return { outcome: 'active' }
  if (!sub) {
    const inserted = await ctx.db
      .insertInto('subscriber')
      .values({ email: address, name: prefs.name ?? null, role: prefs.role, lang: prefs.lang, frequency: prefs.frequency, min_level: prefs.minLevel, confirmed_at: null, unsubscribed_at: null, created_at: nowIso, updated_at: nowIso })
      .onConflict((oc) => oc.column('email').doNothing())
      .returning('id')
      .executeTakeFirst()
    if (inserted) await savePreferences(ctx, inserted.id, prefs)
    sub = await ctx.db.selectFrom('subscriber').select(['id', 'confirmed_at', 'unsubscribed_at']).where('email', '=', address).executeTakeFirstOrThrow()
  }
  const since = new Date(now.getTime() - DAY_MS).toISOString()
  const recent = await ctx.db
    .selectFrom('subscribe_request')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('subscriber_id', '=', sub.id)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow()
  if (Number(recent.n) >= REQUESTS_PER_ADDRESS_PER_DAY) return { outcome: 'limited' }
  const req = await ctx.db.insertInto('subscribe_request').values({ subscriber_id: sub.id, prefs: JSON.stringify(prefs), created_at: nowIso, confirmed_at: null }).returning('id').executeTakeFirstOrThrow()
  return { outcome: 'requested', subscriberId: sub.id, requestId: req.id }
}

/**
 * Follows a double opt-in link: confirms the address and applies the request's choices
 * (once: following the link again changes nothing). Null for a forged or expired link,
 * or one whose request or subscriber is gone (purged, or another token version).
 */
export async function confirmByToken(ctx: AppContext, token: unknown): Promise<{ id: number; lang: string; token_version: number } | null> {
  const v = tokens(ctx).verify('confirm', token)
  if (!v) return null
  const now = ctx.clock().toISOString()
  const byRequest = /^r(\d{1,15})$/.exec(v.subject)
  if (byRequest) {
    const req = await ctx.db.selectFrom('subscribe_request').selectAll().where('id', '=', Number(byRequest[1])).executeTakeFirst()
    if (!req) return null
    const sub = await ctx.db.selectFrom('subscriber').selectAll().where('id', '=', req.subscriber_id).executeTakeFirst()
    if (!sub) return null
    if (!req.confirmed_at) {
      let prefs: Preferences
      try {
        prefs = validatePreferences(ctx, JSON.parse(req.prefs) as PreferencesInput)
      } catch {
        return null // the seeds changed under a pending request: ask again
      }
      await savePreferences(ctx, sub.id, prefs)
      await ctx.db.transaction().execute(async (tx) => {
        await tx.updateTable('subscribe_request').set({ confirmed_at: now }).where('id', '=', req.id).where('confirmed_at', 'is', null).execute()
        if (!sub.confirmed_at || sub.unsubscribed_at) await tx.updateTable('subscriber').set({ confirmed_at: now, unsubscribed_at: null }).where('id', '=', sub.id).execute()
      })
      return { id: sub.id, lang: prefs.lang, token_version: sub.token_version }
    }
    return { id: sub.id, lang: sub.lang, token_version: sub.token_version }
  }
  const m = /^s(\d{1,15})\.v(\d{1,9})$/.exec(v.subject)
  if (!m) return null
  const sub = await ctx.db.selectFrom('subscriber').selectAll().where('id', '=', Number(m[1])).executeTakeFirst()
  if (!sub || Number(sub.token_version ?? 0) !== Number(m[2])) return null
  if (!sub.confirmed_at || sub.unsubscribed_at) await ctx.db.updateTable('subscriber').set({ confirmed_at: now, unsubscribed_at: null }).where('id', '=', sub.id).execute()
  return { id: sub.id, lang: sub.lang, token_version: sub.token_version }
}

/**
 * Daily housekeeping of what strangers can create: sign-ups never confirmed within
 * PENDING_DAYS (with their requests and confirmation e-mails), requests older than that,
 * used form nonces that have expired, and stale login-failure counters.
 */
export async function purgeStaleSubscriptions(ctx: AppContext): Promise<{ subscribers: number; requests: number }> {
  const now = ctx.clock()
  const cutoff = new Date(now.getTime() - PENDING_DAYS * DAY_MS).toISOString()
  const stale = await ctx.db
    .selectFrom('subscriber')
    .select('id')
    .where('confirmed_at', 'is', null)
    .where('created_at', '<', cutoff)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('subscribe_request').select('id').whereRef('subscribe_request.subscriber_id', '=', 'subscriber.id').where('subscribe_request.created_at', '>=', cutoff))))
    .execute()
  const ids = stale.map((s) => s.id)
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500)
    await ctx.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('email_delivery').where('subscriber_id', 'in', chunk).execute()
      await tx.deleteFrom('subscriber').where('id', 'in', chunk).where('confirmed_at', 'is', null).execute()
    })
  }
  const requests = await ctx.db.deleteFrom('subscribe_request').where('created_at', '<', cutoff).executeTakeFirst()
  await ctx.db.deleteFrom('form_nonce').where('expires_at', '<', now.toISOString()).execute()
  await ctx.db
    .deleteFrom('login_failure')
    .where('first_at', '<', new Date(now.getTime() - DAY_MS).toISOString())
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now.toISOString())]))
    .execute()
  return { subscribers: ids.length, requests: Number(requests.numDeletedRows) }
}

/** The subscriber of an e-mail address (a user with the same address is the same enterprise). */
export const subscriberByEmail = (ctx: AppContext, email: string) => ctx.db.selectFrom('subscriber').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst()

export async function loadSubscriberPreferences(ctx: AppContext, id: number) {
  const sub = await ctx.db.selectFrom('subscriber').selectAll().where('id', '=', id).executeTakeFirst()
  if (!sub) return null
  const rows = await ctx.db.selectFrom('subscription').select(['kind', 'value']).where('subscriber_id', '=', id).orderBy('id').execute()
  const of = (k: string) => rows.filter((r) => r.kind === k).map((r) => r.value)
  const prefs: Preferences = {
    name: sub.name,
    role: sub.role as Preferences['role'],
    lang: sub.lang as Preferences['lang'],
    frequency: sub.frequency as Preferences['frequency'],
    minLevel: sub.min_level as Preferences['minLevel'],
    categories: of('category'),
    hs: of('hs'),
    markets: of('market'),
    keywords: of('keyword'),
  }
  return { sub, prefs }
}

export interface SubscriberListing {
  id: number
  email: string
  name: string | null
  role: string
  lang: string
  frequency: string
  minLevel: string
  status: 'confirmed' | 'pending' | 'unsubscribed'
  categories: string[]
  hs: string[]
  markets: string[]
  keywords: string[]
  sent: number
  lastSentAt: string | null
  /**
   * Deliveries an admin should look at: failed for good (5xx), stopped mid-send (uncertain),
   * or interrupted more than an hour ago and not retried since (`claimed` or `sending`: their
   * warnings stay with them until the same e-mail is attempted again).
   */
  problems: { kind: string; periodKey: string; status: string; error: string | null }[]
}

export async function listSubscribers(ctx: AppContext): Promise<SubscriberListing[]> {
  const subs = await ctx.db.selectFrom('subscriber').selectAll().orderBy('id').execute()
  const subsRows = await ctx.db.selectFrom('subscription').select(['subscriber_id', 'kind', 'value']).orderBy('id').execute()
  const deliveries = await ctx.db.selectFrom('email_delivery').select(['subscriber_id', 'kind', 'period_key', 'status', 'error', 'sent_at', 'created_at']).orderBy('id').execute()
  const staleBefore = new Date(ctx.clock().getTime() - 3600_000).toISOString()
  const problem = (x: (typeof deliveries)[number]) => ['failed-permanent', 'uncertain', 'failed'].includes(x.status) || (['claimed', 'sending'].includes(x.status) && x.created_at < staleBefore)
  return subs.map((s) => {
    const mine = subsRows.filter((r) => r.subscriber_id === s.id)
    const of = (k: string) => mine.filter((r) => r.kind === k).map((r) => r.value)
    const d = deliveries.filter((x) => x.subscriber_id === s.id)
    const sent = d.filter((x) => x.status === 'sent')
    return {
      id: s.id,
      email: s.email,
      name: s.name,
      role: s.role,
      lang: s.lang,
      frequency: s.frequency,
      minLevel: s.min_level,
      status: s.unsubscribed_at ? 'unsubscribed' : s.confirmed_at ? 'confirmed' : 'pending',
      categories: of('category'),
      hs: of('hs'),
      markets: of('market'),
      keywords: of('keyword'),
      sent: sent.length,
      lastSentAt: sent.map((x) => x.sent_at).filter((x): x is string => !!x).sort().at(-1) ?? null,
      problems: d.filter(problem).map((x) => ({ kind: x.kind, periodKey: x.period_key, status: x.status, error: x.error ?? (x.status === 'claimed' ? 'interrupted before the SMTP hand-over; not retried yet' : x.status === 'sending' ? 'interrupted during the SMTP hand-over; not checked yet' : null) })),
    }
  })
}
