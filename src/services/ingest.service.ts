import type { AppContext } from '../app-context.js'
import { addDays, isoDay } from '../domain/dates.js'
import type { RawResponseRow } from '../db/schema.js'
import type { ParseResult } from '../domain/notice.js'
import { upsertNotices, type PageNotice } from '../repositories/notice.repository.js'
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
  return (await ingestRaws(ctx, [rawId], opts))[0]
}

/**
 * `ingestRaw` for several stored responses at once, their notices stored as one page
 * (set-based, in the caller's transaction when it holds one): an import's notifications,
 * one response each, cost a few statements for the batch instead of a score each. Same
 * outcomes as ingesting them one after the other in this order; one result per response.
 */
export async function ingestRaws(ctx: AppContext, rawIds: number[], opts: { force?: boolean } = {}): Promise<IngestResult[]> {
  const { db } = ctx
  const results: IngestResult[] = rawIds.map((rawId) => ({ rawId, items: 0, errors: 0, changedNoticeIds: [], quarantined: false }))
  const raws = new Map<number, RawResponseRow>()
  for (let k = 0; k < rawIds.length; k += 500) for (const r of await db.selectFrom('raw_response').selectAll().where('id', 'in', rawIds.slice(k, k + 500)).execute()) raws.set(r.id, r)
  const now = ctx.clock().toISOString()
  // History a baseline run finds older than the window is recorded, not warned about.
  const cutoff = addDays(isoDay(ctx.clock()), -ctx.config.baselineDays)
  const baselineOf = new Map<number, boolean>()
  const page: PageNotice[] = []
  /** which response (index in rawIds) each notice of the page came from */
  const from: number[] = []
  const parsedOf = new Map<number, ParseResult>()
  for (const [k, rawId] of rawIds.entries()) {
    const raw = raws.get(rawId)
    if (!raw) continue
    if (raw.parse_status !== 'pending' && !opts.force) {
      // Parsed already, by an attempt that may have died before queueing classification:
      // hand on this response's notices that are still unclassified (none, normally).
      const stored = await db.selectFrom('notice').select('id').where('raw_response_id', '=', rawId).execute()
      results[k].changedNoticeIds = await unclassifiedAmong(ctx, stored.map((n) => n.id))
      continue
    }
    const source = ctx.sources.find((s) => s.id === raw.source_id)
    if (!source) continue
    let parsed: ParseResult
    try {
      parsed = source.parse({ url: raw.url, status: raw.status, contentType: raw.content_type, body: raw.body })
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      await db.updateTable('raw_response').set({ parse_status: 'quarantined', parse_error: message, parsed_at: now }).where('id', '=', rawId).execute()
      if (err instanceof SourceError && err.code === 'layout-changed') {
        await db.insertInto('ops_alert').values({ source_id: raw.source_id, kind: 'layout-changed', message, created_at: now, resolved_at: null }).execute()
      }
      ctx.log.warn({ sourceId: raw.source_id, rawId, err: message }, 'response quarantined')
      results[k].quarantined = true
      continue
    }
    parsedOf.set(k, parsed)
    let baselineRun = false
    if (raw.run_id != null) {
      if (!baselineOf.has(raw.run_id)) baselineOf.set(raw.run_id, (await db.selectFrom('source_run').select('baseline').where('id', '=', raw.run_id).executeTakeFirst())?.baseline === 1)
      baselineRun = baselineOf.get(raw.run_id)!
    }
    for (const notice of parsed.notices) {
      page.push({ notice, baseline: baselineRun && !!notice.distributionDate && notice.distributionDate < cutoff, rawId })
      from.push(k)
    }
  }
  // The page's notices are stored together (set-based, one transaction), its measures refreshed once.
  const changed = new Map<number, number[]>()
  const unchanged = new Map<number, number[]>()
  if (page.length) {
    for (const [i, r] of (await upsertNotices(db, page, null, now)).entries()) {
      const into = r.outcome !== 'unchanged' ? changed : unchanged
      const list = into.get(from[i])
      if (list) list.push(r.noticeId)
      else into.set(from[i], [r.noticeId])
      ctx.fault('ingest:stored')
    }
  }
  // A notice stored by an attempt that crashed before its classify jobs were queued is
  // "unchanged" now, but was never classified: it goes on to classification as well.
  const neverClassified = new Set(await unclassifiedAmong(ctx, [...unchanged.values()].flat()))
  const runs = new Map<number, { items: number; errors: number }>()
  for (const [k, parsed] of parsedOf) {
    const rawId = rawIds[k]
    results[k] = {
      rawId,
      items: parsed.notices.length,
      errors: parsed.errors.length,
      changedNoticeIds: [...(changed.get(k) ?? []), ...(unchanged.get(k) ?? []).filter((id) => neverClassified.has(id))],
      quarantined: false,
    }
    const errorText = parsed.errors.length ? parsed.errors.map((e) => `${e.itemId ?? '?'}: ${e.reason}`).join('\n') : null
    if (errorText) await db.updateTable('raw_response').set({ parse_status: 'error', parse_error: errorText, parsed_at: now }).where('id', '=', rawId).execute()
    const runId = raws.get(rawId)!.run_id
    if (runId != null) {
      const r = runs.get(runId) ?? { items: 0, errors: 0 }
      r.items += parsed.notices.length
      r.errors += parsed.errors.length
      runs.set(runId, r)
    }
  }
  await linkPage(db, results.flatMap((r) => r.changedNoticeIds), now)
  // (the responses read without an error, at once)
  const clean = [...parsedOf].filter(([, p]) => !p.errors.length).map(([k]) => rawIds[k])
  for (let k = 0; k < clean.length; k += 500) await db.updateTable('raw_response').set({ parse_status: 'ok', parse_error: null, parsed_at: now }).where('id', 'in', clean.slice(k, k + 500)).execute()
  for (const [runId, r] of runs) {
    await db
      .updateTable('source_run')
      .set((eb) => ({ items: eb('items', '+', r.items), errors: eb('errors', '+', r.errors) }))
      .where('id', '=', runId)
      .execute()
  }
  return results
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
