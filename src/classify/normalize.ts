import { createRequire } from 'node:module'
import porterEn from 'natural/lib/natural/stemmers/porter_stemmer.js'
import porterEs from 'natural/lib/natural/stemmers/porter_stemmer_es.js'
import porterFr from 'natural/lib/natural/stemmers/porter_stemmer_fr.js'
import porterPt from 'natural/lib/natural/stemmers/porter_stemmer_pt.js'
import { words as stopEn } from 'natural/lib/natural/util/stopwords.js'
import { words as stopEs } from 'natural/lib/natural/util/stopwords_es.js'
import { words as stopFr } from 'natural/lib/natural/util/stopwords_fr.js'
import { words as stopPt } from 'natural/lib/natural/util/stopwords_pt.js'

/** Languages we stem; everything else in Latin script is matched on unstemmed, accent-free tokens. */
export type StemLanguage = 'eng' | 'spa' | 'fra' | 'por' | 'vie'
export const STEM_LANGUAGES: StemLanguage[] = ['eng', 'spa', 'fra', 'por', 'vie']

const STEMMERS: Record<StemLanguage, ((t: string) => string) | null> = {
  eng: (t) => porterEn.stem(t),
  spa: (t) => porterEs.stem(t),
  fra: (t) => porterFr.stem(t),
  por: (t) => porterPt.stem(t),
  // Vietnamese words are syllables that do not inflect.
  vie: null,
}

// Words every notice uses whatever its product: they would only add noise to matching and
// to the model. Stop words are removed from lexicon terms the same way, so a term such as
// "aceite de oliva" still matches "aceite de oliva virgen".
const NOTICE_WORDS: Record<StemLanguage, string[]> = {
  eng: ['draft', 'regulation', 'regulations', 'technical', 'standard', 'standards', 'specification', 'specifications', 'requirement', 'requirements', 'edition', 'page', 'pages', 'english', 'spanish', 'french', 'arabic', 'portuguese', 'notification', 'amendment', 'amending', 'revision', 'order', 'decree', 'resolution', 'national', 'part', 'general', 'first', 'second', 'third', 'method', 'methods', 'code', 'codes', 'hs', 'ics', 'shall', 'may', 'also', 'product', 'products', 'test', 'document', 'proposed', 'rule', 'act', 'ministry', 'ministerial', 'annex', 'gso', 'note', 'new'],
  spa: ['proyecto', 'reglamento', 'tecnico', 'técnico', 'norma', 'normas', 'oficial', 'resolucion', 'resolución', 'decreto', 'requisitos', 'especificaciones', 'producto', 'productos', 'pagina', 'paginas', 'página', 'páginas', 'español', 'ingles', 'inglés', 'modificacion', 'modificación', 'ministerio', 'nacional', 'general', 'parte', 'sus', 'deberan', 'deberán'],
  fra: ['projet', 'reglement', 'règlement', 'technique', 'norme', 'normes', 'arrete', 'arrêté', 'decret', 'décret', 'exigences', 'produit', 'produits', 'page', 'pages', 'francais', 'français', 'anglais', 'espagnol', 'modification', 'ministere', 'ministère', 'national', 'generale', 'générale', 'partie'],
  por: ['projeto', 'regulamento', 'tecnico', 'técnico', 'resolucao', 'resolução', 'portaria', 'requisitos', 'produto', 'produtos', 'paginas', 'páginas', 'ingles', 'inglês', 'nacional', 'geral'],
  vie: ['quy', 'chuẩn', 'kỹ', 'thuật', 'quốc', 'gia', 'dự', 'thảo', 'thông', 'tư', 'của', 'và', 'các', 'những', 'cho', 'về', 'sản', 'phẩm', 'đối', 'với', 'là', 'được', 'trong'],
}

export function stripAccents(s: string): string {
  // Ligatures are two letters: French writes "œufs" and "oeufs", "cæcum" and "caecum".
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').replace(/œ/g, 'oe').replace(/Œ/g, 'OE').replace(/æ/g, 'ae').replace(/Æ/g, 'AE')
}

// Negations carry meaning in product names ("non-alcoholic beverages", "bebidas no
// alcohólicas"), so they stay even where natural lists them as stop words.
const NEGATIONS = new Set(['no', 'not', 'non', 'without', 'sin', 'sans', 'ne', 'pas', 'nao', 'sem'])
// Stop words keep their accents: stripped, Spanish "té" (tea) would be "te" (you) and French
// "maïs" (maize) "mais" (but). Vietnamese is matched without diacritics, so both forms count.
const stopSet = (words: string[], stripped = false) =>
  new Set(words.flatMap((w) => (stripped ? [w.toLowerCase(), stripAccents(w.toLowerCase())] : [w.toLowerCase()])).filter((w) => !NEGATIONS.has(w)))

const STOP: Record<StemLanguage, Set<string>> = {
  eng: stopSet([...stopEn, ...NOTICE_WORDS.eng]),
  spa: stopSet([...stopEs, ...NOTICE_WORDS.spa, 'de', 'del', 'y', 'e', 'o', 'u', 'en', 'a', 'al']),
  fra: stopSet([...stopFr, ...NOTICE_WORDS.fra, 'de', 'd', 'l', 'et', 'ou', 'a', 'au', 'aux', 'en']),
  por: stopSet([...stopPt, ...NOTICE_WORDS.por, 'de', 'do', 'da', 'e', 'ou', 'a', 'o', 'em']),
  vie: stopSet(NOTICE_WORDS.vie, true),
}

const NOTICE_SETS: Record<StemLanguage, Set<string>> = Object.fromEntries(
  (Object.keys(NOTICE_WORDS) as StemLanguage[]).map((l) => [l, new Set(NOTICE_WORDS[l].flatMap((w) => [w, stripAccents(w)]))]),
) as Record<StemLanguage, Set<string>>


const stemCache: Record<StemLanguage, Map<string, string | null>> = { eng: new Map(), spa: new Map(), fra: new Map(), por: new Map(), vie: new Map() }

/**
 * English plurals that name another thing than their singular, an adjective: "shorts"
 * (6203) and a "short title", "safety glasses" (9004) and "safety glass" (7007),
 * "spirits" (2208) and "spirit", "sweets" and "sweet peppers", "tights", "briefs". Each
 * keeps its plural as its stem (and light stem), so neither form matches the other.
 */
export const PLURAL_NOUNS = new Set(['shorts', 'glasses', 'spirits', 'sweets', 'tights', 'briefs'])

/**
 * One lower-cased token to its stem in a language, without accents; null for a stop word
 * or a token that carries no product meaning (digits, single letters). Cached, because
 * notices repeat a small vocabulary and stemming dominates the cost of classifying.
 */
export function stemToken(token: string, lang: StemLanguage): string | null {
  const cache = stemCache[lang]
  const hit = cache.get(token)
  if (hit !== undefined) return hit
  let out: string | null
  const plain = stripAccents(token)
  // Digits alone say nothing of a product (years, numbers); letters with digits can (N95, FFP2, R410A, M1).
  if (plain.length < 2 || /^\d+$/.test(plain) || STOP[lang].has(token) || (NOTICE_SETS[lang].has(plain))) out = null
  else {
    const stem = STEMMERS[lang]
    // Accents are dropped before stemming: notices often omit them, and the Spanish
    // stemmer cuts "baterías" and "baterias" differently.
    out = lang === 'eng' && PLURAL_NOUNS.has(plain) ? plain : stem ? stripAccents(stem(plain)) : plain
    if (!out) out = plain
  }
  if (cache.size > 200_000) cache.clear()
  cache.set(token, out)
  return out
}

