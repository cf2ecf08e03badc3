import type { AppContext } from '../app-context.js'
import { addDays, isoDay } from '../domain/dates.js'
import { upsertNotices } from '../repositories/notice.repository.js'
import { linkPage } from './link.service.js'
import { SourceError } from '../../scrapers/types.js'

export interface IngestResult {
  rawId: number
  items: number
  errors: number
  /** Notices first seen or changed at their source: they go on to classification. */
  changedNoticeIds: number[]
  quarantined: boolean
}

/**
 * Parses one stored response into notices and stores them. A response the parser
 * cannot read at all is quarantined (kept, marked, never retried); a bad item is
 * recorded and the good items of the page are kept.
 */
export async function ingestRaw(ctx: AppContext, rawId: number, opts: { force?: boolean } = {}): Promise<IngestResult> {
  const { db } = ctx
  const raw = await db.selectFrom('raw_response').selectAll().where('id', '=', rawId).executeTakeFirst()
  const none = { rawId, items: 0, errors: 0, changedNoticeIds: [], quarantined: false }
  if (!raw) return none
  if (raw.parse_status !== 'pending' && !opts.force) {
    // Parsed already, by an attempt that may have died before queueing classification:
    // hand on this response's notices that are still unclassified (none, normally).
    const stored = await db.selectFrom('notice').select('id').where('raw_response_id', '=', rawId).execute()
    return { ...none, changedNoticeIds: await unclassifiedAmong(ctx, stored.map((n) => n.id)) }
  }
  const source = ctx.sources.find((s) => s.id === raw.source_id)
  if (!source) return none
  const now = ctx.clock().toISOString()
  let parsed
  try {
    parsed = source.parse({ url: raw.url, status: raw.status, contentType: raw.content_type, body: raw.body })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    await db.updateTable('raw_response').set({ parse_status: 'quarantined', parse_error: message, parsed_at: now }).where('id', '=', rawId).execute()
    if (err instanceof SourceError && err.code === 'layout-changed') {
      await db.insertInto('ops_alert').values({ source_id: raw.source_id, kind: 'layout-changed', message, created_at: now, resolved_at: null }).execute()
    }
    ctx.log.warn({ sourceId: raw.source_id, rawId, err: message }, 'response quarantined')
    return { ...none, quarantined: true }
  }
  const changed: number[] = []
  const unchanged: number[] = []
  // History a baseline run finds older than the window is recorded, not warned about.
  const baselineRun = raw.run_id != null && (await db.selectFrom('source_run').select('baseline').where('id', '=', raw.run_id).executeTakeFirst())?.baseline === 1
  const cutoff = addDays(isoDay(ctx.clock()), -ctx.config.baselineDays)
  // The page's notices are stored together (set-based, one transaction), its measures refreshed once.
  const page = parsed.notices.map((notice) => ({ notice, baseline: baselineRun && !!notice.distributionDate && notice.distributionDate < cutoff }))
  for (const r of await upsertNotices(db, page, rawId, now)) {
    ;(r.outcome !== 'unchanged' ? changed : unchanged).push(r.noticeId)
    ctx.fault('ingest:stored')
  }
  // A notice stored by an attempt that crashed before its classify jobs were queued is
  // "unchanged" now, but was never classified: it goes on to classification as well.
  for (const id of await unclassifiedAmong(ctx, unchanged)) changed.push(id)
  await linkPage(db, changed, now)
  const errorText = parsed.errors.length ? parsed.errors.map((e) => `${e.itemId ?? '?'}: ${e.reason}`).join('\n') : null
  await db
    .updateTable('raw_response')
    .set({ parse_status: parsed.errors.length ? 'error' : 'ok', parse_error: errorText, parsed_at: now })
    .where('id', '=', rawId)
    .execute()
  if (raw.run_id != null) {
    await db
      .updateTable('source_run')
      .set((eb) => ({ items: eb('items', '+', parsed.notices.length), errors: eb('errors', '+', parsed.errors.length) }))
      .where('id', '=', raw.run_id)
      .execute()
  }
  return { rawId, items: parsed.notices.length, errors: parsed.errors.length, changedNoticeIds: changed, quarantined: false }
}

/** Of these notices, those whose current version has no classification. */
async function unclassifiedAmong(ctx: AppContext, ids: number[]): Promise<number[]> {
  if (!ids.length) return []
  const rows = await ctx.db
    .selectFrom('notice')
    .leftJoin('classification', 'classification.notice_id', 'notice.id')
    .select('notice.id')
    .where('notice.id', 'in', ids)
    .where((eb) => eb.or([eb('classification.id', 'is', null), eb('classification.notice_hash', '!=', eb.ref('notice.content_hash'))]))
    .orderBy('notice.id')
    .execute()
  return rows.map((r) => r.id)
}
