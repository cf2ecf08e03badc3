import { HAN_ABOUT, type CompiledLexicon } from './lexicon.js'
import { hanRuns, productStems, type StemLanguage } from './normalize.js'

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
  private readonly postings = new Map<string, { code: string; tf: number }[]>()
  private readonly idf = new Map<string, number>()
  private readonly norms = new Map<string, number>()

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
    const n = bags.size
    const df = new Map<string, number>()
    for (const b of bags.values()) for (const f of b.keys()) df.set(f, (df.get(f) ?? 0) + 1)
    for (const [f, d] of df) this.idf.set(f, Math.log(1 + n / d))
    for (const [code, b] of bags) {
      let norm = 0
      for (const [f, tf0] of b) {
        const tf = 1 + Math.log(tf0 + 1)
        norm += (tf * this.idf.get(f)!) ** 2
        const list = this.postings.get(f) ?? []
        list.push({ code, tf })
        this.postings.set(f, list)
      }
      this.norms.set(code, Math.sqrt(norm) || 1)
    }
  }

  /** The features of a text: stems in the given languages, Chinese pairs and word ends. */
  static features(text: string, langs: StemLanguage[], weight: number, cut: (run: string) => string[], into = new Map<string, number>()): Map<string, number> {
    const add = (f: string) => into.set(f, (into.get(f) ?? 0) + weight)
    for (const lang of langs) for (const s of productStems(text, lang)) if (!DRAFTING.has(s)) add(`${lang}:${s}`)
    for (const run of hanRuns(text)) {
      // pairs over the run (compounds the segmenter splits) and the ends of the words it
      // cuts, words about a product (要求, 规范, 标签…) left out
      const words = cut(run).filter((w) => !HAN_ABOUT.has(w) && !HAN_STOP_WORDS.has(w))
      for (const w of words) add(`e:${[...w].pop()}`)
      for (const f of hanFeatures(words.join('|'))) if (f.startsWith('h:') && !f.includes('|')) add(f)
    }
    return into
  }

  /** Codes whose terms share the most (idf-weighted) with the features, best first, with what they share. */
  search(query: Map<string, number>, top = 3): { code: string; score: number; shared: string[] }[] {
    const acc = new Map<string, { score: number; shared: string[] }>()
    let qnorm = 0
    for (const [f, qw] of query) {
      const idf = this.idf.get(f)
      if (!idf) continue
      qnorm += (qw * idf) ** 2
      for (const p of this.postings.get(f) ?? []) {
        const a = acc.get(p.code) ?? { score: 0, shared: [] }
        a.score += qw * idf * p.tf * idf
        a.shared.push(f.slice(f.indexOf(':') + 1))
        acc.set(p.code, a)
      }
    }
    const qn = Math.sqrt(qnorm) || 1
    return [...acc.entries()]
      .map(([code, a]) => ({ code, score: a.score / qn / this.norms.get(code)!, shared: a.shared }))
      .sort((x, y) => y.score - x.score || x.code.localeCompare(y.code))
      .slice(0, top)
  }
}

/** Stems of the tariff's and the notices' drafting ("not elsewhere specified", "specifies requirements"), in the four stemming languages: they name nothing. */
const DRAFTING = new Set(['specifi', 'specif', 'includ', 'elsewher', 'excl', 'exclud', 'except', 'whether', 'other', 'otherwis', 'kind', 'type', 'similar', 'part', 'accessori', 'articl', 'good', 'item', 'establish', 'appli', 'applic', 'requir', 'set', 'lai', 'prescrib', 'determin', 'defin', 'cover', 'concern', 'relat', 'intend', 'draft', 'standard', 'regul', 'amend', 'propos', 'rule', 'notic', 'establec', 'aplic', 'especif', 'fij', 'etabl', 'defin', 'vis', 'autr', 'otro', 'otra', 'demá', 'dema'])

/** Particles and notice words that name nothing. */
const HAN_STOP_WORDS = new Set(['的', '和', '与', '及', '或', '等', '在', '对', '于', '为', '是', '了', '用', '以', '本', '该', '此', '各', '类', '种', '中', '按', '其', '草案', '修订', '第', '版', '号', '规定了', '适用于'])

/** A Chinese term's character pairs and its last character. */
function hanFeatures(text: string): string[] {
  const out: string[] = []
  const chars = [...text]
  for (let i = 0; i + 1 < chars.length; i++) out.push(`h:${chars[i]}${chars[i + 1]}`)
  if (chars.length) out.push(`e:${chars[chars.length - 1]}`)
  return out
}
