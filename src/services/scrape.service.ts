import type { AppContext } from '../app-context.js'
import { sourceBaseUrl } from '../app-context.js'
import { knownItemIds } from '../repositories/notice.repository.js'
import { SourceError, type CrawlContext, type FetchedPage, type RenderOptions, type RequestOptions } from '../../scrapers/types.js'
import { CookieJar } from '../../scrapers/cookie-jar.js'
import { OutboundPolicy } from '../../scrapers/outbound-policy.js'
import { RenderSession, type SubResponse } from '../../scrapers/browser/render.js'
import { sha256 } from '../util/text.js'

export interface ScrapeResult {
  sourceId: string
  runId: number
  status: 'ok' | 'failed'
  requests: number
  notModified: number
  rawNew: number
  /** Stored responses of this source not yet ingested (this run's and any left over). */
  pendingRawIds: number[]
  error?: string
  errorCode?: string
  /** When failed: whether trying again later can help (the source was down, not changed). */
  retryable?: boolean
}

export class UnknownSourceError extends Error {
  readonly code = 'UNKNOWN_SOURCE'
  readonly retryable = false
}

/**
 * Runs one source's crawl and keeps every response by content hash. A failing source
 * is recorded on its run and reported, never thrown past this function: the pass
 * goes on with the other sources.
 */
