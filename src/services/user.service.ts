import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import type { Db } from '../db/database.js'
import type { AppUserRow } from '../db/schema.js'

export const ROLES = ['admin', 'analyst', 'official', 'enterprise'] as const
export type Role = (typeof ROLES)[number]
export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v)

export interface User {
  id: number
  email: string
  name: string | null
  role: Role
  lang: 'zh' | 'en' | null
  mustChangePassword: boolean
}

export class UserError extends Error {
  readonly retryable = false
  constructor(
    readonly code: 'USER_EXISTS' | 'USER_INVALID' | 'PASSWORD_WEAK' | 'PASSWORD_WRONG' | 'USER_NOT_FOUND',
    message: string,
    /** For PASSWORD_WEAK: why, so a page can say it in its own language. */
    readonly reason?: PasswordWeakness,
  ) {
    super(message)
    this.name = 'UserError'
  }
}

// scrypt at OWASP's recommendation: N=2^17, r=8, p=1 (128 MiB and ~0.4 s a hash here).
// The parameters travel with each hash, so a stored hash made with weaker ones still
// verifies, and is replaced at the next successful login (needsRehash).
export const OWASP_SCRYPT_N = 2 ** 17
export const SCRYPT = { N: OWASP_SCRYPT_N, r: 8, p: 1, keylen: 32 }
// Node refuses scrypt above maxmem (default 32 MiB); 128·N·r bytes are needed: twice
// that of the production cost (an old or test hash with a lower N needs less).
const SCRYPT_MAXMEM = 2 * 128 * OWASP_SCRYPT_N * SCRYPT.r

/**
 * Test suites only: a cheaper N for the hashes they make by the dozen (each production
 * hash costs ~0.4 s of CPU). Production code never calls it; the cost test sets N back.
 */
export function setScryptCostForTests(n: number): void {
  if (!Number.isInteger(Math.log2(n)) || n < 1024 || n > OWASP_SCRYPT_N) throw new Error('N: a power of two from 2^10 to 2^17')
  SCRYPT.N = n
  dummyHash = undefined
}
// Each hash holds 128 MiB while it runs: at most two at once, so a burst of logins
// queues instead of exhausting memory.
const MAX_CONCURRENT_HASHES = 2
let hashing = 0
const waiting: (() => void)[] = []
async function withHashSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (hashing >= MAX_CONCURRENT_HASHES) await new Promise<void>((r) => waiting.push(r))
  hashing++
  try {
    return await fn()
  } finally {
    hashing--
    waiting.shift()?.()
  }
}
const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  withHashSlot(() => new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, { ...opts, maxmem: SCRYPT_MAXMEM }, (e, k) => (e ? reject(e) : resolve(k)))))

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p })
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = stored.split('$')
  if (alg !== 'scrypt' || !key) return false
  const want = Buffer.from(key, 'base64url')
  try {
    const got = await scrypt(password, Buffer.from(salt, 'base64url'), want.length, { N: Number(n), r: Number(r), p: Number(p) })
    return timingSafeEqual(want, got)
  } catch {
    return false // parameters no longer accepted (beyond maxmem) or malformed
  }
}

/** Whether a stored hash was made with weaker parameters than today's. */
export function needsRehash(stored: string): boolean {
  const [alg, n, r, p] = stored.split('$')
  return alg !== 'scrypt' || Number(n) < SCRYPT.N || Number(r) < SCRYPT.r || Number(p) < SCRYPT.p
}

// Compared against when the e-mail is unknown, so a login takes as long either way.
let dummyHash: Promise<string> | undefined
const dummyVerify = async (password: string) => {
  dummyHash ??= hashPassword('not-a-real-password')
  await verifyPassword(password, await dummyHash)
}

export const MIN_PASSWORD_LENGTH = 10
export const MAX_PASSWORD_LENGTH = 1024
export type PasswordWeakness = 'short' | 'long' | 'common' | 'email' | 'repetitive'

