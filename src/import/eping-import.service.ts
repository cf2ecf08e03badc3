import path from 'node:path'
import type { AppContext } from '../app-context.js'
import type { Classifier, LabelledExample } from '../classify/index.js'
import { addDays, isoDay } from '../domain/dates.js'
import type { ScrapedNotice } from '../domain/notice.js'
import { splitSymbols, symbolKey, type DocType } from '../domain/symbols.js'
import { classifyInline, ingestPages, scoreAndWarnAll } from '../pipeline/batch.js'
import { seed } from '../services/seed.service.js'
import { sha256 } from '../util/text.js'
import {
  cleanCellText,
  EPING_XLSX_CONTENT_TYPE,
  epingXlsxBody,
  parseEpingXlsxNotice,
  type EpingXlsxRow,
} from '../../scrapers/eping/eping-xlsx.parser.js'
import { readEpingXlsx } from './eping-xlsx.reader.js'

/** Imported notices belong to the public ePing source: a later scrape of the same symbol updates them. */
export const IMPORT_SOURCE = 'eping'

export type Progress = (stage: string, done: number, total: number) => void

export interface BadRow {
  row: number
  reason: string
}

export interface ImportReport {
  file: string
  mode: 'import' | 'dry-run' | 'train-only'
  /** Data rows read (the header and empty rows not counted). */
  rows: number
  /** Distinct notifications: one per document symbol list, joint rows merged. */
  notices: number
  /** Notices made of several members' rows (a joint notification). */
  jointNotices: number
  /** Rows that went into another row's notice (the second and later members of a joint notification). */
  mergedRows: number
  badRows: BadRow[]
  byArea: Record<'TBT' | 'SPS', number>
  byType: Record<DocType, number>
  withHsCodes: number
  /** Distributed before the baseline window (TBT_BASELINE_DAYS): stored, no warnings raised for them. */
  olderThanBaseline: number
  stored?: {
    /** Notifications whose rows were not stored before (a re-import of the same file stores none). */
    rawNew: number
    newNotices: number
    changedNotices: number
    unchangedNotices: number
  }
  stages?: {
    classified: number
    measuresScored: number
    warningsRaised: number
    warningsUpdated: number
    warningsClosed: number
  }
  training?: {
    examples: number
    withoutHsCodes: number
    modelDir: string
  }
  seconds: number
}

type Group = { rows: number[]; records: EpingXlsxRow[] }
type ParsedGroup = (Group & { notice: ScrapedNotice }) | { rows: number[]; error: string }

const keyOf = (r: EpingXlsxRow) => symbolKey(splitSymbols(cleanCellText(r.symbols)))

function emptyReport(file: string, mode: ImportReport['mode']): ImportReport {
  return {
    file,
    mode,
    rows: 0,
    notices: 0,
    jointNotices: 0,
    mergedRows: 0,
    badRows: [],
    byArea: { TBT: 0, SPS: 0 },
    byType: { regular: 0, addendum: 0, corrigendum: 0, revision: 0 },
    withHsCodes: 0,
    olderThanBaseline: 0,
    seconds: 0,
  }
}

/**
 * The file's notifications, one at a time, in two streaming passes. The first counts the
 * rows of each symbol list; the second hands each notification on once all its rows
 * were seen. Joint notifications (a row per member, not always adjacent) are the only
 * rows held back, so memory holds the symbol lists and those rows, not the file.
 */