export async function scrapeSource(
  ctx: AppContext,
  sourceId: string,
  opts: { since?: string | null; mode?: 'inline' | 'worker' } = {},
): Promise<ScrapeResult> {
  const source = ctx.sources.find((s) => s.id === sourceId)
  if (!source) throw new UnknownSourceError(`unknown source ${sourceId}; known: ${ctx.sources.map((s) => s.id).join(', ')}`)
  const { db } = ctx
  const row = await db.selectFrom('source').selectAll().where('id', '=', sourceId).executeTakeFirst()
  if (!row) throw new UnknownSourceError(`source ${sourceId} is not seeded; run tbt-watch seed`)
  const startedAt = ctx.clock().toISOString()
  const run = await db
    .insertInto('source_run')
    .values({
      source_id: sourceId,
      mode: opts.mode ?? 'inline',
      started_at: startedAt,
      status: 'running',
      cursor_before: row.cursor,
      requests: 0,
      not_modified: 0,
      raw_new: 0,
      items: 0,
      errors: 0,
      // A source's first run sets a baseline unless the user named a start date.
      baseline: row.baseline_at == null && !opts.since ? 1 : 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  const counts = { requests: 0, notModified: 0, rawNew: 0 }
  const log = ctx.log.child({ sourceId, runId: run.id })
  const baseUrl = sourceBaseUrl(ctx, source)
  const cookies = new CookieJar()
  // Every request of this crawl, over HTTP or from a rendered page, redirects included:
  // the source's host (or its allowHosts), public addresses unless the base URL is local.
  // Made when the crawl starts (a bad base URL fails the run like any other error).
  let policy: OutboundPolicy | undefined
  const policed = () => {
    if (!policy) throw new SourceError('blocked', `${sourceId}: no outbound policy`, false)
    return policy
  }

  const crawl: CrawlContext = {
    sourceId,
    baseUrl,
    log,
    now: ctx.clock,
    maxPages: ctx.config.maxPagesPerRun,
    known: (ids) => knownItemIds(db, sourceId, ids),
    async knownSymbols(symbols) {
      if (!symbols.length) return new Set()
      const rows = await db
        .selectFrom('notice_symbol')
        .innerJoin('notice', 'notice.id', 'notice_symbol.notice_id')
        .select(['notice_symbol.symbol', 'notice_symbol.base_symbol'])
        .where('notice.source_id', '=', sourceId)
        .where((eb) => eb.or([eb('notice_symbol.symbol', 'in', symbols), eb('notice_symbol.base_symbol', 'in', symbols)]))
        .execute()
      const held = new Set(rows.flatMap((r) => [r.symbol, r.base_symbol]))
      return new Set(symbols.filter((s) => held.has(s)))
    },
    async fetch(url: string, req: RequestOptions = {}): Promise<FetchedPage> {
      const previous = await db
        .selectFrom('raw_response')
        .select(['id', 'etag', 'last_modified', 'body', 'status', 'content_type'])
        .where('source_id', '=', sourceId)
        .where('url', '=', url)
        .where('engine', '=', 'http')
        .orderBy('fetched_at', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirst()
      counts.requests++
      const res = await ctx.http.request(url, {
        method: req.method,
        headers: withCookies(req.headers, cookies.header(url)),
        body: req.body,
        encoding: req.encoding,
        etag: req.method === 'POST' ? null : previous?.etag,
        lastModified: req.method === 'POST' ? null : previous?.last_modified,
        policy: policed(),
      })
      cookies.store(url, res.setCookies ?? [])
      const fetchedAt = ctx.clock().toISOString()
      if (res.status === 304 && previous) {
        counts.notModified++
        return { url, status: previous.status, contentType: previous.content_type, body: previous.body, fetchedAt, notModified: true, rawId: previous.id, isNew: false }
      }
      const hash = sha256(res.body)
      const inserted = await db
        .insertInto('raw_response')
        .values({
          source_id: sourceId,
          url,
          content_hash: hash,
          status: res.status,
          content_type: res.contentType,
          etag: res.etag,
          last_modified: res.lastModified,
          body: res.body,
          fetched_at: fetchedAt,
          run_id: run.id,
          parse_status: req.keep === false ? 'ok' : 'pending',
        })
        .onConflict((oc) => oc.columns(['source_id', 'content_hash']).doNothing())
        .returning('id')
        .executeTakeFirst()
      if (inserted) counts.rawNew++
      ctx.fault('scrape:stored')
      const id =
        inserted?.id ??
        (
          await db
            .selectFrom('raw_response')
            .select('id')
            .where('source_id', '=', sourceId)
            .where('content_hash', '=', hash)
            .executeTakeFirstOrThrow()
        ).id
      return { url, status: res.status, contentType: res.contentType, body: res.body, fetchedAt, notModified: false, rawId: id, isNew: !!inserted }
    },
  }

  // The browser engine: one tab for this crawl, opened on its first render.
  const assetCache = new Map<string, SubResponse>()
  let session: Promise<RenderSession> | undefined
  crawl.render = async (url: string, opts: RenderOptions): Promise<FetchedPage> => {
    session ??= ctx.browser().then((b) => RenderSession.open(b, { userAgent: ctx.config.userAgent }))
    const rendered = await (await session).render({
      url,
      waitFor: opts.waitFor,
      timeoutMs: opts.timeoutMs ?? ctx.config.browser.timeoutMs,
      allowHosts: opts.allowHosts,
      policy: policed(),
      assetCache,
      fetch: (u, init) => crawl.fetch(u, { ...init, keep: false, encoding: opts.encoding }),
    })
    const fetchedAt = ctx.clock().toISOString()
    const contentType = 'text/html; charset=utf-8'
    const { id, isNew } = await storeSnapshot(ctx, { sourceId, url, status: rendered.status, contentType, body: rendered.html, fetchedAt, runId: run.id, keep: opts.keep !== false })
    if (isNew) counts.rawNew++
    return { url, status: rendered.status, contentType, body: rendered.html, fetchedAt, notModified: rendered.notModified, rawId: id, isNew }
  }

  let status: ScrapeResult['status'] = 'ok'
  let error: string | undefined
  let errorCode: string | undefined
  let retryable: boolean | undefined
  let cursor = row.cursor
  try {
    policy = await OutboundPolicy.forBase(baseUrl, source.allowHosts)
    const outcome = await source.crawl(crawl, { cursor: row.cursor, since: opts.since ?? null })
    cursor = outcome.cursor ?? row.cursor
  } catch (err) {
    status = 'failed'
    error = err instanceof Error ? err.message : String(err)
    errorCode = err instanceof SourceError ? err.code : 'error'
    // Anything but a SourceError is our side failing (the database went away, say): worth another go.
    retryable = err instanceof SourceError ? err.retryable : true
    log.warn({ err: error, code: errorCode }, 'source failed')
    if (err instanceof SourceError && err.code === 'layout-changed') {
      await db
        .insertInto('ops_alert')
        .values({ source_id: sourceId, kind: 'layout-changed', message: error, created_at: ctx.clock().toISOString(), resolved_at: null })
        .execute()
    }
  }
  await (await session?.catch(() => undefined))?.close()
  const finishedAt = ctx.clock().toISOString()
  await db
    .updateTable('source_run')
    .set({
      finished_at: finishedAt,
      status,
      cursor_after: cursor,
      requests: counts.requests,
      not_modified: counts.notModified,
      raw_new: counts.rawNew,
      error: error ?? null,
    })
    .where('id', '=', run.id)
    .execute()
  await db
    .updateTable('source')
    .set({ cursor, last_run_at: finishedAt, last_status: status, baseline_at: row.baseline_at ?? (status === 'ok' ? finishedAt : null) })
    .where('id', '=', sourceId)
    .execute()
  const pending = await db
    .selectFrom('raw_response')
    .select('id')
    .where('source_id', '=', sourceId)
    .where('parse_status', '=', 'pending')
    .orderBy('id')
    .execute()
  return { sourceId, runId: run.id, status, ...counts, pendingRawIds: pending.map((p) => p.id), error, errorCode, retryable }
}

function withCookies(headers: Record<string, string> | undefined, cookie: string | undefined) {
  if (!cookie || Object.keys(headers ?? {}).some((k) => k.toLowerCase() === 'cookie')) return headers
  return { ...headers, cookie }
}

/** Keeps a rendered DOM as the raw response for its URL, by content hash like any other. */
async function storeSnapshot(
  ctx: AppContext,
  s: { sourceId: string; url: string; status: number; contentType: string; body: string; fetchedAt: string; runId: number; keep: boolean },
): Promise<{ id: number; isNew: boolean }> {
  const hash = sha256(s.body)
  const inserted = await ctx.db
    .insertInto('raw_response')
    .values({
      source_id: s.sourceId,
      url: s.url,
      content_hash: hash,
      status: s.status,
      content_type: s.contentType,
      etag: null,
      last_modified: null,
      body: s.body,
      fetched_at: s.fetchedAt,
      run_id: s.runId,
      parse_status: s.keep ? 'pending' : 'ok',
      engine: 'browser',
    })
    .onConflict((oc) => oc.columns(['source_id', 'content_hash']).doNothing())
    .returning('id')
    .executeTakeFirst()
  if (inserted) return { id: inserted.id, isNew: true }
  const existing = await ctx.db
    .selectFrom('raw_response')
    .select('id')
    .where('source_id', '=', s.sourceId)
    .where('content_hash', '=', hash)
    .executeTakeFirstOrThrow()
  return { id: existing.id, isNew: false }
}
