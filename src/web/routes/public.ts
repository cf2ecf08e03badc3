import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyReply } from 'fastify'
import type { RoutePlugin } from '../app.js'
import { subscriberByToken, unsubscribeSubscriber } from '../../services/subscriber.service.js'
import { html, type Raw } from '../../util/html.js'
import { formPage, pageCsp } from '../forms.js'
import type { Lang } from '../layout.js'

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

  // GET (and HEAD: mail scanners and link previews fetch links) only shows the page with
  // one button; the button's POST and the RFC 8058 one-click POST that mail clients send
  // (List-Unsubscribe-Post) unsubscribe. The signed token of the subscriber's current
  // token version is the whole protection: there is no session and no CSRF token.
  const langOf = (q: { lang?: string }, sub?: { lang: string } | null): Lang =>
    q.lang === 'en' || q.lang === 'zh' ? q.lang : sub?.lang === 'en' || sub?.lang === 'zh' ? (sub.lang as Lang) : ctx.config.lang
  const page = (reply: FastifyReply, lang: Lang, status: number, body: Raw) =>
    reply.code(status).type('text/html; charset=utf-8').send(formPage(lang, U[lang].title, body))

  app.get<{ Querystring: { token?: string; lang?: string } }>('/unsubscribe', { onSend: pageCsp }, async (req, reply) => {
    const sub = await subscriberByToken(ctx, 'unsubscribe', req.query.token)
    const lang = langOf(req.query, sub)
    const u = U[lang]
    if (!sub) return page(reply, lang, 400, html`<p class="err">${u.bad}</p>`)
    if (sub.unsubscribed_at) return page(reply, lang, 200, html`<p class="ok">${u.already}</p>`)
    return page(
      reply,
      lang,
      200,
      html`<p>${u.ask}</p><form method="post" action="/unsubscribe?token=${req.query.token!}${lang === 'en' ? '&lang=en' : ''}"><p><button type="submit">${u.button}</button></p></form><p class="muted">${u.ignore}</p>`,
    )
  })
  app.post<{ Querystring: { token?: string; lang?: string } }>('/unsubscribe', { config: { csrf: false }, onSend: pageCsp, bodyLimit: 4096 }, async (req, reply) => {
    const body = req.body as Record<string, unknown> | string | undefined
    const token = req.query.token ?? (body && typeof body === 'object' && typeof body.token === 'string' ? body.token : undefined)
    const sub = await subscriberByToken(ctx, 'unsubscribe', token)
    const lang = langOf(req.query, sub)
    if (!sub) return page(reply, lang, 400, html`<p class="err">${U[lang].bad}</p>`)
    await unsubscribeSubscriber(ctx, sub.id)
    ctx.log.info({ subscriberId: sub.id }, 'unsubscribed')
    return page(reply, lang, 200, html`<p class="ok">${U[lang].done}</p>`)
  })
}

const U: Record<Lang, { title: string; ask: string; button: string; ignore: string; done: string; already: string; bad: string }> = {
  zh: {
    title: '退订',
    ask: '确定不再接收技术性贸易措施预警邮件吗？',
    button: '确认退订',
    ignore: '如不想退订，关闭此页面即可，无需任何操作。',
    done: '您已退订，今后不会再收到此类邮件。',
    already: '此地址已经退订，不会再收到此类邮件。',
    bad: '退订链接无效或已过期。请使用最近一封邮件中的链接。',
  },
  en: {
    title: 'Unsubscribe',
    ask: 'Stop receiving trade-measure alert e-mails?',
    button: 'Unsubscribe',
    ignore: 'To stay subscribed, just close this page.',
    done: 'You have been unsubscribed and will receive no more of these e-mails.',
    already: 'This address is already unsubscribed.',
    bad: 'This unsubscribe link is invalid or has expired. Please use the link in a recent e-mail.',
  },
}

export default publicRoutes
