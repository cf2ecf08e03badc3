import { francAll } from 'franc'

/**
 * Languages that occur on TBT notices: the WTO's three (English, French, Spanish), the
 * Chinese translations of the national enquiry points, and those of the watched markets
 * that notices are sometimes summarised in. franc is restricted to these, because on
 * unrestricted input it often answers Scots for English or Galician for Spanish.
 */
export const LATIN_LANGUAGES = ['eng', 'fra', 'spa', 'por', 'vie', 'ind', 'deu', 'ita', 'nld', 'tur'] as const

/** Source hints as portals give them (ISO 639-1 or -3, or a name) mapped to ISO 639-3. */
const HINTS: Record<string, string> = {
  en: 'eng', eng: 'eng', english: 'eng',
  fr: 'fra', fra: 'fra', fre: 'fra', french: 'fra',
  es: 'spa', spa: 'spa', spanish: 'spa',
  pt: 'por', por: 'por', portuguese: 'por',
  zh: 'cmn', cmn: 'cmn', zho: 'cmn', chi: 'cmn', chinese: 'cmn', 'zh-cn': 'cmn', 'zh-tw': 'cmn',
  vi: 'vie', vie: 'vie', vietnamese: 'vie',
  ja: 'jpn', jpn: 'jpn', ko: 'kor', kor: 'kor', ru: 'rus', rus: 'rus', ar: 'arb', ara: 'arb', arb: 'arb',
  th: 'tha', tha: 'tha', id: 'ind', ind: 'ind', de: 'deu', deu: 'deu', it: 'ita', ita: 'ita', tr: 'tur', tur: 'tur',
}

export function languageFromHint(hint: string | undefined): string | undefined {
  return hint ? HINTS[hint.trim().toLowerCase()] : undefined
}

interface ScriptCounts { han: number; kana: number; hangul: number; cyrillic: number; arabic: number; thai: number; latin: number; vietnamese: number }

// Letters with diacritics that only Vietnamese uses among the languages above (â, ê and ô
// are French and Portuguese too: "tôles", "pêche", "revêtues" are not Vietnamese).
const VIETNAMESE = /[ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/i

export function countScripts(text: string): ScriptCounts {
  const c: ScriptCounts = { han: 0, kana: 0, hangul: 0, cyrillic: 0, arabic: 0, thai: 0, latin: 0, vietnamese: 0 }
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    if (cp < 0x80) {
      if ((cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122)) c.latin++
    } else if ((cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0xf900 && cp <= 0xfaff)) c.han++
    else if (cp >= 0x3040 && cp <= 0x30ff) c.kana++
    else if (cp >= 0xac00 && cp <= 0xd7af) c.hangul++
    else if (cp >= 0x0400 && cp <= 0x04ff) c.cyrillic++
    else if (cp >= 0x0600 && cp <= 0x06ff) c.arabic++
    else if (cp >= 0x0e00 && cp <= 0x0e7f) c.thai++
    else if (cp <= 0x024f || (cp >= 0x1e00 && cp <= 0x1eff)) {
      c.latin++
      if (VIETNAMESE.test(ch)) c.vietnamese++
    }
  }
  return c
}

// A handful of very frequent function words per language: on the short, formulaic text
// of notices they separate English, French, Spanish and Portuguese better than trigrams.
const FUNCTION_WORDS: Record<string, string[]> = {
  eng: ['the', 'of', 'and', 'for', 'to', 'in', 'on', 'with', 'shall', 'this', 'be', 'by', 'are', 'is', 'from', 'draft', 'products', 'regulation', 'requirements', 'safety', 'amendment', 'standard', 'specification', 'labelling', 'labeling', 'proposed', 'devices', 'equipment'],
  fra: ['le', 'la', 'les', 'des', 'du', 'et', 'pour', 'au', 'aux', 'sur', 'une', 'dans', 'est', 'projet', 'produits', 'relatif', 'relative', 'arrêté', 'décret', 'règlement', 'exigences', 'sécurité', 'dispositifs'],
  spa: ['el', 'la', 'los', 'las', 'del', 'y', 'para', 'por', 'con', 'una', 'que', 'proyecto', 'productos', 'reglamento', 'sobre', 'resolución', 'requisitos', 'seguridad', 'norma', 'etiquetado', 'dispositivos', 'técnico'],
  por: ['o', 'os', 'as', 'do', 'da', 'dos', 'das', 'e', 'para', 'com', 'uma', 'em', 'não', 'produtos', 'resolução'],
}
const FUNCTION_INDEX = new Map<string, string[]>()
for (const [lang, words] of Object.entries(FUNCTION_WORDS)) {
  for (const w of words) FUNCTION_INDEX.set(w, [...(FUNCTION_INDEX.get(w) ?? []), lang])
}