// Code annotations the portals add to product fields: "(HS code(s): 8517.13)",
// "ICS: 67.220.10", "(12 page(s), in Spanish)". They are read as codes elsewhere and must
// not count as words.
const ANNOTATIONS: RegExp[] = [
  /<[^>]{0,200}>/g,
  /&(?:nbsp|amp|lt|gt|quot|#\d+);/g,
  /\((?:HS|ICS)\s*code\(s\)\s*:[^)]*\)/gi,
  // the same in ePing's Spanish and French: "(Código(s) del SA: 8517)", "(Code(s) SH : 6403)"
  /\(\s*(?:c[oó]digo|code)s?\s*(?:\(s\))?\s*(?:del\s+|du\s+)?(?:SA|SH|ICS|HS)\b[^)]*\)/gi,
  /\b(?:HS|ICS)\s*(?:代码|编码|編碼|code\(s\)|codes?)?\s*[:：]?\s*(?:\d[\d.]*\d|\d{2})(?:\s*[,;，；、/]\s*(?:\d[\d.]*\d|\d{2}))*/gi,
  /\(\s*\d+\s*pages?(?:\(s\))?[^)]*\)/gi,
  /（?\d+\s*页[^)）]*[)）]?/g,
  /\b(?:in|en)\s+(?:English|Spanish|French|Arabic|Portuguese|Russian|Chinese|inglés|español|francés|anglais|espagnol|français)\b/gi,
]

export function cleanText(text: string): string {
  let t = text
  for (const re of ANNOTATIONS) t = t.replace(re, ' ')
  // (each only where its sign is there: most texts have neither)
  if (t.includes('(')) t = t.replace(POLYMER_BRACKETS, '$1$2').replace(SPECIES, (m, genus: string, epithet: string) => (NOT_A_GENUS.has(genus.toLowerCase()) || NOT_A_GENUS.has(epithet) || !LATIN_EPITHET.test(epithet) ? m : ''))
  if (t.includes('的')) t = t.replace(HAN_PARTS_OF, '')
  return t
}

/**
 * A species' scientific name in brackets, "(Fragaria x ananassa)", "(Vitis vinifera L.)",
 * "(Zea mays)": it says which plant or animal, not what product; left in, it would cut
 * "Strawberry (Fragaria x ananassa) plants" in two, so that the fruit, not the plants,
 * read as the product. Two words (a genus, capitalised, and an epithet), maybe a hybrid's
 * "x" and an authority or rank after them.
 */
const SPECIES = /\(\s*([A-Z][a-z]{2,})\s+(?:[x×]\s+)?([a-z]{3,})(?:\s+(?:L\.|Linn?\.?|var\.\s+[a-z]+|subsp\.\s+[a-z]+|spp?\.|convar\.\s+[a-z]+|[A-Z][a-z]{0,12}\.?))*\s*\)/g
/** How a species' epithet ends, in Latin: vinifera, mays, lycopersicum, domesticus, sinensis, max ("(Lithium ion)" is no species). */
const LATIN_EPITHET = /(?:a|ae|um|us|is|ii|i|ys|x|ns|as)$/
/** Words of an ordinary bracket that look like a genus and an epithet: "(Other than cast iron)", "(Not knitted)". */
const NOT_A_GENUS = new Set(['other', 'not', 'excluding', 'excl', 'including', 'incl', 'except', 'see', 'for', 'from', 'with', 'without', 'and', 'the', 'than', 'only', 'all', 'new', 'old', 'draft', 'final', 'part', 'parts', 'annex', 'both', 'each', 'any', 'such', 'whether', 'also', 'made', 'used', 'knitted', 'crocheted', 'fresh', 'frozen', 'dried', 'chilled', 'cooked', 'raw'])

/** "机动车辆的零件" is "机动车辆零件" (parts of motor vehicles): the 的 goes, so the phrase reads whole. */
const HAN_PARTS_OF = /的(?=零部件|零件|部件|配件|附件)/g

/**
 * A polymer's systematic name brackets its monomer: "poly(vinyl chloride)", "poli(cloruro
 * de vinilo)", "poly(chlorure de vinyle)". Read as the usual name ("polyvinyl chloride",
 * "policloruro de vinilo"), so that the bracket does not cut the name in two.
 */
const POLYMER_BRACKETS = /\b(poly|poli)\s*\(\s*([\p{L}][\p{L}\s-]{1,40}?)\s*\)/giu

