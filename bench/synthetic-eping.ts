import http from 'node:http'
import type { AddressInfo } from 'node:net'
import ExcelJS from 'exceljs'

/**
 * A synthetic ePing: N notifications generated on the fly (deterministic), served by the
 * list endpoint with paging, as the replay server serves the recorded ones.
 */
const MEMBERS = ['USA', 'EU', 'JPN', 'KOR', 'IND', 'BRA', 'VNM', 'SAU', 'GBR', 'CAN']
const PRODUCTS = ['lithium-ion batteries', 'mobile phones', 'LED lamps', 'steel pipes', 'photovoltaic modules', 'toys', 'textile garments', 'medical devices', 'automobile tyres', 'electric bicycles']

export function syntheticRecord(i: number) {
  const member = MEMBERS[i % MEMBERS.length]
  const product = PRODUCTS[(i * 7) % PRODUCTS.length]
  const day = String(1 + (i % 27)).padStart(2, '0')
  return {
    id: 900000 + i,
    documentSymbol: `G/TBT/N/${member}/${5000 + i}`,
    title: `Technical regulation on ${product} (${i})`,
    productsFreeText: `${product}; HS ${['8507.60', '8517.13', '9405.42', '7304.19', '8541.43'][i % 5]}`,
    description: `The draft regulation sets mandatory safety and labelling requirements for ${product}. Notification ${i}.`,
    distributionDate: `2026-11-${day}T00:00:00`,
    commentDeadline: '2027-01-31T00:00:00',
    memberName: member,
    memberCode: member,
    objectives: [{ name: 'Protection of human health or safety' }],
    hsCodes: [],
    icsCodes: [],
  }
}

export async function startSyntheticEping(n: number) {
  let requests = 0
  let listRequests = 0
  let otherListRequests = 0
  const server = http.createServer((req, res) => {
    requests++
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname !== '/api/v1/azureSearch/getAll') return void res.writeHead(404).end('{}')
    // Every synthetic notification is TBT: the SPS list (domainIds=2) is empty.
    const domains = url.searchParams.getAll('domainIds')
    if (domains.length && !domains.includes('1')) {
      otherListRequests++
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [], totalCount: 0, endRow: 0 }))
    }
    listRequests++
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1))
    const size = Math.min(100, Number(url.searchParams.get('pageSize') ?? 100))
    const from = (page - 1) * size
    const items = []
    for (let i = from; i < Math.min(n, from + size); i++) items.push(syntheticRecord(n - 1 - i))
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, totalCount: n, endRow: Math.min(n, from + size) }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    /** Requests for the TBT list (the one holding the notices). */
    listRequests: () => listRequests,
    /** Requests for other domains' lists (SPS), always empty here. */
    otherListRequests: () => otherListRequests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

// ---------------------------------------------------------------------------------
// ePing's Excel export, in its real shape, for the import's tests and benchmark.

export const EPING_XLSX_HEADER = [
  'Notifying Member', 'Distribution date', 'Document symbol', 'Title', 'Description', 'Products covered', 'HS code(s)', 'ICS code(s)',
  'Objectives', 'Keywords', 'Specific regions or countries likely to be affected', 'Final date for comments', 'Notification type',
  'Notified document', 'Link to notification(EN)', 'Link to notification(FR)', 'Link to notification(ES)',
]

/** One sheet row as ePing writes it. Dates given as Date become date cells; strings stay text. */
export interface EpingSheetRow {
  member: string | null
  distributionDate: Date | string | null
  /** The symbol list, written as ePing does: a HYPERLINK formula whose label starts with a space. */
  symbols: string | null
  /** Write the symbol as plain text instead of a formula. */
  symbolsAsText?: boolean
  title: string | null
  description: string | null
  products: string | null
  hsCodes: string | null
  icsCodes: string | null
  objectives: string | null
  keywords: string | null
  regions: string | null
  commentDeadline: Date | string | null
  notificationType: string | null
  notifiedDocument: string | null
  /** Write the three link columns (formulas), as the export does. */
  links?: boolean
}

const hyperlink = (url: string, label: string) => ({
  formula: `HYPERLINK("${url.replace(/"/g, '""')}","${label.replace(/"/g, '""')}")`,
  result: label,
})

