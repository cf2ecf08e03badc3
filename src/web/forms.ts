import { createHash, randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../app-context.js'
import { html, raw, type Raw } from '../util/html.js'
import { HOUR_MS, tokenSigner } from '../util/tokens.js'

// ---------------------------------------------------------------------------------------
// What a public form (no login: sign-up, preferences) may do: the one rule every such
// form follows, enforced here rather than in each route.
//
// 1. It is submitted from a page we served to this client: a nonce signed for the form
//    and a random client id (an HttpOnly SameSite=Strict cookie set with the page), so a
//    cross-site page cannot post it and a nonce harvested by one client is no good to another.
// 2. Once: a used nonce is recorded (form_nonce, shared by every web process) until it expires.
// 3. Not too often: a client (IP address) gets `perClientPerHour` submissions an hour;
//    the services bound what one address may cause (sign-up requests a day).
// 4. Small: a body limit per route (PUBLIC_FORM_BODY_LIMIT), bounded lists and text
//    (subscriber.service LIMITS), and every refusal is the form again with a message in
//    the page's language, never a bare 400 or a 500.
// 5. Its answer does not depend on who else exists: `steady` makes the answer take the
//    same time whatever the work did; work still running then finishes after the answer.

export const FORM_CLIENT_COOKIE = 'tbt_fc'
export const FORM_NONCE_TTL_MS = 6 * HOUR_MS
/** Largest body a public form accepts (bytes): the sign-up form with every box ticked is ~4 KB. */
export const PUBLIC_FORM_BODY_LIMIT = 32 * 1024
/** Most field values a public form's body may hold. */
const MAX_FIELDS = 400

export type FormVerdict = 'ok' | 'expired' | 'too-many'

export interface PublicFormOptions {
  /** Submissions one client IP may make per hour, per form (default 20). */
  perClientPerHour?: number
  /** The least time an answer takes (ms) whatever the work did (default 300). */
  floorMs?: number
  /** Test hook: how the floor is waited for. */
  sleep?: (ms: number) => Promise<void>
}

export class PublicForms {
  private readonly windows = new Map<string, { start: number; count: number }>()
  private readonly inflight = new Set<Promise<unknown>>()
  private readonly perHour: number
  readonly floorMs: number
  private readonly sleep: (ms: number) => Promise<void>

  constructor(
    private readonly ctx: AppContext,
    opts: PublicFormOptions = {},
  ) {
    this.perHour = opts.perClientPerHour ?? 20
    this.floorMs = opts.floorMs ?? 300
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)))
  }

  /** A nonce for a new copy of `form` (bound to `scope`, e.g. a subscriber id) for this client; sets the client cookie when missing. */
  nonce(req: FastifyRequest, reply: FastifyReply, form: string, scope = ''): string {
    let client = clientId(req)
    if (!client) {
      client = randomBytes(18).toString('base64url')
      const secure = this.ctx.config.publicBaseUrl.startsWith('https:')
      reply.setCookie(FORM_CLIENT_COOKIE, client, { path: '/', httpOnly: true, sameSite: 'strict', secure, maxAge: 30 * 86400 })
      // The same request may render the form again (an error): keep the id it was given.
      ;(req.cookies as Record<string, string>)[FORM_CLIENT_COOKIE] = client
    }
    // A random part: two copies of a form opened in the same second are two nonces.
    return tokenSigner(this.ctx.config.secret, this.ctx.clock).sign(`form:${form}`, `${client}|${scope}|${randomBytes(9).toString('base64url')}`, FORM_NONCE_TTL_MS)
  }

  /**
   * Whether a submission of `form` may go ahead: `too-many` when this client has used up
   * its submissions, `expired` when the nonce is missing, forged, expired, another
   * client's or scope's, or already used. `ok` consumes the nonce.
   */
  async accept(req: FastifyRequest, form: string, nonce: unknown, scope = ''): Promise<FormVerdict> {
    if (!this.hit(`${form}|${req.ip}`)) return 'too-many'
    const client = clientId(req)
    const v = tokenSigner(this.ctx.config.secret, this.ctx.clock).verify(`form:${form}`, nonce)
    if (!client || !v || !v.subject.startsWith(`${client}|${scope}|`) || v.subject.split('|').length !== 3) return 'expired'
    const inserted = await this.ctx.db
      .insertInto('form_nonce')
      .values({ nonce_hash: createHash('sha256').update(String(nonce)).digest('hex'), expires_at: v.expiresAt.toISOString() })
      .onConflict((oc) => oc.column('nonce_hash').doNothing())
      .returning('nonce_hash')
      .executeTakeFirst()
    return inserted ? 'ok' : 'expired'
  }

  /**
   * Runs `work` and answers no sooner than floorMs after the start, whatever the work did
   * or how long it took: work unfinished by then goes on after the answer (its errors are
   * logged, addresses redacted by the logger). Undefined when the work had not finished.
   */
  async steady<T>(work: () => Promise<T>): Promise<T | undefined> {
    const started = Date.now()
    const running = work().catch((err: Error) => {
      this.ctx.log.warn({ err: err.message }, 'public form work failed')
      return undefined
    })
    this.inflight.add(running)
    void running.finally(() => this.inflight.delete(running))
    const done = await Promise.race([running.then((r) => ({ r })), this.sleep(this.floorMs).then(() => undefined)])
    const left = this.floorMs - (Date.now() - started)
    if (done && left > 0) await this.sleep(left)
    return done?.r
  }

  /** Waits for work still running after its answer (the app's onClose). */
  async drain(): Promise<void> {
    await Promise.all([...this.inflight])
  }

  /** Counts one submission for a key in the current hour; false once the key is over its limit. */
  private hit(key: string): boolean {
    const now = Date.now()
    let w = this.windows.get(key)
    if (!w || now - w.start >= HOUR_MS) {
      if (this.windows.size >= 10_000) for (const [k, x] of this.windows) if (now - x.start >= HOUR_MS || this.windows.size >= 10_000) this.windows.delete(k)
      w = { start: now, count: 0 }
      this.windows.set(key, w)
    }
    w.count++
    return w.count <= this.perHour
  }
}

const clientId = (req: FastifyRequest): string | undefined => {
  const c = req.cookies?.[FORM_CLIENT_COOKIE]
  return c && /^[\w-]{16,64}$/.test(c) ? c : undefined
}

/** A urlencoded body as a multi-map, whether the app parses it to a string or to an object. */
export function formFields(body: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>()
  let n = 0
  const add = (k: string, v: unknown) => {
    if (++n > MAX_FIELDS) return // a form of ours has far fewer; the rest is ignored
    out.set(k, [...(out.get(k) ?? []), typeof v === 'string' ? v : v == null || typeof v === 'object' ? '' : String(v)])
  }
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
