/**
 * Reading regulatory language: which sentences of a notice name its products.
 *
 * A notice's description is not a bag of words. Its scope sentence ("This rule applies
 * to…", "本规则适用于…", "Le présent règlement s'applique…", "El presente reglamento se
 * aplica…") and its opening sentence ("This standard specifies requirements for …") name
 * the products; the sentences that give the purpose ("to protect consumers' health"),
 * the procedure ("comments may be submitted…", "docket"), and dates ("effective 180 days
 * after…") do not, and their words ("period", "health", "food" in an agency's name)
 * are what lured a word-matcher away from the product. Each sentence gets a weight that
 * multiplies what its words vote.
 */

export type SentenceRole = 'scope' | 'exclusion' | 'subject' | 'other' | 'purpose' | 'procedure' | 'date'

export interface Segment { text: string; role: SentenceRole; weight: number }

export const ROLE_WEIGHTS: Record<SentenceRole, number> = {
  scope: 1.5,
  /** "This standard does not apply to…": what the sentence names is what the measure leaves out */
  exclusion: 0.1,
  subject: 1.2,
  other: 1,
  purpose: 0.35,
  date: 0.3,
  procedure: 0.2,
}

type RolePatterns = Partial<Record<'scope' | 'purpose' | 'procedure' | 'date', RegExp>>