const LATIN_TOKEN = /[\p{Script=Latin}\p{M}'’\d]+/gu
const HAN_RUN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g

export interface LatinToken {
  raw: string
  index: number
  /** punctuation or a line break lies between this token and the one before it */
  broken?: boolean
  /** what lies between is more than a comma: a clause or a sentence ends there */
  ended?: boolean
  /** written in capitals in a text that has small letters: an acronym ("BEE", "EMC") */
  acronym?: boolean
  /** the part of a hyphenated compound that is not its head: "short" in "short-circuit" */
  modifier?: boolean
  /**
   * a word that qualifies another noun of the same phrase rather than naming the product:
   * "fruit" in "fruit infusions", "frutas" in "infusiones de frutas"
   */
  attributive?: boolean
  /**
   * a word of a phrase that names what the product is used for or with, not the product:
   * "cosmetic" in "coconut oil for cosmetic use", "food" in "materials in contact with food"
   */
  use?: boolean
}

/** Second halves of English compound adjectives, after the noun that carries the meaning. */
const ADJECTIVE_HEADS = new Set(['based', 'free', 'containing', 'derived', 'related', 'like', 'type', 'powered', 'operated', 'fired', 'driven', 'made', 'shaped', 'grade', 'fed', 'sized', 'filled', 'coated', 'treated', 'rich', 'enriched', 'fortified', 'flavoured', 'flavored', 'only', 'specific', 'borne', 'friendly'])

/** Languages whose hyphenated compounds put the head first ("lave-linge", "porte-outils"). */
const HEAD_FIRST = new Set<string>(['spa', 'fra', 'por', 'vie'])

/**
 * Latin-script words in order (lower case, apostrophes split off), with their character
 * offsets. Parts of a hyphenated compound other than its head are marked as modifiers:
 * a one-word product term must not match them ("short-circuit" is no pair of shorts,
 * "child-resistant" no child). English compounds end in their head, Romance ones start with it.
 */
export function latinTokens(text: string, lang?: string): LatinToken[] {
  return markModifiers(tokenize(text), lang)
}

interface RawToken extends LatinToken {
  /** tokens of one hyphenated compound share a group number; -1 outside compounds */
  group: number
  /** only spaces lie between this token and the next one (no punctuation, no line break) */
  spaced?: boolean
}

const tokenCache = new Map<string, RawToken[]>()

/** The tokens of a text with their compound groups (language-independent; cached for the passes of one notice). */
// Compounds made of stop words that name a product: joined, or they would vanish.
const JOINED = /\bmake[-\s]up\b/g
// A one-letter prefix names another product than the word it joins ("e-cigarettes" are
// not cigarettes, "e-bikes" not bicycles, "t-shirts" not shirts, "h-beams" no beam of
// light, "x-ray" no fish): one word, or the lexicon's "e-cigarettes" would be the term
// "cigarettes". (Chemical locants, "n-hexane", "o-xylene", "p-phenylenediamine", "l-lysine",
// "d-glucose", "m-cresol", stay apart: the substance is the word after them.)
const LETTER_PREFIX = /\b([cefhituvxz])[-‐](?=\p{L}{2})/gu
const ACRONYM = /(?<![\p{Script=Latin}\p{N}])\p{Lu}{2,6}(?![\p{Script=Latin}\p{N}])/gu

/** The text tokens index into: lower case, with the compounds above joined. */
const lowered = (text: string) => text.toLowerCase().replace(JOINED, 'makeup').replace(LETTER_PREFIX, '$1')

function tokenize(text: string): RawToken[] {
  const hit = tokenCache.get(text)
  if (hit) return hit
  const out: RawToken[] = []
  const lower = lowered(text)
  // Words in capitals where the text has small letters or Chinese too are acronyms ("BEE/S&L", "EMC", LED灯具).
  const caps = /[\p{Ll}\p{Script=Han}]/u.test(text) ? new Set(Array.from(text.matchAll(ACRONYM), (m) => m[0].toLowerCase())) : null
  let group = 0
  for (const m of lower.matchAll(LATIN_TOKEN)) {
    // French and Italian elisions (l'huile, d'origine) belong to the next word.
    const parts = m[0].split(/['’]/)
    let offset = m.index!
    const start = m.index!
    const joined = start > 1 && (lower[start - 1] === '-' || lower[start - 1] === '‐') && /[\p{L}\d]/u.test(lower[start - 2])
    const end = start + m[0].length
    const continues = (lower[end] === '-' || lower[end] === '‐') && /[\p{L}\d]/u.test(lower[end + 1] ?? '')
    if (!joined) {
      if (continues) group++
    }
    for (const p of parts) {
      if (p) out.push({ raw: p, index: offset, group: joined || continues ? group : -1, ...(caps?.has(p) ? { acronym: true } : {}) })
      offset += p.length + 1
    }
  }
  for (let k = 0; k + 1 < out.length; k++) {
    const gap = lower.slice(out[k].index + out[k].raw.length, out[k + 1].index)
    out[k].spaced = /^[ \t\u00a0]+$/.test(gap)
    if (PHRASE_BREAK.test(gap)) {
      out[k + 1].broken = true
      if (CLAUSE_BREAK.test(gap)) out[k + 1].ended = true
    }
  }
  markUse(out)
  if (tokenCache.size > 2000) tokenCache.clear()
  tokenCache.set(text, out)
  return out
}

function markModifiers(tokens: RawToken[], lang?: string): LatinToken[] {
  const headFirst = lang !== undefined && HEAD_FIRST.has(lang)
  const out: LatinToken[] = tokens.map((t) => ({ raw: t.raw, index: t.index, ...(t.broken ? { broken: true } : {}), ...(t.ended ? { ended: true } : {}), ...(t.acronym ? { acronym: true } : {}), ...(t.use && lang !== undefined ? { use: true } : {}) }))
  let i = 0
  while (i < tokens.length) {
    const g = tokens[i].group
    if (g < 0) {
      i++
      continue
    }
    let j = i
    while (j < tokens.length && tokens[j].group === g) j++
    const compound = out.slice(i, j)
    if (compound.length > 1) {
      let head = headFirst ? 0 : compound.length - 1
      // "cereal-based", "lead-free", "gas-fired": an adjective made of a noun and a
      // participle; the noun is what the words are about.
      if (!headFirst && ADJECTIVE_HEADS.has(compound[head].raw)) head = head - 1
      compound.forEach((t, k) => { if (k !== head && !(k > head && ADJECTIVE_HEADS.has(t.raw))) t.modifier = true })
    }
    i = j
  }
  // "phenol and its salts", "toys and their packaging", "sus sales", "salts thereof": what
  // follows "its" is a form or a part of the thing before, no product of its own (no table
  // salt, 2501); so are the "salts of" an acid.
  for (let k = 0; k < tokens.length; k++) {
    const raw = tokens[k].raw
    if (!OWNED.has(raw)) continue
    const next = tokens[k].spaced ? tokens[k + 1]?.raw : undefined
    if ((k > 0 && POSSESSIVES.has(tokens[k - 1].raw) && tokens[k - 1].spaced) || next === 'thereof' || (SALTS_OF.has(raw) && next === 'of')) out[k].modifier = true
  }
  if (lang !== undefined && lang !== 'vie') markAttributive(tokens, out, lang as StemLanguage, headFirst)
  return out
}

const POSSESSIVES = new Set(['its', 'their', 'sus', 'su', 'ses', 'sa', 'son', 'leurs', 'leur', 'seus', 'suas', 'seu', 'sua'])
/** Words that, after "its", name a form or a part of the thing before ("its salts", "their packaging"). */
const OWNED = new Set([
  'salt', 'salts', 'ester', 'esters', 'ethers', 'derivatives', 'isomers', 'fractions', 'packaging', 'packagings', 'package', 'packages', 'labels', 'label', 'parts', 'containers',
  'sal', 'sales', 'ésteres', 'derivados', 'isómeros', 'fracciones', 'envase', 'envases', 'embalaje', 'embalajes', 'etiquetas', 'etiqueta', 'partes', 'piezas',
  'sel', 'sels', 'dérivés', 'isomères', 'emballage', 'emballages', 'étiquettes', 'étiquette', 'pièces',
  'sais', 'embalagem', 'embalagens', 'rótulos', 'peças',
])
const SALTS_OF = new Set(['salts', 'salt'])

/**
 * Phrases that name a product's use rather than the product, per language: an opening (a
 * sequence of words), then how many words the use may take, and whether the use ends at a
 * closing word ("for *cosmetic* use") or simply runs on ("used in *motor vehicles*").
 */
interface UsePattern { open: RegExp[]; span: number; close?: RegExp; until?: RegExp; list?: boolean }
/** Where such a phrase stops, in any of the languages (every language's patterns read every text): prepositions, conjunctions, relative words. */
const UNTIL = /^(?:in|on|for|and|or|by|with|to|that|which|shall|must|may|en|em|no|na|nos|nas|para|pour|por|y|e|et|o|ou|que|qui|dans|sur|par)$/
/** The same, where the use may be a list ("for working stone, ceramics or concrete"): its "and", "or" and commas belong to it. */
const UNTIL_LIST = /^(?:in|on|for|by|with|to|that|which|shall|must|may|en|em|no|na|nos|nas|para|pour|por|que|qui|dans|sur|par)$/
/** What a machine does to what it works on ("for making", "para fabricar", "pour le travail"): the material after it is no product of the notice. */
const WORKING_EN = /^(?:making|manufacturing|manufacture|working|processing|preparing|producing|treating|finishing|cutting|assembling|filling|packing|packaging|cleaning|sorting|grading|testing|extruding|moulding|molding|shaping|sawing|grinding)$/
const WORKING_ES = /^(?:trabajar|fabricar|elaborar|procesar|preparar|producir|tratar|cortar|ensamblar|envasar|limpiar|clasificar|moldear|fabricaci[oó]n|elaboraci[oó]n|preparaci[oó]n|producci[oó]n|transformaci[oó]n|trabajo|limpieza|clasificaci[oó]n)$/
const WORKING_FR = /^(?:travailler|fabriquer|pr[ée]parer|traiter|produire|transformer|nettoyer|trier|mouler|travail|fabrication|pr[ée]paration|traitement|production|transformation|nettoyage|triage|moulage)$/
const USE_PATTERNS: Record<string, UsePattern[]> = {
  eng: [
    { open: [/^for$/], span: 3, close: /^(?:use|uses|usage|application|applications|purposes?)$/ },
    { open: [/^for$/, /^use$/, /^(?:in|with|on|by|as)$/], span: 4 },
    { open: [/^(?:used|employed|utili[sz]ed)$/, /^(?:in|for|as|with|on|by)$/], span: 4 },
    { open: [/^intended$/, /^for$/], span: 4 },
    { open: [/^(?:contact)$/, /^with$/], span: 3 },
    { open: [/^residues?$/, /^of$/], span: 3, until: UNTIL },
    // what a product holds: "foods containing cereals", "toys containing magnets"
    { open: [/^(?:containing|contains|contain)$/], span: 3, until: UNTIL },
    // what a product is made from: "flour obtained from sorghum grains"
    { open: [/^(?:obtained|derived|made|produced|extracted|manufactured|prepared)$/, /^from$/], span: 3, until: UNTIL },
    // what a machine works on: "machinery for making paper", "machine-tools for working stone"
    { open: [/^for$/, WORKING_EN], span: 8, until: UNTIL_LIST, list: true },
    // what drives or equips it: "fans driven by electric motors", "vehicles equipped with airbags"
    { open: [/^(?:driven|powered|operated|equipped|fitted|propelled)$/, /^(?:by|with)$/], span: 3, until: UNTIL },
    // what is measured in it: "maximum levels of lead", "the content of formaldehyde"
    { open: [/^(?:levels?|contents?|concentrations?|migration|amounts?)$/, /^of$/], span: 3, until: UNTIL },
    // what carries it: "lithium batteries transported by aircraft", "shipped aboard vessels", "as cargo on passenger aircraft"
    { open: [/^(?:transported|carried|shipped|conveyed|loaded)$/, /^(?:by|on|in|aboard)$/], span: 3, until: UNTIL },
    { open: [/^(?:aboard|onboard)$/], span: 3, until: UNTIL },
    { open: [/^cargo$/, /^(?:on|in)$/], span: 3, until: UNTIL },
  ],
  spa: [
    { open: [/^(?:para|de)$/, /^usos?$/], span: 3 },
    { open: [/^destinad[oa]s?$/, /^(?:a|al|para)$/], span: 4 },
    { open: [/^(?:utilizad|usad|empleado)[oa]?s?$/, /^(?:en|para|como|con)$/], span: 4 },
    { open: [/^contacto$/, /^con$/], span: 3 },
    { open: [/^residuos?$/, /^(?:de|del)$/], span: 3, until: UNTIL },
    { open: [/^(?:obtenid|derivad|elaborad|extra[íi]d|producid)[oa]s?$/, /^(?:de|del|con)$/], span: 3, until: UNTIL },
    { open: [/^que$/, /^contienen?$/], span: 3, until: UNTIL },
    { open: [/^conteniendo$/], span: 3, until: UNTIL },
    { open: [/^(?:accionad|impulsad|equipad|provist)[oa]s?$/, /^(?:por|con|de)$/], span: 3, until: UNTIL },
    { open: [/^(?:niveles?|contenidos?|concentraci[oó]n(?:es)?|migraci[oó]n)$/, /^(?:de|del)$/], span: 3, until: UNTIL },
    { open: [/^para$/, WORKING_ES], span: 8, until: UNTIL_LIST, list: true },
    { open: [/^para$/, /^(?:la|el)$/, WORKING_ES], span: 8, until: UNTIL_LIST, list: true },
    { open: [/^(?:transportad|embarcad|cargad)[oa]s?$/, /^(?:por|en|a)$/], span: 3, until: UNTIL },
    { open: [/^bordo$/, /^(?:de|del)$/], span: 3, until: UNTIL },
  ],
  fra: [
    { open: [/^(?:à|a|pour)$/, /^usages?$/], span: 3 },
    { open: [/^destin[ée]e?s?$/, /^(?:à|a|au|aux)$/], span: 4 },
    { open: [/^utilis[ée]e?s?$/, /^(?:dans|pour|comme|en|avec)$/], span: 4 },
    { open: [/^contact$/, /^avec$/], span: 3 },
    { open: [/^r[ée]sidus?$/, /^(?:de|des|du)$/], span: 3, until: UNTIL },
    { open: [/^(?:obtenu|d[ée]riv[ée]|fabriqu[ée]|extrait|produit)e?s?$/, /^(?:de|des|du|avec)$/], span: 3, until: UNTIL },
    { open: [/^contenant$/], span: 3, until: UNTIL },
    { open: [/^qui$/, /^contiennent$/], span: 3, until: UNTIL },
    { open: [/^(?:entra[iî]n[ée]|aliment[ée]|[ée]quip[ée]|muni)e?s?$/, /^(?:par|de|d)$/], span: 3, until: UNTIL },
    { open: [/^(?:teneurs?|niveaux?|concentrations?|migration)$/, /^(?:en|de|du|des|d)$/], span: 3, until: UNTIL },
    { open: [/^pour$/, WORKING_FR], span: 8, until: UNTIL_LIST, list: true },
    { open: [/^pour$/, /^(?:le|la|l)$/, WORKING_FR], span: 8, until: UNTIL_LIST, list: true },
    { open: [/^(?:transport[ée]|embarqu[ée]|charg[ée])e?s?$/, /^(?:par|en|dans|à|a)$/], span: 3, until: UNTIL },
    { open: [/^bord$/, /^(?:de|des|du|d)$/], span: 3, until: UNTIL },
  ],
  por: [
    { open: [/^(?:para|de)$/, /^usos?$/], span: 3 },
    { open: [/^destinad[oa]s?$/, /^(?:a|ao|para)$/], span: 4 },
    { open: [/^(?:utilizad|usad)[oa]s?$/, /^(?:em|para|como|com)$/], span: 4 },
    { open: [/^contato$/, /^com$/], span: 3 },
    { open: [/^res[íi]duos?$/, /^(?:de|do|dos|da|das)$/], span: 3, until: UNTIL },
  ],
}

/**
 * Words that make the words before them the substance left in a product, not the product:
 * "pesticide residues", "veterinary drug residues". Maximum residue limits are set for
 * foods; the pesticide is what is limited. (Languages whose phrases start with their head
 * say it the other way round, in USE_PATTERNS: "résidus de pesticides".)
 */
const RESIDUE_AFTER = /^residues?$/
const RESIDUE_STOP = /^(?:of|in|on|for|and|or|the|with|from|to)$/

const ALL_USE_PATTERNS: UsePattern[] = Object.values(USE_PATTERNS).flat()
/** One expression for every word that can open a use phrase (a cheap first test). */
const USE_OPENER = new RegExp(ALL_USE_PATTERNS.map((p) => `(?:${p.open[0].source})`).join('|'))

export const FOR_WORDS = /^(?:for|para|pour)$/
/** "in" in the languages whose "X in Y" names what a product holds ("lead in paint", "plomo en pinturas"). */
export const IN_WORDS: ReadonlySet<string> = new Set(['in', 'en', 'dans'])
/** "with", "con", "avec", "com": "X with Y" names a part or an ingredient of X. */
export const WITH_WORDS: ReadonlySet<string> = new Set(['with', 'con', 'avec', 'com'])
/** The prepositions a word remembers when they are dropped before it (Word.prep). */
const PREPOSITIONS = new Set([...IN_WORDS, ...WITH_WORDS])
/** The word that closes "for cosmetic use", "para uso", "à usage": the use itself, named no further. */
const USE_CLOSE = /^(?:use|uses|usage|application|applications|purposes?|uso|usos|utilisation|utilização)$/
/** Heads that name no product of their own: "parts for", "accesorios para", "pièces pour". */
const GENERIC_FOR = new Set(['part', 'parts', 'accessories', 'accessory', 'components', 'component', 'spare', 'spares', 'equipment', 'articles', 'article', 'items', 'goods', 'materials', 'material', 'partes', 'piezas', 'accesorios', 'componentes', 'repuestos', 'equipos', 'materiales', 'artículos', 'pièces', 'parties', 'accessoires', 'composants', 'équipements', 'matériaux', 'peças', 'partes', 'acessórios', 'componentes', 'equipamentos', 'materiais'])
/** Whether a word could name a product in one of the stemming languages: no stop word, notice word or word about a product in any. */
function productWordAnywhere(word: string): boolean {
  if (word.length < 3 || GENERIC_FOR.has(word)) return false
  for (const l of ['eng', 'spa', 'fra', 'por'] as const) {
    if (stemToken(word, l) === null || aboutWord(lightStem(word, l), l)) return false
  }
  return true
}

/**
 * Marks the words of use phrases (USE_PATTERNS); a use never runs across punctuation. Every
 * language's phrases, whatever language the text is read in (a notice in Spanish is also
 * read with English stems, "cereales" as cereals, and that reading must know that "que
 * contienen cereales" names what the product holds): so once per text, when it is tokenised.
 */
function markUse(out: RawToken[]): void {
  for (let k = 1; k < out.length; k++) {
    if (!RESIDUE_AFTER.test(out[k].raw)) continue
    for (let j = k - 1; j >= Math.max(0, k - 2) && out[j].spaced === true && !RESIDUE_STOP.test(out[j].raw); j--) out[j].use = true
  }
  // "X for Y", "X para Y", "X pour Y": where X is a product word of its own (tyres for motor
  // vehicles, chargers for mobile phones), Y is what it serves. Not after the notice's words
  // (requirements for toys) nor after parts (parts for motor vehicles are the vehicles' parts).
  for (let k = 1; k + 1 < out.length; k++) {
    if (!FOR_WORDS.test(out[k].raw) || out[k - 1].spaced !== true || out[k].spaced !== true) continue
    if (!productWordAnywhere(out[k - 1].raw)) continue
    for (let j = k + 1; j < out.length && j <= k + 3 && !UNTIL.test(out[j].raw) && !USE_CLOSE.test(out[j].raw); j++) {
      out[j].use = true
      if (out[j].spaced !== true) break
    }
  }
  for (let k = 0; k < out.length; k++) {
    if (!USE_OPENER.test(out[k].raw)) continue
    for (const p of ALL_USE_PATTERNS) {
      const n = p.open.length
      if (k + n >= out.length) continue
      let ok = true
      for (let j = 0; j < n && ok; j++) {
        ok = p.open[j].test(out[k + j].raw) && (j === n - 1 || out[k + j].spaced === true)
      }
      if (!ok || !out[k + n - 1].spaced) continue
      // the words of the use, up to the span, punctuation, or the closing word
      let end = k + n
      while (end < out.length && end - (k + n) < p.span) {
        if (p.close?.test(out[end].raw) || p.until?.test(out[end].raw)) break
        end++
        // (a list's commas belong to it, nothing more than a comma does)
        if (!out[end - 1].spaced && !(p.list && end < out.length && !out[end].ended)) break
      }
      if (p.close && !(end < out.length && p.close.test(out[end].raw))) continue
      for (let j = k + n; j < end; j++) out[j].use = true
    }
  }
}

/**
 * Words that follow a product noun without changing what the product is ("toy safety",
 * "battery recycling", "requisitos de calidad"), as light stems: the noun before them
 * stays the head of its phrase. Beside these, stop words and the notice vocabulary
 * (standard, requirements, products...) end a phrase too.
 */
const PHRASE_END_WORDS: Record<Exclude<StemLanguage, 'vie'>, string[]> = {
    eng: ['safety', 'labelling', 'labeling', 'label', 'labels', 'marking', 'quality', 'industry', 'industries', 'sector', 'manufacturers', 'manufacturer', 'manufacturing', 'manufacture', 'production', 'producers', 'importers', 'testing', 'tests', 'performance', 'efficiency', 'consumption', 'emissions', 'emission', 'limits', 'limit', 'content', 'recycling', 'disposal', 'collection', 'management', 'handling', 'transport', 'transportation', 'storage', 'import', 'imports', 'importation', 'export', 'exports', 'trade', 'market', 'marketing', 'sale', 'sales', 'use', 'users', 'certification', 'registration', 'inspection', 'approval', 'conformity', 'assessment', 'control', 'program', 'programme', 'procedure', 'procedures', 'guidelines', 'regime', 'system', 'systems', 'classification', 'identification', 'packaging', 'information', 'declaration', 'certificate', 'specification', 'grading', 'grades', 'sampling', 'analysis', 'measurement', 'conservation', 'processing', 'containing', 'including', 'using', 'concerning', 'regarding', 'covering', 'intended', 'sold', 'made', 'provisions', 'provision', 'rules', 'measures', 'conditions', 'criteria', 'obligations', 'restrictions', 'restriction', 'prohibition', 'ban', 'controls', 'directive', 'framework'],
    spa: ['requisitos', 'requerimientos', 'especificaciones', 'especificacion', 'etiquetado', 'rotulado', 'marcado', 'seguridad', 'calidad', 'metodos', 'metodo', 'ensayo', 'ensayos', 'analisis', 'control', 'limites', 'limite', 'contenido', 'uso', 'produccion', 'fabricacion', 'importacion', 'exportacion', 'comercializacion', 'venta', 'registro', 'certificacion', 'evaluacion', 'conformidad', 'eficiencia', 'consumo', 'emisiones', 'sector', 'industria', 'fabricantes', 'importadores', 'reglamento', 'norma', 'normas', 'clasificacion', 'muestreo', 'envasado', 'embalaje', 'informacion', 'inspeccion', 'vigilancia', 'gestion', 'manejo', 'transporte', 'almacenamiento', 'disposiciones', 'medidas', 'condiciones', 'criterios', 'obligaciones', 'restricciones', 'restriccion', 'prohibicion', 'directiva'],
    fra: ['exigences', 'specifications', 'specification', 'etiquetage', 'marquage', 'securite', 'qualite', 'methodes', 'methode', 'essai', 'essais', 'analyse', 'controle', 'limites', 'limite', 'teneur', 'utilisation', 'production', 'fabrication', 'importation', 'exportation', 'commercialisation', 'vente', 'enregistrement', 'certification', 'evaluation', 'conformite', 'efficacite', 'consommation', 'emissions', 'secteur', 'industrie', 'fabricants', 'importateurs', 'reglement', 'norme', 'normes', 'classification', 'echantillonnage', 'emballage', 'information', 'inspection', 'gestion', 'transport', 'stockage', 'dispositions', 'mesures', 'conditions', 'criteres', 'obligations', 'restrictions', 'restriction', 'interdiction', 'directive'],
    por: ['requisitos', 'especificacoes', 'rotulagem', 'etiquetagem', 'seguranca', 'qualidade', 'metodos', 'ensaio', 'ensaios', 'analise', 'controle', 'limites', 'teor', 'uso', 'producao', 'fabricacao', 'importacao', 'exportacao', 'comercializacao', 'venda', 'registro', 'certificacao', 'avaliacao', 'conformidade', 'eficiencia', 'consumo', 'emissoes', 'setor', 'industria', 'fabricantes', 'regulamento', 'norma', 'classificacao', 'amostragem', 'embalagem', 'inspecao', 'transporte', 'armazenamento'],
}
let phraseEnds: Record<Exclude<StemLanguage, 'vie'>, Set<string>> | undefined
/** Whether a word (its light stem) is about a product rather than naming one, in a language: "labelling", "etiquetado". */
export function aboutWord(light: string, lang: StemLanguage): boolean {
  return lang !== 'vie' && phraseEndsOf(lang).has(light)
}

function phraseEndsOf(lang: Exclude<StemLanguage, 'vie'>): Set<string> {
  phraseEnds ??= Object.fromEntries(Object.entries(PHRASE_END_WORDS).map(([l, words]) => [l, new Set(words.map((w) => lightStem(w, l as StemLanguage)))])) as Record<Exclude<StemLanguage, 'vie'>, Set<string>>
  return phraseEnds[lang]
}

/** Linking words that make the noun after them qualify the noun before (Romance languages). */
const LINKS: Record<string, Set<string>> = {
  spa: new Set(['de', 'del', 'para', 'con', 'a', 'al']),
  fra: new Set(['de', 'du', 'des', 'd', 'pour', 'a', 'à', 'au', 'aux', 'avec']),
  por: new Set(['de', 'do', 'da', 'dos', 'das', 'para', 'com']),
}

/** Articles and conjunctions: where a Romance noun phrase, read backwards, begins. */
const PHRASE_OPENERS: Record<string, Set<string>> = {
  spa: new Set(['el', 'la', 'los', 'las', 'lo', 'un', 'una', 'unos', 'unas', 'y', 'e', 'o', 'u', 'sobre', 'en', 'por']),
  fra: new Set(['le', 'la', 'les', 'l', 'un', 'une', 'et', 'ou', 'sur', 'en', 'par']),
  por: new Set(['o', 'a', 'os', 'as', 'um', 'uma', 'e', 'ou', 'sobre', 'em', 'no', 'na', 'nos', 'nas', 'por']),
}

/**
 * Head first, the noun that heads the words before `end` is the first of them: in
 * "eficiencia energética de refrigeradores" the words after "de" qualify "eficiencia",
 * not the adjective "energética" just before it. Back across spaces only, to an article,
 * a conjunction or a linking word.
 */
function phraseStart(raw: RawToken[], out: LatinToken[], end: number, lang: string): number {
  let j = end
  while (j > 0 && raw[j - 1].spaced && !LINKS[lang]?.has(out[j - 1].raw) && !PHRASE_OPENERS[lang]?.has(out[j - 1].raw)) j--
  return j
}

/** A word that can be the head of a noun phrase: not a stop word, not a phrase end, not a number. */
function isContent(t: LatinToken, lang: Exclude<StemLanguage, 'vie'>): boolean {
  // An English participle after a noun starts a clause ("lobsters packed with salt"), not a compound.
  if (lang === 'eng' && /^[a-z]{3,}ed$/.test(t.raw) && !/(?:bed|seed|reed|feed|sled|shed)$/.test(t.raw)) return false
  return stemToken(t.raw, lang) !== null && !aboutWord(lightStem(t.raw, lang), lang)
}

/**
 * English noun phrases end in their head ("herbal and fruit *infusions*"): a word
 * followed, across a space only, by another content word qualifies it. Romance noun
 * phrases start with it ("*infusiones* de frutas"): a word after a linking word
 * (de, pour, para) that follows a content word qualifies that word, unless the phrase
 * before it is headed by a word that names no product ("eficiencia energética de
 * *refrigeradores*", "requisitos fitosanitarios de *semillas*").
 */
function markAttributive(raw: RawToken[], out: LatinToken[], lang: StemLanguage, headFirst: boolean): void {
  if (lang === 'vie') return
  for (let k = 0; k < out.length; k++) {
    if (out[k].modifier) continue
    if (!headFirst) {
      // (a participle after a noun opens a phrase about it: "fans driven by motors")
      if (raw[k].spaced && k + 1 < out.length && isContent(out[k + 1], lang) && isContent(out[k], lang) && !PARTICIPLES.test(out[k + 1].raw)) out[k].attributive = true
    } else if (k >= 2 && raw[k - 1].spaced && raw[k - 2].spaced && LINKS[lang]?.has(out[k - 1].raw) && isContent(out[k - 2], lang) && isContent(out[phraseStart(raw, out, k - 2, lang)], lang)) {
      out[k].attributive = true
    }
  }
  // Head last, a one-word qualifier coordinated with another qualifies the same head:
  // "truck and bus tires", "fruit and vegetable juices". A word that ends a phrase of its
  // own ("ice cream and ice confectionery") is a head.
  if (!headFirst) {
    for (let k = out.length - 3; k >= 0; k--) {
      const alone = k === 0 || !raw[k - 1].spaced || !isContent(out[k - 1], lang)
      if (alone && !out[k].attributive && !out[k].modifier && raw[k].spaced && raw[k + 1].spaced && AND_OR.has(out[k + 1].raw) && out[k + 2].attributive && isContent(out[k], lang)) out[k].attributive = true
    }
  }
}

const AND_OR = new Set(['and', 'or', '&'])
/** Participles that follow the noun they are about ("fans driven by…", "vehicles equipped with…"). */
const PARTICIPLES = /^(?:driven|powered|operated|equipped|fitted|propelled|used|intended|designed|placed|sold|imported|manufactured)$/

/**
 * A light stem: the word without its plural ending (and, in English, a final e), accents
 * dropped. Porter stems are aggressive ("periodicals" and "period", "containers" and
 * "contain", "organic" and "organs" meet); a term whose words agree on light stems too is
 * a sure match, one that agrees only on Porter stems a looser one.
 */
const lightCache: Record<StemLanguage, Map<string, string>> = { eng: new Map(), spa: new Map(), fra: new Map(), por: new Map(), vie: new Map() }

export function lightStem(token: string, lang: StemLanguage): string {
  const cache = lightCache[lang]
  const hit = cache.get(token)
  if (hit !== undefined) return hit
  const out = lang === 'eng' && PLURAL_NOUNS.has(token) ? token : computeLightStem(token, lang)
  if (cache.size > 200_000) cache.clear()
  cache.set(token, out)
  return out
}

function computeLightStem(token: string, lang: StemLanguage): string {
  let w = stripAccents(token.toLowerCase())
  if (w.length <= 3) return w
  switch (lang) {
    case 'eng':
      if (w.endsWith('ies') && w.length > 4) w = w.slice(0, -3) + 'y'
      else if (w.endsWith('sses')) w = w.slice(0, -2)
      else if (/(?:x|ch|sh|zz|o)es$/.test(w)) w = w.slice(0, -2)
      else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1)
      if (w.endsWith('e') && w.length > 3) w = w.slice(0, -1)
      return w
    case 'spa':
      if (w.endsWith('ces') && w.length > 4) return w.slice(0, -3) + 'z'
      if (/[^aeiou]es$/.test(w) && w.length > 4) return w.slice(0, -2)
      if (/[aeiou]s$/.test(w)) return w.slice(0, -1)
      return w
    case 'fra':
      if (w.endsWith('aux') && w.length > 4) return w.slice(0, -3) + 'al'
      if (/[sx]$/.test(w)) return w.slice(0, -1)
      return w
    case 'por':
      if (/(?:oes|aes)$/.test(w)) return w.slice(0, -3) + 'ao'
      if (w.endsWith('ais')) return w.slice(0, -3) + 'al'
      if (w.endsWith('eis')) return w.slice(0, -3) + 'el'
      if (w.endsWith('ns')) return w.slice(0, -2) + 'm'
      if (w.endsWith('s')) return w.slice(0, -1)
      return w
    default:
      return w
  }
}

/** A word as matching sees it: its Porter stem, its light stem, and whether it only modifies a compound's head. */
export interface Word {
  stem: string
  light: string
  modifier: boolean
  attributive: boolean
  use?: boolean
  /** punctuation or a line break lies between this word and the word before it: no phrase runs across */
  brk?: boolean
  /** a clause or sentence ends between this word and the word before it (more than a comma) */
  end?: boolean
  /** the word as written, lower case, where it was written in capitals in a text with small letters (an acronym) */
  acronym?: string
  /** "for", "para" or "pour" lies between this word and the one before it: a phrase runs across only where its term has it too */
  forGap?: boolean
  /** "of" (with "the" at most) lies between this word and the one before: "tubes of steel" */
  of?: boolean
  /** where the word starts in the text (the same in every language's reading of it) */
  at?: number
  /** "in" or "with" (in one of the languages: PREPOSITIONS) among the stop words dropped before this word ("lead in paint") */
  prep?: string
  /**
   * "products" (productos, produits, produtos), a stop word, stands beside this word:
   * "vaping products", "productos lácteos", "produits de la pêche". The lexicon's terms
   * written so match only such a word.
   */
  headed?: boolean
  /** "not", "sin", "sans", "than" ("other than") just before: "(not knitted or crocheted)", "whether or not cooked" */
  neg?: boolean
  /** only a space or a hyphen lies between this word and the one before ("ground nut", "cotton-seed"), no word dropped */
  close?: boolean
}

/** Words that deny the word after them ("not knitted", "other than knitted", "sin cocer", "sans sucre"). */
const DENIALS = new Set([...NEGATIONS, 'nor', 'than', 'nem', 'ni', 'excl', 'excluding', 'except'])
/** What carries a denial on to the next word: "not knitted or crocheted". */
const DENIED_LINKS = new Set(['or', 'o', 'u', 'ou'])

/**
 * The generic product word, a stop word of notices (nearly every notice says "products"):
 * dropped from phrases, but a term written with it ("dairy products", "productos de
 * tabaco") needs it beside its one remaining word.
 */
export const PRODUCT_WORD = /^(?:products?|productos?|produits?|produtos?)$/
/** What may stand between "productos"/"produits" and the word it heads. */
const PRODUCT_LINKS = /^(?:de|del|des|du|la|d|da|do|das|dos|of)$/

/** What ends a phrase between two words: punctuation other than hyphens and apostrophes, or a line break. */
const PHRASE_BREAK = /[,;:()[\]{}.!?/|·•\n\r<>«»“”"]/
/** What ends a clause: a phrase break other than a comma. */
const CLAUSE_BREAK = /[;:()[\]{}.!?|·•\n\r]/

/** The words of a text in one language, stop words dropped, order kept. */
export function latinWords(text: string, lang: StemLanguage): Word[] {
  const out: Word[] = []
  let brk = false
  let end = false
  let forGap = false
  let ofGap = false
  let prep: string | undefined
  // a product word just before (only "de", "of"… between), and the word just before it
  let headNext = false
  let afterProduct = false
  let prevRaw: string | undefined
  let deniedBefore = false
  let last: Word | undefined
  for (const t of latinTokens(text, lang)) {
    if (t.broken) brk = true
    if (t.ended) end = true
    // (a denial runs through "or": "not knitted or crocheted", "ni cocido ni congelado")
    const denied = prevRaw !== undefined && (DENIALS.has(prevRaw) || (deniedBefore && DENIED_LINKS.has(prevRaw)))
    if (denied) deniedBefore = true
    else if (!DENIED_LINKS.has(t.raw)) deniedBefore = false
    prevRaw = t.raw
    const s = stemToken(t.raw, lang)
    if (s) {
      // (one shape for every word: absent flags are undefined)
      const first = out.length === 0
      out.push({
        stem: s,
        light: lightStem(t.raw, lang),
        modifier: t.modifier === true,
        attributive: t.attributive === true,
        use: t.use ? true : undefined,
        brk: brk && !first ? true : undefined,
        end: end && !first ? true : undefined,
        acronym: t.acronym ? stripAccents(t.raw) : undefined,
        forGap: forGap && !first ? true : undefined,
        of: ofGap && !first ? true : undefined,
        at: t.index,
        prep: first ? undefined : prep,
        headed: headNext && !brk ? true : undefined,
        neg: denied ? true : undefined,
        close: last !== undefined && !t.broken ? true : undefined,
      })
      last = out[out.length - 1]
      brk = false
      end = false
      forGap = false
      ofGap = false
      prep = undefined
      headNext = false
      afterProduct = false
    } else {
      if (FOR_WORDS.test(t.raw)) forGap = true
      if (t.raw === 'of') ofGap = true
      else if (t.raw !== 'the') ofGap = false
      if (prep === undefined && PREPOSITIONS.has(t.raw)) prep = t.raw
      if (PRODUCT_WORD.test(t.raw)) {
        if (last && !t.broken) last.headed = true
        // English puts the word before ("dairy products") or after "of"; Romance languages
        // after, an adjective or with "de" ("productos lácteos", "produits de la pêche")
        afterProduct = true
        headNext = lang !== 'eng'
      } else if (afterProduct && PRODUCT_LINKS.test(t.raw)) headNext = true
      else {
        headNext = false
        afterProduct = false
      }
      last = undefined
    }
  }
  return out
}

/** Stems of the Latin words of a text in one language, stop words dropped, order kept. */
export function latinStems(text: string, lang: StemLanguage): string[] {
  const out: string[] = []
  for (const t of latinTokens(text)) {
    const s = stemToken(t.raw, lang)
    if (s) out.push(s)
  }
  return out
}

/** The stems of the words of a text that could name a product: stop words and words about a product (safety, labelling, 要求…) left out. */
export function productStems(text: string, lang: StemLanguage): string[] {
  const out: string[] = []
  for (const t of latinTokens(text)) {
    const s = stemToken(t.raw, lang)
    if (s && !aboutWord(lightStem(t.raw, lang), lang)) out.push(s)
  }
  return out
}

/** Runs of Han characters; Chinese has no spaces, so matching works on substrings of these. */
export function hanRuns(text: string): string[] {
  return text.replace(HAN_ASIDE, '$1').match(HAN_RUN) ?? []
}

/** For each of hanRuns(text), whether an enumeration comma (、) alone joins it to the next: 番茄、辣椒和西瓜种子. */
export function hanListed(text: string): boolean[] {
  const t = text.replace(HAN_ASIDE, '$1')
  const out: boolean[] = []
  let end = -1
  for (const m of t.matchAll(HAN_RUN)) {
    if (end >= 0) out.push(/^\s*、\s*$/.test(t.slice(end, m.index)))
    end = m.index! + m[0].length
  }
  return out
}

/**
 * A bracketed aside without Chinese inside a Chinese phrase, as SPS notices give a species'
 * scientific name (芒果(Mangifera indica L.)插枝: mango cuttings): the phrase reads on
 * across it.
 */
const HAN_ASIDE = /(\p{Script=Han})\s*[(（][^()（）\p{Script=Han}]{1,80}[)）]\s*(?=\p{Script=Han})/gu

// Characters that glue Chinese sentences together rather than name products.
export const HAN_STOP = new Set('的和与及或等在对于为是其中了用以上下本该此各类种中按其'.split(''))

/** Chinese character bigrams (and lone characters of one-character runs), the model's features for Han text. */
export function hanBigrams(text: string): string[] {
  const out: string[] = []
  for (const run of hanRuns(text)) {
    if (run.length === 1) {
      if (!HAN_STOP.has(run)) out.push(run)
      continue
    }
    for (let i = 0; i + 1 < run.length; i++) {
      if (HAN_STOP.has(run[i]) || HAN_STOP.has(run[i + 1])) continue
      out.push(run.slice(i, i + 2))
    }
  }
  return out
}

let traditionalToSimplified: ((text: string) => string) | null | undefined
const HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/

/**
 * Chinese text in simplified characters. Notices reach us in both scripts (Taiwan's and
 * Hong Kong's portals publish traditional characters), while the lexicon and the model
 * speak simplified: OpenCC's Taiwan-to-mainland table converts before anything matches.
 * Text without Han characters is returned as it is, at no cost.
 */
export function toSimplified(text: string): string {
  if (!text || !HAN.test(text)) return text
  return sameMaterialWord(convertToSimplified(text))
}

/**
 * "Made of" a material is written 制 or 质 (木制工艺品, 木质工艺品; 钢制, 钢质): one form
 * for the lexicon and the text alike. 质量 (quality) stays.
 */
const MATERIAL_OF = /(木|竹|藤|纸|皮|革|铁|钢|铜|铝|锌|锡|金属|塑料|塑胶|玻璃|陶瓷|陶|瓷|橡胶|布|石)质(?!量)/g
const sameMaterialWord = (text: string) => text.replace(MATERIAL_OF, '$1制')

function convertToSimplified(text: string): string {
  if (traditionalToSimplified === undefined) {
    try {
      const require = createRequire(import.meta.url)
      const OpenCC = require('opencc-js/t2cn') as { Converter(o: { from: string; to: string }): (t: string) => string }
      traditionalToSimplified = OpenCC.Converter({ from: 'tw', to: 'cn' })
    } catch {
      traditionalToSimplified = null
    }
  }
  return traditionalToSimplified ? traditionalToSimplified(text) : text
}

/** Heads whose "for" phrase names what they are, as English compounds do: "machines for additive manufacturing" are additive manufacturing machines. */
const DEVICE_HEADS = /^(?:machines?|machinery|apparatus|appliances?|equipment|instruments?|devices?|tools|installations?|plant|units?)$/

/**
 * English "A of B" phrases read the other way round, as English compounds name them:
 * "extracts and juices of meat, fish or crustaceans" → "meat extracts", "meat juices",
 * "fish extracts"…; "bottles of glass" → "glass bottles"; and a device's "for" the same
 * way: "machines for additive manufacturing" → "additive manufacturing machines",
 * "machinery for making paper" → "paper making machinery". Heads are the word before "of"
 * (and one more joined by "and"/"or"), qualifiers the one or two words after it (and up to
 * three more in a list). `qualifiers` are the qualifiers' stems: in such a phrase they say
 * what the head is made of or from, not the product.
 */
export function ofPhrases(text: string): { words: Word[]; qualifiers: Set<string> }[] {
  const t = tokenize(text)
  const lower = lowered(text)
  const content = (k: number) => k >= 0 && k < t.length && /^\p{L}/u.test(t[k].raw) && isContent(t[k], 'eng')
  const spaced = (k: number) => k >= 0 && t[k].spaced === true
  const out: { words: Word[]; qualifiers: Set<string> }[] = []
  const comma = (k: number) => k >= 0 && k + 1 < t.length && /^\s*,\s*$/.test(lower.slice(t[k].index + t[k].raw.length, t[k + 1].index))
  for (let k = 1; k < t.length - 1; k++) {
    const link = t[k].raw
    if ((link !== 'of' && !(link === 'for' && DEVICE_HEADS.test(t[k - 1].raw))) || !spaced(k) || !content(k - 1)) continue
    const heads = [t[k - 1].raw]
    if (spaced(k - 1)) {
      if (k >= 3 && spaced(k - 3) && spaced(k - 2) && (t[k - 2].raw === 'and' || t[k - 2].raw === 'or') && content(k - 3)) heads.push(t[k - 3].raw)
    } else if (comma(k - 1)) {
      // The nomenclature's ", of": what follows qualifies every head of the list before
      // ("Extracts, essences and concentrates, of coffee"; "Tubes, pipes and hoses, of plastics").
      let i = k - 2
      while (heads.length < 4 && i >= 1) {
        if (comma(i) && content(i)) heads.push(t[i--].raw)
        else if ((t[i].raw === 'and' || t[i].raw === 'or') && spaced(i) && spaced(i - 1) && content(i - 1)) {
          heads.push(t[i - 1].raw)
          i -= 2
        } else break
      }
      if (i === 0 && comma(0) && content(0) && heads.length < 4) heads.push(t[0].raw)
    } else continue
    // the qualifiers: one or two words each, separated by commas, "and" or "or"
    const mods: string[] = []
    let j = k + 1
    if (t[j] && /^(?:the|a|an)$/.test(t[j].raw) && spaced(j)) j++
    // "machinery for making paper": paper making machinery
    let gerund = ''
    if (link === 'for' && t[j] && /ing$/.test(t[j].raw) && spaced(j) && content(j + 1)) gerund = ` ${t[j++].raw}`
    while (j < t.length && mods.length < 4 && content(j)) {
      // (a device's purpose may end in a word about products: "for additive manufacturing")
      const two = spaced(j) && (content(j + 1) || (link === 'for' && j + 1 < t.length && /^\p{L}/u.test(t[j + 1].raw) && stemToken(t[j + 1].raw, 'eng') !== null)) && t[j + 2]?.raw !== 'of'
      mods.push((two ? `${t[j].raw} ${t[j + 1].raw}` : t[j].raw) + gerund)
      j += two ? 2 : 1
      const last = j - 1
      if (j < t.length && (t[j].raw === 'and' || t[j].raw === 'or') && spaced(last) && spaced(j)) j++
      else if (j < t.length && !spaced(last) && /^\s*,\s*$/.test(lower.slice(t[last].index + t[last].raw.length, t[j].index))) {
        if ((t[j].raw === 'and' || t[j].raw === 'or') && spaced(j)) j++
      } else break
    }
    if (!mods.length) continue
    const qualifiers = new Set(mods.flatMap((m) => latinWords(m, 'eng').map((w) => w.stem)))
    for (const h of heads) for (const m of mods) out.push({ words: latinWords(`${m} ${h}`, 'eng'), qualifiers })
  }
  return out
}
