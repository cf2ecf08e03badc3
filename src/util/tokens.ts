import { createHmac, timingSafeEqual } from 'node:crypto'

/** A signed token `payload.signature` (base64url), so a link works without a login. */
export function signToken(secret: string, purpose: string, payload: string): string {
  const body = Buffer.from(payload).toString('base64url')
  return `${body}.${mac(secret, purpose, body)}`
}

export function verifyToken(secret: string, purpose: string, token: string): string | null {
  const [body, sig] = token.split('.')
  if (!body || !sig) return null
  const want = Buffer.from(mac(secret, purpose, body))
  const got = Buffer.from(sig)
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null
  return Buffer.from(body, 'base64url').toString()
}

const mac = (secret: string, purpose: string, body: string) =>
  createHmac('sha256', secret).update(`${purpose}:${body}`).digest('base64url')
