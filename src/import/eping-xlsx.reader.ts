import fs from 'node:fs'
import ExcelJS from 'exceljs'
import { EPING_XLSX_COLUMNS, type EpingXlsxRow } from '../../scrapers/eping/eping-xlsx.parser.js'

/** The file cannot be read as an ePing export at all (not a workbook, not the columns). */
export class ImportFileError extends Error {
  readonly code = 'IMPORT_FILE'
}

export type XlsxRowResult = { row: number; record: EpingXlsxRow } | { row: number; error: string }

export interface ReadOptions {
  /** Bytes of the file read so far, for a progress bar. */
  onBytes?: (read: number, total: number) => void
}

const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').replace(/\s*\(\s*/g, '(').trim()
const KNOWN = new Map(EPING_XLSX_COLUMNS.map((c, i) => [norm(c.header), i]))

/** Which export column each sheet column holds, from the header row. */
function columnMap(header: unknown[]): (number | undefined)[] {
  const original = header.map((v) => (v == null ? '' : (cellText(v) ?? '').trim()))
  const names = original.map(norm)
  const byName = names.map((n) => KNOWN.get(n))
  const found = new Set(byName.filter((i) => i !== undefined))
  const has = (h: string) => found.has(KNOWN.get(norm(h))!)
  if (has('Document symbol') && has('Title')) return byName
  // A translated export (French, Spanish) keeps the columns in the same order.
  const filled = names.filter(Boolean).length
  if (filled === EPING_XLSX_COLUMNS.length && !found.size) return names.map((_, i) => (i < EPING_XLSX_COLUMNS.length ? i : undefined))
  const seen = original.filter(Boolean).slice(0, 5).join(', ')
  throw new ImportFileError(
    `not an ePing export: its first row should name the columns ${EPING_XLSX_COLUMNS.slice(0, 4).map((c) => `"${c.header}"`).join(', ')}, …${seen ? ` (it has: ${seen})` : ' (it is empty)'}`,
  )
}

/** A formula's string arguments, read as written: `HYPERLINK("url"," label")` → [url, " label"]. Nothing is evaluated. */
export function formulaLiterals(formula: string): string[] {
  return [...formula.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1].replace(/""/g, '"'))
}

type CellValue = ExcelJS.CellValue | Record<string, unknown>

/**
 * A cell as text: a formula cell gives its cached result, else the label (second
 * argument) of a HYPERLINK written in it; rich text is joined; a date is its calendar
 * day. Never a computed value.
 */
export function cellText(v: CellValue | unknown): string | null {
  if (v == null) return null
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString().slice(0, 10)
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    if ('formula' in o || 'sharedFormula' in o) {
      const result = o.result
      if (result != null && typeof result !== 'object') return String(result)
      if (result && typeof result === 'object' && 'error' in result) return null
      const f = String(o.formula ?? '')
      if (/^\s*=?\s*HYPERLINK\s*\(/i.test(f)) {
        const lits = formulaLiterals(f)
        return lits[1] ?? lits[0] ?? null
      }
      return null
    }
    if (Array.isArray(o.richText)) return (o.richText as { text?: string }[]).map((r) => r.text ?? '').join('')
    if ('text' in o) return cellText(o.text)
    if ('error' in o) return null
  }
  return null
}

/** A link cell's URL: a HYPERLINK's first argument, a cell hyperlink, or a URL written as text. */
export function cellLink(v: CellValue | unknown): string | null {
  if (v == null) return null
  if (typeof v === 'object' && !(v instanceof Date)) {
    const o = v as Record<string, unknown>
    if (typeof o.hyperlink === 'string') return o.hyperlink
    if (typeof o.formula === 'string') {
      const url = formulaLiterals(o.formula).find((s) => /^\s*https?:\/\//i.test(s))
      if (url) return url.trim()
    }
  }
  const t = cellText(v)?.trim()
  return t && /^https?:\/\//i.test(t) ? t : null
}

/** Days from 1970-01-01 to Excel's day 0 (1899-12-30 in the 1900 system, 1904-01-01 in the 1904 one). */
const EPOCH_1900 = -25569
const EPOCH_1904 = -24107

/** A date cell: Excel stores a day number (the time zone-free calendar day); text is passed on as written. */
export function cellDate(v: CellValue | unknown, date1904: boolean): string | null {
  if (v == null) return null
  if (typeof v === 'object' && !(v instanceof Date) && v && 'result' in (v as object)) v = (v as { result?: unknown }).result
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v <= 0) return String(v)
    const days = Math.floor(v) + (date1904 ? EPOCH_1904 : EPOCH_1900)
    return new Date(days * 86_400_000).toISOString().slice(0, 10)
  }
  return cellText(v)
}

