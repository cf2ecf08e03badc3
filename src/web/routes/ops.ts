import type { RoutePlugin } from '../app.js'
import { html } from '../../util/html.js'
import { requireRole, STAFF } from '../auth.js'
import { levelBadge, sendPage, statusBadge, T } from '../layout.js'
import { localTime, sourceName, timeZoneLabel } from '../../domain/i18n.js'
import { modelStatus } from '../../services/training.service.js'
import type { ModelMetrics } from '../../classify/index.js'

// The classifier section's own labels (the page's language).
const CL = {
  zh: {
    title: '产品分类器', none: '尚无学习模型：目前仅靠词表分类。有HS编码的通报积累后（或运行 tbt-watch train）将自动训练。',
    model: '模型', trained: '训练时间', examples: '带编码的通报', heldOut: '留出检验', chapter: '章（前1）', heading: '品目（前1）', lexicon: '仅词表',
    weight: '模型权重', byLanguage: '按语言', byChapter: '按章（留出样本）', support: '样本', precision: '准确率', recall: '召回率', language: '语言',
    noHeldOut: '样本太少，尚未留出检验样本', languages: { eng: '英文', cmn: '中文', spa: '西班牙文', fra: '法文', por: '葡萄牙文', vie: '越南文', und: '未识别' } as Record<string, string>,
  },
  en: {
    title: 'Product classifier', none: 'No learnt model yet: classification rests on the lexicon. It trains once enough notices with HS codes are stored (or run tbt-watch train).',
    model: 'Model', trained: 'Trained', examples: 'Notices with codes', heldOut: 'Held out', chapter: 'Chapter (top 1)', heading: 'Heading (top 1)', lexicon: 'lexicon alone',
    weight: 'Model weight', byLanguage: 'By language', byChapter: 'By chapter (held-out notices)', support: 'Notices', precision: 'Precision', recall: 'Recall', language: 'Language',
    noHeldOut: 'too few notices to hold any out yet', languages: { eng: 'English', cmn: 'Chinese', spa: 'Spanish', fra: 'French', por: 'Portuguese', vie: 'Vietnamese', und: 'unknown' } as Record<string, string>,
  },
}