function functionWordVotes(text: string): Map<string, number> {
  const votes = new Map<string, number>()
  for (const m of text.toLowerCase().matchAll(/\p{L}+/gu)) {
    const langs = FUNCTION_INDEX.get(m[0])
    if (!langs) continue
    for (const l of langs) votes.set(l, (votes.get(l) ?? 0) + 1 / langs.length)
  }
  return votes
}

export interface LanguageGuess { language: string; confidence: number; method: string }

/**
 * The language of a notice's text: the script decides for Han, Kana, Hangul, Cyrillic,
 * Arabic and Thai; Vietnamese is told by its diacritics; other Latin text is franc's
 * restricted guess blended with function-word counts, then the source's hint breaks
 * a close call. Text too short to judge gives the hint, or `und`.
 */
export function detectLanguage(text: string, hint?: string): LanguageGuess {
  const hinted = languageFromHint(hint)
  const s = countScripts(text)
  const letters = s.han + s.kana + s.hangul + s.cyrillic + s.arabic + s.thai + s.latin
  if (letters === 0) return { language: hinted ?? 'und', confidence: hinted ? 0.3 : 0, method: hinted ? 'hint' : 'empty' }
  // A Chinese notice quotes Latin-script symbols and standard names, so a share of Han
  // characters well under half already marks it as Chinese.
  if (s.kana > 0 && s.kana + s.han >= letters * 0.2) return { language: 'jpn', confidence: 0.9, method: 'script' }
  if (s.han >= 4 && s.han * 3 >= letters * 0.5) return { language: 'cmn', confidence: Math.min(0.99, 0.6 + s.han / letters), method: 'script' }
  if (s.hangul >= letters * 0.3) return { language: 'kor', confidence: 0.95, method: 'script' }
  if (s.cyrillic >= letters * 0.5) return { language: 'rus', confidence: 0.8, method: 'script' }
  if (s.arabic >= letters * 0.5) return { language: 'arb', confidence: 0.9, method: 'script' }
  if (s.thai >= letters * 0.5) return { language: 'tha', confidence: 0.95, method: 'script' }
  if (s.vietnamese >= 3 && s.vietnamese >= s.latin * 0.04) return { language: 'vie', confidence: 0.9, method: 'script' }
  if (s.han >= 2 && s.latin < 12) return { language: 'cmn', confidence: 0.6, method: 'script' }
  if (s.latin < 12) return { language: hinted ?? 'und', confidence: hinted ? 0.3 : 0, method: hinted ? 'hint' : 'too-short' }

  const votes = functionWordVotes(text)
  const totalVotes = [...votes.values()].reduce((a, b) => a + b, 0)
  // Notices are formulaic: when function words alone are clear, franc (most of the cost
  // of classifying a notice) has nothing to add.
  const byVotes = [...votes.entries()].sort((a, b) => b[1] - a[1])
  if (totalVotes >= 6 && byVotes[0][1] >= 3 * (byVotes[1]?.[1] ?? 0) && !(hinted && hinted !== byVotes[0][0] && votes.has(hinted))) {
    return { language: byVotes[0][0], confidence: Math.min(0.99, 0.6 + byVotes[0][1] / totalVotes / 3), method: 'function-words' }
  }
  const scores = new Map<string, number>()
  // franc's scores are 1 for the best and relative below it; beyond 300 characters the
  // answer rarely changes and the cost keeps growing.
  for (const [lang, score] of francAll(text.slice(0, 300), { only: [...LATIN_LANGUAGES], minLength: 10 })) {
    if (lang !== 'und') scores.set(lang, score)
  }
  for (const [lang, v] of votes) scores.set(lang, (scores.get(lang) ?? 0) + (1.5 * v) / Math.max(3, totalVotes))
  if (hinted && scores.has(hinted)) scores.set(hinted, scores.get(hinted)! + 0.15)
  const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1])
  if (!ranked.length) return { language: hinted ?? 'und', confidence: 0.2, method: 'hint' }
  const [best, second] = ranked
  const margin = best[1] - (second?.[1] ?? 0)
  // franc alone on a dozen letters is a coin toss; say so instead of guessing.
  if (s.latin < 25 && margin < 0.1 && !totalVotes) return { language: hinted ?? 'und', confidence: 0.2, method: 'unsure' }
  return { language: best[0], confidence: Math.min(0.99, 0.5 + margin / 2), method: 'franc+function-words' }
}
