import { z } from 'zod'
import type { AppContext } from '../app-context.js'
import { verifyToken } from '../util/tokens.js'

/** Bad subscriber input (CLI flags, web form): retrying the same input cannot help. */
export class SubscriberInputError extends Error {
  readonly code = 'SUBSCRIBER_INVALID'
  readonly retryable = false
  constructor(message: string) {
    super(message)
    this.name = 'SubscriberInputError'
  }
}

export const LEVELS = ['low', 'medium', 'high'] as const
export const FREQUENCIES = ['immediate', 'daily', 'weekly'] as const
export const LANGS = ['zh', 'en'] as const
export const ROLES = ['enterprise', 'official'] as const

export const PreferencesInput = z.object({
  name: z.string().trim().max(200).nullable().optional(),
  role: z.enum(ROLES).default('enterprise'),
  lang: z.enum(LANGS).default('zh'),
  frequency: z.enum(FREQUENCIES).default('daily'),
  minLevel: z.enum(LEVELS).default('low'),
  categories: z.array(z.string().trim().min(1)).default([]),
  hs: z.array(z.string().trim().regex(/^\d{2,10}$/, 'HS prefixes are 2 to 10 digits, without dots')).default([]),
  markets: z.array(z.string().trim().min(1)).default([]),
  keywords: z.array(z.string().trim().min(1).max(80)).max(50).default([]),
})
export type PreferencesInput = z.input<typeof PreferencesInput>
export type Preferences = z.output<typeof PreferencesInput>

export const EmailSchema = z.string().trim().toLowerCase().email('not an e-mail address').max(254)

/** Validates preferences against the seeded categories and markets, with a message that names what is wrong. */
export function validatePreferences(ctx: AppContext, input: PreferencesInput): Preferences {
  const r = PreferencesInput.safeParse(input)
  if (!r.success) {
    const i = r.error.issues[0]
    throw new SubscriberInputError(`${i.path.join('.') || 'input'}: ${i.message}`)
  }
  const p = r.data
  const unknownCats = p.categories.filter((c) => !ctx.categories.some((x) => x.id === c))
  if (unknownCats.length) throw new SubscriberInputError(`unknown categor${unknownCats.length > 1 ? 'ies' : 'y'} ${unknownCats.join(', ')}; known: ${ctx.categories.map((c) => c.id).join(', ')}`)
  p.markets = p.markets.map((m) => m.toUpperCase())
  const unknownMarkets = p.markets.filter((m) => !ctx.markets.some((x) => x.code === m))
  if (unknownMarkets.length) throw new SubscriberInputError(`unknown market${unknownMarkets.length > 1 ? 's' : ''} ${unknownMarkets.join(', ')}; known: ${ctx.markets.map((m) => m.code).join(', ')}`)
  const dedupe = (xs: string[]) => [...new Set(xs)]
  return { ...p, categories: dedupe(p.categories), hs: dedupe(p.hs), markets: dedupe(p.markets), keywords: dedupe(p.keywords.map((k) => k.toLowerCase())) }
}

export function parseEmail(email: string): string {
  const r = EmailSchema.safeParse(email)
  if (!r.success) throw new SubscriberInputError(`--email: ${r.error.issues[0].message}`)
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

/** Follows a double opt-in link: idempotent; the token is bound to the address it was sent to. */
export async function confirmByToken(ctx: AppContext, token: string | undefined): Promise<{ id: number; email: string; lang: string } | null> {
  const payload = token ? verifyToken(ctx.config.secret, 'confirm', token) : null
  const m = payload ? /^(\d+):(.+)$/.exec(payload) : null
  if (!m) return null
  const sub = await ctx.db.selectFrom('subscriber').selectAll().where('id', '=', Number(m[1])).executeTakeFirst()
  if (!sub || sub.email.toLowerCase() !== m[2]) return null
  if (!sub.confirmed_at || sub.unsubscribed_at) {
    await ctx.db.updateTable('subscriber').set({ confirmed_at: ctx.clock().toISOString(), unsubscribed_at: null }).where('id', '=', sub.id).execute()
  }
  return { id: sub.id, email: sub.email, lang: sub.lang }
}

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
