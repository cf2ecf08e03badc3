import Fastify, { type FastifyInstance } from 'fastify'
import type { AppContext } from '../app-context.js'
import { LEVEL_ZH, type Level, type TraceItem } from '../risk/score.js'
import { collectStats } from '../services/stats.service.js'
import { esc, html, type Raw } from '../util/html.js'
import { verifyToken } from '../util/tokens.js'
import reportRoutes from './routes/reports.js'
import subscriptionRoutes from './routes/subscriptions.js'

type Lang = 'zh' | 'en'

const T = {
  zh: {
    title: 'TBT 技术性贸易措施预警',
    warnings: '预警列表',
    level: '风险等级',
    score: '分数',
    status: '状态',
    category: '产品类别',
    measure: '措施',
    member: '通报成员',
    deadline: '评议截止',
    none: '暂无预警。',
    statuses: { new: '新预警', in_review: '审核中', confirmed: '已确认', dismissed: '已排除', escalated: '已上报' } as Record<string, string>,
    levels: LEVEL_ZH as Record<string, string>,
    trace: '风险评分依据',
    notices: '相关通报文件',
    back: '返回列表',
    switch: 'English',
    unsubDone: '您已退订，今后不会再收到此类邮件。',
    unsubBad: '退订链接无效或已过期。',
    alerts: '运行告警',
  },
  en: {
    title: 'TBT trade-measure early warning',
    warnings: 'Warnings',
    level: 'Level',
    score: 'Score',
    status: 'Status',
    category: 'Category',
    measure: 'Measure',
    member: 'Member',
    deadline: 'Comment deadline',
    none: 'No warnings yet.',
    statuses: { new: 'New', in_review: 'In review', confirmed: 'Confirmed', dismissed: 'Dismissed', escalated: 'Escalated' } as Record<string, string>,
    levels: { high: 'High', medium: 'Medium', low: 'Low' } as Record<string, string>,
    trace: 'Why this score',
    notices: 'Documents',
    back: 'Back to the list',
    switch: '中文',
    unsubDone: 'You have been unsubscribed and will receive no more of these e-mails.',
    unsubBad: 'This unsubscribe link is invalid.',
    alerts: 'Operations alerts',
  },
}

const CSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

function page(lang: Lang, title: string, body: Raw, path: string): string {
  const t = T[lang]
  const other = lang === 'zh' ? 'en' : 'zh'
  return html`<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · ${t.title}</title>
<style>body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",Arial,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top}
.lv-high{color:#fff;background:#c0392b}.lv-medium{color:#fff;background:#d68910}.lv-low{color:#fff;background:#7f8c8d}
.badge{padding:1px 6px;border-radius:3px}header{display:flex;justify-content:space-between;align-items:center}
.alert{background:#fdecea;border:1px solid #c0392b;padding:8px;margin:8px 0}</style></head>
<body><header><h1>${t.title}</h1><a href="${path}${path.includes('?') ? '&' : '?'}lang=${other}">${t.switch}</a></header>${body}</body></html>`.html
}

export interface WebOptions {
  logger?: boolean
}

