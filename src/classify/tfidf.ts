/**
 * Documents as bags of weighted features, searched by cosine similarity with idf weights
 * (log(1 + documents / documents holding the feature)): the HS nomenclature's headings
 * (NomenclatureIndex) and the lexicon's codes (NearTerms).
 */
export class TfIdfIndex {
  private readonly postings = new Map<string, { doc: string; tf: number }[]>()
  private readonly idf = new Map<string, number>()
  private readonly norms = new Map<string, number>()

  /** `tf` turns a feature's summed weight in a document into the weight it is scored with. */
  constructor(bags: Map<string, Map<string, number>>, tf: (weight: number) => number = (w) => w) {
    const n = bags.size
    const df = new Map<string, number>()
    for (const bag of bags.values()) for (const f of bag.keys()) df.set(f, (df.get(f) ?? 0) + 1)
    for (const [f, d] of df) this.idf.set(f, Math.log(1 + n / d))
    for (const [doc, bag] of bags) {
      let norm = 0
      for (const [f, w] of bag) {
        const t = tf(w)
        norm += (t * this.idf.get(f)!) ** 2
        const list = this.postings.get(f) ?? []
        list.push({ doc, tf: t })
        this.postings.set(f, list)
      }
      this.norms.set(doc, Math.sqrt(norm) || 1)
    }
  }

  /** The documents closest to a weighted query, best first (ties by id), with the features they share. */
  search(query: Map<string, number>, top = 3): { doc: string; score: number; shared: string[] }[] {
    const acc = new Map<string, { score: number; shared: string[] }>()
    let qnorm = 0
    for (const [f, qw] of query) {
      const idf = this.idf.get(f)
      if (!idf) continue
      qnorm += (qw * idf) ** 2
      for (const p of this.postings.get(f)!) {
        const a = acc.get(p.doc) ?? { score: 0, shared: [] }
        a.score += qw * idf * p.tf * idf
        a.shared.push(f)
        acc.set(p.doc, a)
      }
    }
    const qn = Math.sqrt(qnorm) || 1
    return [...acc.entries()]
      .map(([doc, a]) => ({ doc, score: a.score / (qn * this.norms.get(doc)!), shared: a.shared }))
      .sort((x, y) => y.score - x.score || (x.doc < y.doc ? -1 : x.doc > y.doc ? 1 : 0))
      .slice(0, top)
  }
}
