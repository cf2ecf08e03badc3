import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeEpingXlsx, type EpingSheetRow } from '../../bench/synthetic-eping.js'
import { codesOfCell, objectivesOf, cleanCellText, EPING_XLSX_CONTENT_TYPE, epingXlsxBody, parseEpingXlsxNotice, parseEpingXlsxPage, type EpingXlsxRow } from '../../scrapers/eping/eping-xlsx.parser.js'
import { SourceError } from '../../scrapers/types.js'
import { createClassifier } from '../../src/classify/index.js'
import { dryRunEpingXlsx, importEpingXlsx, labelledExampleOf, trainFromEpingXlsx } from '../../src/import/eping-import.service.js'
import { cellDate, cellText, formulaLiterals } from '../../src/import/eping-xlsx.reader.js'
import { ingestRaw } from '../../src/services/ingest.service.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { reparseSource } from '../../src/services/sources.service.js'
import { listWarnings } from '../../src/services/warning.service.js'
import { cli } from '../helpers/cli.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'
import { dumpState } from '../helpers/dump.js'
import { startServer } from '../helpers/http-server.js'

const NOW = new Date('2026-11-28T04:00:00Z')
const d = (iso: string) => new Date(`${iso}T00:00:00Z`)
const JOINT = 'G/TBT/N/BDI/501, G/TBT/N/KEN/1690,G/TBT/N/RWA/1100 , G/TBT/N/TZA/1200, G/TBT/N/UGA/1900'
const JOINT_SYMBOLS = ['G/TBT/N/BDI/501', 'G/TBT/N/KEN/1690', 'G/TBT/N/RWA/1100', 'G/TBT/N/TZA/1200', 'G/TBT/N/UGA/1900']

const blank: EpingSheetRow = {
  member: null, distributionDate: null, symbols: null, title: null, description: null, products: null, hsCodes: null, icsCodes: null,
  objectives: null, keywords: null, regions: null, commentDeadline: null, notificationType: null, notifiedDocument: null, links: true,
}
const joint = (member: string): EpingSheetRow => ({
  ...blank,
  member,
  distributionDate: d('2025-03-10'),
  symbols: JOINT,
  title: 'DEAS 1190: 2025, Ceramic tiles — Specification',
  description: 'This Draft East African Standard specifies requirements for glazed and unglazed ceramic floor and wall tiles.',
  products: 'Ceramic tiles',
  hsCodes: '6907 - Ceramic flags and paving, hearth or wall tiles; ceramic mosaic cubes and the like, whether or not on a backing (excl. those of siliceous fossil meals or similar siliceous earths, refractory ceramic goods of heading 6902, tiles specifically adapted for use as table mats, ornamental articles and tiles specifically manufactured for stoves)',
  objectives: 'Protection of human health or safety (TBT); Quality requirements (TBT)',
  notificationType: 'Regular notification',
})