/** The web app as a Fastify instance; server.ts only listens. */
export async function buildApp(ctx: AppContext, opts: WebOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false })
  const langOf = (q: unknown): Lang => ((q as { lang?: string })?.lang === 'en' ? 'en' : ctx.config.lang)

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'same-origin')
    return payload
  })

  app.get('/healthz', async () => ({ ok: true }))

  app.get('/', async (req, reply) => {
    const lang = langOf(req.query)
    const t = T[lang]
    const rows = await ctx.db
      .selectFrom('warning')
      .innerJoin('measure', 'measure.id', 'warning.measure_id')
      .innerJoin('category', 'category.id', 'warning.category_id')
      .select(['warning.id', 'warning.level', 'warning.score', 'warning.status', 'category.name_zh', 'category.name_en', 'measure.key', 'measure.title', 'measure.member', 'measure.comment_deadline'])
      .orderBy('warning.score', 'desc')
      .orderBy('warning.id')
      .limit(500)
      .execute()
    const alerts = await ctx.db.selectFrom('ops_alert').selectAll().where('resolved_at', 'is', null).orderBy('id', 'desc').limit(5).execute()
    const stats = await collectStats(ctx.db)
    const q = lang === 'en' ? '?lang=en' : ''
    const body = html`
${alerts.length ? html`<h2>${t.alerts}</h2>${alerts.map((a) => html`<div class="alert">${a.source_id ?? ''} · ${a.kind} · ${a.message}</div>`)}` : ''}
<h2>${t.warnings} (${rows.length})</h2>
<p>${Object.entries(stats.warningsByStatus).map(([s, n]) => `${t.statuses[s] ?? s} ${n}`).join(' · ')}</p>
${rows.length
  ? html`<table><thead><tr><th>${t.level}</th><th>${t.score}</th><th>${t.measure}</th><th>${t.member}</th><th>${t.category}</th><th>${t.deadline}</th><th>${t.status}</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td><span class="badge lv-${r.level}">${t.levels[r.level] ?? r.level}</span></td><td>${r.score}</td>
<td><a href="/warnings/${r.id}${q}">${r.key}</a><br>${r.title}</td><td>${r.member}</td><td>${lang === 'zh' ? r.name_zh : r.name_en}</td>
<td>${r.comment_deadline ?? '—'}</td><td>${t.statuses[r.status] ?? r.status}</td></tr>`)}
</tbody></table>`
  : html`<p>${t.none}</p>`}`
    reply.type('text/html; charset=utf-8').send(page(lang, t.warnings, body, '/'))
  })

  app.get<{ Params: { id: string } }>('/warnings/:id', async (req, reply) => {
    const lang = langOf(req.query)
    const t = T[lang]
    const id = Number(req.params.id)
    if (!Number.isInteger(id)) return reply.code(404).send('not found')
    const w = await ctx.db
      .selectFrom('warning')
      .innerJoin('measure', 'measure.id', 'warning.measure_id')
      .innerJoin('category', 'category.id', 'warning.category_id')
      .selectAll('warning')
      .select(['measure.key', 'measure.title', 'measure.member', 'measure.comment_deadline', 'measure.status as measure_status', 'category.name_zh', 'category.name_en'])
      .where('warning.id', '=', id)
      .executeTakeFirst()
    if (!w) return reply.code(404).type('text/html; charset=utf-8').send(page(lang, '404', html`<p>404</p>`, req.url))
    const risk = await ctx.db.selectFrom('risk_score').select('trace').where('measure_id', '=', w.measure_id).where('category_id', '=', w.category_id).executeTakeFirst()
    const trace: TraceItem[] = risk ? JSON.parse(risk.trace) : []
    const notices = await ctx.db.selectFrom('notice').select(['symbols', 'doc_type', 'title', 'distribution_date', 'comment_deadline', 'source_url', 'links']).where('measure_id', '=', w.measure_id).orderBy('distribution_date').orderBy('id').execute()
    const body = html`<p><a href="/${lang === 'en' ? '?lang=en' : ''}">${t.back}</a></p>
<h2>${w.key} · ${w.title}</h2>
<p><span class="badge lv-${w.level}">${t.levels[w.level as Level] ?? w.level}</span> ${t.score} ${w.score} · ${lang === 'zh' ? w.name_zh : w.name_en} · ${w.member} · ${t.deadline} ${w.comment_deadline ?? '—'} · ${t.statuses[w.status] ?? w.status}</p>
<h3>${t.trace}</h3><ul>${trace.map((x) => html`<li>${lang === 'zh' ? x.zh : x.en}（${x.points >= 0 ? '+' : ''}${x.points}）</li>`)}</ul>
<h3>${t.notices}</h3><ul>${notices.map((n) => html`<li>${(JSON.parse(n.symbols) as string[]).join(', ')} · ${n.doc_type} · ${n.distribution_date ?? ''}<br>${n.title}
${n.source_url ? html`<br><a href="${safeUrl(n.source_url)}" rel="noopener noreferrer">${n.source_url}</a>` : ''}</li>`)}</ul>`
    reply.type('text/html; charset=utf-8').send(page(lang, w.key, body, req.url))
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
  // GET shows the result page; POST is the RFC 8058 one-click form that mail clients use.
  app.get<{ Querystring: { token?: string; lang?: string } }>('/unsubscribe', async (req, reply) => {
    const lang = langOf(req.query)
    const ok = await unsubscribe(req.query.token)
    reply.code(ok ? 200 : 400).type('text/html; charset=utf-8').send(page(lang, 'unsubscribe', html`<p>${ok ? T[lang].unsubDone : T[lang].unsubBad}</p>`, '/'))
  })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body))
  app.post<{ Querystring: { token?: string } }>('/unsubscribe', async (req, reply) => {
    const ok = await unsubscribe(req.query.token)
    reply.code(ok ? 200 : 400).send({ ok })
  })

  app.register(subscriptionRoutes, { ctx })
  app.register(reportRoutes, { ctx })
  return app
}

function safeUrl(u: string): string {
  return /^https?:\/\//i.test(u) ? u : '#'
}

export { esc }
