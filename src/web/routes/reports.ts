import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../../app-context.js'
import { renderPendingPage, renderReportPage, type ReportPageNav } from '../../digest/report-page.js'
import { localTimeLabelled } from '../../domain/i18n.js'
import { isComplete, isPeriodKey, PERIOD_KINDS, periodRange, shiftPeriod, type PeriodKind } from '../../domain/periods.js'
import { localDay } from '../../domain/dates.js'
import { ensureReport, latestReportKey, listReports } from '../../services/report.service.js'
import { html } from '../../util/html.js'
import { READERS, requireRole } from '../auth.js'
import { pageCsp } from '../forms.js'
import { appHeader, sendPage, T } from '../layout.js'

/**
 * The officials' risk reports (weekly, monthly, quarterly) as web pages: `/reports` lists
 * them, `/reports/latest` opens the latest complete weekly report (where an official lands
 * after logging in), `/reports/weekly/2026-W48` one report. Each page renders the period's
 * stored snapshot, the one the e-mail carried; a complete period never computed is computed
 * and stored on first view. For signed-in officials, analysts and admins.
 */
export default async function reportRoutes(app: FastifyInstance, opts: { ctx: AppContext }) {
  const { ctx } = opts
  const today = () => localDay(ctx.clock(), ctx.config.schedule.timezone)
  const readers = { preHandler: requireRole(...READERS) }
  // A report is one self-contained page (inline print stylesheet, inline SVG charts, no script).
  const pageOpts = { preHandler: requireRole(...READERS), onSend: pageCsp }
  const isKind = (k: string): k is PeriodKind => (PERIOD_KINDS as string[]).includes(k)
  const langQ = (req: FastifyRequest) => (req.lang === 'en' ? '?lang=en' : '')

  app.get('/reports/latest', readers, async (req, reply) => reply.redirect(`/reports/weekly/${latestReportKey(ctx, 'weekly')}${langQ(req)}`))

  app.get('/reports', readers, async (req, reply) => {
    const t = T[req.lang]
    const lang = req.lang
    const sections = []
    for (const kind of PERIOD_KINDS) {
      const latest = latestReportKey(ctx, kind)
      const stored = await listReports(ctx, kind)
      const rows = stored.some((r) => r.key === latest) ? stored : [{ kind, key: latest, ...periodRange(kind, latest), total: null, high: null, createdAt: null }, ...stored]
      sections.push(html`<section class="report-list" id="${kind}"><h3>${t.reportKinds[kind]}</h3><table><thead><tr><th>${t.period}</th><th>${t.reportSummary}</th><th>${t.reportGenerated}</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td><a href="/reports/${kind}/${r.key}${langQ(req)}" class="key">${r.key}</a>${r.key === latest ? html` <span class="chip">${t.reportLatest}</span>` : ''}<div class="hint">${r.from} – ${r.to}</div></td>
<td>${r.total === null ? html`<span class="hint">${t.reportNotYet}</span>` : t.reportTotals(r.total, r.high ?? 0)}</td><td>${r.createdAt ? localTimeLabelled(lang, r.createdAt, ctx.config.schedule.timezone) : '—'}</td></tr>`)}
</tbody></table></section>`)
    }
    return sendPage(req, reply, { title: t.reports, body: html`<h2>${t.reports}</h2><p class="hint">${t.reportsIntro}</p>${sections}` })
  })

  app.get<{ Params: { kind: string } }>('/reports/:kind', readers, async (req, reply) => {
    if (!isKind(req.params.kind)) return reply.callNotFound()
    return reply.redirect(`/reports/${req.params.kind}/${latestReportKey(ctx, req.params.kind)}${langQ(req)}`)
  })

  app.get<{ Params: { kind: string; key: string } }>('/reports/:kind/:key', pageOpts, async (req, reply: FastifyReply) => {
    const { kind, key } = req.params
    const lang = req.lang
    if (!isKind(kind) || !isPeriodKey(kind, key)) {
      const t = T[lang]
      const example = kind === 'monthly' ? '2026-11' : kind === 'quarterly' ? '2026-Q4' : '2026-W48'
      return sendPage(req, reply, { title: '404', status: 404, body: html`<h2>404</h2><p>${lang === 'zh' ? `没有这一期报告（期次格式如 ${example}）。` : `No such report period (periods look like ${example}).`}</p><p><a href="/reports">${t.reports}</a></p>` })
    }
    const q = langQ(req)
    const latest = latestReportKey(ctx, kind)
    const next = shiftPeriod(kind, key, 1)
    const nav: ReportPageNav = {
      header: appHeader(req, reply, 'bar'),
      kinds: Object.fromEntries(PERIOD_KINDS.map((k) => [k, `/reports/${k}/${latestReportKey(ctx, k)}${q}`])) as Record<PeriodKind, string>,
      prev: `/reports/${kind}/${shiftPeriod(kind, key, -1)}${q}`,
      next: isComplete(kind, next, today()) ? `/reports/${kind}/${next}${q}` : null,
      index: `/reports${q}`,
      other: `/reports/${kind}/${key}?lang=${lang === 'zh' ? 'en' : 'zh'}`,
    }
    reply.type('text/html; charset=utf-8')
    if (!isComplete(kind, key, today())) return reply.send(renderPendingPage(lang, kind, key, periodRange(kind, key), `/reports/${kind}/${latest}${q}`, { ...nav, next: null }))
    const report = await ensureReport(ctx, kind, key)
    return reply.send(renderReportPage(lang, report, { baseUrl: '', url: `${ctx.config.publicBaseUrl}/reports/${kind}/${key}`, nav }))
  })
}
