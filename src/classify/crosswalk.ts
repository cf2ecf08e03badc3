import path from 'node:path'
import { z } from 'zod'
import { loadYamlFile } from '../util/yaml-file.js'
import { projectRoot } from '../util/paths.js'
import { normalizeHsCode } from '../domain/hs.js'

export const DEFAULT_ICS_FILE = path.join(projectRoot, 'rules', 'ics-hs.yaml')
export const DEFAULT_EDITIONS_FILE = path.join(projectRoot, 'rules', 'hs-editions.yaml')
export const DEFAULT_CHAPTER_DEFAULTS_FILE = path.join(projectRoot, 'rules', 'chapter-defaults.yaml')

const HsCode = z.string().regex(/^\d{2}(\d{2}){0,2}$/, 'HS codes here are 2, 4 or 6 digits without dots')
const IcsFileSchema = z.strictObject({
  links: z.record(
    z.string().regex(/^\d{2}(\.\d{3}(\.\d{2})?)?$/, 'ICS codes are NN, NN.NNN or NN.NNN.NN'),
    z.strictObject({ hs: z.record(HsCode, z.number().positive().max(1)), note: z.string().optional() }),
  ),
})
const EditionsFileSchema = z.strictObject({
  changes: z.array(z.strictObject({
    from: HsCode,
    to: z.array(HsCode).min(1),
    edition: z.string().regex(/^\d{4}->\d{4}$/),
    note: z.string().optional(),
  })),
})

const ChapterDefaultsSchema = z.strictObject({
  defaults: z.record(z.string().regex(/^\d{2}$/, 'keys are HS chapters: 2 digits'), z.string().regex(/^\d{4}$/, 'values are HS headings: 4 digits')),
})

/** The heading to name when a notice's words name only its chapter (rules/chapter-defaults.yaml). */
export function loadChapterDefaults(file = DEFAULT_CHAPTER_DEFAULTS_FILE): Map<string, string> {
  const { defaults } = loadYamlFile(file, ChapterDefaultsSchema)
  for (const [ch, h] of Object.entries(defaults)) if (!h.startsWith(ch)) throw new Error(`${file}: ${h} is not a heading of chapter ${ch}`)
  return new Map(Object.entries(defaults))
}

export interface IcsLink { ics: string; hs: string; weight: number }

/** ICS groups to HS codes; an ICS code finds its most specific listed group. */
export class IcsCrosswalk {
  private readonly links = new Map<string, { hs: string; weight: number }[]>()
  /** a group's title (as `titleKey` writes it) → its code, where only one group has that title */
  private readonly titles = new Map<string, string | null>()
  constructor(file = DEFAULT_ICS_FILE) {
    const { links } = loadYamlFile(file, IcsFileSchema)
    for (const [ics, l] of Object.entries(links)) {
      this.links.set(ics, Object.entries(l.hs).map(([hs, weight]) => ({ hs, weight })))
      if (!l.note) continue
      const key = titleKey(l.note)
      this.titles.set(key, this.titles.has(key) ? null : ics)
    }
  }

  /**
   * The ICS group a text is the title of: notification forms print the groups' titles
   * beside their codes ("Spices and condiments. Food additives (ICS code(s): 67.220)"), and
   * a title left without its code is still that group, not words about products.
   */
  titled(text: string): string | undefined {
    return this.titles.get(titleKey(text)) ?? undefined
  }

  lookup(rawIcs: string): IcsLink[] {
    const parts = String(rawIcs).trim().split('.').filter(Boolean)
    for (let n = Math.min(parts.length, 3); n >= 1; n--) {
      const key = parts.slice(0, n).join('.')
      const hit = this.links.get(key)
      if (hit) return hit.map((h) => ({ ics: key, ...h }))
    }
    return []
  }

  get size(): number {
    return this.links.size
  }
}

export interface CodeReading { code: string; raw: string; notes: string[] }

/**
 * Codes as notices print them, turned into HS 2022 codes of 2-6 digits: national lines
 * (8-10 digits, or Chinese Taipei's 11 with a check digit) cut to HS6, lines renumbered
 * since HS 2017 mapped forward. Chapters 98 and 99 are national and are set aside.
 */
export class HsEditions {
  private readonly forward = new Map<string, { to: string[]; edition: string; note?: string }>()
  constructor(file = DEFAULT_EDITIONS_FILE) {
    const { changes } = loadYamlFile(file, EditionsFileSchema)
    for (const c of changes) this.forward.set(c.from, { to: c.to, edition: c.edition, note: c.note })
  }

  read(raw: string): CodeReading[] | null {
    let digits = String(raw).replace(/[\s.\-]/g, '')
    if (!/^\d+$/.test(digits)) return null
    const notes: string[] = []
    if (digits.length > 10) {
      notes.push(`${digits.length}-digit national line read as its first 10 digits`)
      digits = digits.slice(0, 10)
    }
    const norm = normalizeHsCode(digits)
    if (!norm) return null
    if (/^9[89]/.test(norm)) return []
    let code = norm
    if (code.length > 6) {
      notes.push(`national line ${code} mapped to HS6 ${code.slice(0, 6)}`)
      code = code.slice(0, 6)
    }
    const change = this.forward.get(code) ?? (code.length === 6 ? this.forward.get(code.slice(0, 4)) : undefined)
    if (change && (change.to.length > 1 || change.to[0] !== code)) {
      return change.to.map((to) => ({ code: to, raw, notes: [...notes, `HS ${change.edition.replace('->', '→')}: ${this.describe(code, change.to)}${change.note ? ` (${change.note})` : ''}`] }))
    }
    return [{ code, raw, notes }]
  }

  private describe(from: string, to: string[]): string {
    return `${from} became ${to.join(', ')}`
  }
}

/** A title as compared: small letters, words only. */
function titleKey(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}]+/gu, ' ').trim()
}