export async function* epingXlsxNotifications(file: string, progress: Progress = () => {}): AsyncGenerator<ParsedGroup> {
  const counts = new Map<string, number>()
  let total = 0
  for await (const r of readEpingXlsx(file, { onBytes: (read, size) => progress('scan (KB)', Math.round(read / 1024), Math.round(size / 1024)) })) {
    total++
    if ('record' in r) {
      const key = keyOf(r.record)
      if (key) counts.set(key, (counts.get(key) ?? 0) + 1)
    }
  }
  const waiting = new Map<string, Group>()
  let done = 0
  const parse = (g: Group): ParsedGroup => {
    try {
      return { ...g, notice: parseEpingXlsxNotice(g.records, IMPORT_SOURCE) }
    } catch (err) {
      return { rows: g.rows, error: (err as Error).message }
    }
  }
  for await (const r of readEpingXlsx(file)) {
    progress('import', ++done, total)
    if ('error' in r) {
      yield { rows: [r.row], error: r.error }
      continue
    }
    const key = keyOf(r.record)
    const expected = key ? (counts.get(key) ?? 1) : 1
    if (expected <= 1) {
      yield parse({ rows: [r.row], records: [r.record] })
      continue
    }
    const g = waiting.get(key) ?? { rows: [], records: [] }
    g.rows.push(r.row)
    g.records.push(r.record)
    if (g.rows.length < expected) {
      waiting.set(key, g)
      continue
    }
    waiting.delete(key)
    yield parse(g)
  }
  // Only when the file changed between the passes.
  for (const g of waiting.values()) yield parse(g)
}

function count(report: ImportReport, g: Group & { notice: ScrapedNotice }, cutoff: string) {
  const n = g.notice
  report.notices++
  if (g.rows.length > 1) {
    report.jointNotices++
    report.mergedRows += g.rows.length - 1
  }
  report.byArea[n.area]++
  report.byType[n.docType]++
  if (n.hsCodes.length) report.withHsCodes++
  if (n.distributionDate && n.distributionDate < cutoff) report.olderThanBaseline++
}

const badRowsOf = (g: { rows: number[]; error: string }): BadRow[] => g.rows.map((row) => ({ row, reason: g.error }))

/** Parses the file and counts what an import would store; writes nothing. */
export async function dryRunEpingXlsx(file: string, opts: { now: Date; baselineDays: number; onProgress?: Progress }): Promise<ImportReport> {
  const started = performance.now()
  const report = emptyReport(file, 'dry-run')
  const cutoff = addDays(isoDay(opts.now), -opts.baselineDays)
  for await (const g of epingXlsxNotifications(file, opts.onProgress)) {
    report.rows += g.rows.length
    if ('error' in g) report.badRows.push(...badRowsOf(g))
    else count(report, g, cutoff)
  }
  report.badRows.sort((a, b) => a.row - b.row)
  report.seconds = round(started)
  return report
}

const RAW_BATCH = 200

/**
 * Imports ePing's Excel export into the `eping` source. Each notification's rows are kept
 * as a raw response of the source (by content hash: the same rows in a later file store
 * nothing new) and go through the normal ingest, so an imported notice has the identity
 * a scrape gives it, follow-ups join their measure, and `reparse eping` re-reads them.
 * Then the normal classify → score → warn stages run on what changed. The import counts
 * as a baseline run: notices distributed before TBT_BASELINE_DAYS raise no warnings.
 */
