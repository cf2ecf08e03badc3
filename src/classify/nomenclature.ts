import fs from 'node:fs'
import { stemToken } from './normalize.js'
import { TfIdfIndex } from './tfidf.js'

// Words of the nomenclature's own drafting that say nothing about a product.
const DRAFTING = new Set(['other', 'nes', 'n.e.s', 'excluding', 'including', 'whether', 'kind', 'used', 'heading', 'subheading', 'chapter', 'thereof', 'parts', 'accessories', 'similar', 'articles', 'not', 'elsewhere', 'specified', 'included', 'containing', 'weight', 'exceeding', 'less', 'more', 'than', 'form', 'mainly', 'solely', 'principally', 'suitable', 'use', 'made', 'put', 'up', 'retail', 'sale', 'having', 'value', 'single', 'cm', 'mm', 'kg', 'kw', 'kva', 'w', 'v'].map((w) => stemToken(w, 'eng') ?? w))

/**
 * The HS 2022 nomenclature (datasets/harmonized-system CSV: section,hscode,description,
 * parent,level) as a TF-IDF index of each heading's wording, subheadings included. It
 * enriches matching when an analyst points TBT_HS_NOMENCLATURE at the file; the
 * classifier does not need it.
 */
export class NomenclatureIndex {
  private readonly index: TfIdfIndex
  readonly headings = new Map<string, string>()

  constructor(file: string) {
    const text = fs.readFileSync(file, 'utf8')
    const bags = new Map<string, Map<string, number>>()
    for (const row of parseCsv(text).slice(1)) {
      const [, code, description, , level] = row
      if (!code || !/^\d{4}(\d{2})?$/.test(code)) continue
      const heading = code.slice(0, 4)
      if (level === '4') this.headings.set(heading, description)
      let bag = bags.get(heading)
      if (!bag) bags.set(heading, (bag = new Map()))
      // The heading's own words count fully, its subheadings' words half.
      const w = code.length === 4 ? 1 : 0.5
      for (const m of description.toLowerCase().matchAll(/\p{L}+/gu)) {
        const s = stemToken(m[0], 'eng')
        if (!s || DRAFTING.has(s)) continue
        bag.set(s, Math.min(2, (bag.get(s) ?? 0) + w))
      }
    }
    if (!bags.size) throw new Error(`${file}: no HS headings found (expected the datasets/harmonized-system CSV)`)
    this.index = new TfIdfIndex(bags)
  }

  /** Headings whose wording is closest to weighted English stems, with cosine-like scores and the shared stems. */
  search(query: Map<string, number>, top = 3): { heading: string; score: number; terms: string[] }[] {
    return this.index.search(query, top).map((h) => ({ heading: h.doc, score: h.score, terms: h.shared }))
  }
}

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++ } else quoted = false
      } else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') { row.push(field); field = '' }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++
      row.push(field); rows.push(row); row = []; field = ''
    } else field += ch
  }
  if (field || row.length) { row.push(field); rows.push(row) }
  return rows
}
