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
    readonly code: 'USER_EXISTS' | 'USER_INVALID' | 'PASSWORD_WEAK' | 'USER_NOT_FOUND',
    message: string,
  ) {
    super(message)
    this.name = 'UserError'
  }
}

// scrypt N=2^15, r=8, p=1 (OWASP's minimum for scrypt); the parameters travel with the
// hash so they can be raised later without breaking stored passwords.
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 32 }
const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, { ...opts, maxmem: 64 * 1024 * 1024 }, (e, k) => (e ? reject(e) : resolve(k))))

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p })
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = stored.split('$')
  if (alg !== 'scrypt' || !key) return false
  const want = Buffer.from(key, 'base64url')
  const got = await scrypt(password, Buffer.from(salt, 'base64url'), want.length, { N: Number(n), r: Number(r), p: Number(p) })
  return timingSafeEqual(want, got)
}

// Compared against when the e-mail is unknown, so a login takes as long either way.
let dummyHash: Promise<string> | undefined

export const MIN_PASSWORD_LENGTH = 10

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new UserError('PASSWORD_WEAK', `a password needs at least ${MIN_PASSWORD_LENGTH} characters`)
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
  checkPassword(input.password)
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

/** The user whose e-mail and password match, or undefined. */
export async function authenticate(db: Db, email: string, password: string): Promise<User | undefined> {
  const r = await db.selectFrom('app_user').selectAll().where('email', '=', normaliseEmail(email)).where('disabled_at', 'is', null).executeTakeFirst()
  if (!r) {
    dummyHash ??= hashPassword('not-a-real-password')
    await verifyPassword(password, await dummyHash)
    return undefined
  }
  return (await verifyPassword(password, r.password_hash)) ? toUser(r) : undefined
}

export async function setPassword(db: Db, userId: number, password: string): Promise<void> {
  checkPassword(password)
  await db.updateTable('app_user').set({ password_hash: await hashPassword(password), must_change_password: 0 }).where('id', '=', userId).execute()
  // Every other session of this user ends with the old password.
  await db.deleteFrom('user_session').where('user_id', '=', userId).execute()
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
