import { createHmac, timingSafeEqual } from 'node:crypto'
import { html, raw, type Raw } from '../util/html.js'

/**
 * A per-form nonce for CSRF-safe POSTs without sessions: `issuedAt.hmac(subject, issuedAt)`.
 * A forged cross-site POST lacks it (it cannot read our pages), and it expires.
 */
export function formNonce(secret: string, subject: string, now: Date): string {
  const ts = Math.floor(now.getTime() / 1000)
  return `${ts}.${mac(secret, subject, ts)}`
}

export function checkFormNonce(secret: string, subject: string, nonce: unknown, now: Date, maxAgeS = 6 * 3600): boolean {
  if (typeof nonce !== 'string') return false
  const [tsText, sig] = nonce.split('.')
  const ts = Number(tsText)
  if (!Number.isInteger(ts) || !sig) return false
  const age = now.getTime() / 1000 - ts
  if (age < -60 || age > maxAgeS) return false
  const want = Buffer.from(mac(secret, subject, ts))
  const got = Buffer.from(sig)
  return want.length === got.length && timingSafeEqual(want, got)
}

const mac = (secret: string, subject: string, ts: number) => createHmac('sha256', secret).update(`form:${subject}:${ts}`).digest('base64url')

/** A urlencoded body as a multi-map, whether the app parses it to a string or to an object. */
export function formFields(body: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>()
  const add = (k: string, v: unknown) => out.set(k, [...(out.get(k) ?? []), String(v ?? '')])
  if (typeof body === 'string') for (const [k, v] of new URLSearchParams(body)) add(k, v)
  else if (body && typeof body === 'object') for (const [k, v] of Object.entries(body)) (Array.isArray(v) ? v : [v]).forEach((x) => add(k, x))
  return out
}

export const first = (f: Map<string, string[]>, k: string) => f.get(k)?.[0]?.trim() ?? ''
export const all = (f: Map<string, string[]>, k: string) => (f.get(k) ?? []).map((s) => s.trim()).filter(Boolean)
/** Comma-, space- or newline-separated free text as a list. */
export const splitList = (s: string) => s.split(/[\s,，;；]+/).map((x) => x.trim()).filter(Boolean)

const CSS = `body{font-family:-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",Arial,sans-serif;margin:24px auto;max-width:760px;color:#222;padding:0 16px}
fieldset{border:1px solid #ddd;margin:12px 0;padding:8px 12px}legend{font-weight:600}
label.opt{display:inline-block;min-width:200px;margin:2px 8px 2px 0}input[type=text],input[type=email],textarea{width:100%;box-sizing:border-box;padding:4px}
button{padding:6px 16px}.err{background:#fdecea;border:1px solid #c0392b;padding:8px}.ok{background:#eafaf1;border:1px solid #27ae60;padding:8px}.muted{color:#777;font-size:13px}`

/**
 * The CSP of the subscription and report pages: the app's policy, with inline styles
 * allowed (e-mail-like pages styled inline; still no script at all).
 */
export const PAGE_CSP = "default-src 'none'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/** A route-level onSend hook (route hooks run after the app's) that applies PAGE_CSP. */
export async function pageCsp(_req: unknown, reply: { header(k: string, v: string): unknown }, payload: unknown) {
  reply.header('content-security-policy', PAGE_CSP)
  return payload
}

/** A small page frame for the subscription pages (the main UI's frame belongs to app.ts). */
export function formPage(lang: 'zh' | 'en', title: string, body: Raw): string {
  return html`<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · tbt-watch</title><style>${raw(CSS)}</style></head><body><h1>${title}</h1>${body}</body></html>`.html
}