function isXlsx(file: string): void {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw new ImportFileError(e.code === 'ENOENT' ? `no such file: ${file}` : e.code === 'EISDIR' ? `${file} is a folder, not a file` : `cannot read ${file}: ${e.message}`)
  }
  const head = Buffer.alloc(8)
  const n = fs.readSync(fd, head, 0, 8, 0)
  fs.closeSync(fd)
  if (n >= 4 && head.readUInt32BE(0) === 0xd0cf11e0) throw new ImportFileError(`${file} is an old Excel 97-2003 (.xls) file: save it as .xlsx, or download the .xlsx export from ePing`)
  if (n < 4 || head.readUInt32LE(0) !== 0x04034b50) throw new ImportFileError(`${file} is not an Excel .xlsx file`)
}

/**
 * Streams the first sheet of an ePing export, a row at a time: the header row names the
 * columns, then each non-empty row comes out as its cells (or, when the row cannot be
 * read at all, its number and why). Memory stays flat whatever the file's size, but for
 * the workbook's shared strings, which exceljs keeps.
 */
export async function* readEpingXlsx(file: string, opts: ReadOptions = {}): AsyncGenerator<XlsxRowResult> {
  isXlsx(file)
  // exceljs' streaming reader now and then hands out the first rows before the workbook's
  // shared strings are read (a sheet stored ahead of them in the zip): the header row then
  // looks empty and a data row is taken for it. Read such a file once more from the start;
  // nothing has been handed on yet.
  try {
    yield* readSheet(file, opts)
  } catch (err) {
    if (!(err instanceof HeaderAfterEmptyRows)) throw err
    yield* readSheet(file, opts, true)
  }
}

/** The header was looked for after rows that read as empty: maybe unresolved shared strings. */
class HeaderAfterEmptyRows extends ImportFileError {}

async function* readSheet(file: string, opts: ReadOptions, retried = false): AsyncGenerator<XlsxRowResult> {
  const total = fs.statSync(file).size
  const stream = fs.createReadStream(file, { highWaterMark: 1 << 20 })
  let read = 0
  if (opts.onBytes) stream.on('data', (chunk) => opts.onBytes!((read += chunk.length), total))
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, { worksheets: 'emit', sharedStrings: 'cache', styles: 'ignore', hyperlinks: 'ignore', entries: 'ignore' })
  let columns: (number | undefined)[] | null = null
  let sheets = 0
  try {
    for await (const sheet of reader) {
      if (sheets++) break // one sheet; anything after it is not the export
      let skipped = 0
      for await (const row of sheet) {
        const values = (row.values as unknown[]) ?? []
        if (!values.some((v) => cellText(v)?.trim())) {
          skipped++
          continue
        }
        if (!columns) {
          try {
            columns = columnMap(values.slice(1))
          } catch (err) {
            if (skipped && !retried && err instanceof ImportFileError) throw new HeaderAfterEmptyRows(err.message)
            throw err
          }
          continue
        }
        const date1904 = !!(reader as unknown as { properties?: { model?: { date1904?: boolean } } }).properties?.model?.date1904
        try {
          yield { row: row.number, record: recordOf(values, columns, date1904) }
        } catch (err) {
          yield { row: row.number, error: (err as Error).message }
        }
      }
    }
  } catch (err) {
    if (err instanceof ImportFileError) throw err
    const message = (err as Error).message
    const why = /FILE_ENDED|unexpected end|end of (?:file|data)|premature/i.test(message) ? 'the file ends early (was the download cut short?)' : message
    throw new ImportFileError(`${file} could not be read as an Excel workbook: ${why}`)
  } finally {
    stream.destroy()
  }
  if (!columns) throw new ImportFileError(`${file} holds no rows: not an ePing export`)
}

function recordOf(values: unknown[], columns: (number | undefined)[], date1904: boolean): EpingXlsxRow {
  const r: EpingXlsxRow = {
    member: null,
    distributionDate: null,
    symbols: null,
    title: null,
    description: null,
    products: null,
    hsCodes: null,
    icsCodes: null,
    objectives: null,
    keywords: null,
    regions: null,
    commentDeadline: null,
    notificationType: null,
    notifiedDocument: null,
    links: [],
  }
  columns.forEach((col, i) => {
    if (col === undefined) return
    const v = values[i + 1]
    if (v == null) return
    const field = EPING_XLSX_COLUMNS[col].field
    if (field === 'link') {
      const url = cellLink(v)
      if (url && !r.links.includes(url)) r.links.push(url)
    } else if (field === 'distributionDate' || field === 'commentDeadline') {
      r[field] = cellDate(v, date1904)
    } else if (field === 'symbols') {
      // The label of the HYPERLINK, which starts with a space.
      r.symbols = cellText(v)?.trim() || null
    } else {
      ;(r as unknown as Record<string, string | null>)[field] = cellText(v)
    }
  })
  return r
}