// Passwords long enough to pass the length rule that lists of leaked passwords are full
// of (compared case-insensitively). Small on purpose: the length rule does the rest.
const COMMON_PASSWORDS = new Set([
  '1234567890', '0123456789', '12345678910', '1234567890a', 'a1234567890', 'qwertyuiop', 'qwertyuiop123', '1q2w3e4r5t', '1q2w3e4r5t6y',
  '1qaz2wsx3edc', 'zaq12wsxcde3', 'qazwsxedcrfv', 'asdfghjkl;', 'asdfghjkl1', 'zxcvbnm123', 'qwerty1234', 'qwerty12345', 'qwe1234567',
  'password12', 'password123', 'password1234', 'password1!', 'password!1', 'passw0rd123', 'p@ssw0rd123', 'p@ssword123', 'password01',
  'iloveyou12', 'iloveyou123', 'abcdefghij', 'abcdefghijk', 'abc1234567', 'abcd123456', 'abcde12345', 'a123456789', '123456789a',
  'aa123456789', 'admin12345', 'admin123456', 'administrator', 'changeme123', 'welcome123', 'welcome1234', 'letmein123', 'football123',
  'baseball123', 'sunshine123', 'princess123', 'dragon12345', 'monkey12345', 'superman123', 'woaini1314', 'woaini520', '5201314520',
  '1314520520', 'woaini123456', 'aini1314520', 'tbt-watch123', 'tbtwatch123', 'tbt-watch-admin', 'beijing123', 'beijing2008', 'china12345',
])

/** Why a password is too weak, or null: length, a common password, the e-mail itself, one repeated character. */
export function passwordWeakness(password: string, email?: string): PasswordWeakness | null {
  if ([...password].length < MIN_PASSWORD_LENGTH) return 'short'
  if (password.length > MAX_PASSWORD_LENGTH) return 'long'
  const lower = password.toLowerCase()
  if (COMMON_PASSWORDS.has(lower)) return 'common'
  if (email) {
    const e = normaliseEmail(email)
    const local = e.split('@')[0]
    if (lower === e || lower.includes(e) || (local.length >= 4 && lower.replace(/[^a-z0-9]/g, '') === local.replace(/[^a-z0-9]/g, ''))) return 'email'
  }
  if (new Set(password).size <= 2) return 'repetitive'
  return null
}

const WEAKNESS_TEXT: Record<PasswordWeakness, string> = {
  short: `a password needs at least ${MIN_PASSWORD_LENGTH} characters`,
  long: `a password takes ${MAX_PASSWORD_LENGTH} characters at most`,
  common: 'this password is on the list of common passwords: choose another',
  email: 'a password must not be the e-mail address',
  repetitive: 'a password must not repeat one or two characters',
}

export function checkPassword(password: string, email?: string): void {
  const w = passwordWeakness(password, email)
  if (w) throw new UserError('PASSWORD_WEAK', WEAKNESS_TEXT[w], w)
}

/** A readable one-time password: 16 characters from an unambiguous alphabet (~80 bits). */
export function oneTimePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
  const bytes = randomBytes(16)
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('')
}

const toUser = (r: AppUserRow): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role as Role,
  lang: r.lang === 'en' || r.lang === 'zh' ? r.lang : null,
  mustChangePassword: r.must_change_password === 1,
})

export const normaliseEmail = (e: string) => e.trim().toLowerCase()