export async function importEpingXlsx(ctx: AppContext, file: string, opts: { onProgress?: Progress } = {}): Promise<ImportReport> {
  const started = performance.now()
  const progress = opts.onProgress ?? (() => {})
  const { db } = ctx
  const report = emptyReport(file, 'import')
  const cutoff = addDays(isoDay(ctx.clock()), -ctx.config.baselineDays)
  await seed(ctx, { subscribers: false })
  const noticeCount = async () =>
    Number((await db.selectFrom('notice').select((eb) => eb.fn.countAll<number>().as('n')).where('source_id', '=', IMPORT_SOURCE).executeTakeFirstOrThrow()).n)
  const before = await noticeCount()
  const now = ctx.clock().toISOString()
  const run = await db
    .insertInto('source_run')
    .values({
      source_id: IMPORT_SOURCE,
      mode: 'import',
      started_at: now,
      status: 'running',
      cursor_before: null,
      requests: 0,
      not_modified: 0,
      raw_new: 0,
      items: 0,
      errors: 0,
      baseline: 1,
    })
    .returning('id')
    .executeTakeFirstOrThrow()

  const changed = new Set<number>()
  const measures = new Set<number>()
  let toClassify: number[] = []
  let rawNew = 0
  // The pipeline's own batches (pipeline/batch.ts), as `tbt-watch run` classifies, scores
  // and warns: set-based, one transaction each, the outbox's marks settled as they go.
  const size = Math.max(1, ctx.config.batchSize)
  const classify = async (all = false) => {
    while (toClassify.length >= size || (all && toClassify.length)) {
      const batch = toClassify.splice(0, size)
      for (const m of await classifyInline(ctx, batch)) measures.add(m)
    }
  }
  const name = path.basename(file)
  const flush = async (batch: (Group & { notice: ScrapedNotice })[]) => {
    if (!batch.length) return
    const rows = batch.map((g) => {
      const body = epingXlsxBody(g.records)
      return {
        source_id: IMPORT_SOURCE,
        url: `eping-xlsx:${name}#row=${g.rows.join(',')}`,
        content_hash: sha256(body),
        status: 200,
        content_type: EPING_XLSX_CONTENT_TYPE,
        etag: null,
        last_modified: null,
        body,
        fetched_at: now,
        run_id: run.id,
        parse_status: 'pending',
      }
    })
    const inserted = await db
      .insertInto('raw_response')
      .values(rows)
      .onConflict((oc) => oc.columns(['source_id', 'content_hash']).doNothing())
      .returning(['id', 'content_hash'])
      .execute()
    rawNew += inserted.length
    // Rows stored before: done, unless an import that died left them unparsed.
    const insertedHashes = new Set(inserted.map((r) => r.content_hash))
    const known = rows.filter((r) => !insertedHashes.has(r.content_hash)).map((r) => r.content_hash)
    const leftover = known.length
      ? await db.selectFrom('raw_response').select(['id', 'content_hash']).where('source_id', '=', IMPORT_SOURCE).where('content_hash', 'in', known).where('parse_status', '=', 'pending').execute()
      : []
    const ids = [...inserted, ...leftover].sort((a, b) => a.id - b.id).map((r) => r.id)
    // The batch's notifications as one page, in one transaction (set-based, one commit, not
    // a score of statements and a commit each); a crash leaves their rows pending, and the
    // next import of the file parses them.
    const results = await ingestPages(ctx, ids)
    for (const r of results) {
      for (const n of r.changedNoticeIds) {
        if (changed.has(n)) continue
        changed.add(n)
        toClassify.push(n)
      }
    }
    await classify()
  }

  let batch: (Group & { notice: ScrapedNotice })[] = []
  // A file that breaks off half-way (a download cut short) still has its first rows carried
  // through classify → warn; the run is marked failed and the error goes to the caller.
  let failure: Error | undefined
  try {
    for await (const g of epingXlsxNotifications(file, progress)) {
      report.rows += g.rows.length
      if ('error' in g) {
        report.badRows.push(...badRowsOf(g))
        continue
      }
      count(report, g, cutoff)
      batch.push(g)
      if (batch.length >= RAW_BATCH) {
        await flush(batch)
        batch = []
      }
    }
  } catch (err) {
    failure = err as Error
  }
  await flush(batch)
  await classify(true)
  report.badRows.sort((a, b) => a.row - b.row)

  const measureIds = [...measures].sort((a, b) => a - b)
  // Every measure touched is scored and warned about, as the inline pass does.
  const stages = { classified: changed.size, ...(await scoreAndWarnAll(ctx, measureIds, size, progress)) }

  const after = await noticeCount()
  const newNotices = after - before
  report.stored = {
    rawNew,
    newNotices,
    changedNotices: Math.max(0, changed.size - newNotices),
    unchangedNotices: Math.max(0, report.notices - changed.size),
  }
  report.stages = stages
  if (rawNew === 0) {
    // Nothing of this file was new (or nothing could be read): leave no trace, so that a
    // re-import changes nothing and a file that was not an export leaves the source alone.
    await db.deleteFrom('source_run').where('id', '=', run.id).execute()
  } else {
    const bad = report.badRows.slice(0, 20).map((b) => `row ${b.row}: ${b.reason}`)
    const badText = bad.length ? `${report.badRows.length} bad row(s) in ${name}: ${bad.join('; ')}${report.badRows.length > bad.length ? '; …' : ''}` : null
    await db
      .updateTable('source_run')
      .set((eb) => ({
        finished_at: ctx.clock().toISOString(),
        status: failure ? 'failed' : report.badRows.length ? 'partial' : 'ok',
        raw_new: rawNew,
        errors: eb('errors', '+', report.badRows.length),
        error: [failure?.message, badText].filter(Boolean).join('\n') || null,
      }))
      .where('id', '=', run.id)
      .execute()
  }
  report.seconds = round(started)
  if (failure) throw failure
  return report
}

