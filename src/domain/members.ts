import path from 'node:path'
import { z } from 'zod'
import { loadYamlFile, DataFileError } from '../util/yaml-file.js'
import { projectRoot } from '../util/paths.js'
import { parseSymbol } from './symbols.js'

const MemberSchema = z.object({
  code: z.string().regex(/^[A-Z]{2,4}$/, 'codes are 2-4 upper-case letters'),
  zh: z.string().min(1),
  en: z.string().min(1),
  aliases: z.array(z.string().min(1)).default([]),
  observer: z.boolean().default(false),
})
export type Member = z.infer<typeof MemberSchema>

export const DEFAULT_MEMBERS_FILE = path.join(projectRoot, 'seeds', 'members.yaml')

/** A name or code as a lookup key: case, accents, punctuation and a leading "the" do not count. */
export function nameKey(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[’'`´]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .replace(/^the /, '')
}

/**
 * WTO members and observers by code, with their Chinese and English names, and a lookup
 * from any name a source writes ("Saudi Arabia, Kingdom of", "俄罗斯联邦") to the code.
 */
export class MemberIndex {
  private readonly byCodeMap = new Map<string, Member>()
  private readonly byName = new Map<string, Member>()
  constructor(readonly members: Member[]) {
    for (const m of members) {
      this.byCodeMap.set(m.code, m)
      for (const n of [m.code, m.en, m.zh, ...m.aliases]) {
        const k = nameKey(n)
        if (k && !this.byName.has(k)) this.byName.set(k, m)
      }
    }
  }

  byCode(code: string | null | undefined): Member | undefined {
    return code ? this.byCodeMap.get(code.toUpperCase()) : undefined
  }

  /** The member a name (or code) stands for; "X, Republic of" forms fall back to "X" when not listed. */
  find(name: string | null | undefined): Member | undefined {
    if (!name) return undefined
    const direct = this.byCodeMap.get(name.trim().toUpperCase()) ?? this.byName.get(nameKey(name))
    if (direct) return direct
    const cut = name.replace(/[（(].*?[)）]/g, '').replace(/,.*$/, '')
    return cut !== name ? this.byName.get(nameKey(cut)) : undefined
  }

  /** A member's name in the reader's language; an unknown code or name is shown as given. */
  name(codeOrName: string | null | undefined, lang: 'zh' | 'en'): string {
    if (!codeOrName) return ''
    const m = this.byCode(codeOrName) ?? this.find(codeOrName)
    return m ? m[lang] : codeOrName
  }
}

let cached: MemberIndex | undefined
/** seeds/members.yaml, validated (codes unique), cached per process for the default file. */
export function loadMembers(file = DEFAULT_MEMBERS_FILE): MemberIndex {
  if (file === DEFAULT_MEMBERS_FILE && cached) return cached
  const { members } = loadYamlFile(file, z.object({ members: z.array(MemberSchema).min(1) }))
  const seen = new Set<string>()
  for (const m of members) {
    if (seen.has(m.code)) throw new DataFileError(file, undefined, `member ${m.code} is listed twice`)
    seen.add(m.code)
  }
  const index = new MemberIndex(members)
  if (file === DEFAULT_MEMBERS_FILE) cached = index
  return index
}

/**
 * The member codes of a document: every symbol's member (a joint notification names
 * several, in symbol order), then the source's own member code, then its member name.
 */
export function memberCodesOf(doc: { symbols: string[]; memberCode?: string | null; member?: string | null }, index?: MemberIndex): string[] {
  const out: string[] = []
  const add = (c: string | null | undefined) => {
    const code = c?.trim().toUpperCase()
    if (code && code !== 'LEGACY' && !out.includes(code)) out.push(code)
  }
  for (const s of doc.symbols) add(parseSymbol(s)?.member)
  add(doc.memberCode)
  if (!out.length && doc.member && index) add(index.find(doc.member)?.code)
  return out
}