/** The sheet, row 2 onwards (row 1 is the header). */
const ROWS: EpingSheetRow[] = [
  {
    ...blank,
    member: 'United States of America',
    distributionDate: d('2026-11-20'),
    symbols: 'G/TBT/N/USA/2150',
    title: 'Draft safety standard for lithium-ion power banks',
    description: 'The Consumer Product Safety Commission proposes\u00a0mandatory requirements for portable power banks._x000D_\nIt sets overcharge and short-circuit tests and a warning label.',
    products: 'Portable power banks with lithium-ion cells (ICS code(s): 29.220.30)',
    hsCodes: '8507 - Electric accumulators, incl. separators therefor, whether or not square or rectangular; parts thereof (excl. spent, of heading 8548); 8504 - Electrical transformers, static converters, e.g. rectifiers, and inductors; parts thereof',
    icsCodes: '29.220.30 - Alkaline secondary cells and batteries',
    objectives: 'Protection of human health or safety (TBT); Consumer information, labelling (TBT)',
    keywords: 'Batteries; Labelling',
    regions: 'All trading partners',
    commentDeadline: d('2027-01-19'),
    notificationType: 'Regular notification',
    notifiedDocument: 'https://members.wto.org/crnattachments/2026/TBT/USA/26_0001_00_e.pdf',
  },
  joint('Kenya'),
  {
    ...blank,
    member: 'Japan',
    distributionDate: d('2026-11-25'),
    symbols: 'G/SPS/N/JPN/1300',
    title: 'Emergency measures on imports of frozen shrimps',
    description: 'Japan suspends imports of frozen shrimps from areas affected by white spot disease.',
    products: 'Frozen shrimps and prawns',
    hsCodes: '0306 - Crustaceans, whether in shell or not, live, fresh, chilled, frozen, dried, salted or in brine; smoked crustaceans',
    objectives: 'Animal health (SPS); Food safety (SPS)',
    notificationType: 'Emergency notifications (SPS)',
  },
  {
    ...blank,
    member: 'United States of America',
    distributionDate: d('2026-11-26'),
    symbols: 'G/TBT/N/USA/2150/Add.1',
    title: 'Extension of the comment period',
    description: 'The comment period for the proposed rule notified in G/TBT/N/USA/2150 is extended to 18 February 2027.',
    commentDeadline: d('2027-02-18'),
    notificationType: 'Addendum to Regular Notification',
  },
  joint('Uganda'),
  { ...blank, member: 'Nowhere', distributionDate: d('2026-10-01'), symbols: 'see attached list', symbolsAsText: true, title: 'A row without a symbol' },
  { ...blank, member: 'European Union', distributionDate: '31/02/2025', symbols: 'G/TBT/N/EU/999', title: 'A row with an impossible date' },
  joint('Burundi'),
  {
    ...blank,
    member: 'Korea, Republic of',
    distributionDate: d('2019-05-14'),
    symbols: 'G/TBT/N/KOR/1000',
    title: 'Partial amendment to the safety standard for electric toys',
    description: 'Adds\u00a0a drop test.',
    products: 'Electric toys (97.200.50)',
    icsCodes: '97.200.50 - Toys',
    objectives: 'Consumer information, labelling (TBT), Protection of human health or safety (TBT)',
    notificationType: 'Regular notification',
  },
  {
    ...blank,
    member: 'Japan',
    distributionDate: d('2026-11-27'),
    symbols: 'G/SPS/N/JPN/1300/Corr.1',
    title: 'Correction of the HS codes',
    notificationType: 'Corrigendum to Regular Notification',
  },
]

/** A JSON item of ePing's public search, as the scraper reads it. */
function item(id: number, symbol: string, title: string, date: string, over: Record<string, unknown> = {}) {
  return {
    id, documentSymbol: symbol, area: symbol.includes('/SPS/') ? 'SPS' : 'TBT', notificationType: 'Regular notification', notifyingMember: 'United States of America', notifyingMemberCode: symbol.split('/')[3],
    title, titlePlain: title, description: 'Scraped description.', descriptionPlain: 'Scraped description.', productsFreeText: null, productsFreeTextPlain: null,
    hsCodes: [], hsCodeText: '', icsCodeText: '', objectives: [], keywords: [], distributionDate: `${date}T00:00:00+00:00`, commentDeadlineDate: null,
    proposedAdoptionDate: null, proposedEntryIntoForceDate: null, proposedAdoptionDateText: null, proposedEntryIntoForceDateText: null,
    notifiedDocumentLink: null, linkToNotification: null, ...over,
  }
}

