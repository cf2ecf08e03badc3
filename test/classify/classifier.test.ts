import { beforeAll, describe, expect, it } from 'vitest'
import { createClassifier, type Classifier } from '../../src/classify/index.js'

let c: Classifier
beforeAll(async () => {
  c = await createClassifier()
})

const chapterOf = (r: { hs: { code: string }[] }) => r.hs[0]?.code.slice(0, 2)

describe('classify: words', () => {
  it('finds English product words, best code first, with evidence', () => {
    const r = c.classify({ id: 'n1', title: 'Draft technical regulation for lithium-ion batteries used in portable devices' })
    expect(r.hs[0].code).toBe('850760')
    expect(r.categories[0].id).toBe('lithium-batteries')
    expect(r.evidence.some((e) => e.kind === 'term' && e.code === '850760')).toBe(true)
    expect(r.hs.every((h) => /^\d{2,10}$/.test(h.code))).toBe(true)
  })

  it('finds Chinese product words as substrings', () => {
    const r = c.classify({ id: 'n2', title: '关于智能手机无线充电安全要求的国家标准草案' })
    expect(r.language).toBe('cmn')
    expect(r.hs[0].code).toBe('851713')
    expect(r.categories.map((x) => x.id)).toContain('mobile-phones')
  })

  it('reads a Federal Register notice by its summary, not by the name of its agency', () => {
    const r = c.classify({ id: 'fr', title: 'Standards for the Growing, Harvesting, Packing, and Holding of Produce for Human Consumption', description: 'AGENCY: Food and Drug Administration, HHS. ACTION: Proposed rule. SUMMARY: The proposed rule would revise the pre-harvest water requirements for fresh vegetables and fruits other than sprouts. DATES: Submit comments within 120 days.' })
    expect(r.hs.map((h) => h.code.slice(0, 2))).not.toContain('30')
    expect(['07', '08']).toContain(chapterOf(r))
  })

  it('reads a Spanish product after an aspect and "de" as the product ("eficiencia energética de refrigeradores")', () => {
    const r = c.classify({ id: 'es', title: 'Eficiencia energética de refrigeradores y congeladores electrodomésticos. Límites, métodos de prueba y etiquetado' })
    expect(r.hs[0].code.slice(0, 4)).toBe('8418')
  })

  it('keeps seeds of a cereal in the cereal\'s heading (maize seed 1005.10), other seeds for sowing in 1209', () => {
    for (const title of ['Phytosanitary requirements for the importation of maize seeds for sowing', 'Requisitos fitosanitarios para la importación de semillas de maíz para siembra', 'Exigences phytosanitaires pour les semences de maïs destinées à l\'ensemencement']) {
      expect(c.classify({ id: 's', title }).hs[0].code.slice(0, 4), title).toBe('1005')
    }
    expect(c.classify({ id: 's', title: 'Phytosanitary requirements for vegetable seeds for sowing' }).hs[0].code.slice(0, 4)).toBe('1209')
  })

  it('does not read the adjective of sanitary requirements as sanitary ware', () => {
    for (const title of ['Pescado congelado: requisitos sanitarios', 'Registro sanitario de dispositivos médicos', 'Requisitos sanitarios para leche en polvo']) {
      expect(c.classify({ id: 's', title }).hs.map((h) => h.code.slice(0, 4)), title).not.toContain('6910')
    }
    expect(c.classify({ id: 's', title: 'Aparatos sanitarios de cerámica: inodoros y lavabos' }).hs[0].code.slice(0, 4)).toBe('6910')
  })

  it('finds Spanish and French product words', () => {
    const es = c.classify({ id: 'n3', title: 'Proyecto de reglamento técnico: neumáticos nuevos para automóviles' })
    expect(es.language).toBe('spa')
    expect(es.hs[0].code).toBe('4011')
    const fr = c.classify({ id: 'n4', title: "Projet d'arrêté relatif aux jouets et à la sécurité des jouets électriques" })
    expect(fr.language).toBe('fra')
    expect(chapterOf(fr)).toBe('95')
  })

  it('lets a longer term win over the word inside it', () => {
    const r = c.classify({ id: 'n5', title: 'Maize flour for human consumption' })
    expect(r.hs[0].code).toBe('1102')
  })

  it('lets the title outweigh many neighbouring words in the description', () => {
    const r = c.classify({
      id: 'n6',
      title: 'Requirements for frozen lobsters',
      description: 'Covers lobsters packed with salt, sugar, citric acid, sodium chloride and glazing water.',
    })
    expect(r.hs[0].code).toBe('0306')
  })

  it('reads Chinese "X用Y" as Y for use with X', () => {
    const r = c.classify({ id: 'n8', title: '乘用车轮胎用气门嘴以外的汽车用安全玻璃' })
    expect(r.hs[0].code).toBe('7007')
    expect(c.classify({ id: 'n9', title: '家用电器用电源线' }).hs[0].code).toBe('8544')
    // 用品 ("articles") is a noun, not "for use with": the toys keep their full weight.
    expect(c.classify({ id: 'n10', title: '儿童用品 玩具' }).hs[0].code).toBe('9503')
  })

  it('reads Chinese "X的Y" and "X或Z的Y" as Y, unless Y is about X or what X contains', () => {
    const heading = (title: string) => c.classify({ id: 'de', title }).hs[0]?.code.slice(0, 4)
    expect(heading('手机的充电器')).toBe('8504')
    expect(heading('汽车的轮胎标签')).toBe('4011')
    expect(heading('液体燃料或气体的燃烧器')).toBe('8416')
    expect(heading('含有锂电池的玩具')).toBe('9503')
    // what follows 的 is a word about the product, or the content of a substance in it: X stays the product
    expect(heading('锂电池的安全要求')).toBe('8507')
    expect(heading('玩具的邻苯二甲酸酯含量')).toBe('9503')
  })

  it('gives no category when nothing matches, and says und for empty text', () => {
    const r = c.classify({ id: 'n7', title: '' })
    expect(r.hs).toEqual([])
    expect(r.categories).toEqual([])
    expect(r.language).toBe('und')
  })
})