// Patterns by language family; a sentence is tested against every language's patterns,
// because notices mix them (a Chinese portal page quoting an English scope sentence).
const PATTERNS: RolePatterns[] = [
  {
    scope: /\b(?:appl(?:y|ies|ying)\s+to|applicable\s+to|shall\s+apply|covers?\b|covering\b|scope\b|concerns?\b|relat(?:es|ing)\s+to|in\s+respect\s+of|intended\s+for|(?:specifies|establishes|prescribes|sets\s+(?:out|forth)|lays\s+down)\b[^.]{0,80}\b(?:for|of|on)\b|standards?\s+for\b|requirements\s+for\b)/i,
    purpose: /\b(?:in\s+order\s+to|so\s+as\s+to|to\s+(?:protect|ensure|prevent|reduce|improve|promote|safeguard|harmoni[sz]e|align|address|avoid|minimi[sz]e)|aims?\s+(?:to|at)|objective|purpose|rationale|with\s+a\s+view\s+to|protection\s+of\s+(?:human|animal|plant|the\s+environment|consumers?))\b/i,
    procedure: /\b(?:comments?|commenters?|docket|public\s+hearing|hearings?|webinar|submit(?:ted)?|written\s+(?:data|views)|petition(?:s|ers?)?|information\s+collection|paperwork|regulatory\s+flexibility|executive\s+order|e-?mail|mailing\s+address|for\s+further\s+information|contact|federal\s+register|notice\s+of\s+proposed|request\s+for\s+(?:comments?|information))\b/i,
    date: /\b(?:effective\s+(?:date|on|from)|enter(?:s|ed)?\s+into\s+force|entry\s+into\s+force|compliance\s+date|comply\s+by|no\s+later\s+than|on\s+or\s+(?:before|after)|\d+\s+(?:days?|months?|years?)\s+(?:after|from|following))\b/i,
  },
  {
    scope: /(?:se\s+aplica|aplica\s+a|aplicable\s+a|[aá]mbito\s+de\s+aplicaci[oó]n|alcance|comprende|abarca|se\s+refiere\s+a|(?:establece|especifica|determina|fija)\b[^.]{0,80}\b(?:que\s+deben\s+cumplir|para|de)\b)/i,
    purpose: /(?:con\s+(?:el|la)\s+(?:fin|objeto|prop[oó]sito|finalidad)|a\s+fin\s+de|para\s+(?:proteger|garantizar|prevenir|asegurar|evitar|reducir)|objetivo|protecci[oó]n\s+de\s+la\s+(?:salud|vida|seguridad))/i,
    procedure: /(?:comentarios|observaciones|consulta\s+p[uú]blica|audiencia|presentar\s+(?:sus\s+)?(?:comentarios|observaciones)|correo\s+electr[oó]nico)/i,
    date: /(?:entrar[aá]\s+en\s+vigor|entrada\s+en\s+vigor|fecha\s+de|plazo\s+de|\d+\s+(?:d[ií]as|meses|a[nñ]os)\s+(?:despu[eé]s|a\s+partir|contados))/i,
  },
  {
    scope: /(?:s['’]applique|champ\s+d['’]application|concerne|vise\s+les|applicables?\s+aux?|(?:fixe|[ée]tablit|d[ée]finit|sp[ée]cifie)\b[^.]{0,80}\b(?:des|pour|applicables?))/i,
    purpose: /(?:afin\s+de|en\s+vue\s+de|pour\s+(?:prot[ée]ger|garantir|pr[ée]venir|assurer|r[ée]duire)|objectif|protection\s+de\s+la\s+sant[ée])/i,
    procedure: /(?:observations|commentaires|consultation\s+publique)/i,
    date: /(?:entr(?:ée|era)\s+en\s+vigueur|date\s+d['’]|\d+\s+(?:jours|mois|ans)\s+(?:après|à\s+compter))/i,
  },
  {
    scope: /(?:aplica-se|se\s+aplica|[aâ]mbito\s+de\s+aplica[cç][aã]o|abrange)/i,
    purpose: /(?:a\s+fim\s+de|com\s+o\s+objetivo|para\s+(?:proteger|garantir|prevenir))/i,
    date: /(?:entra(?:r[aá])?\s+em\s+vigor|vig[eê]ncia)/i,
  },
  {
    scope: /(?:适用于|適用於|适用范围|適用範圍|涉及|规定了|規定了|本(?:标准|標準|规则|規則|法规|法規|条例|條例|规范|規範|技术法规|技術法規)(?:规定|規定|适用|適用|涵盖|涵蓋))/,
    purpose: /(?:为了|為了|旨在|目的是|目的在于|以(?:保护|保護|确保|確保|防止|保障)|保护(?:人类|消费者|环境|動物|动物|植物)|保護(?:人類|消費者|環境))/,
    procedure: /(?:意见|意見|评议|評議|征求|徵求|联系|聯繫|咨询|諮詢|电子邮件|電子郵件)/,
    date: /(?:生效|实施日期|實施日期|施行|日起|\d+\s*(?:天|日|个月|個月|年)(?:后|後|内|內))/,
  },
]

// Sentence ends: Latin full stops followed by space and a capital, semicolons, and the
// Chinese and full-width marks. Abbreviations ("e.g. ", "No. 12") keep their sentence.
const SENTENCE_END = /(?<=[。；！？;!?])\s*|(?<=[a-z\d\u00df-\u00ff)\]]{2}\.)\s+(?=[\p{Lu}\d("“])|\n+/u

export function splitSentences(text: string): string[] {
  return text.split(SENTENCE_END).map((s) => s.trim()).filter((s) => s.length > 0)
}

// One expression per role across the languages: a sentence is tested four times, not twenty.
const combine = (role: 'scope' | 'purpose' | 'procedure' | 'date') =>
  new RegExp(PATTERNS.map((p) => p[role]?.source).filter(Boolean).join('|'), 'iu')
const ROLE_PATTERNS = { scope: combine('scope'), procedure: combine('procedure'), purpose: combine('purpose'), date: combine('date') }

// A sentence that says what the measure does not cover. Tested before the scope, whose
// words it contains ("does not apply to", "不适用于").
const EXCLUSION_SENTENCE = new RegExp(
  [
    /\b(?:(?:does|do|shall|will)\s+not\s+(?:apply|cover|concern)|(?:is|are)\s+not\s+(?:applicable|covered|subject)|not\s+applicable\s+to|(?:is|are)\s+excluded|excludes?\s+(?:the\s+)?(?:following|from)|outside\s+(?:the|its)\s+scope)\b/.source,
    /(?:no\s+(?:se\s+aplica|es\s+aplicable|son\s+aplicables|comprende|abarca)|quedan?\s+excluid[oa]s|se\s+excluyen)/.source,
    /(?:ne\s+s['’]applique\s+pas|ne\s+(?:couvre|concerne|vise)\s+pas|(?:sont|est)\s+exclus?e?s?|non\s+applicables?)/.source,
    /(?:não\s+se\s+aplica|excluem-se)/.source,
    /(?:不适用于|不適用於|不适用|不適用|不包括|不包含|不涵盖|不涵蓋)/.source,
  ].join('|'),
  'iu',
)

/** A cheap first look for EXCLUSION_SENTENCE: most sentences hold none of these. */
const MAY_NEGATE = /not|no\s|ne\s|exclu|outside|não|不/i

export function sentenceRole(sentence: string, first: boolean): SentenceRole {
  if (MAY_NEGATE.test(sentence) && EXCLUSION_SENTENCE.test(sentence)) return 'exclusion'
  // A scope sentence that also gives a purpose or a date still names the products.
  if (ROLE_PATTERNS.scope.test(sentence)) return 'scope'
  if (ROLE_PATTERNS.procedure.test(sentence)) return 'procedure'
  if (ROLE_PATTERNS.purpose.test(sentence)) return 'purpose'
  if (ROLE_PATTERNS.date.test(sentence)) return 'date'
  return first ? 'subject' : 'other'
}

/** The description cut into sentences, each with its role and weight. */
export function segmentDescription(text: string): Segment[] {
  const sentences = splitSentences(text)
  return sentences.map((s, i) => {
    const role = sentenceRole(s, i === 0)
    return { text: s, role, weight: ROLE_WEIGHTS[role] }
  })
}

// Names of authorities carry product words ("Food and Drug Administration", "Secretaría
// de Agricultura", "食品药品管理局") that say who regulates, not what. Titles are often in
// Title Case, so a capitalised run alone proves nothing ("Standards for Consumer
// Refrigerators and Service Equipment"): only unmistakable shapes are dropped: a name
// followed by an acronym of its initials, "the … Administration/Agency/…", "Ministry of …",
// the Spanish and French ministries and institutes, and Chinese authorities whose names
// hold product words.
const ORG_HEAD = '(?:Administration|Agency|Authority|Commission|Department|Ministry|Bureau|Institute|Secretariat|Directorate|Organi[sz]ation)'
const CAP = "[A-Z][\\w'’&-]*"
const ORG_PATTERNS: RegExp[] = [
  // "the U.S. Food and Drug Administration", "The Consumer Product Safety Commission"
  new RegExp(`\\b[Tt]he\\s+(?:(?:U\\.S\\.|US|EU)\\s+)?(?:${CAP}(?:\\s+(?:and|of|for|on|&))?\\s+){0,6}${ORG_HEAD}\\b(?:\\s+(?:of|for)(?:\\s+the)?(?:\\s+${CAP}){1,4})?`, 'g'),
  // "Department of Energy", "Ministry of Health and Population"
  new RegExp(`\\b(?:Department|Ministry|Bureau|Secretariat|Directorate)\\s+(?:of|for)(?:\\s+the)?(?:\\s+(?:and|&)?\\s*${CAP}){1,5}`, 'g'),
  // "Ministerio de Salud Pública", "Secretaría de Economía", "Ministère de l'Agriculture"
  /\b(?:Ministerio|Secretar[ií]a|Instituto|Servicio\s+Nacional|Agencia|Direcci[oó]n\s+General|Superintendencia|Minist[eè]re|Direction\s+g[ée]n[ée]rale|Agence|Institut)(?:\s+(?:de|del|de\s+la|des|du|de\s+l['’]|y|et|para|pour)?\s*\p{Lu}[\p{L}'’-]*){1,6}/gu,
]
// Without "the", two or more capitalised words ending in a word no product name ends in:
// "Food and Drug Administration, HHS", "Environmental Protection Agency", "Pipeline and
// Hazardous Materials Safety Administration" (a Federal Register header names its agency so).
// Tried only where one of those words occurs.
const BARE_HEADS = '(?:Administration|Agency|Commission|Directorate|Secretariat)'
const ORG_BARE_HEAD = new RegExp(`\\b${BARE_HEADS}\\b`)
const ORG_BARE = new RegExp(`\\b(?:${CAP}(?:\\s+(?:and|of|for|on|&))?\\s+){1,7}${BARE_HEADS}\\b(?:,\\s*[A-Z]{2,6}\\b)?`, 'g')
const ORG_ZH = [
  /(?:食品药品|食品藥品|食品和药品|食品药物|食品藥物|食品|药品|藥品|药物|藥物|消费品|消費品|农业|農業|渔业|漁業|林业|林業|能源|卫生|衛生|医药|醫藥|化学品|化學品)[\u4e00-\u9fff]{0,6}?(?:监督管理总局|監督管理總局|管理总局|管理總局|监督管理局|監督管理局|管理局|监督局|監督局|委员会|委員會|研究院|总局|總局)/g,
  /(?:农业|農業|卫生|衛生|能源|商务|商務|工业|工業|环境|環境|贸易|貿易)(?:和[\u4e00-\u9fff]{1,4})?部(?![件分位品门門])/g,
]
const ORG_WORD = /\b(?:Act|Standards?|Program(?:me)?|Regulations?|Directive|Code|Administration|Agency|Authority|Commission|Department|Ministry|Bureau|Institute|Secretariat|Directorate|Organi[sz]ation|Council|Board|Office|Service|Ministerio|Secretar[ií]a|Instituto|Servicio|Agencia|Comisi[oó]n|Minist[eè]re|Agence|Institut)\b/
// "(FDA)", "(CPSC or Commission)": an acronym in parentheses after a name.
const ACRONYM_AFTER = /((?:[A-Z][\w'’&.-]*\s+(?:(?:and|of|for|on|the|&|de|del|la|y|des|du)\s+)*){2,8})\(([A-Z][A-Za-z&.]{1,9})(?:[,;]?\s+or\s+[^)]{0,40})?\)/g

// A Federal Register document opens with labelled parts: AGENCY (who), ACTION (the kind of
// document: "Proposed rule"), SUMMARY (what), then DATES, ADDRESSES and FOR FURTHER
// INFORMATION CONTACT (the procedure), then SUPPLEMENTARY INFORMATION (the background).
// Who and the procedure name no product: a part is dropped up to the next label. Labels are
// matched in capitals only, as the Register prints them.
const FR_LABEL = '(?:AGENC(?:Y|IES)|ACTION|SUMMARY|DATES?|ADDRESSES|FOR\\s+FURTHER\\s+INFORMATION\\s+CONTACT|SUPPLEMENTARY\\s+INFORMATION)\\s*:'
const FR_DROPPED = new RegExp(`\\b(?:AGENC(?:Y|IES)|ACTION|DATES?|ADDRESSES|FOR\\s+FURTHER\\s+INFORMATION\\s+CONTACT)\\s*:[^]*?(?=\\b${FR_LABEL}|$)`, 'g')
const FR_KEPT = /\b(?:SUMMARY|SUPPLEMENTARY\s+INFORMATION)\s*:\s*/g
const FR_LABELS = new RegExp(`\\b${FR_LABEL}`, 'g')

/** A Federal Register preamble's parts that say who and how, not what (with two labels or more). */
export function dropRegisterParts(text: string): string {
  if (!text.includes(':')) return text
  const labels = text.match(FR_LABELS)
  if (!labels || labels.length < 2) return text
  return text.replace(FR_DROPPED, ' ').replace(FR_KEPT, ' ').replace(/\s{2,}/g, ' ').trim()
}

/** The text without the names of authorities (product words inside them say who regulates, not what). */
export function dropAuthorities(text: string): string {
  let t = dropRegisterParts(text).replace(ACRONYM_AFTER, (whole, name: string, acro: string) => {
    const letters = acro.replace(/[^A-Z]/g, '')
    const initials = name.split(/\s+/).filter((w) => /^[A-Z]/.test(w)).map((w) => w[0]).join('')
    // Products have acronyms too ("Liquefied Petroleum Gas (LPG)"): only the name of an
    // authority, a law, a standard or a programme ("Federal Motor Vehicle Safety Standard
    // (FMVSS)", "Toxic Substances Control Act (TSCA)"), whose initials the acronym takes, is dropped.
    return ORG_WORD.test(name) && letters.length >= 2 && initials.includes(letters.slice(0, 1)) ? ' ' : whole
  })
  for (const re of ORG_PATTERNS) t = t.replace(re, ' ')
  if (ORG_BARE_HEAD.test(t)) t = t.replace(ORG_BARE, ' ')
  for (const re of ORG_ZH) t = t.replace(re, ' ')
  return t
}

// "… specifies requirements and test methods for canned pineapple in syrup …",
// "… energy conservation standards for consumer furnaces", "This rule applies to bath
// seats", "… los requisitos que deben cumplir los neumáticos …", "本标准规定了速冻饺子的…",
// "适用于电动自行车用锂电池": the noun phrase that follows names the product.
const PHRASE_EN = /\b(?:appl(?:y|ies)\s+to|applicable\s+to|cover(?:s|ing)?|concern(?:s|ing)|(?:requirements?|specifications?|methods?|standards?|limits?|procedures?|rules?|labell?ing|levels?|tolerances?)\s+(?:for|of|on|applicable\s+to))\s+(?:all\s+|the\s+|certain\s+|new\s+|imported\s+)*([^.;:()]{3,100})/gi
const PHRASE_ES = /(?:(?:que\s+deben\s+cumplir|aplica(?:ble)?\s+a|aplicables?\s+a|requisitos\s+(?:para|de)|especificaciones\s+(?:para|de)|relativ[oa]s?\s+a)\s+(?:l[oa]s?\s+|el\s+|todos\s+l[oa]s\s+)*)([^.;:()]{3,100})/gi
const PHRASE_FR = /(?:(?:s['’]applique\s+aux?|applicables?\s+aux?|relati(?:f|ve|fs|ves)\s+aux?|exigences\s+(?:pour|applicables\s+aux?|relatives\s+aux?))\s+(?:les\s+|la\s+|le\s+|l['’])?)([^.;:()]{3,100})/gi
const PHRASE_ZH = /(?:规定了|规定|适用于|涉及|关于)([\u4e00-\u9fffA-Za-z0-9]{2,30}?)(?:的|，|。|、|；|$)|[“「《"]([^”」》"]{2,30})[”」》"]/g
// Where a product phrase stops: the purpose, the use, the people, a relative clause.
const PHRASE_END = /\s+(?:that|which|who|whose|intended|used|to\s+be|in\s+order|so\s+as|when|where|by|from|with\s+a\s+view|as\s+well\s+as\s+(?:the|their)|que|destinad[oa]s|utilizad[oa]s|con\s+el\s+fin|a\s+fin|qui|destin[ée]e?s|utilis[ée]e?s|afin)\b.*$/i

/** The noun phrases a notice's regulatory sentences say they apply to. */
export function productPhrases(text: string): string[] {
  const out: string[] = []
  for (const re of [PHRASE_EN, PHRASE_ES, PHRASE_FR]) {
    for (const m of text.matchAll(re)) {
      const phrase = m[1].replace(PHRASE_END, '').trim()
      if (phrase.length >= 3) out.push(phrase.split(/,\s+(?=\w+\s+\w+\s+\w+)/)[0])
    }
  }
  for (const m of text.matchAll(PHRASE_ZH)) {
    const phrase = (m[1] ?? m[2] ?? '').trim()
    if (phrase.length >= 2) out.push(phrase)
  }
  return out
}

// What a phrase leaves out: "Cereal flours (excl. wheat, meslin and maize)", "footwear,
// other than sports footwear,", "prepared or preserved otherwise than by vinegar",
// "木制餐具（不包括竹制餐具）", "(竹制品除外)". The nomenclature's own wording, which ePing's
// product field repeats, is full of these; the words they name are not the product.
// (Letters on both sides are looked for as letters: \b knows only ASCII, and "à" is none.)
const EXCLUDE_LATIN = /(?<![\p{L}\p{N}])(?:excl\.|(?:excluding|except(?:\s+for)?|other\s+than|otherwise\s+than|not\s+including|with\s+the\s+exception\s+of|excepto|salvo|con\s+exclusi[oó]n\s+de|distint[oa]s\s+de|que\s+no\s+sean|excluid[oa]s|sauf|à\s+l['’]exclusion\s+d(?:e|u|es)?|autres\s+que|non\s+compris)(?![\p{L}\p{N}]))/giu
const EXCLUDE_ZH = /(?:但?不包括|不包含|不含)/g
/** Characters that end a left-out span outside parentheses. */
const SPAN_END = /[,;，；。\n]/

/** The text with the spans that name what a phrase leaves out blanked (offsets kept). */
const MAY_EXCLUDE = ['excl', 'except', ' than', 'not incl', 'salvo', 'excepto', 'exclusi', 'distint', 'no sean', 'sauf', 'autres que', 'non compris', '不包', '不含', '除外']

export function dropExclusions(text: string): string {
  if (!text) return text
  // (most texts exclude nothing: a plain look first, the expressions only where it finds a word)
  const lower = text.toLowerCase()
  if (!MAY_EXCLUDE.some((w) => lower.includes(w))) return text
  const blank: [number, number][] = []
  const spanFrom = (start: number) => {
    // inside parentheses: up to the closing one; otherwise up to the next comma or semicolon
    let depth = 0
    for (let i = 0; i < start; i++) {
      const ch = text[i]
      if (ch === '(' || ch === '（') depth++
      else if ((ch === ')' || ch === '）') && depth > 0) depth--
    }
    for (let i = start; i < text.length; i++) {
      const ch = text[i]
      if (depth > 0 && (ch === ')' || ch === '）')) return i
      if (depth === 0 && (SPAN_END.test(ch) || ch === ')' || ch === '）')) return i
    }
    return text.length
  }
  for (const re of [EXCLUDE_LATIN, EXCLUDE_ZH]) {
    for (const m of text.matchAll(re)) blank.push([m.index!, spanFrom(m.index! + m[0].length)])
  }
  // "（竹制品除外）", "(X 除外)": the parenthesis before 除外
  for (const m of text.matchAll(/[(（]([^()（）]{1,40})除外[)）]/g)) blank.push([m.index!, m.index! + m[0].length])
  // "冻鱼，但税目0304的鱼片及其他鱼肉除外", "…，竹制品除外": from 但 (or the clause's start) to 除外
  for (const m of text.matchAll(/(?:但|(?<=[，,：:]))[^，,；;。\n()（）]{1,40}?除外/g)) blank.push([m.index!, m.index! + m[0].length])
  if (!blank.length) return text
  // (UTF-16 offsets throughout; a blank keeps the length, so later spans stay in place)
  let out = text
  for (const [a, b] of blank) out = out.slice(0, a) + ' '.repeat(Math.max(0, b - a)) + out.slice(b)
  return out
}