/** A small ePing whose records a test can change: the list endpoint, by domain and date. */
async function startEping() {
  let records: ReturnType<typeof item>[] = []
  const server = await startServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    if (u.pathname !== '/api/v1/azureSearch/getAll') return void res.writeHead(404).end('not found')
    const area = u.searchParams.get('domainIds') === '2' ? 'SPS' : 'TBT'
    const from = u.searchParams.get('distributionDateFrom') ?? ''
    const items = records.filter((r) => r.area === area && r.distributionDate.slice(0, 10) >= from)
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, totalCount: items.length, endRow: items.length }))
  })
  return { ...server, set: (r: typeof records) => void (records = r) }
}

let dir: string
let file: string
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-import-'))
  file = path.join(dir, 'Notification_EN.xlsx')
  await writeEpingXlsx(file, ROWS)
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('reading the cells', () => {
  it('takes a HYPERLINK formula label as written, never evaluating it; Excel day numbers as calendar days', () => {
    expect(formulaLiterals('HYPERLINK("https://x/?viewData= G/TBT/N/USA/2150"," G/TBT/N/USA/2150")')).toEqual(['https://x/?viewData= G/TBT/N/USA/2150', ' G/TBT/N/USA/2150'])
    expect(cellText({ formula: 'HYPERLINK("https://x"," G/TBT/N/USA/2150")' })).toBe(' G/TBT/N/USA/2150')
    expect(cellText({ formula: 'HYPERLINK("https://x","label")', result: ' cached' })).toBe(' cached')
    expect(cellText({ formula: 'SUM(A1:A2)' })).toBeNull()
    expect(cellDate(45810, false)).toBe('2025-06-02')
    expect(cellDate(44348, true)).toBe('2025-06-02')
    expect(cellDate('not a date', false)).toBe('not a date')
  })

  it('finds HS and ICS codes by their pattern, not by splitting on ";"', () => {
    expect(codesOfCell('8517 - Telephone sets; other apparatus (excl. of heading 8443, 8525, 8527 or 8528); 8518 - Microphones; loudspeakers', 'hs')).toEqual(['8517', '8518'])
    expect(codesOfCell('85 - Electrical machinery; 851713 - Smartphones', 'hs')).toEqual(['85', '851713'])
    expect(codesOfCell('8517; 8518', 'hs')).toEqual(['8517', '8518'])
    expect(codesOfCell('43.080 - Commercial vehicles; 23.020.20 - Vessels and containers mounted on vehicles', 'ics')).toEqual(['43.080', '23.020.20'])
    expect(objectivesOf('Consumer information, labelling (TBT), Protection of human health or safety (TBT)')).toEqual(['Consumer information, labelling', 'Protection of human health or safety'])
    expect(cleanCellText('a\u00a0b_x000D_\nc  d')).toBe('a b c d')
  })

  it('any cell content makes a notice or a bad row with a reason; a stored body that is not rows is a layout change', () => {
    const text = fc.oneof(fc.constant(null), fc.string({ maxLength: 60 }), fc.constantFrom('G/TBT/N/USA/1', ' G/SPS/N/JPN/2, G/SPS/N/KOR/3', '2026-11-02', '8517 - x; 85', '_x000D_', '\u00a0'))
    const row = fc.record({
      member: text, distributionDate: text, symbols: text, title: text, description: text, products: text, hsCodes: text, icsCodes: text, objectives: text,
      keywords: text, regions: text, commentDeadline: text, notificationType: text, notifiedDocument: text, links: fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 }),
    }) as fc.Arbitrary<EpingXlsxRow>
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 3 }), (rows) => {
        const page = { url: 'eping-xlsx:f.xlsx#row=2', status: 200, contentType: EPING_XLSX_CONTENT_TYPE, body: epingXlsxBody(rows) }
        const r = parseEpingXlsxPage(page)
        expect(r.notices.length + r.errors.length).toBe(1)
        for (const e of r.errors) expect(e.reason.length).toBeGreaterThan(0)
        for (const n of r.notices) expect(n.symbols.length).toBeGreaterThan(0)
      }),
      { numRuns: 300 },
    )
    expect(() => parseEpingXlsxPage({ url: 'x', status: 200, contentType: EPING_XLSX_CONTENT_TYPE, body: '{"rows":1}' })).toThrow(SourceError)
  })
})

