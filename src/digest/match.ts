import type { Level } from '../risk/score.js'
import { LEVEL_RANK } from '../risk/score.js'

// Everything needed to match a warning against a subscriber's preferences and to render
// it, loaded once per run (see loadCatalog).
export interface NamedRef {
  code: string
  zh: string
  en: string
}

export interface CatalogCategory {
  id: string
  zh: string
  en: string
  score: number
  level: Level
}

/**
 * A warning as digests and reports see it: one per measure, with every category it
 * touches (`categoryId`/`categoryZh`/`categoryEn` are the top one), every member that
 * notified it and their markets (`memberCode` and `marketCode` are the first ones).
 */
export interface CatalogWarning {
  id: number
  level: Level
  score: number
  status: string
  categoryId: string
  categoryZh: string
  categoryEn: string
  categories: CatalogCategory[]
  measureId: number
  measureKey: string
  /** every base symbol of the measure, the key first */
  symbols: string[]
  measureStatus: string
  title: string
  member: string | null
  memberCode: string | null
  members: NamedRef[]
  marketCode: string | null
  marketZh: string | null
  marketEn: string | null
  markets: (NamedRef & { watched: boolean })[]
  commentDeadline: string | null
  entryIntoForce: string | null
  daysLeft: number | null
  reasonZh: string
  reasonEn: string
  detailUrl: string
  /** the detail page's path (`/warnings/12`), for what is stored and rendered later with the base URL */
  path: string
  sourceUrls: string[]
  /** HS codes of the measure's documents (declared and classified). */
  hsCodes: string[]
  /** Lower-cased title, description and products of the measure's documents. */
  text: string
  createdAt: string
}

export interface Preferences {
  minLevel: Level
  categories: string[]
  hs: string[]
  markets: string[]
  keywords: string[]
}

export interface Match {
  warning: CatalogWarning
  /** Which preference let the warning through, for the "why you get this" line. */
  matchedBy: { kind: 'all' | 'category' | 'hs' | 'market' | 'keyword'; value: string }[]
}

/**
 * The warnings of the catalog a subscriber wants. Products are the union of categories
 * and HS prefixes (either one matching is enough; none given means every product);
 * markets and keywords narrow (one of them must match when any is given). Pure.
 */
export function matchWarnings(catalog: CatalogWarning[], prefs: Preferences): Match[] {
  const cats = new Set(prefs.categories)
  const markets = new Set(prefs.markets.map((m) => m.toUpperCase()))
  const keywords = prefs.keywords.map((k) => k.trim().toLowerCase()).filter(Boolean)
  const out: Match[] = []
  for (const w of catalog) {
    if (LEVEL_RANK[w.level] < LEVEL_RANK[prefs.minLevel]) continue
    const matchedBy: Match['matchedBy'] = []
    if (cats.size || prefs.hs.length) {
      const cat = w.categories.find((c) => cats.has(c.id))?.id ?? (cats.has(w.categoryId) ? w.categoryId : undefined)
      if (cat) matchedBy.push({ kind: 'category', value: cat })
      const hs = prefs.hs.find((p) => w.hsCodes.some((c) => c.startsWith(p) || p.startsWith(c)))
      if (hs) matchedBy.push({ kind: 'hs', value: hs })
      if (!matchedBy.length) continue
    }
    if (markets.size) {
      const m = [w.marketCode, w.memberCode, ...w.markets.map((x) => x.code), ...w.members.map((x) => x.code)].find((c) => c && markets.has(c.toUpperCase()))
      if (!m) continue
      matchedBy.push({ kind: 'market', value: m })
    }
    if (keywords.length) {
      const k = keywords.find((kw) => w.text.includes(kw) || w.title.toLowerCase().includes(kw))
      if (!k) continue
      matchedBy.push({ kind: 'keyword', value: k })
    }
    if (!matchedBy.length) matchedBy.push({ kind: 'all', value: '' })
    out.push({ warning: w, matchedBy })
  }
  return out
}