describe('classify: codes', () => {
  it('ranks codes printed on the notice above words', () => {
    const r = c.classify({ id: 'c1', title: 'Safety of toys', hsCodes: ['8703.23'] })
    expect(r.hs[0]).toEqual({ code: '870323', score: expect.any(Number) })
    expect(r.hs[0].score).toBeGreaterThan(r.hs[1]?.score ?? 0)
    expect(r.categories[0].id).toBe('automobiles')
  })

  it('reads codes quoted in the text', () => {
    const r = c.classify({ id: 'c2', products: 'Steel bars (HS code(s): 7214.20)' })
    expect(r.hs[0].code).toBe('721420')
    expect(r.categories[0].id).toBe('steel')
  })

  it('refines a chapter-only code with the words under it', () => {
    const r = c.classify({ id: 'c3', title: 'Requirements for smartphones', hsCodes: ['85'] })
    expect(r.hs[0].code).toBe('851713')
  })

  it('maps HS 2017 lines renumbered in 2022', () => {
    const r = c.classify({ id: 'c4', hsCodes: ['8517.12.00'] })
    expect(r.hs.map((h) => h.code)).toEqual(['851713', '851714'])
    expect(r.evidence.find((e) => e.kind === 'hs-code')?.detail).toMatch(/2017→2022/)
    const aircraft = c.classify({ id: 'c5', hsCodes: ['8803.30'] })
    expect(aircraft.hs[0].code).toBe('880730')
    expect(aircraft.categories[0].id).toBe('aircraft-parts')
  })

  it('cuts national lines to HS6, including 11-digit lines with a check digit', () => {
    expect(c.classify({ id: 'c6', hsCodes: ['8504409010'] }).hs[0].code).toBe('850440')
    expect(c.classify({ id: 'c7', hsCodes: ['84145920000'] }).hs[0].code).toBe('841459')
  })

  it('sets aside national chapters 98 and 99 and falls back to words', () => {
    const r = c.classify({ id: 'c8', title: 'Child car seats', hsCodes: ['9850'] })
    expect(r.hs[0].code).toBe('940120')
    expect(r.evidence.some((e) => e.kind === 'hs-code' && /98-99/.test(e.detail))).toBe(true)
  })

  it('uses the ICS crosswalk', () => {
    const r = c.classify({ id: 'c9', title: 'Amendment', icsCodes: ['29.220.30'] })
    expect(r.hs[0].code).toBe('850760')
    expect(r.evidence.some((e) => e.kind === 'ics' && e.ics === '29.220.30')).toBe(true)
    const general = c.classify({ id: 'c10', title: 'Amendment', icsCodes: ['67.100.99'] })
    expect(general.hs[0].code.slice(0, 2)).toBe('04')
  })
})