describe.each(DIALECTS)('import eping-xlsx (%s)', (dialect) => {
  let env: TestEnv
  let eping: Awaited<ReturnType<typeof startEping>>
  const scrape = async () => {
    const r = await scrapeSource(env.ctx, 'eping', { since: '2019-01-01' })
    expect(r.status).toBe('ok')
    for (const id of r.pendingRawIds) await ingestRaw(env.ctx, id)
  }
  const notices = () => env.ctx.db.selectFrom('notice').selectAll().where('source_id', '=', 'eping').orderBy('symbol').execute()

  beforeAll(async () => {
    eping = await startEping()
    env = await createTestEnv(dialect, { TBT_SOURCE_EPING_BASE_URL: eping.url, TBT_HTTP_ROBOTS: 'off' }, { clock: () => NOW })
    await seed(env.ctx, { subscribers: false })
  })
  afterAll(async () => {
    await env?.cleanup()
    await eping?.close()
  })

  it('stores one notice per symbol list on top of what a scrape stored, links follow-ups, reports bad rows by number', async () => {
    // A scrape first: the import finds this notice again by its symbol.
    eping.set([item(880001, 'G/TBT/N/KOR/1000', 'Scraped: electric toys', '2019-05-14')])
    await scrape()
    expect(await notices()).toHaveLength(1)

    const r = await importEpingXlsx(env.ctx, file)
    expect(r).toMatchObject({ rows: 10, notices: 6, jointNotices: 1, mergedRows: 2, byArea: { TBT: 4, SPS: 2 }, byType: { regular: 4, addendum: 1, corrigendum: 1, revision: 0 } })
    expect(r.badRows).toEqual([
      { row: 7, reason: 'Document symbol "see attached list" is not a WTO document symbol' },
      { row: 8, reason: 'G/TBT/N/EU/999: Distribution date "31/02/2025" is not a date' },
    ])
    expect(r.stored).toMatchObject({ newNotices: 5, changedNotices: 1, rawNew: 6 })

    const all = await notices()
    expect(all.map((n) => n.symbol)).toEqual(['G/SPS/N/JPN/1300', 'G/SPS/N/JPN/1300/Corr.1', 'G/TBT/N/BDI/501', 'G/TBT/N/KOR/1000', 'G/TBT/N/USA/2150', 'G/TBT/N/USA/2150/Add.1'])
    const by = (s: string) => all.find((n) => n.symbol === s)!
    const jointNotice = by('G/TBT/N/BDI/501')
    expect(JSON.parse(jointNotice.symbols)).toEqual(JOINT_SYMBOLS)
    expect(jointNotice).toMatchObject({ member: 'Burundi; Kenya; Uganda', member_code: 'BDI', area: 'TBT', doc_type: 'regular', distribution_date: '2025-03-10', baseline: 1 })

    const usa = by('G/TBT/N/USA/2150')
    expect(usa).toMatchObject({ member: 'United States of America', member_code: 'USA', area: 'TBT', doc_type: 'regular', distribution_date: '2026-11-20', comment_deadline: '2027-01-19', baseline: 0 })
    expect(usa.description).toBe('The Consumer Product Safety Commission proposes mandatory requirements for portable power banks. It sets overcharge and short-circuit tests and a warning label.')
    expect(usa.products).toBe('Portable power banks with lithium-ion cells')
    expect(JSON.parse(usa.objectives)).toEqual(['Protection of human health or safety', 'Consumer information, labelling'])
    expect(JSON.parse(usa.keywords)).toEqual(['Batteries', 'Labelling'])
    expect(JSON.parse(usa.links)).toContain('https://members.wto.org/crnattachments/2026/TBT/USA/26_0001_00_e.pdf')
    const codes = async (table: 'notice_hs' | 'notice_ics', id: number) => (await env.ctx.db.selectFrom(table).select('code').where('notice_id', '=', id).orderBy('code').execute()).map((c) => c.code)
    expect(await codes('notice_hs', usa.id)).toEqual(['8504', '8507'])
    expect(await codes('notice_ics', usa.id)).toEqual(['29.220.30'])
    expect(await codes('notice_hs', jointNotice.id)).toEqual(['6907'])

    const kor = by('G/TBT/N/KOR/1000')
    expect(kor).toMatchObject({ source_item_id: '880001', title: 'Partial amendment to the safety standard for electric toys', member: 'Korea, Republic of', comment_deadline: null, products: 'Electric toys' })
    expect(await codes('notice_ics', kor.id)).toEqual(['97.200.50'])

    const sps = by('G/SPS/N/JPN/1300')
    expect(sps).toMatchObject({ area: 'SPS', doc_type: 'regular', member_code: 'JPN' })
    expect(JSON.parse(sps.objectives)).toEqual(['Animal health', 'Food safety'])
    // Follow-ups join their measure.
    expect(by('G/TBT/N/USA/2150/Add.1')).toMatchObject({ doc_type: 'addendum', measure_id: usa.measure_id })
    expect(by('G/SPS/N/JPN/1300/Corr.1')).toMatchObject({ doc_type: 'corrigendum', area: 'SPS', measure_id: sps.measure_id })
    const measures = await env.ctx.db.selectFrom('measure').select(['key', 'area', 'comment_deadline']).orderBy('key').execute()
    expect(measures).toEqual([
      { key: 'G/SPS/N/JPN/1300', area: 'SPS', comment_deadline: null },
      { key: 'G/TBT/N/BDI/501', area: 'TBT', comment_deadline: null },
      { key: 'G/TBT/N/KOR/1000', area: 'TBT', comment_deadline: null },
      { key: 'G/TBT/N/USA/2150', area: 'TBT', comment_deadline: '2027-02-18' },
    ])

    // classify → score → warn ran; history older than the baseline window raises nothing.
    expect(r.stages!.classified).toBe(6)
    const classified = await env.ctx.db.selectFrom('classification').select('notice_id').execute()
    expect(classified).toHaveLength(6)
    const warned = await env.ctx.db.selectFrom('warning').innerJoin('measure', 'measure.id', 'warning.measure_id').select('measure.key').execute()
    expect(warned.map((w) => w.key)).not.toContain('G/TBT/N/BDI/501')
    expect(warned.map((w) => w.key)).not.toContain('G/TBT/N/KOR/1000')
    expect(warned.map((w) => w.key)).toContain('G/TBT/N/USA/2150')
    const spsQueue = await listWarnings(env.ctx, { area: ['SPS'] })
    expect(spsQueue.rows.every((w) => w.area === 'SPS' && w.measureKey.startsWith('G/SPS/'))).toBe(true)
    const tbtQueue = await listWarnings(env.ctx, { area: ['TBT'] })
    expect(tbtQueue.rows.map((w) => w.measureKey)).toContain('G/TBT/N/USA/2150')
    expect(tbtQueue.rows.every((w) => w.area === 'TBT')).toBe(true)
  })

  it('changes nothing when the same file comes again', async () => {
    const before = await dumpState(env.ctx.db)
    const runs = await env.ctx.db.selectFrom('source_run').select('id').execute()
    const r = await importEpingXlsx(env.ctx, file)
    expect(r.stored).toEqual({ rawNew: 0, newNotices: 0, changedNotices: 0, unchangedNotices: 6 })
    expect(r.badRows.map((b) => b.row)).toEqual([7, 8])
    expect(await dumpState(env.ctx.db)).toEqual(before)
    expect(await env.ctx.db.selectFrom('source_run').select('id').execute()).toEqual(runs)
    // The imported rows are raw responses of the source: `reparse eping` reads them again.
    const again = await reparseSource(env.ctx, 'eping')
    expect(again).toMatchObject({ items: 7, errors: 0, quarantined: 0 })
    expect(await dumpState(env.ctx.db)).toEqual(before)
  })

  it('a later scrape of the same symbols updates the imported notices and duplicates none', async () => {
    eping.set([
      item(880002, 'G/TBT/N/USA/2150', 'Scraped: safety standard for power banks', '2026-11-20'),
      item(880003, JOINT, 'Scraped: ceramic tiles', '2025-03-10', { notifyingMember: 'Kenya', notifyingMemberCode: 'KEN' }),
      item(880004, 'G/SPS/N/JPN/1300', 'Scraped: frozen shrimps', '2026-11-25', { notifyingMember: 'Japan' }),
    ])
    await scrape()
    // The scrape lists both ePing domains: TBT (1) and SPS (2).
    const domains = new Set(eping.hits.filter((h) => h.includes('/getAll')).map((h) => new URL(h.split(' ')[1], 'http://x').searchParams.get('domainIds')))
    expect([...domains].sort()).toEqual(['1', '2'])
    const all = await notices()
    expect(all).toHaveLength(6)
    expect(all.find((n) => n.symbol === 'G/SPS/N/JPN/1300')).toMatchObject({ source_item_id: '880004', area: 'SPS', title: 'Scraped: frozen shrimps' })
    expect(all.find((n) => n.symbol === 'G/TBT/N/USA/2150')).toMatchObject({ source_item_id: '880002', title: 'Scraped: safety standard for power banks' })
    expect(all.filter((n) => n.symbol === 'G/TBT/N/BDI/501')).toHaveLength(1)
    expect(all.find((n) => n.symbol === 'G/TBT/N/BDI/501')).toMatchObject({ source_item_id: '880003', title: 'Scraped: ceramic tiles' })
    // And the file once more: its rows were stored before, so nothing moves.
    const before = await dumpState(env.ctx.db)
    await importEpingXlsx(env.ctx, file)
    expect(await dumpState(env.ctx.db)).toEqual(before)
  })
})

