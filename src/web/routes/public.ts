import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RoutePlugin } from '../app.js'
import { html } from '../../util/html.js'
import { verifyToken } from '../../util/tokens.js'
import { sendPage, T } from '../layout.js'

const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'static')
const STATIC: Record<string, string> = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' }

/** Routes that need no login: the unsubscribe link from e-mails and the UI's static files. */
const publicRoutes: RoutePlugin = async (app, { ctx }) => {
  const files = new Map(Object.keys(STATIC).map((f) => [f, fs.readFileSync(path.join(STATIC_DIR, f))]))
  app.get<{ Params: { file: string } }>('/static/:file', async (req, reply) => {
    const body = files.get(req.params.file)
    if (!body) return reply.callNotFound()
    return reply.type(STATIC[req.params.file]).header('cache-control', 'public, max-age=300').send(body)
  })

  const unsubscribe = async (token: string | undefined) => {
    const payload = token ? verifyToken(ctx.config.secret, 'unsubscribe', token) : null
    const id = payload ? Number(payload) : NaN
    if (!Number.isInteger(id)) return false
    await ctx.db
      .updateTable('subscriber')
      .set({ unsubscribed_at: ctx.clock().toISOString() })
      .where('id', '=', id)
      .where('unsubscribed_at', 'is', null)
      .execute()
    return true
  }
  // GET shows the result page; POST is the RFC 8058 one-click form that mail clients
  // send: the signed token is its protection, there is no session and no CSRF token.
  app.get<{ Querystring: { token?: string } }>('/unsubscribe', async (req, reply) => {
    const ok = await unsubscribe(req.query.token)
    const t = T[req.lang]
    return sendPage(req, reply, { title: 'unsubscribe', status: ok ? 200 : 400, body: html`<p>${ok ? t.unsubDone : t.unsubBad}</p>` })
  })
  app.post<{ Querystring: { token?: string } }>('/unsubscribe', { config: { csrf: false } }, async (req, reply) => {
    const ok = await unsubscribe(req.query.token)
    return reply.code(ok ? 200 : 400).send({ ok })
  })
}

export default publicRoutes