function classifierSection(lang: 'zh' | 'en', m: { version: string; createdAt: string; examples: number; metrics: ModelMetrics } | null) {
  const t = CL[lang]
  if (!m) return html`<section id="classifier"><h3>${t.title}</h3><p>${t.none}</p></section>`
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`)
  const k = m.metrics
  const chapters = [...k.byChapter].sort((a, b) => b.support - a.support).slice(0, 20)
  return html`<section id="classifier"><h3>${t.title}</h3>
<ul><li>${t.model}: <code>${m.version}</code> · ${t.trained} ${m.createdAt.replace('T', ' ').slice(0, 16)} UTC · ${t.examples}: <b>${m.examples}</b></li>
${k.heldOut
    ? html`<li>${t.heldOut} ${k.heldOut}: ${t.chapter} <b>${pct(k.chapterTop1)}</b> (${t.lexicon} ${pct(k.lexiconChapterTop1)}) · ${t.heading} <b>${pct(k.headingTop1)}</b> · ${t.weight} ${k.scale}</li>`
    : html`<li>${t.noHeldOut}</li>`}</ul>
${k.heldOut
    ? html`<table class="ops"><thead><tr><th>${t.language}</th><th>${t.support}</th><th>${t.chapter}</th></tr></thead><tbody>
${Object.entries(k.byLanguage).map(([l, v]) => html`<tr><td>${t.languages[l] ?? l}</td><td class="num">${v.n}</td><td class="num">${pct(v.chapterTop1)}</td></tr>`)}</tbody></table>
<table class="ops"><thead><tr><th>HS</th><th>${t.support}</th><th>${t.precision}</th><th>${t.recall}</th></tr></thead><tbody>
${chapters.map((c) => html`<tr><td>${c.chapter}</td><td class="num">${c.support}</td><td class="num">${pct(c.precision)}</td><td class="num">${pct(c.recall)}</td></tr>`)}</tbody></table>`
    : ''}</section>`
}

/** A source run's status in words (ok, failed, running). */
const RUN_STATUS = { zh: { ok: '成功', failed: '失败', running: '运行中' }, en: { ok: 'ok', failed: 'failed', running: 'running' } } as Record<string, Record<string, string>>
const runStatus = (lang: 'zh' | 'en', st: string | null | undefined) => (st ? RUN_STATUS[lang][st] ?? st : '—')

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
      classifier: await modelStatus(ctx),
      failedWork: { total: failedTotal, latest: failed.map((f) => ({ queue: f.queue, jobId: f.job_id, error: f.error, attempts: f.attempts, at: f.failed_at })) },
    }
  }

  // In the operator's time zone (TBT_TIMEZONE), as "2026-11-28 12:00".

  app.get('/api/ops', { preHandler: requireRole(...STAFF) }, async () => health())

  app.get('/ops', { preHandler: requireRole(...STAFF) }, async (req, reply) => {
    const t = T[req.lang]
    const h = await health()
    const statuses = ['new', 'in_review', 'escalated', 'confirmed', 'dismissed']
    const count = (s: string, l: string) => h.warnings.find((w) => w.status === s && w.level === l)?.n ?? 0
    const body = html`<h2>${t.ops}</h2>
<section><h3>${t.sources}</h3><p class="hint">${t.times(timeZoneLabel(req.lang, ctx.config.schedule.timezone))}</p><table class="ops sources"><thead><tr><th>${t.source}</th><th>${t.lastRun}</th><th>${t.lastStatus}</th><th>${t.items}</th><th>${t.errors}</th><th>${t.alerts}</th></tr></thead><tbody>
${h.sources.map((s) => html`<tr class="${s.lastRun?.status === 'failed' || s.alerts.length ? 'bad' : ''}"><td>${sourceName(req.lang, s.id, s.name)} <code>${s.id}</code>${s.enabled ? '' : ` (${req.lang === 'zh' ? '已停用' : 'disabled'})`}</td>
<td class="nowrap">${s.lastRun?.startedAt ? localTime(s.lastRun.startedAt, ctx.config.schedule.timezone) : '—'}</td><td class="nowrap">${runStatus(req.lang, s.lastRun?.status ?? s.lastStatus)}</td><td class="num">${s.lastRun?.items ?? ''}</td>
<td class="errs">${s.lastRun ? html`<span class="num">${s.lastRun.errors}</span>${s.lastRun.error ? html`<div class="error">${s.lastRun.error}</div>` : ''}` : ''}</td>
<td>${s.alerts.map((a) => html`<div class="alert">${a.kind} · ${a.message}</div>`)}</td></tr>`)}</tbody></table></section>
<section><h3>${t.depths}</h3><table class="ops"><thead><tr><th>${t.status}</th>${(['high', 'medium', 'low'] as const).map((l) => html`<th>${levelBadge(t, l)}</th>`)}</tr></thead><tbody>
${statuses.map((s) => html`<tr><td><a href="/?status=${s}">${statusBadge(t, s)}</a></td>${(['high', 'medium', 'low'] as const).map((l) => html`<td class="num">${count(s, l)}</td>`)}</tr>`)}</tbody></table>
<ul><li>${t.pendingRaw}: <b>${h.backlog.pendingRaw}</b></li><li>${t.unclassified}: <b>${h.backlog.unclassified}</b></li><li>${t.unlearnt}: <b>${h.backlog.unlearnt}</b></li></ul></section>
${h.failedWork.total ? html`<section class="failed-work"><h3>${t.failedWork.title}${req.lang === 'zh' ? `（${h.failedWork.total}）` : ` (${h.failedWork.total})`}</h3><div class="alert">${t.failedWork.hint}</div>
<table class="ops"><thead><tr><th>${t.failedWork.queue}</th><th>${t.failedWork.job}</th><th>${t.failedWork.error}</th><th>${t.failedWork.at}</th></tr></thead><tbody>
${h.failedWork.latest.map((f) => html`<tr class="bad"><td><code>${f.queue}</code></td><td><code>${f.jobId}</code></td><td class="error">${f.error ?? ''}</td><td>${localTime(f.at, ctx.config.schedule.timezone)}<div class="hint">${t.failedWork.attempts} ${f.attempts}</div></td></tr>`)}</tbody></table></section>` : ''}
${h.alerts.some((a) => !a.sourceId) ? html`<section><h3>${t.alerts}</h3>${h.alerts.filter((a) => !a.sourceId).map((a) => html`<div class="alert">${a.kind} · ${a.message}</div>`)}</section>` : ''}
${classifierSection(req.lang, h.classifier)}`
    return sendPage(req, reply, { title: t.ops, body })
  })
}

export default opsRoutes
