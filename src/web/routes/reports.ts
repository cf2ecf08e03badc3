import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../../app-context.js'
import { renderReportPage } from '../../digest/report-page.js'
import { periodKey } from '../../services/digest.service.js'
import { loadWeeklyReport, shiftWeek, WEEK_RE, weekRange } from '../../services/report.service.js'
import { READERS, requireRole } from '../auth.js'
import { pageCsp } from '../forms.js'

/**
 * The officials' weekly risk report as a web page per ISO week (`/reports/weekly/2026-W48`),
 * the same report the weekly e-mail carries, with a print stylesheet for PDF. For signed-in
 * officials, analysts and admins (the e-mail itself carries the whole report).
 */
export default async function reportRoutes(app: FastifyInstance, opts: { ctx: AppContext }) {
  const { ctx } = opts
  // The report is one self-contained page (inline print stylesheet, inline SVG charts, no script).
  const opts2 = { preHandler: requireRole(...READERS), onSend: pageCsp }
  const current = () => periodKey('weekly', ctx.clock(), ctx.config.schedule.timezone)

  app.get('/reports/weekly', { preHandler: requireRole(...READERS) }, async (_req, reply) => reply.redirect(`/reports/weekly/${current()}`))

  app.get<{ Params: { week: string }; Querystring: { lang?: string } }>('/reports/weekly/:week', opts2, async (req, reply) => {
    const lang = req.query.lang === 'en' ? 'en' : req.query.lang === 'zh' ? 'zh' : ctx.config.lang
    const week = req.params.week
    // Years the report can mean (older ones would ask the database for centuries of weeks).
    let valid = WEEK_RE.test(week) && Number(week.slice(0, 4)) >= 2000 && Number(week.slice(0, 4)) <= 2100
    if (valid) {
      try {
        weekRange(week)
      } catch {
        valid = false
      }
    }
    if (!valid) return reply.code(404).type('text/plain; charset=utf-8').send(lang === 'zh' ? '不是有效的 ISO 周（例如 2026-W48，2000 至 2100 年）' : 'not an ISO week (e.g. 2026-W48, years 2000 to 2100)')
    const report = await loadWeeklyReport(ctx, week)
    const q = lang === 'en' ? '?lang=en' : ''
    const next = shiftWeek(week, 1)
    const nav = {
      prev: `/reports/weekly/${shiftWeek(week, -1)}${q}`,
      next: next <= current() ? `/reports/weekly/${next}${q}` : null,
      other: `/reports/weekly/${week}${lang === 'en' ? '' : '?lang=en'}`,
    }
    // Returned: an async handler that only calls send() lets Fastify send a second time.
    return reply.type('text/html; charset=utf-8').send(renderReportPage(lang, report, `${ctx.config.publicBaseUrl}/reports/weekly/${week}`, nav))
  })
}
