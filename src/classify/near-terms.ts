import { HAN_ABOUT, type CompiledLexicon } from './lexicon.js'
import { HAN_STOP, hanRuns, productStems, type StemLanguage } from './normalize.js'
import { TfIdfIndex } from './tfidf.js'

/**
 * The last resort when no lexicon term matches a notice at all: the lexicon's own terms,
 * as bags of features per code (Latin word stems; Chinese character pairs, and the last
 * character of a term, which in Chinese names the kind of thing: 巾 in 毛巾, 罐 in 储罐),
 * searched like a small full-text index. A notice about 婴儿包巾 or "blow-moulded
 * polyolefin containers" names no term of the lexicon, but shares 巾 with 毛巾 and 头巾, or
 * "polyolefin" with the plastics. The guess is weak, and said to be: it only stands where
 * the classifier would otherwise say nothing.
 */
export class NearTerms {
  private readonly index: TfIdfIndex

  constructor(lex: CompiledLexicon) {
    const bags = new Map<string, Map<string, number>>()
    const bag = (code: string) => {
      let b = bags.get(code)
      if (!b) bags.set(code, (b = new Map()))
      return b
    }
    for (const [lang, index] of lex.latin) {
      for (const terms of index.values()) {
        for (const t of terms) {
          const b = bag(t.code)
          for (const s of t.stems) if (!DRAFTING.has(s)) b.set(`${lang}:${s}`, (b.get(`${lang}:${s}`) ?? 0) + t.weight)
        }
      }
    }
    for (const terms of [...lex.han.values(), ...lex.hanWords.values()]) {
      for (const t of terms) {
        const b = bag(t.code)
        for (const f of hanFeatures(t.term)) b.set(f, (b.get(f) ?? 0) + t.weight)
      }
    }
    // A feature a code's terms repeat counts more, but less than in proportion.
    this.index = new TfIdfIndex(bags, (w) => 1 + Math.log(w + 1))
  }

  /** The features of a text: stems in the given languages, Chinese pairs and word ends. */
  static features(text: string, langs: StemLanguage[], weight: number, cut: (run: string) => string[], into = new Map<string, number>()): Map<string, number> {
    const add = (f: string) => into.set(f, (into.get(f) ?? 0) + weight)
    for (const lang of langs) for (const s of productStems(text, lang)) if (!DRAFTING.has(s)) add(`${lang}:${s}`)
    for (const run of hanRuns(text)) {
      // pairs over the run (compounds the segmenter splits) and the ends of the words it
      // cuts, words about a product (要求, 规范, 标签…) left out
      const words = cut(run).filter((w) => !HAN_ABOUT.has(w) && !HAN_NOTICE_WORDS.has(w) && !(w.length === 1 && HAN_STOP.has(w)))
      for (const w of words) add(`e:${[...w].pop()}`)
      for (const f of hanFeatures(words.join('|'))) if (f.startsWith('h:') && !f.includes('|')) add(f)
    }
    return into
  }

  /** Codes whose terms share the most (idf-weighted) with the features, best first, with what they share. */
  search(query: Map<string, number>, top = 3): { code: string; score: number; shared: string[] }[] {
    return this.index.search(query, top).map((h) => ({ code: h.doc, score: h.score, shared: h.shared.map((f) => f.slice(f.indexOf(':') + 1)) }))
  }
}

/** Stems of the tariff's and the notices' drafting ("not elsewhere specified", "specifies requirements"), in the four stemming languages: they name nothing. */
const DRAFTING = new Set(['specifi', 'specif', 'includ', 'elsewher', 'excl', 'exclud', 'except', 'whether', 'other', 'otherwis', 'kind', 'type', 'similar', 'part', 'accessori', 'articl', 'good', 'item', 'establish', 'appli', 'applic', 'requir', 'set', 'lai', 'prescrib', 'determin', 'defin', 'cover', 'concern', 'relat', 'intend', 'draft', 'standard', 'regul', 'amend', 'propos', 'rule', 'notic', 'establec', 'aplic', 'especif', 'fij', 'etabl', 'defin', 'vis', 'autr', 'otro', 'otra', 'demá', 'dema'])

/** Notice words that name nothing (beside the particles of HAN_STOP). */
const HAN_NOTICE_WORDS = new Set(['草案', '修订', '第', '版', '号', '规定了', '适用于'])

/** A Chinese term's character pairs and its last character. */
function hanFeatures(text: string): string[] {
  const out: string[] = []
  const chars = [...text]
  for (let i = 0; i + 1 < chars.length; i++) out.push(`h:${chars[i]}${chars[i + 1]}`)
  if (chars.length) out.push(`e:${chars[chars.length - 1]}`)
  return out
}