/** Writes an export with exceljs' streaming writer: shared strings, date cells, formula cells, as ePing's files are. */
export async function writeEpingXlsx(file: string, rows: Iterable<EpingSheetRow> | AsyncIterable<EpingSheetRow>): Promise<number> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true, useStyles: true })
  const ws = wb.addWorksheet('Notifications')
  ws.addRow(EPING_XLSX_HEADER).commit()
  let n = 0
  for await (const r of rows) {
    const symbol = r.symbols == null ? null : r.symbolsAsText ? r.symbols : hyperlink(`https://epingalert.org/en/Search?viewData= ${r.symbols}`, ` ${r.symbols}`)
    const lang = (l: string) => (r.links === false || !r.symbols ? null : hyperlink(`https://docs.wto.org/dol2fe/Pages/FE_Search/FE_S_S006.aspx?Query=${encodeURIComponent(r.symbols.split(',')[0].trim())}&Language=${l}`, ` ${r.symbols.split(',')[0].trim()}`))
    const row = ws.addRow([
      r.member, r.distributionDate, symbol, r.title, r.description, r.products, r.hsCodes, r.icsCodes, r.objectives, r.keywords, r.regions,
      r.commentDeadline, r.notificationType, r.notifiedDocument, lang('English'), lang('French'), lang('Spanish'),
    ])
    for (const c of [2, 12]) if (row.getCell(c).value instanceof Date) row.getCell(c).numFmt = 'dd/mm/yyyy'
    row.commit()
    n++
  }
  ws.commit()
  await wb.commit()
  return n
}

