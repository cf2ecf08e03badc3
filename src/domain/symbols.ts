/**
 * WTO document symbols: `G/TBT/N/{MEMBER}/{n}` with a chain of follow-up suffixes
 * (`/Add.n`, `/Corr.n`, `/Rev.n`, `/Suppl.n`), the legacy `G/TBT/Notif.00/005`, and
 * joint notifications written as several symbols joined by commas.
 */
export type DocType = 'regular' | 'addendum' | 'corrigendum' | 'revision'
export type FollowUpKind = 'Add' | 'Corr' | 'Rev' | 'Suppl'

export interface ParsedSymbol {
  /** The symbol as printed, tidied (single spaces removed, canonical suffix case). */
  symbol: string
  agreement: 'TBT' | 'SPS'
  member: string
  serial: string
  /** The follow-up chain in order, e.g. Rev.1/Add.1 → [{Rev,1},{Add,1}]. */
  chain: { kind: FollowUpKind; n: number }[]
  /** The symbol of the original notification: the measure's identity for this member. */
  base: string
  type: DocType
  legacy: boolean
}

const KIND: Record<string, FollowUpKind> = { add: 'Add', corr: 'Corr', rev: 'Rev', suppl: 'Suppl' }

export function parseSymbol(raw: string): ParsedSymbol | null {
  const s = raw.replace(/\s+/g, '').replace(/\\/g, '/').replace(/\/+$/, '')
  const modern = /^G\/(TBT|SPS)\/N\/([A-Za-z]{2,4})\/(\d+)((?:\/(?:Add|Corr|Rev|Suppl)\.?\d+)*)$/i.exec(s)
  const legacy = modern ? null : /^G\/(TBT)\/Notif\.(\d{2})\/(\d+)((?:\/(?:Add|Corr|Rev|Suppl)\.?\d+)*)$/i.exec(s)
  const m = modern ?? legacy
  if (!m) return null
  const agreement = m[1].toUpperCase() as 'TBT' | 'SPS'
  const chain = [...m[4].matchAll(/\/(Add|Corr|Rev|Suppl)\.?(\d+)/gi)].map((c) => ({
    kind: KIND[c[1].toLowerCase()],
    n: Number(c[2]),
  }))
  const member = modern ? m[2].toUpperCase() : 'LEGACY'
  const serial = modern ? String(Number(m[3])) : `${m[2]}/${m[3]}`
  const base = modern ? `G/${agreement}/N/${member}/${serial}` : `G/TBT/Notif.${m[2]}/${m[3]}`
  const suffix = chain.map((c) => `/${c.kind}.${c.n}`).join('')
  const last = chain[chain.length - 1]
  const type: DocType = !last
    ? 'regular'
    : last.kind === 'Corr'
      ? 'corrigendum'
      : last.kind === 'Rev'
        ? 'revision'
        : 'addendum'
  return { symbol: base + suffix, agreement, member, serial, chain, base, type, legacy: !modern }
}

/** Splits a joint notification's symbol field (comma-joined, stray spaces) into symbols. */
export function splitSymbols(field: string | null | undefined): string[] {
  if (!field) return []
  const out: string[] = []
  for (const part of field.split(/[,;，\n\r]+/)) {
    const p = parseSymbol(part)
    const s = p ? p.symbol : part.trim()
    if (s && !out.includes(s)) out.push(s)
  }
  return out
}

/** Maps ePing's notificationType text to a document type; the symbol decides when unclear. */
export function docTypeOf(notificationType: string | null | undefined, symbols: string[]): DocType {
  const t = (notificationType ?? '').toLowerCase()
  if (/corrig/.test(t)) return 'corrigendum'
  if (/revis/.test(t)) return 'revision'
  if (/addend|supplement/.test(t)) return 'addendum'
  const parsed = symbols.map(parseSymbol).find(Boolean)
  return parsed?.type ?? 'regular'
}

/**
 * A document's identity by its symbols alone (sorted, comma-joined): what a source that
 * carries no id of its own (ePing's Excel export) names a notice by. A scrape that knows
 * the source's own id finds the same row again through it (notice.repository).
 */
export const symbolKey = (symbols: string[]) => [...new Set(symbols)].sort().join(',')
