// Synthetic labelled notices for the classifier's benchmarks: made-up title templates in
// English, Spanish, French and Chinese filled with product terms drawn from rules/lexicon
// (so the words are realistic and the labels known), plus filler sentences. Deterministic.
import type { ClassifyInput } from '../src/classify/index.js'
import { loadLexicon } from '../src/classify/lexicon.js'

// A small deterministic PRNG, so every run classifies the same notices.
let seed = 42
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]

const TEMPLATES: Record<string, { title: string[]; filler: string[] }> = {
  eng: {
    title: ['Draft technical regulation on {p}', 'Safety requirements for {p}', 'Labelling of {p} — specification', 'Amendment to the energy efficiency rules for {p}', 'Conformity assessment procedure for imported {p}'],
    filler: ['The regulation lays down requirements, sampling and test methods.', 'Products shall bear a conformity mark before being placed on the market.', 'It applies to domestic and imported products alike.', 'Manufacturers shall keep technical documentation for ten years.'],
  },
  spa: {
    title: ['Proyecto de reglamento técnico sobre {p}', 'Requisitos de seguridad para {p}', 'Etiquetado de {p}', 'Modificación del reglamento de {p}'],
    filler: ['El reglamento establece los requisitos y los métodos de ensayo.', 'Los productos importados deberán contar con un certificado de conformidad.', 'Se aplica a los productos nacionales e importados.'],
  },
  fra: {
    title: ['Projet de règlement technique relatif aux {p}', 'Exigences de sécurité applicables aux {p}', 'Étiquetage des {p}'],
    filler: ['Le règlement fixe les exigences et les méthodes d’essai.', 'Les produits importés doivent être accompagnés d’un certificat de conformité.'],
  },
  cmn: {
    title: ['关于{p}的技术法规草案', '{p}安全要求', '{p}标签要求', '进口{p}合格评定程序'],
    filler: ['本法规规定了技术要求、抽样和试验方法。', '产品投放市场前应加贴合格标志。', '本法规适用于国产和进口产品。'],
  },
}

export function syntheticNotices(n: number): { input: ClassifyInput; chapter: string; code: string }[] {
  seed = 42 // the same notices on every call
  const lex = loadLexicon()
  const byLang: Record<string, { term: string; code: string }[]> = { eng: [], spa: [], fra: [], cmn: [] }
  for (const [lang, index] of lex.latin) {
    if (byLang[lang]) for (const list of index.values()) for (const t of list) byLang[lang].push({ term: t.term, code: t.code })
  }
  for (const list of lex.han.values()) for (const t of list) if (t.term.length >= 2) byLang.cmn.push({ term: t.term, code: t.code })
  const langs = Object.keys(TEMPLATES)
  const out: { input: ClassifyInput; chapter: string; code: string }[] = []
  for (let i = 0; i < n; i++) {
    const lang = pick(langs)
    const t = TEMPLATES[lang]
    const p = pick(byLang[lang])
    const sep = lang === 'cmn' ? '' : ' '
    const description = [pick(t.filler), pick(t.filler), pick(t.filler)].join(sep)
    out.push({ input: { id: `B/${i}`, title: pick(t.title).replace('{p}', p.term), products: p.term, description, objectives: ['Protection of human health or safety'] }, chapter: p.code.slice(0, 2), code: p.code })
  }
  return out
}

