import type { RoutePlugin } from '../app.js'
import { html } from '../../util/html.js'
import { requireRole, STAFF } from '../auth.js'
import { levelBadge, sendPage, statusBadge, T } from '../layout.js'

/** The operations page: each source's health, open alerts, and how much work is waiting. */
const opsRoutes: RoutePlugin = async (app, { ctx }) => {
  const health = async () => {
    const { db } = ctx
    const sources = await db.selectFrom('source').selectAll().orderBy('id').execute()
    const runs = await Promise.all(
      sources.map((s) => db.selectFrom('source_run').selectAll().where('source_id', '=', s.id).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst()),
    )
    const alerts = await db.selectFrom('ops_alert').selectAll().where('resolved_at', 'is', null).orderBy('id', 'desc').limit(50).execute()
    const byStatusLevel = await db.selectFrom('warning').select(['status', 'level', (eb) => eb.fn.countAll<number>().as('n')]).groupBy(['status', 'level']).execute()
    const n = async (q: { executeTakeFirstOrThrow(): Promise<{ n: number | string | bigint }> }) => Number((await q.executeTakeFirstOrThrow()).n)
    const pendingRaw = await n(db.selectFrom('raw_response').select((eb) => eb.fn.countAll<number>().as('n')).where('parse_status', '=', 'pending'))
    const unclassified = await n(
      db
        .selectFrom('notice')
        .leftJoin('classification', 'classification.notice_id', 'notice.id')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where((eb) => eb.or([eb('classification.id', 'is', null), eb('classification.notice_hash', '!=', eb.ref('notice.content_hash'))])),
    )
    const unlearnt = await n(db.selectFrom('training_example').select((eb) => eb.fn.countAll<number>().as('n')).where('learnt_at', 'is', null))
    // Work that failed for good (issue 18): an operations alert until `tbt-watch retry-failed`.
    const failedTotal = await n(db.selectFrom('job_failure').select((eb) => eb.fn.countAll<number>().as('n')).where('retried_at', 'is', null))
    const failed = await db.selectFrom('job_failure').select(['queue', 'job_id', 'error', 'attempts', 'failed_at']).where('retried_at', 'is', null).orderBy('id', 'desc').limit(20).execute()
    return {
      sources: sources.map((s, i) => ({
        id: s.id,
        name: s.name,
        enabled: s.enabled === 1,
        lastRunAt: s.last_run_at,
        lastStatus: s.last_status,
        lastRun: runs[i] ? { startedAt: runs[i]!.started_at, finishedAt: runs[i]!.finished_at, status: runs[i]!.status, items: runs[i]!.items, errors: runs[i]!.errors, error: runs[i]!.error } : null,
        alerts: alerts.filter((a) => a.source_id === s.id).map((a) => ({ kind: a.kind, message: a.message, at: a.created_at })),
      })),
      alerts: alerts.map((a) => ({ sourceId: a.source_id, kind: a.kind, message: a.message, at: a.created_at })),
      warnings: byStatusLevel.map((r) => ({ status: r.status, level: r.level, n: Number(r.n) })),
      backlog: { pendingRaw, unclassified, unlearnt },
      failedWork: { total: failedTotal, latest: failed.map((f) => ({ queue: f.queue, jobId: f.job_id, error: f.error, attempts: f.attempts, at: f.failed_at })) },
    }
  }

  // In the operator's time zone (TBT_TIMEZONE), as "2026-11-28 12:00".
  const localTime = (iso: string) => new Intl.DateTimeFormat('sv-SE', { timeZone: ctx.config.schedule.timezone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso))

  app.get('/api/ops', { preHandler: requireRole(...STAFF) }, async () => health())

  app.get('/ops', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const t = T[req.lang]
    const h = await health()
    const statuses = ['new', 'in_review', 'escalated', 'confirmed', 'dismissed']
    const count = (s: string, l: string) => h.warnings.find((w) => w.status === s && w.level === l)?.n ?? 0
    const body = html`<h2>${t.ops}</h2>
<section><h3>${t.sources}</h3><table class="ops"><thead><tr><th>${t.source}</th><th>${t.lastRun}</th><th>${t.lastStatus}</th><th>${t.items}</th><th>${t.errors}</th><th>${t.alerts}</th></tr></thead><tbody>
${h.sources.map((s) => html`<tr class="${s.lastRun?.status === 'failed' || s.alerts.length ? 'bad' : ''}"><td>${s.name} <code>${s.id}</code>${s.enabled ? '' : ' (disabled)'}</td>
<td>${s.lastRun?.startedAt?.replace('T', ' ').slice(0, 16) ?? '—'}</td><td>${s.lastRun?.status ?? s.lastStatus ?? '—'}</td><td class="num">${s.lastRun?.items ?? ''}</td>
<td>${s.lastRun ? html`<span class="num">${s.lastRun.errors}</span>${s.lastRun.error ? html`<div class="error">${s.lastRun.error}</div>` : ''}` : ''}</td>
<td>${s.alerts.map((a) => html`<div class="alert">${a.kind} · ${a.message}</div>`)}</td></tr>`)}</tbody></table></section>
<section><h3>${t.depths}</h3><table class="ops"><thead><tr><th>${t.status}</th>${(['high', 'medium', 'low'] as const).map((l) => html`<th>${levelBadge(t, l)}</th>`)}</tr></thead><tbody>
${statuses.map((s) => html`<tr><td><a href="/?status=${s}">${statusBadge(t, s)}</a></td>${(['high', 'medium', 'low'] as const).map((l) => html`<td class="num">${count(s, l)}</td>`)}</tr>`)}</tbody></table>
<ul><li>${t.pendingRaw}: <b>${h.backlog.pendingRaw}</b></li><li>${t.unclassified}: <b>${h.backlog.unclassified}</b></li><li>${t.unlearnt}: <b>${h.backlog.unlearnt}</b></li></ul></section>
${h.failedWork.total ? html`<section class="failed-work"><h3>${t.failedWork.title}${req.lang === 'zh' ? `（${h.failedWork.total}）` : ` (${h.failedWork.total})`}</h3><div class="alert">${t.failedWork.hint}</div>
<table class="ops"><thead><tr><th>${t.failedWork.queue}</th><th>${t.failedWork.job}</th><th>${t.failedWork.error}</th><th>${t.failedWork.at}</th></tr></thead><tbody>
${h.failedWork.latest.map((f) => html`<tr class="bad"><td><code>${f.queue}</code></td><td><code>${f.jobId}</code></td><td class="error">${f.error ?? ''}</td><td>${localTime(f.at)}<div class="hint">${t.failedWork.attempts} ${f.attempts}</div></td></tr>`)}</tbody></table></section>` : ''}
${h.alerts.some((a) => !a.sourceId) ? html`<section><h3>${t.alerts}</h3>${h.alerts.filter((a) => !a.sourceId).map((a) => html`<div class="alert">${a.kind} · ${a.message}</div>`)}</section>` : ''}`
    return sendPage(req, reply, { title: t.ops, body })
  })
}

export default opsRoutes
