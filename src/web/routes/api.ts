import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { RoutePlugin } from '../app.js'
import { correctCategories } from '../../services/correction.service.js'
import { enterpriseCategories } from '../enterprise-view.js'
import { loadSubscriberPreferences, subscriberByEmail } from '../../services/subscriber.service.js'
import { ACTIONS, applyAction, assign, getWarning, isPublished, LEVELS, listWarnings, mergedInto, setLevel, setNote, WarningError } from '../../services/warning.service.js'
import { isPeriodKey, PERIOD_KINDS, type PeriodKind } from '../../domain/periods.js'
import { ensureReport, ReportNotReadyError } from '../../services/report.service.js'
import { READERS, requireRole, STAFF } from '../auth.js'
import { filterFromQuery } from '../filters.js'

const Action = z.object({ note: z.string().max(10000).nullish(), reason: z.string().max(2000).nullish() })
const Bulk = Action.extend({ ids: z.array(z.number().int()).min(1).max(1000), action: z.enum(ACTIONS) })
const Note = z.object({ note: z.string().max(10000) })
const Assignee = z.object({ assignee: z.string().max(320).nullable() })
const LevelBody = z.object({ level: z.enum(LEVELS).nullable() })
const Categories = z.object({ categories: z.array(z.string()).min(1).max(50) })

/**
 * The review queue as JSON, for scripts and other tools. Same session cookie and CSRF
 * token as the pages: GET /api/csrf, then send it as the x-csrf-token header.
 */
const apiRoutes: RoutePlugin = async (app, { ctx }) => {
  const parse = <S extends z.ZodType>(schema: S, req: FastifyRequest, reply: FastifyReply): z.output<S> | undefined => {
    const r = schema.safeParse(req.body)
    if (!r.success) {
      reply.code(400).send({ error: r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') })
      return undefined
    }
    return r.data
  }
  const id = (req: FastifyRequest) => Number((req.params as { id: string }).id)
  const guard = async (reply: FastifyReply, fn: () => Promise<unknown>) => {
    try {
      return await fn()
    } catch (err) {
      if (err instanceof WarningError) return reply.code(err.code === 'WARNING_NOT_FOUND' ? 404 : 400).send({ error: err.message, code: err.code })
      throw err
    }
  }

  app.get('/api/warnings', { preHandler: requireRole(...READERS) }, async (req) => listWarnings(ctx, filterFromQuery(req.query as Record<string, unknown>)))

  app.get('/api/warnings/:id', { preHandler: requireRole() }, async (req, reply) => {
    const w = Number.isInteger(id(req)) ? await getWarning(ctx, id(req)) : undefined
    if (!w && Number.isInteger(id(req))) {
      // Merged into its measure's one warning (warnings became one per measure).
      const into = await mergedInto(ctx.db, id(req))
      if (into) return reply.code(301).header('location', `/api/warnings/${into}`).send({ error: 'merged into another warning', warningId: into })
    }
    if (!w || (req.user!.role === 'enterprise' && !isPublished(ctx, w))) return reply.code(404).send({ error: 'not found' })
    if (req.user!.role === 'enterprise') {
      // What a digest publishes: not the analysts' notes, assignee, history, corrections or
      // hand-set level, nor the categories of the measure's other (maybe unpublished)
      // warnings, nor the classifier's candidate categories that would name them too.
      // Of the measure's categories, those the enterprise subscribed to (by category or HS code; else the top one).
      const { note: _n, assignee: _a, events: _e, measureCategories: _m, correctedCategories: _c, levelOverride: _l, ...published } = w
      const sub = await subscriberByEmail(ctx, req.user!.email)
      const prefs = sub ? await loadSubscriberPreferences(ctx, sub.id) : null
      const categories = enterpriseCategories(w.categories, prefs?.prefs, ctx.categoryIndex)
      const top = categories[0]
      return {
        ...published,
        categories,
        ...(top ? { categoryId: top.id, categoryZh: top.zh, categoryEn: top.en, trace: top.trace } : {}),
        notices: published.notices.map((n) => ({ ...n, classification: null })),
      }
    }
    return w
  })

  // A report's stored snapshot (what the e-mail and the page render), for scripts.
  app.get('/api/reports/:kind/:key', { preHandler: requireRole(...READERS) }, async (req, reply) => {
    const { kind, key } = req.params as { kind: string; key: string }
    if (!(PERIOD_KINDS as string[]).includes(kind) || !isPeriodKey(kind as PeriodKind, key)) return reply.code(404).send({ error: 'no such report period' })
    try {
      return await ensureReport(ctx, kind as PeriodKind, key)
    } catch (err) {
      if (err instanceof ReportNotReadyError) return reply.code(409).send({ error: err.message, code: err.code })
      throw err
    }
  })

  app.post('/api/warnings/:id/:action', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const action = (req.params as { action: string }).action
    if (!(ACTIONS as readonly string[]).includes(action)) return reply.code(404).send({ error: `unknown action ${action}` })
    const b = parse(Action, req, reply)
    if (!b) return reply
    return guard(reply, async () => {
      const [r] = await applyAction(ctx, [id(req)], action as (typeof ACTIONS)[number], req.user!.email, b)
      return reply.code(r.ok ? 200 : r.error === 'not found' ? 404 : 409).send(r)
    })
  })

  app.post('/api/warnings/bulk', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const b = parse(Bulk, req, reply)
    if (!b) return reply
    return guard(reply, async () => ({ results: await applyAction(ctx, b.ids, b.action, req.user!.email, b) }))
  })

  app.put('/api/warnings/:id/note', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const b = parse(Note, req, reply)
    if (!b) return reply
    return guard(reply, async () => (await setNote(ctx, id(req), b.note, req.user!.email), { ok: true }))
  })
  app.put('/api/warnings/:id/assignee', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const b = parse(Assignee, req, reply)
    if (!b) return reply
    return guard(reply, async () => (await assign(ctx, id(req), b.assignee, req.user!.email), { ok: true }))
  })
  app.put('/api/warnings/:id/level', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const b = parse(LevelBody, req, reply)
    if (!b) return reply
    return guard(reply, async () => (await setLevel(ctx, id(req), b.level, req.user!.email), { ok: true }))
  })
  app.put('/api/warnings/:id/categories', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const b = parse(Categories, req, reply)
    if (!b) return reply
    return guard(reply, () => correctCategories(ctx, id(req), b.categories, req.user!.email))
  })
}

export default apiRoutes
