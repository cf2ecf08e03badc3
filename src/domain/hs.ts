/**
 * HS codes as they appear on notices: any edition and length, dotted or not
 * (`8517`, `851713`, `8517.13.00`, `4011.10.00.00`), chapter-only (`85`), or
 * nonsense. We store digit strings of 2..10 digits.
 */
export function normalizeHsCode(raw: string): string | null {
  const digits = String(raw).replace(/[\s.\-]/g, '')
  if (!/^\d+$/.test(digits)) return null
  if (digits.length < 2 || digits.length > 10) return null
  // An odd length (e.g. "851" from a truncated "851x") is cut to the even prefix.
  const even = digits.length % 2 === 1 ? digits.slice(0, digits.length - 1) : digits
  if (even.length < 2) return null
  const chapter = Number(even.slice(0, 2))
  if (chapter < 1 || chapter > 99 || chapter === 77) return null // chapter 77 is reserved in HS
  return even
}

/** Extracts HS codes from free text such as "(HS code(s): 8517; 8471.30)" or "HS: 85". */
export function hsCodesInText(text: string): string[] {
  const out = new Set<string>()
  // "HS code(s): 8517", "HS编码：8507.60", "Código(s) del SA: 9503.00", "Code(s) du SH : 3304"
  const re = /(?:\bHS\s*(?:code\(s\)|codes?|编码|代码|編碼)?|C[óo]digos?(?:\(s\))?\s+del\s+SA|Codes?(?:\(s\))?\s+du\s+SH|海关编码|税则号列?)\s*[:：]?\s*((?:\d[\d.]*\d|\d{2})(?:\s*[,;，；、/]\s*(?:\d[\d.]*\d|\d{2}))*)/gi
  for (const m of text.matchAll(re)) {
    for (const part of m[1].split(/[,;，；、/]/)) {
      const code = normalizeHsCode(part.trim())
      if (code) out.add(code)
    }
  }
  return [...out]
}

/** Unique, normalised HS codes from any mix of raw strings. */
export function normalizeHsCodes(raw: Iterable<string>): string[] {
  const out = new Set<string>()
  for (const r of raw) {
    const c = normalizeHsCode(r)
    if (c) out.add(c)
  }
  return [...out]
}

export const hsChapter = (code: string) => code.slice(0, 2)
export const hsHeading = (code: string) => (code.length >= 4 ? code.slice(0, 4) : null)