export async function createUser(
  db: Db,
  input: { email: string; role: string; password: string; name?: string; oneTime?: boolean; lang?: 'zh' | 'en' },
  now: string,
): Promise<User> {
  const email = normaliseEmail(input.email)
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new UserError('USER_INVALID', `not an e-mail address: ${input.email}`)
  if (!isRole(input.role)) throw new UserError('USER_INVALID', `unknown role ${input.role}; one of ${ROLES.join(', ')}`)
  checkPassword(input.password, email)
  const existing = await db.selectFrom('app_user').select('id').where('email', '=', email).executeTakeFirst()
  if (existing) throw new UserError('USER_EXISTS', `a user ${email} already exists`)
  const row = await db
    .insertInto('app_user')
    .values({
      email,
      name: input.name ?? null,
      role: input.role,
      password_hash: await hashPassword(input.password),
      must_change_password: input.oneTime ? 1 : 0,
      lang: input.lang ?? null,
      created_at: now,
      disabled_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toUser(row)
}

export async function findUserByEmail(db: Db, email: string): Promise<User | undefined> {
  const r = await db.selectFrom('app_user').selectAll().where('email', '=', normaliseEmail(email)).where('disabled_at', 'is', null).executeTakeFirst()
  return r ? toUser(r) : undefined
}

// Per-account login limit: LOGIN_FAILURES_ALLOWED wrong passwords within LOGIN_WINDOW_MS
// lock the account for LOGIN_LOCK_MS (doubling with each further lock in the window, up
// to a day). Counted by a hash of the e-mail whether or not an account has it, so the
// limit tells nothing about which addresses have accounts. (The per-IP limit is the
// web app's.)
export const LOGIN_FAILURES_ALLOWED = 5
export const LOGIN_WINDOW_MS = 15 * 60_000
export const LOGIN_LOCK_MS = 15 * 60_000
const loginKey = (email: string) => createHash('sha256').update(`login:${normaliseEmail(email)}`).digest('hex')

export type LoginResult = { ok: true; user: User } | { ok: false; reason: 'wrong' } | { ok: false; reason: 'locked'; retryAfterS: number }

/**
 * A login attempt: the user when the e-mail and password match and the account is not
 * locked by too many failures. A successful login with a hash made under weaker scrypt
 * parameters stores a new hash (transparent rehash).
 */
export async function login(db: Db, email: string, password: string, now: Date): Promise<LoginResult> {
  const key = loginKey(email)
  const failure = await db.selectFrom('login_failure').selectAll().where('key_hash', '=', key).executeTakeFirst()
  if (failure?.locked_until && failure.locked_until > now.toISOString()) {
    await dummyVerify(password) // the same time as a real check
    return { ok: false, reason: 'locked', retryAfterS: Math.max(1, Math.ceil((Date.parse(failure.locked_until) - now.getTime()) / 1000)) }
  }
  const r = await db.selectFrom('app_user').selectAll().where('email', '=', normaliseEmail(email)).where('disabled_at', 'is', null).executeTakeFirst()
  const ok = r ? await verifyPassword(password, r.password_hash) : (await dummyVerify(password), false)
  if (!ok || !r) {
    await recordLoginFailure(db, key, failure, now)
    return { ok: false, reason: 'wrong' }
  }
  if (failure) await db.deleteFrom('login_failure').where('key_hash', '=', key).execute()
  if (needsRehash(r.password_hash)) {
    const fresh = await hashPassword(password)
    await db.updateTable('app_user').set({ password_hash: fresh }).where('id', '=', r.id).where('password_hash', '=', r.password_hash).execute()
  }
  return { ok: true, user: toUser(r) }
}

async function recordLoginFailure(db: Db, key: string, prev: { failures: number; first_at: string; locked_until: string | null } | undefined, now: Date) {
  const nowIso = now.toISOString()
  const fresh = !prev || Date.parse(prev.first_at) + LOGIN_WINDOW_MS < now.getTime()
  const failures = fresh ? 1 : prev.failures + 1
  const first = fresh ? nowIso : prev.first_at
  let lockedUntil: string | null = null
  if (failures >= LOGIN_FAILURES_ALLOWED) {
    const locks = failures - LOGIN_FAILURES_ALLOWED // 0 for the first lock
    lockedUntil = new Date(now.getTime() + Math.min(LOGIN_LOCK_MS * 2 ** Math.min(locks, 10), 86_400_000)).toISOString()
  }
  await db
    .insertInto('login_failure')
    .values({ key_hash: key, failures, first_at: first, locked_until: lockedUntil })
    .onConflict((oc) => oc.column('key_hash').doUpdateSet({ failures, first_at: first, locked_until: lockedUntil }))
    .execute()
}

/** The user whose e-mail and password match, or undefined (no login limit: see login()). */
export async function authenticate(db: Db, email: string, password: string): Promise<User | undefined> {
  const r = await db.selectFrom('app_user').selectAll().where('email', '=', normaliseEmail(email)).where('disabled_at', 'is', null).executeTakeFirst()
  if (!r) {
    await dummyVerify(password)
    return undefined
  }
  return (await verifyPassword(password, r.password_hash)) ? toUser(r) : undefined
}

/**
 * Sets a user's password and ends every session of theirs (the caller starts a new one
 * for the browser that changed it). `oneTime`: the user must change it at the next login.
 */
export async function setPassword(db: Db, userId: number, password: string, opts: { oneTime?: boolean } = {}): Promise<void> {
  const row = await db.selectFrom('app_user').select(['id', 'email']).where('id', '=', userId).executeTakeFirst()
  if (!row) throw new UserError('USER_NOT_FOUND', `no user #${userId}`)
  checkPassword(password, row.email)
  await db.updateTable('app_user').set({ password_hash: await hashPassword(password), must_change_password: opts.oneTime ? 1 : 0 }).where('id', '=', userId).execute()
  await endAllSessions(db, userId)
  await db.deleteFrom('login_failure').where('key_hash', '=', loginKey(row.email)).execute()
}

/** A user's own change: the current password must match first. Ends every session. */
export async function changePassword(db: Db, userId: number, current: string, next: string): Promise<void> {
  const row = await db.selectFrom('app_user').select(['id', 'email', 'password_hash']).where('id', '=', userId).executeTakeFirst()
  if (!row) throw new UserError('USER_NOT_FOUND', `no user #${userId}`)
  checkPassword(next, row.email) // before the (slow) check of the current one
  if (!(await verifyPassword(current, row.password_hash))) throw new UserError('PASSWORD_WRONG', 'the current password is not correct')
  if (current === next) throw new UserError('PASSWORD_WEAK', 'the new password must differ from the current one', 'common')
  await setPassword(db, userId, next)
}

export async function endAllSessions(db: Db, userId: number): Promise<number> {
  const r = await db.deleteFrom('user_session').where('user_id', '=', userId).executeTakeFirst()
  return Number(r.numDeletedRows)
}

async function userByEmail(db: Db, email: string) {
  const r = await db.selectFrom('app_user').selectAll().where('email', '=', normaliseEmail(email)).executeTakeFirst()
  if (!r) throw new UserError('USER_NOT_FOUND', `no user ${normaliseEmail(email)}`)
  return r
}

/** Disables an account (it can no longer log in) and ends its sessions. Idempotent. */
export async function disableUser(db: Db, email: string, now: Date): Promise<{ sessionsEnded: number }> {
  const r = await userByEmail(db, email)
  if (!r.disabled_at) await db.updateTable('app_user').set({ disabled_at: now.toISOString() }).where('id', '=', r.id).execute()
  return { sessionsEnded: await endAllSessions(db, r.id) }
}

export async function enableUser(db: Db, email: string): Promise<void> {
  const r = await userByEmail(db, email)
  await db.updateTable('app_user').set({ disabled_at: null }).where('id', '=', r.id).execute()
  await db.deleteFrom('login_failure').where('key_hash', '=', loginKey(r.email)).execute()
}

/** A new password set by an admin: one-time (changed at the next login) unless given; every session ends. */
export async function resetPassword(db: Db, email: string, password?: string): Promise<{ password: string; oneTime: boolean }> {
  const r = await userByEmail(db, email)
  const oneTime = password === undefined
  const pw = password ?? oneTimePassword()
  await setPassword(db, r.id, pw, { oneTime })
  return { password: pw, oneTime }
}

/** Changes a user's role; their sessions end, so the new role applies from the next login. */
export async function setRole(db: Db, email: string, role: string): Promise<void> {
  if (!isRole(role)) throw new UserError('USER_INVALID', `unknown role ${role}; one of ${ROLES.join(', ')}`)
  const r = await userByEmail(db, email)
  await db.updateTable('app_user').set({ role }).where('id', '=', r.id).execute()
  await endAllSessions(db, r.id)
}

export interface UserListing {
  id: number
  email: string
  name: string | null
  role: Role
  status: 'active' | 'disabled' | 'must-change-password'
  createdAt: string
  sessions: number
}

export async function listUsers(db: Db, now: Date): Promise<UserListing[]> {
  const users = await db.selectFrom('app_user').selectAll().orderBy('id').execute()
  const sessions = await db
    .selectFrom('user_session')
    .select(['user_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('expires_at', '>', now.toISOString())
    .groupBy('user_id')
    .execute()
  return users.map((u) => ({
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role as Role,
    status: u.disabled_at ? 'disabled' : u.must_change_password ? 'must-change-password' : 'active',
    createdAt: u.created_at,
    sessions: Number(sessions.find((s) => s.user_id === u.id)?.n ?? 0),
  }))
}

export const SESSION_TTL_MS = 12 * 3600_000
const hashId = (id: string) => createHash('sha256').update(id).digest('hex')

export async function createSession(db: Db, userId: number, now: Date): Promise<string> {
  const id = randomBytes(32).toString('base64url')
  // Expired sessions go when new ones start: no scheduler needed for a small table.
  await db.deleteFrom('user_session').where('expires_at', '<=', now.toISOString()).execute()
  await db
    .insertInto('user_session')
    .values({ id_hash: hashId(id), user_id: userId, created_at: now.toISOString(), expires_at: new Date(now.getTime() + SESSION_TTL_MS).toISOString() })
    .execute()
  return id
}

export async function sessionUser(db: Db, sessionId: string, now: Date): Promise<User | undefined> {
  const r = await db
    .selectFrom('user_session')
    .innerJoin('app_user', 'app_user.id', 'user_session.user_id')
    .selectAll('app_user')
    .where('user_session.id_hash', '=', hashId(sessionId))
    .where('user_session.expires_at', '>', now.toISOString())
    .where('app_user.disabled_at', 'is', null)
    .executeTakeFirst()
  return r ? toUser(r) : undefined
}

export async function endSession(db: Db, sessionId: string): Promise<void> {
  await db.deleteFrom('user_session').where('id_hash', '=', hashId(sessionId)).execute()
}