describe('dry run, training and the command line', () => {
  it('a dry run counts without a database', async () => {
    const r = await dryRunEpingXlsx(file, { now: NOW, baselineDays: 30 })
    expect(r).toMatchObject({ mode: 'dry-run', rows: 10, notices: 6, jointNotices: 1, withHsCodes: 3, olderThanBaseline: 2 })
    expect(r.stored).toBeUndefined()
  })

  it('--train-only learns from the coded rows, each notification once, codes scrubbed from the words', async () => {
    const example = labelledExampleOf(parseEpingXlsxNotice([{ ...rowRecord(), products: 'Power banks (HS code(s): 8507.60) (ICS code(s): 29.220.30)', title: 'Batteries 8507.60 for phones' }]))
    expect(example.hsCodes).toEqual(['850760'])
    expect(JSON.stringify(example.text)).not.toMatch(/8507|29\.220/)
    expect(example.text.hsCodes).toBeUndefined()
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-train-'))
    try {
      const classifier = await createClassifier({ dataDir })
      const r = await trainFromEpingXlsx(file, classifier, { modelDir: path.join(dataDir, 'models') })
      expect(r.training).toMatchObject({ examples: 3, withoutHsCodes: 3 })
      expect(r.mergedRows).toBe(2)
      expect(r.badRows.map((b) => b.row)).toEqual([7, 8])
      expect(fs.readdirSync(path.join(dataDir, 'models')).length).toBeGreaterThan(0)
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('says plainly when a file is missing or is not an export', async () => {
    await expect(dryRunEpingXlsx(path.join(dir, 'nope.xlsx'), { now: NOW, baselineDays: 30 })).rejects.toThrow(/no such file/)
    const xls = path.join(dir, 'old.xls')
    fs.writeFileSync(xls, Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]))
    await expect(dryRunEpingXlsx(xls, { now: NOW, baselineDays: 30 })).rejects.toThrow(/Excel 97-2003 \(\.xls\) file: save it as \.xlsx/)
    const other = path.join(dir, 'other.xlsx')
    await writeOtherWorkbook(other)
    await expect(dryRunEpingXlsx(other, { now: NOW, baselineDays: 30 })).rejects.toThrow(/not an ePing export: its first row should name the columns "Notifying Member".*\(it has: Product, Price\)/)
    // blank rows before it: read a second time (the reader's guard against unresolved shared strings), then the same message
    const blankFirst = path.join(dir, 'blank-first.xlsx')
    await writeOtherWorkbook(blankFirst, 2)
    await expect(dryRunEpingXlsx(blankFirst, { now: NOW, baselineDays: 30 })).rejects.toThrow(/not an ePing export: its first row should name the columns "Notifying Member".*\(it has: Product, Price\)/)
    const cut = path.join(dir, 'cut.xlsx')
    fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 4000))
    await expect(dryRunEpingXlsx(cut, { now: NOW, baselineDays: 30 })).rejects.toThrow(/could not be read as an Excel workbook/)
    const empty = path.join(dir, 'empty.xlsx')
    await writeEpingXlsx(empty, [])
    expect(await dryRunEpingXlsx(empty, { now: NOW, baselineDays: 30 })).toMatchObject({ rows: 0, notices: 0 })
  })

  it('prints a JSON summary, and says plainly when a file is not an export', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-cli-'))
    try {
      const envVars = { TBT_DATA_DIR: dataDir, TBT_NOW: NOW.toISOString() }
      const dry = await cli(['import', 'eping-xlsx', file, '--dry-run', '--json'], envVars)
      expect(dry.code).toBe(0)
      expect(JSON.parse(dry.stdout)).toMatchObject({ mode: 'dry-run', notices: 6, badRows: [{ row: 7 }, { row: 8 }] })
      const text = await cli(['import', 'eping-xlsx', file], envVars)
      expect(text.code).toBe(0)
      expect(text.stdout).toMatch(/notices 6 \(1 joint, 2 member rows merged\)/)
      expect(text.stdout).toMatch(/row 7: Document symbol "see attached list"/)
      const tbt = await cli(['warnings', 'list', '--area', 'tbt', '--json'], envVars)
      expect(tbt.code).toBe(0)
      const rows = JSON.parse(tbt.stdout) as { area: string; measureKey: string }[]
      expect(rows.length).toBeGreaterThan(0)
      expect(rows.every((w) => w.area === 'TBT' && w.measureKey.startsWith('G/TBT/'))).toBe(true)
      const notXlsx = path.join(dataDir, 'notes.txt')
      fs.writeFileSync(notXlsx, 'hello')
      const bad = await cli(['import', 'eping-xlsx', notXlsx], envVars)
      expect(bad.code).toBe(1)
      expect(bad.stderr).toMatch(/not an Excel \.xlsx file/)
      expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/)
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

function rowRecord() {
  return {
    member: 'Korea, Republic of', distributionDate: '2026-10-02', symbols: 'G/TBT/N/KOR/1290', title: 'Power banks', description: null, products: null, hsCodes: '850760 - Lithium-ion accumulators',
    icsCodes: null, objectives: null, keywords: null, regions: null, commentDeadline: null, notificationType: 'Regular notification', notifiedDocument: null, links: [],
  }
}

async function writeOtherWorkbook(file: string, blankRows = 0) {
  const { default: ExcelJS } = await import('exceljs')
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('Prices')
  for (let i = 0; i < blankRows; i++) ws.addRow([])
  ws.addRow(['Product', 'Price'])
  ws.addRow(['Tea', 12])
  await wb.xlsx.writeFile(file)
}