// What the classifier must not read: the codes are the label. Annotations such as
// "(HS code(s): 8517)" or "(ICS: 43.080)", and numbers shaped like tariff or ICS codes.
const CODE_PATTERNS = [
  /\(\s*(?:HS|ICS|SA|SH)\b[^)]*\)/gi,
  /\b(?:HS|ICS)\s*(?:code\(s\)|codes?|编码|代码)?\s*[:：]?\s*(?=\d)/gi,
  /\b\d{2}\.\d{3}(?:\.\d{2})?\b/g,
  /\b\d[\d.]{2,}\d\b/g,
]

/** Text with the codes taken out, as the classifier sees a notice that carries none. */
export function scrubCodes(text: string | null | undefined): string | undefined {
  if (!text) return undefined
  const out = CODE_PATTERNS.reduce((t, re) => t.replace(re, ' '), text).replace(/\s+/g, ' ').trim()
  return out || undefined
}

/** A notice with member-supplied HS codes as a training example, its codes scrubbed from the words. */
export function labelledExampleOf(n: ScrapedNotice): LabelledExample {
  return {
    text: {
      id: n.symbols[0],
      symbol: n.symbols[0],
      member: n.member ?? undefined,
      type: n.area,
      title: scrubCodes(n.title),
      products: scrubCodes(n.products),
      description: scrubCodes(n.description),
      objectives: n.objectives,
    },
    hsCodes: n.hsCodes,
  }
}

const LEARN_BATCH = 1000

/**
 * Teaches the classifier from the file's rows that carry HS codes, without storing any
 * notice: each notification once (a joint notification's rows are one example), its
 * codes as the label and scrubbed from its text. Saves the model at the end.
 */
export async function trainFromEpingXlsx(file: string, classifier: Classifier, opts: { modelDir: string; onProgress?: Progress }): Promise<ImportReport> {
  const started = performance.now()
  const progress = opts.onProgress ?? (() => {})
  const report = emptyReport(file, 'train-only')
  const training = { examples: 0, withoutHsCodes: 0, modelDir: opts.modelDir }
  const seen = new Set<string>()
  let pending: LabelledExample[] = []
  const learn = () => {
    if (pending.length) classifier.learn(pending)
    pending = []
  }
  for await (const r of readEpingXlsx(file, { onBytes: (read, size) => progress('train (KB)', Math.round(read / 1024), Math.round(size / 1024)) })) {
    report.rows++
    if ('error' in r) {
      report.badRows.push({ row: r.row, reason: r.error })
      continue
    }
    const key = keyOf(r.record)
    if (key && seen.has(key)) {
      report.mergedRows++
      continue
    }
    let n: ScrapedNotice
    try {
      n = parseEpingXlsxNotice([r.record], IMPORT_SOURCE)
    } catch (err) {
      report.badRows.push({ row: r.row, reason: (err as Error).message })
      continue
    }
    seen.add(key)
    report.notices++
    report.byArea[n.area]++
    report.byType[n.docType]++
    if (!n.hsCodes.length) {
      training.withoutHsCodes++
      continue
    }
    report.withHsCodes++
    pending.push(labelledExampleOf(n))
    training.examples++
    if (pending.length >= LEARN_BATCH) learn()
  }
  learn()
  if (training.examples) await classifier.save()
  report.training = training
  report.seconds = round(started)
  return report
}

const round = (started: number) => Math.round((performance.now() - started) / 10) / 100
