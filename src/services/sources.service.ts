import type { AppContext } from '../app-context.js'
import { sourceBaseUrl } from '../app-context.js'
import { classifyNotices } from './classify.service.js'
import { ingestRaw } from './ingest.service.js'
import { raiseWarnings, scoreMeasure } from './risk.service.js'
import { UnknownSourceError } from './scrape.service.js'

export interface SourceOverview {
  id: string
  name: string
  engine: string
  baseUrl: string
  enabled: boolean
  lastRunAt: string | null
  status: string | null
  cursor: string | null
  baselineAt: string | null
  notices: number
  rawResponses: number
  quarantined: number
  openAlerts: number
  /** The last run's counts, when there was one. */
  lastRun: { requests: number; notModified: number; rawNew: number; items: number; errors: number; error: string | null } | null
  /** ok, failing (the last run failed), alert (open operations alerts) or never-run. */
  health: 'ok' | 'failing' | 'alert' | 'never-run'
}

const countBy = async <T extends string>(ctx: AppContext, rows: Promise<{ k: T; n: number | string | bigint }[]>) =>
  new Map((await rows).map((r) => [r.k, Number(r.n)]))

/** One line per known source: where it stands, what it holds, and whether it is healthy. */
export async function listSources(ctx: AppContext): Promise<SourceOverview[]> {
  const { db } = ctx
  const rows = await db.selectFrom('source').selectAll().execute()
  const notices = await countBy(
    ctx,
    db.selectFrom('notice').select(['source_id as k', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('source_id').execute(),
  )
  const raws = await countBy(
    ctx,
    db.selectFrom('raw_response').select(['source_id as k', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('source_id').execute(),
  )
  const quarantined = await countBy(
    ctx,
    db
      .selectFrom('raw_response')
      .select(['source_id as k', (eb) => eb.fn.countAll<number>().as('n')])
      .where('parse_status', '=', 'quarantined')
      .groupBy('source_id')
      .execute(),
  )
  const alerts = await db
    .selectFrom('ops_alert')
    .select(['source_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('resolved_at', 'is', null)
    .groupBy('source_id')
    .execute()
  const out: SourceOverview[] = []
  const ids = [...new Set([...ctx.sources.map((s) => s.id), ...rows.map((r) => r.id)])]
  for (const id of ids) {
    const source = ctx.sources.find((s) => s.id === id)
    const row = rows.find((r) => r.id === id)
    const run = await db.selectFrom('source_run').selectAll().where('source_id', '=', id).orderBy('id', 'desc').limit(1).executeTakeFirst()
    const openAlerts = Number(alerts.find((a) => a.source_id === id)?.n ?? 0)
    const status = row?.last_status ?? null
    out.push({
      id,
      name: source?.name ?? row?.name ?? id,
      engine: source?.engine ?? row?.engine ?? '?',
      baseUrl: source ? sourceBaseUrl(ctx, source, row?.base_url) : (row?.base_url ?? ''),
      enabled: row ? row.enabled === 1 : source?.enabled !== false,
      lastRunAt: row?.last_run_at ?? null,
      status,
      cursor: row?.cursor ?? null,
      baselineAt: row?.baseline_at ?? null,
      notices: notices.get(id) ?? 0,
      rawResponses: raws.get(id) ?? 0,
      quarantined: quarantined.get(id) ?? 0,
      openAlerts,
      lastRun: run
        ? { requests: run.requests, notModified: run.not_modified, rawNew: run.raw_new, items: run.items, errors: run.errors, error: run.error }
        : null,
      health: openAlerts > 0 ? 'alert' : status === 'failed' ? 'failing' : status ? 'ok' : 'never-run',
    })
  }
  return out.sort((a, b) => a.id.localeCompare(b.id))
}

export interface ReparseResult {
  sourceId: string
  responses: number
  items: number
  errors: number
  quarantined: number
  changedNotices: number
  classified: number
  measuresScored: number
  warningsRaised: number
  warningsUpdated: number
  warningsClosed: number
}

/**
 * Re-reads every stored raw response of a source with the current parser (after a
 * parser fix) without fetching anything, then carries what changed through classify,
 * score and warn. Unchanged notices stay untouched: upserts are idempotent.
 */
export async function reparseSource(ctx: AppContext, sourceId: string): Promise<ReparseResult> {
  if (!ctx.sources.some((s) => s.id === sourceId)) {
    throw new UnknownSourceError(`unknown source ${sourceId}; known: ${ctx.sources.map((s) => s.id).join(', ')}`)
  }
  const raws = await ctx.db.selectFrom('raw_response').select('id').where('source_id', '=', sourceId).orderBy('id').execute()
  const r: ReparseResult = {
    sourceId,
    responses: raws.length,
    items: 0,
    errors: 0,
    quarantined: 0,
    changedNotices: 0,
    classified: 0,
    measuresScored: 0,
    warningsRaised: 0,
    warningsUpdated: 0,
    warningsClosed: 0,
  }
  const changed = new Set<number>()
  for (const { id } of raws) {
    const i = await ingestRaw(ctx, id, { force: true })
    r.items += i.items
    r.errors += i.errors
    if (i.quarantined) r.quarantined++
    i.changedNoticeIds.forEach((n) => changed.add(n))
  }
  r.changedNotices = changed.size
  const measures = new Set<number>()
  const ids = [...changed].sort((a, b) => a - b)
  for (let i = 0; i < ids.length; i += 50) {
    for (const c of await classifyNotices(ctx, ids.slice(i, i + 50))) measures.add(c.measureId)
  }
  r.classified = ids.length
  for (const m of [...measures].sort((a, b) => a - b)) {
    await scoreMeasure(ctx, m)
    r.measuresScored++
    const w = await raiseWarnings(ctx, m)
    r.warningsRaised += w.raised
    r.warningsUpdated += w.updated
    r.warningsClosed += w.closed
  }
  return r
}
