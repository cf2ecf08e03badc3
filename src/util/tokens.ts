import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Signed, expiring tokens for links that work without a login (unsubscribe, manage,
 * confirm, and any later per-e-mail link). A token is bound to a purpose, a subject and
 * an expiry; none of the three can be changed without the secret:
 *
 *   const tokens = tokenSigner(ctx.config.secret, ctx.clock)
 *   const t = tokens.sign('unsubscribe', 's42.v0', DAY_MS * 365)
 *   tokens.verify('unsubscribe', t)   // → { subject: 's42.v0', expiresAt } or null
 *   tokens.verify('manage', t)        // → null: another purpose
 *
 * Format: `<subject, base64url>.<expiry, unix seconds in base 36>.<HMAC-SHA256, base64url>`
 * over `tbt-token/1 \n purpose \n subject \n expiry`, compared in constant time.
 *
 * Rules for callers:
 * - The subject is readable by whoever holds the token: ids and versions only, never an
 *   e-mail address or other personal data (links end up in logs and proxies).
 * - Put what must be revocable in the subject and check it against the database on
 *   verify (e.g. a per-subscriber token version: raising it voids every earlier link).
 * - One purpose per kind of link; purposes are lower-case words with dashes.
 * - A token is a bearer credential: never log it (the logger redacts `token=` anyway).
 */
export interface VerifiedToken {
  subject: string
  expiresAt: Date
}

export interface TokenSigner {
  /** A token for `purpose` and `subject`, valid for `ttlMs` from now. */
  sign(purpose: string, subject: string, ttlMs: number): string
  /** The subject when the token is genuine, for this purpose and not expired; else null. */
  verify(purpose: string, token: unknown): VerifiedToken | null
}

export const MINUTE_MS = 60_000
export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000

const PURPOSE = /^[a-z][a-z0-9:-]{0,40}$/
const MAX_TOKEN_LENGTH = 1024

export function signToken(secret: string, purpose: string, subject: string, ttlMs: number, now: Date = new Date()): string {
  if (!PURPOSE.test(purpose)) throw new Error(`token purpose ${JSON.stringify(purpose)}: lower-case letters, digits, dashes`)
  if (!subject) throw new Error('a token needs a subject')
  if (!(ttlMs > 0)) throw new Error('a token needs a positive time to live')
  const expiry = Math.ceil((now.getTime() + ttlMs) / 1000).toString(36)
  const body = Buffer.from(subject).toString('base64url')
  return `${body}.${expiry}.${mac(secret, purpose, subject, expiry)}`
}

export function verifyToken(secret: string, purpose: string, token: unknown, now: Date = new Date()): VerifiedToken | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null
  const parts = token.split('.')
  if (parts.length !== 3) return null
  const [body, expiry, sig] = parts
  if (!/^[\w-]+$/.test(body) || !/^[0-9a-z]{1,12}$/.test(expiry) || !/^[\w-]+$/.test(sig)) return null
  const subject = Buffer.from(body, 'base64url').toString()
  const want = Buffer.from(mac(secret, purpose, subject, expiry))
  const got = Buffer.from(sig)
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null
  const expiresAt = new Date(parseInt(expiry, 36) * 1000)
  if (!(expiresAt.getTime() > now.getTime())) return null
  return { subject, expiresAt }
}

/** sign/verify bound to one secret and clock (e.g. `tokenSigner(ctx.config.secret, ctx.clock)`). */
export function tokenSigner(secret: string, clock: () => Date = () => new Date()): TokenSigner {
  return {
    sign: (purpose, subject, ttlMs) => signToken(secret, purpose, subject, ttlMs, clock()),
    verify: (purpose, token) => verifyToken(secret, purpose, token, clock()),
  }
}

const mac = (secret: string, purpose: string, subject: string, expiry: string) =>
  createHmac('sha256', secret).update(`tbt-token/1\n${purpose}\n${subject}\n${expiry}`).digest('base64url')