// Varied notification texts written for the benchmark: products with their HS headings,
// kinds of measures, requirements and purposes, combined per row.
const XPRODUCTS: [string, string, string][] = [
  ['lithium-ion batteries for portable equipment', '8507', 'Electric accumulators, incl. separators therefor, whether or not square or rectangular; parts thereof (excl. spent, of heading 8548)'],
  ['mobile telephones and smartphones', '8517', 'Telephone sets, incl. smartphones and other telephones for cellular networks or for other wireless networks; other apparatus for the transmission or reception of voice, images or other data (excl. of heading 8443, 8525, 8527 or 8528)'],
  ['LED luminaires and lamps', '9405', 'Luminaires and lighting fittings, incl. searchlights and spotlights, and parts thereof, n.e.s; illuminated signs, illuminated nameplates and the like'],
  ['seamless steel tubes', '7304', 'Tubes, pipes and hollow profiles, seamless, of iron or steel (excl. products of cast iron)'],
  ['photovoltaic modules', '8541', 'Semiconductor devices; light-emitting diodes; photosensitive semiconductor devices, incl. photovoltaic cells'],
  ['toys for children under 14 years', '9503', 'Tricycles, scooters, pedal cars and similar wheeled toys; dolls\' carriages; dolls; other toys; reduced-size "scale" recreational models'],
  ['knitted garments of cotton', '6109', 'T-shirts, singlets and other vests, knitted or crocheted'],
  ['medical gloves', '4015', 'Articles of apparel and clothing accessories, incl. gloves, mittens and mitts, for all purposes, of vulcanised rubber other than hard rubber'],
  ['passenger car tyres', '4011', 'New pneumatic tyres, of rubber'],
  ['electric bicycles', '8711', 'Motorcycles, incl. mopeds, and cycles fitted with an auxiliary motor, with or without side-cars; side-cars'],
  ['household refrigerators', '8418', 'Refrigerators, freezers and other refrigerating or freezing equipment, electric or other; heat pumps (excl. air conditioning machines of heading 8415)'],
  ['air conditioners', '8415', 'Air conditioning machines comprising a motor-driven fan and elements for changing the temperature and humidity'],
  ['laptop computers', '8471', 'Automatic data-processing machines and units thereof; magnetic or optical readers; machines for transcribing data onto data media in coded form'],
  ['ceramic tableware', '6911', 'Tableware, kitchenware, other household articles and toilet articles, of porcelain or china'],
  ['wooden furniture', '9403', 'Furniture and parts thereof, n.e.s. (excl. seats and medical, surgical, dental or veterinary furniture)'],
  ['cosmetic products', '3304', 'Beauty or make-up preparations and preparations for the care of the skin; sunscreen or sun tan preparations; manicure or pedicure preparations'],
  ['electric vehicle chargers', '8504', 'Electrical transformers, static converters, e.g. rectifiers, and inductors; parts thereof'],
  ['power tools', '8467', 'Tools for working in the hand, pneumatic, hydraulic or with self-contained electric or non-electric motor'],
  ['plastic packaging for food', '3923', 'Articles for the conveyance or packing of goods, of plastics; stoppers, lids, caps and other closures, of plastics'],
  ['electric kettles and toasters', '8516', 'Electric instantaneous or storage water heaters and immersion heaters; electric space-heating apparatus and soil-heating apparatus; electro-thermic hair-dressing apparatus'],
]
const XSPS: [string, string, string][] = [
  ['fresh apples and pears', '0808', 'Apples, pears and quinces, fresh'],
  ['frozen shrimps and prawns', '0306', 'Crustaceans, whether in shell or not, live, fresh, chilled, frozen, dried, salted or in brine'],
  ['poultry meat', '0207', 'Meat and edible offal of fowls of the species Gallus domesticus, ducks, geese, turkeys and guinea fowls, fresh, chilled or frozen'],
  ['infant formula', '1901', 'Malt extract; food preparations of flour, groats, meal, starch or malt extract'],
  ['green tea', '0902', 'Tea, whether or not flavoured'],
  ['garlic', '0703', 'Onions, shallots, garlic, leeks and other alliaceous vegetables, fresh or chilled'],
]
const XKINDS = ['Draft technical regulation on', 'Proposed amendment to the safety requirements for', 'Mandatory certification scheme for', 'Energy efficiency labelling of', 'Conformity assessment procedures for', 'Draft national standard for', 'Restrictions on hazardous substances in', 'Marking and traceability requirements for']
const XSPS_KINDS = ['Maximum residue limits for pesticides in', 'Import health requirements for', 'Phytosanitary import requirements for', 'Emergency measures concerning', 'Microbiological criteria for', 'Veterinary certificate for']
const XREQS = [
  'sets limits for lead, cadmium and mercury content and requires test reports from an accredited laboratory',
  'introduces a registration system for importers and a declaration of conformity before placing on the market',
  'requires labelling in the official language, including rated capacity, manufacturer and country of origin',
  'specifies electrical safety, electromagnetic compatibility and marking requirements',
  'replaces the previous regulation and shortens the transition period to six months',
  'establishes sampling plans and test methods for verifying compliance at the border',
  'requires a QR code linking to the product passport and recycling information',
  'extends the scope to products sold online and to spare parts',
]
const XSPS_REQS = [
  'lowers the maximum residue levels for several active substances and sets default limits for the others',
  'requires a sanitary certificate issued by the competent authority of the exporting country',
  'suspends imports from regions affected by the outbreak until further notice',
  'requires pre-export inspection and fumigation of consignments',
]
const XMORE = [
  'Products shall bear the conformity mark before they are placed on the market',
  'Test reports issued by laboratories accredited under ISO/IEC 17025 are accepted',
  'Importers shall keep the technical documentation for ten years after the last unit is supplied',
  'Market surveillance authorities may take samples at the point of sale and at the border',
  'The requirements do not apply to products intended exclusively for export',
  'A transition period applies to products already placed on the market before the date of entry into force',
  'The regulation lays down the procedure for the designation of conformity assessment bodies',
  'Instructions for use and safety information shall be provided in the official languages',
  'Products that present a serious risk shall be withdrawn or recalled',
  'Manufacturers established outside the territory shall appoint an authorized representative',
  'The notified text also amends the list of harmonized standards referred to in the annex',
  'Electronic labelling may replace the paper label where the product has a display',
  'The limit values will be reviewed three years after the entry into force',
  'Small and medium-sized enterprises may apply for a reduced fee for the certification',
  'The draft was published for public consultation on the ministry website',
]
const XWORDS = (
  'adapter ampere appliance assembly battery bracket cable capacitor casing cell charger circuit coating component connector controller cord ' +
  'current cylinder device diode display electrode enclosure fastener filter fuse gasket generator heater hinge housing inverter lamp lens ' +
  'luminaire magnet membrane meter module motor nozzle panel plug polymer pump radiator receiver regulator relay resin resistor rotor ' +
  'screen seal sensor shaft socket solder spring stator switch terminal thermostat transformer tube turbine valve varnish voltage wire ' +
  'alloy aluminium brass ceramic copper fibre glass leather nickel paper plywood polyester rubber silicone stainless steel textile timber ' +
  'zinc acoustic chemical dielectric flammability humidity ingress insulation leakage mechanical migration noise radiation resistance ' +
  'shock stability temperature toxicity vibration wear abrasion ageing corrosion durability endurance fatigue impact torsion'
).split(' ')
let xseed = 7
const xrand = () => ((xseed = (xseed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
const xwords = (k: number) => Array.from({ length: k }, () => XWORDS[Math.floor(xrand() * XWORDS.length)]).join(', ')

const XMEMBERS: [string, string][] = [['United States of America', 'USA'], ['European Union', 'EU'], ['Japan', 'JPN'], ['Korea, Republic of', 'KOR'], ['India', 'IND'], ['Brazil', 'BRA'], ['Viet Nam', 'VNM'], ['Saudi Arabia, Kingdom of', 'SAU'], ['United Kingdom', 'GBR'], ['Canada', 'CAN'], ['Mexico', 'MEX'], ['Thailand', 'THA'], ['Chile', 'CHL'], ['Egypt', 'EGY'], ['Australia', 'AUS']]
const XJOINT: [string, string][] = [['Kenya', 'KEN'], ['Uganda', 'UGA'], ['Rwanda', 'RWA'], ['Burundi', 'BDI'], ['Tanzania', 'TZA']]
const XICS = ['29.220.30 - Alkaline secondary cells and batteries', '33.050 - Telecommunication terminal equipment', '43.080 - Commercial vehicles', '97.200.50 - Toys', '13.020.50 - Ecolabelling', '67.040 - Food products in general']
const XTBT_OBJ = ['Protection of human health or safety (TBT)', 'Consumer information, labelling (TBT)', 'Protection of the environment (TBT)', 'Quality requirements (TBT)', 'Prevention of deceptive practices and consumer protection (TBT)', 'Harmonization (TBT)']
const XSPS_OBJ = ['Food safety (SPS)', 'Animal health (SPS)', 'Plant protection (SPS)', 'Protect territory from other damage from pests (SPS)']

/**
 * N rows of a synthetic bulk file (deterministic): two thirds with HS codes, a fifth SPS,
 * follow-ups of earlier notifications, joint notifications whose member rows are spread
 * apart, non-breaking spaces and `_x000D_` in the text, empty comment dates, and now and
 * then a row a reader must reject.
 */
export function* syntheticEpingXlsxRows(n: number, opts: { brokenEvery?: number; recentUntil?: Date } = {}): Generator<EpingSheetRow> {
  const until = opts.recentUntil ?? new Date('2026-11-28T00:00:00Z')
  const scheduled = new Map<number, EpingSheetRow>()
  const serial = new Map<string, number>()
  const issued: { base: string; member: string; sps: boolean; followUps: number }[] = []
  let k = 0
  for (let p = 0; p < n; p++) {
    const due = scheduled.get(p)
    if (due) {
      scheduled.delete(p)
      yield due
      continue
    }
    const i = k++
    if (opts.brokenEvery && i % opts.brokenEvery === opts.brokenEvery - 1) {
      yield { ...emptyRow(), member: 'Nowhere', symbols: 'n/a', symbolsAsText: true, title: `Row ${i} without a symbol` }
      continue
    }
    // History since 1995; one notification in 25 from the last two months.
    const day = i % 25 === 4 ? new Date(until.getTime() - ((i * 7) % 60) * 86_400_000) : new Date(Date.UTC(1995 + (i % 31), (i * 5 + (i >> 5)) % 12, 1 + ((i * 13) % 28)))
    const sps = i % 5 === 0
    // A follow-up of an earlier notification.
    if (i % 7 === 3 && issued.length > 10) {
      const base = issued[(i * 31) % issued.length]
      base.followUps++
      const kind = (['Add', 'Corr', 'Rev'] as const)[i % 3]
      const type = kind === 'Add' ? 'Addendum to Regular Notification' : kind === 'Corr' ? 'Corrigendum to Regular Notification' : 'Revision to Regular Notification'
      yield {
        ...emptyRow(),
        member: base.member,
        distributionDate: day,
        symbols: `${base.base}/${kind}.${base.followUps}`,
        title: `${kind === 'Add' ? 'Adoption of' : kind === 'Corr' ? 'Correction to' : 'Revised'} the measure notified in ${base.base}`,
        description: `The measure notified in ${base.base} ${kind === 'Add' ? 'was adopted and published in the official journal; it enters into force six months after publication.' : kind === 'Corr' ? 'is corrected: the comment period ends later than first stated.' : 'has been revised following comments received.'}`,
        notificationType: base.sps ? type.replace('Regular Notification', 'Regular Notification') : type,
        objectives: base.sps ? XSPS_OBJ[i % XSPS_OBJ.length] : XTBT_OBJ[i % XTBT_OBJ.length],
        links: true,
      }
      continue
    }
    const joint = !sps && i % 53 === 17
    const [memberName, code] = joint ? XJOINT[0] : XMEMBERS[(i * 3) % XMEMBERS.length]
    const agreement = sps ? 'SPS' : 'TBT'
    const next = (c: string) => {
      const v = (serial.get(`${agreement}/${c}`) ?? 100) + 1
      serial.set(`${agreement}/${c}`, v)
      return `G/${agreement}/N/${c}/${v}`
    }
    const members = joint ? XJOINT : [[memberName, code] as [string, string]]
    const symbols = members.map(([, c]) => next(c))
    const [product, hs, hsName] = sps ? XSPS[i % XSPS.length] : XPRODUCTS[(i * 11) % XPRODUCTS.length]
    const [product2, hs2, hsName2] = XPRODUCTS[(i * 17 + 3) % XPRODUCTS.length]
    const kind = sps ? XSPS_KINDS[i % XSPS_KINDS.length] : XKINDS[(i * 5) % XKINDS.length]
    const reqs = sps ? XSPS_REQS : XREQS
    const withHs = i % 3 !== 1
    const withIcs = !sps && i % 4 === 0
    const extra = Array.from({ length: 2 + (i % 5) }, (_, j) => XMORE[(i * 7 + j * 3) % XMORE.length]).join('. ')
    const description =
      `This notification ${reqs[i % reqs.length]}.\u00a0It applies to ${product}${i % 2 ? ` and ${product2}` : ''}, including their ${xwords(6 + (i % 9))}._x000D_\n` +
      `The draft ${reqs[(i + 3) % reqs.length]}; manufacturers have ${6 + (i % 18)} months to comply (reference ${i}). ${extra}._x000D_\n` +
      `Tests cover ${xwords(4 + (i % 7))}.`
    const row: EpingSheetRow = {
      member: memberName,
      distributionDate: day,
      symbols: symbols.join(', '),
      title: `${kind} ${product}${i % 4 === 0 ? ` and ${product2}` : ''}`,
      description,
      products: `${product[0].toUpperCase()}${product.slice(1)}${withIcs ? ` (ICS code(s): ${XICS[i % XICS.length].split(' ')[0]})` : ''}`,
      hsCodes: withHs ? `${hs} - ${hsName}${i % 2 ? `; ${hs2} - ${hsName2}` : ''}` : null,
      icsCodes: withIcs ? XICS[i % XICS.length] : null,
      objectives: sps ? XSPS_OBJ[i % XSPS_OBJ.length] : `${XTBT_OBJ[i % XTBT_OBJ.length]}; ${XTBT_OBJ[(i + 2) % XTBT_OBJ.length]}`,
      keywords: i % 3 ? 'Conformity assessment; Labelling' : null,
      regions: i % 9 === 0 ? 'All trading partners' : null,
      commentDeadline: i % 5 < 2 ? null : new Date(day.getTime() + 60 * 86_400_000),
      notificationType: sps && i % 10 === 5 ? 'Emergency notifications (SPS)' : 'Regular notification',
      notifiedDocument: i % 6 === 0 ? `Draft regulation ${i} (${10 + (i % 40)} pages, in English)` : null,
      links: true,
    }
    issued.push({ base: symbols[0], member: memberName, sps, followUps: 0 })
    yield row
    if (joint) {
      // The other members' rows, with the same symbol list, further down the file.
      let at = p + 23
      for (const [m] of members.slice(1)) {
        while (scheduled.has(at)) at++
        if (at < n) scheduled.set(at, { ...row, member: m })
        at += 23
      }
    }
  }
}

function emptyRow(): EpingSheetRow {
  return {
    member: null, distributionDate: null, symbols: null, title: null, description: null, products: null, hsCodes: null, icsCodes: null,
    objectives: null, keywords: null, regions: null, commentDeadline: null, notificationType: null, notifiedDocument: null,
  }
}
