import type { FastifyInstance } from 'fastify'
import { createUser, type Role } from '../../src/services/user.service.js'
import type { AppContext } from '../../src/app-context.js'

/** A tiny cookie jar over app.inject: what a browser would keep between requests. */
export class Agent {
  private cookies = new Map<string, string>()
  csrf = ''
  constructor(readonly app: FastifyInstance) {}

  get cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  async request(opts: { method?: string; url: string; form?: Record<string, string | string[]>; json?: unknown; headers?: Record<string, string> }) {
    const headers: Record<string, string> = { cookie: this.cookieHeader, ...(opts.headers ?? {}) }
    let payload: string | undefined
    if (opts.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      const p = new URLSearchParams()
      for (const [k, v] of Object.entries(opts.form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x)
      payload = p.toString()
    } else if (opts.json !== undefined) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(opts.json)
    }
    const res = await this.app.inject({ method: (opts.method ?? 'GET') as 'GET', url: opts.url, headers, payload })
    for (const c of res.cookies) {
      if (c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body)
    if (m) this.csrf = m[1]
    return res
  }

  get(url: string, headers?: Record<string, string>) {
    return this.request({ url, headers })
  }

  /** A form POST with the CSRF token of the last page seen. */
  post(url: string, form: Record<string, string | string[]> = {}) {
    return this.request({ method: 'POST', url, form: { _csrf: this.csrf, ...form } })
  }

  async login(email: string, password: string) {
    await this.get('/login')
    return this.post('/login', { email, password, next: '/' })
  }
}

export const PASSWORDS: Record<Role, string> = {
  admin: 'admin-password-1',
  analyst: 'analyst-password-1',
  official: 'official-password-1',
  enterprise: 'enterprise-password-1',
}

/** One user per role: <role>@example.com. */
export async function addUsers(ctx: AppContext) {
  for (const role of Object.keys(PASSWORDS) as Role[]) {
    await createUser(ctx.db, { email: `${role}@example.com`, role, password: PASSWORDS[role] }, ctx.clock().toISOString())
  }
}
