import { createHash } from 'node:crypto'

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }

/**
 * Scraped fields often hold HTML. Turns it into plain text: block tags become spaces
 * (cheerio's .text() would glue paragraphs together), entities are decoded, and
 * whitespace collapses. The result is still untrusted text, to be escaped on output.
 */
export function htmlToText(html: string | null | undefined): string {
  if (!html) return ''
  return String(html)
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<br\s*\/?>|<\/?(p|div|li|ul|ol|tr|td|th|h\d|table|section|article)\b[^>]*>/gi, ' ')
    .replace(/<[^>]+>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
      if (e[0] === '#') {
        const cp = e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)
        return Number.isFinite(cp) && cp > 0 && cp < 0x110000 ? String.fromCodePoint(cp) : ' '
      }
      return ENTITIES[e.toLowerCase()] ?? all
    })
    .replace(/\s+/g, ' ')
    .trim()
}

export const normalizeSpace = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim()

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** A stable JSON form (sorted keys) for hashing records. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

/** Splits a field holding several URLs separated by commas, semicolons or line breaks. */
export function splitUrls(field: string | null | undefined): string[] {
  if (!field) return []
  const out: string[] = []
  for (const part of String(field).split(/[\s,;]+/)) {
    const u = part.trim().replace(/\\/g, '/')
    if (/^https?:\/\//i.test(u) && !out.includes(u)) out.push(u)
  }
  return out
}
