import { describe, expect, it } from 'vitest'
import { createClassifier } from '../../src/classify/index.js'
import { cleanText, latinTokens, latinWords, lightStem, ofPhrases, toSimplified } from '../../src/classify/normalize.js'
import { dropAuthorities, dropExclusions, productPhrases, segmentDescription } from '../../src/classify/scope.js'
import { scrubCodes } from '../../src/classify/scrub.js'
import { evidenceText } from '../../src/domain/i18n.js'

const codes = (r: { hs: { code: string }[] }) => r.hs.map((h) => h.code.slice(0, 2))
/** The heading of a title's best guess. */
const headingOf = (c: { classify: (i: { id: string; title: string }) => { hs: { code: string }[] } }) => (title: string) => c.classify({ id: 'x', title }).hs[0]?.code.slice(0, 4)
/** The heading of a product field's best guess. */
const productHeadingOf = (c: { classify: (i: { id: string; products: string }) => { hs: { code: string }[] } }) => (products: string) => c.classify({ id: 'p', products }).hs[0]?.code.slice(0, 4)

describe('reading regulatory language', () => {
  it('marks the non-head parts of hyphenated compounds, head last in English and first in French and Spanish', () => {
    expect(latinTokens('short-circuit protection', 'eng').map((t) => [t.raw, !!t.modifier])).toEqual([['short', true], ['circuit', false], ['protection', false]])
    expect(latinTokens('cereal-based foods', 'eng').map((t) => [t.raw, !!t.modifier])).toEqual([['cereal', false], ['based', false], ['foods', false]])
    expect(latinTokens('lave-linge', 'fra').map((t) => [t.raw, !!t.modifier])).toEqual([['lave', false], ['linge', true]])
  })

  it('marks words that qualify another noun of their phrase: before it in English, after "de" in Spanish and French', () => {
    const attributive = (text: string, lang: string) => latinTokens(text, lang).filter((t) => t.attributive).map((t) => t.raw)
    expect(attributive('Herbal and fruit infusions', 'eng')).toEqual(['herbal', 'fruit'])
    expect(attributive('Truck and bus tires', 'eng')).toEqual(['truck', 'bus'])
    expect(attributive('Ice cream and ice confectionery', 'eng')).toEqual(['ice', 'ice'])
    expect(attributive('lobsters packed with salt', 'eng')).toEqual([])
    expect(attributive('battery chargers; toy safety; battery recycling', 'eng')).toEqual(['battery'])
    expect(attributive('fruit, infusions', 'eng')).toEqual([])
    expect(attributive('infusiones de frutas; requisitos de juguetes', 'spa')).toEqual(['frutas'])
    expect(attributive('machines à café', 'fra')).toEqual(['café'])
    // the phrase before "de" is headed by its first word: an aspect, not a product
    expect(attributive('eficiencia energética de refrigeradores y congeladores', 'spa')).toEqual([])
    expect(attributive('requisitos fitosanitarios de frutas frescas; aceite crudo de oliva', 'spa')).toEqual(['oliva'])
    expect(attributive('exigences essentielles de sécurité des jouets', 'fra')).toEqual([])
    expect(attributive('jus concentré de pomme', 'fra')).toEqual(['pomme'])
  })

  it('marks the words that name a product\'s use, not the product, in four languages', () => {
    const use = (text: string, lang: string) => latinTokens(text, lang).filter((t) => t.use).map((t) => t.raw)
    expect(use('Coconut oil for cosmetic use', 'eng')).toEqual(['cosmetic'])
    expect(use('ghee used in cosmetic industry', 'eng')).toEqual(['cosmetic', 'industry'])
    expect(use('Plastics intended to come into contact with food', 'eng')).toEqual(['food'])
    expect(use('batteries for use in toys, and chargers', 'eng')).toEqual(['toys'])
    // no closing word, no use: "for children" says who, not what for
    expect(use('requirements for cosmetic products', 'eng')).toEqual([])
    expect(use('aceite de coco para uso cosmético', 'spa')).toEqual(['cosmético'])
    expect(use('huile de coco à usage cosmétique', 'fra')).toEqual(['cosmétique'])
    expect(use('matériaux destinés aux denrées alimentaires', 'fra')).toEqual(['denrées', 'alimentaires'])
  })

  it('reads a pesticide or a drug named as a residue as what is limited in a food, not the product, in five languages', async () => {
    const use = (text: string, lang: string) => latinTokens(text, lang).filter((t) => t.use).map((t) => t.raw)
    expect(use('maximum levels of pesticide residues in cereals', 'eng')).toEqual(['pesticide', 'residues'])
    expect(use('residues of veterinary drugs in honey', 'eng')).toEqual(['veterinary', 'drugs'])
    expect(use('límites máximos de residuos de plaguicidas en frutas', 'spa')).toEqual(['plaguicidas'])
    expect(use('limites maximales de résidus de pesticides', 'fra')).toEqual(['pesticides'])
    const c = await createClassifier()
    const top = (title: string, products = '') => codes(c.classify({ id: 'x', title, products }))[0]
    expect(top('Maximum residue limits for pesticide residues in apples and pears')).toBe('08')
    expect(top('修订农药残留限量标准', '谷物')).toBe('10')
    expect(top('Límites máximos de residuos de plaguicidas', 'manzanas')).toBe('08')
    // a pesticide that is the product stays one
    expect(top('Registration requirements for pesticides')).toBe('38')
    expect(top('农药登记资料要求')).toBe('38')
  })

  it('never runs a phrase across punctuation', () => {
    const words = latinWords('decorticated sorghum grains (Sorghum bicolour); wheat, flour', 'eng')
    expect(words.filter((w) => w.brk).map((w) => w.light)).toEqual(['sorghum', 'wheat', 'flour'])
    // "grains (Sorghum" is no "grain sorghum", "wheat, flour" no "wheat flour"
    const c = createClassifier()
    return c.then((k) => {
      const ev = k.classify({ id: 'x', title: 'Cereal grains (sorghum); wheat, flour of rice' }).evidence.filter((e) => e.kind === 'term').map((e) => (e as { term?: string }).term)
      expect(ev).not.toContain('grain sorghum')
      expect(ev).not.toContain('wheat flour')
    })
  })

  it('reads what a product is made from as its material, not the product', () => {
    const use = (text: string, lang: string) => latinTokens(text, lang).filter((t) => t.use).map((t) => t.raw)
    expect(use('sorghum flour obtained from decorticated sorghum grains', 'eng')).toEqual(['decorticated', 'sorghum', 'grains'])
    expect(use('harina obtenida de granos de sorgo', 'spa')).toEqual(['granos', 'de', 'sorgo'])
    expect(use('farine obtenue à partir de grains', 'fra')).toEqual([])
    // what a product holds
    expect(use('toys containing magnets', 'eng')).toEqual(['magnets'])
    expect(use('alimentos preenvasados que contienen cereales', 'spa')).toEqual(['cereales'])
    expect(use('denrées contenant des céréales', 'fra')).toEqual(['des', 'céréales'])
    // read with English stems too, the Spanish phrase keeps its reading
    expect(use('alimentos preenvasados que contienen cereales', 'eng')).toEqual(['cereales'])
  })

  it('leaves out what a phrase or a sentence says the measure does not cover', async () => {
    expect(dropExclusions('Cereal flours (excl. wheat, meslin and maize) ; Cereals')).toMatch(/^Cereal flours \(\s+\) ; Cereals$/)
    expect(dropExclusions('Tomatoes, prepared or preserved otherwise than by vinegar ; Vegetables').trim()).toMatch(/^Tomatoes, prepared or preserved\s+; Vegetables$/)
    expect(dropExclusions('木制餐具,不包括竹制餐具、筷子和扫帚;厨房用具')).toMatch(/^木制餐具,\s+;厨房用具$/)
    // the nomenclature's "X，但Y除外" and "X，Y除外"
    expect(dropExclusions('冻鱼，但税目的鱼片及其他鱼肉除外')).toMatch(/^冻鱼，\s+$/)
    expect(dropExclusions('木制餐具，竹制品除外；厨房用具')).toMatch(/^木制餐具，\s+；厨房用具$/)
    expect(dropExclusions('玩具除外的产品')).toBe('玩具除外的产品')
    expect(dropExclusions('家具（竹制品除外）')).toMatch(/^家具\s+$/)
    expect(dropExclusions('Footwear, other than sports footwear, with soles')).toMatch(/^Footwear,\s+, with soles$/)
    expect(dropExclusions('Exigences applicables aux jouets, à l’exclusion des bicyclettes')).toMatch(/^Exigences applicables aux jouets,\s+$/)
    expect(dropExclusions('Harinas de cereales (excepto de trigo o de morcajo)')).toMatch(/^Harinas de cereales \(\s+\)$/)
    // a word that merely contains one is no exclusion
    expect(dropExclusions('Exceptional sauflex products')).toBe('Exceptional sauflex products')
    expect(segmentDescription('This rule applies to bath seats. It does not apply to infant bathtubs.').map((s) => s.role)).toEqual(['scope', 'exclusion'])
    expect(segmentDescription('本标准规定了次氯酸钠溶液的要求。本标准不适用于固体次氯酸盐或清洁剂。').map((s) => s.role)).toEqual(['scope', 'exclusion'])
    expect(segmentDescription('El reglamento se aplica a los juguetes. No se aplica a las bicicletas.').map((s) => s.role)).toEqual(['scope', 'exclusion'])
    const c = await createClassifier()
    expect(codes(c.classify({ id: 'x', title: 'Cereal flours', products: 'Cereal flours (excl. wheat, meslin and maize)' }))[0]).toBe('11')
    expect(codes(c.classify({ id: 'x', title: '竹吸管', products: '竹制品（不包括塑料餐具）' })).slice(0, 1)).not.toEqual(['39'])
  })

  it('lets a broad word give way to the product it stands for: "food" beside cereals, fruit and vegetables', async () => {
    const c = await createClassifier()
    const top = (title: string, products = '', description = '') => codes(c.classify({ id: 'x', title, products, description }))[0]
    expect(top('Food safety: maximum levels of contaminants in food', 'Cereals; foodstuffs', 'This regulation sets maximum levels of contaminants in food. It applies to food placed on the market.')).toBe('10')
    expect(top('食品安全国家标准 食品中污染物限量', '谷物；食品', '本标准规定了食品中污染物的限量指标。本标准适用于食品。')).toBe('10')
    expect(top('Amendment of the food regulations', 'Food; fruit', 'Food business operators shall label food.')).toBe('08')
    // alone, the broad word still names the food chapter
    expect(top('Labelling of prepackaged food')).toBe('21')
    expect(top('预包装食品标签通则')).toBe('21')
  })

  it('guesses weakly from the words nearest the lexicon\'s terms when no term matches, and says so', async () => {
    const c = await createClassifier()
    const wrap = c.classify({ id: 'x', title: '婴儿包巾规范' })
    expect(['61', '62', '63']).toContain(wrap.hs[0]?.code.slice(0, 2))
    expect(wrap.hs[0].score).toBeLessThan(0.35)
    const near = wrap.evidence.find((e) => e.kind === 'near')!
    expect(near.detail).toMatch(/^no term of the lexicon; words nearest its terms for HS \d+ \(shared: .*巾/)
    expect(evidenceText('zh', near)).toMatch(/^未见词库中的词；与 HS \d+ 的词最相近（共同的词或字：.*巾/)
    // a term that matches keeps the fallback out; words that name nothing get no guess
    expect(c.classify({ id: 'x', title: 'Requirements for crown caps' }).evidence.some((e) => e.kind === 'near')).toBe(false)
    expect(c.classify({ id: 'x', title: 'Frobnitz quibbles, second draft', description: 'This standard specifies requirements for frobnitz labelling.' }).hs).toEqual([])
  })

  it('reads a Chinese phrase to its head across words about the product: 天然气|产品运输|储罐 are tanks', async () => {
    const c = await createClassifier()
    const tanks = c.classify({ id: 'x', title: '储罐技术法规 第2部分：天然气产品运输储罐' })
    expect(codes(tanks)[0]).toBe('73')
    expect(tanks.evidence.find((e) => e.kind === 'term' && (e as { term?: string }).term === '天然气')).toMatchObject({ attributive: true })
    // where the phrase ends in such words, the product word stays the head
    expect(codes(c.classify({ id: 'x', title: '锂电池安全要求' }))[0]).toBe('85')
    expect(codes(c.classify({ id: 'x', title: '天然气产品质量要求' }))[0]).toBe('27')
  })

  it('reads an article under the material named beside it: straws of bamboo, steel, glass; paper tableware', async () => {
    const c = await createClassifier()
    const top = headingOf(c)
    expect(top('竹吸管规范')).toBe('4419')
    expect(top('不锈钢吸管')).toBe('7323')
    expect(top('玻璃吸管')).toBe('7013')
    expect(top('纸质餐具')).toBe('4823')
    expect(top('不锈钢制的吸管')).toBe('7323')
    expect(top('Glass drinking straws')).toBe('7013')
    expect(top('Pajitas de papel para beber')?.slice(0, 2)).toBe('48')
    // the material of the article's own chapter, or an article of no material, stays
    expect(top('塑料吸管')).toBe('3924')
    expect(top('木质玩具')).toBe('9503')
    const ev = c.classify({ id: 'x', title: '竹吸管' }).evidence.find((e) => e.kind === 'term' && e.code === '4419')!
    expect(ev.detail).toMatch(/made of 竹/)
    expect(evidenceText('zh', ev)).toMatch(/材质：竹/)
  })

  it('reads a farm or fishery product in the state named beside it: fresh, frozen, dried, prepared or preserved', async () => {
    const c = await createClassifier()
    const top = headingOf(c)
    expect(top('Fresh chilli peppers')).toBe('0709')
    expect(top('Tomatoes, prepared or preserved otherwise than by vinegar or acetic acid')).toBe('2002')
    expect(top('Frozen lychees')).toBe('0811')
    expect(top('Litchis surgelés')).toBe('0811')
    expect(top('Lichis congelados')).toBe('0811')
    expect(top('速冻榴莲')).toBe('0811')
    expect(top('芒果罐头')).toBe('2008')
    expect(top('Dried shiitake mushrooms')).toBe('0712')
    // no state, or one the product already is in, leaves it
    expect(top('Lychees')).toBe('0810')
    expect(top('Dried beans')).toBe('0713')
    expect(top('Fresh mangoes')).toBe('0804')
    // a state across a full stop is another sentence's
    expect(top('Frozen. Lychees')).toBe('0810')
    // bovine meat and fish have a heading per state; feminine forms are states too
    expect(top('Import requirements for frozen boneless beef')).toBe('0202')
    expect(top('Carne de bovino deshuesada congelada')).toBe('0202')
    expect(top('Viande bovine congelée')).toBe('0202')
    expect(top('进口冷冻牛肉检疫要求')).toBe('0202')
    expect(top('Chilled beef')).toBe('0201')
    expect(top('Frozen tuna')).toBe('0303')
    expect(top('Fresh chilled salmon')).toBe('0302')
    expect(top('Frozen pork cuts')).toBe('0203')
    expect(top('Frozen fish fillets')).toBe('0304')
    expect(top('Cebolla deshidratada')).toBe('0712')
    const ev = c.classify({ id: 'x', title: '速冻榴莲' }).evidence.find((e) => e.kind === 'term' && e.code === '0811')!
    expect(ev.detail).toMatch(/state: 速冻/)
    expect(evidenceText('zh', ev)).toMatch(/状态：速冻/)
  })

  it('knows the bare mineral words: sand, clay', async () => {
    const top = headingOf(await createClassifier())
    expect(top('Specification for sand used in plastering and rendering')).toBe('2505')
    expect(top('Requisitos de la arena para concreto')).toBe('2505')
    expect(top('Clay for ceramic manufacture: sampling and testing')).toBe('2508')
  })

  it('reads a substance named "in" a product as what the product holds: the product is regulated', async () => {
    const top = headingOf(await createClassifier())
    expect(top("Phthalates in Children's Toys and Child Care Articles")).toBe('9503')
    expect(top('Plomo en pinturas')).toBe('3208')
    expect(top('Formaldéhyde dans les textiles')?.slice(0, 2)).not.toBe('29')
    expect(top('Restrictions on perfluoroalkyl substances in firefighting foam')).toBe('3813')
    // the substance alone, or a product that is not a substance in a medium, stays what it is
    expect(top('Phthalates')).toBe('2917')
    expect(top('Phthalates: in vitro testing')).toBe('2917')
  })

  it('reads a Chinese substance before 含量, 限量, 释放 or 溶出 as what the product holds, and an aspect term heads nothing', async () => {
    const top = headingOf(await createClassifier())
    expect(top('木制家具甲醛释放限量')).toBe('9403')
    expect(top('茶叶中农药最大残留限量')).toBe('0902')
    expect(top('纺织品 甲醛含量的限定')?.slice(0, 2)).not.toBe('29')
    // 能源效率 and 能效 are terms of chapter 85 and words about the product: the air conditioner stays the head
    expect(top('空调器能源效率限定值及能效等级')).toBe('8415')
    expect(top('道路车辆 轮胎压力监测系统')).toBe('9026')
    expect(top('钢制管道')).toBe('7306')
    // "X的零件" are X's parts
    expect(top('机动车辆的零件及附件')).toBe('8708')
    expect(top('摩托车的零件')).toBe('8714')
  })

  it('knows the regulators\' names for food contact materials, in vitro diagnostics and lifting appliances in Spanish and French', async () => {
    const top = headingOf(await createClassifier())
    expect(top('Materiales y objetos destinados a entrar en contacto con alimentos')).toBe('3923')
    expect(top('Matériaux et objets en contact avec les denrées alimentaires')).toBe('3923')
    expect(top('Dispositivos médicos para diagnóstico in vitro')).toBe('3822')
    expect(top('In vitro diagnostic medical devices')).toBe('3822')
    expect(top('Appareils de levage')).toBe('8428')
  })

  it('reads "X with Y" as X, Y its part, feature or ingredient, in four languages; and the nomenclature\'s engines, gas containers and domestic appliances', async () => {
    const c = await createClassifier()
    const second = (title: string, prefix: string) => c.classify({ id: 'w', title }).hs.find((h) => h.code.startsWith(prefix))?.score ?? 0
    expect(c.classify({ id: 'w', title: 'Toys with batteries' }).hs[0].code).toBe('9503')
    expect(second('Toys with batteries', '8507')).toBeLessThan(0.25)
    expect(second('Jouets avec piles', '8506')).toBeLessThan(0.1)
    expect(second('Pan con pasas', '0806')).toBeLessThan(0.15)
    const top = headingOf(c)
    expect(top('Electro-mechanical domestic appliances, with self-contained electric motor')).toBe('8509')
    expect(top('Spark-ignition reciprocating or rotary internal combustion piston engines')).toBe('8407')
    expect(top('Containers for compressed or liquefied gas, of iron or steel')).toBe('7311')
    expect(top('Mineral or chemical fertilisers')).toBe('3105')
  })

  it('reads no textile labels (5807) into the labelling of textile products: a word about the product shares no phrase by its Porter stem', async () => {
    const top = headingOf(await createClassifier())
    for (const title of ['Labelling of textile products', 'Labeling of Textile Fiber Products', 'Etiquetado de productos textiles']) expect(top(title)?.slice(0, 2)).toBe('63')
    expect(top('Woven labels of textile materials')?.slice(0, 2)).toBe('58')
  })

  it('reads a polymer\'s bracketed name whole, and a word inside a longer term of another language as that term\'s', async () => {
    const top = headingOf(await createClassifier())
    // "pvc" is a term in English and French; in "Tubos de PVC" it is the pipes' material (Spanish "tubos de pvc")
    expect(top('Tubos de PVC para agua potable')).toBe('3917')
    expect(top('Tubos de poli(cloruro de vinilo) para agua potable')).toBe('3917')
    expect(top('Poly(vinyl chloride) pipes for water supply')).toBe('3917')
    expect(top('Tubes en poly(chlorure de vinyle) non plastifié')).toBe('3917')
    // PVC alone stays the polymer
    expect(top('Poly(vinyl chloride) resins')).toBe('3904')
    expect(top('Cilindros de acero soldados para gas licuado de petróleo')).toBe('7311')
  })

  it('reads alcoholic beverages as spirits (2208) at best, never as the non-alcoholic drinks of 2202, and lets the drink named give its heading', async () => {
    const top = headingOf(await createClassifier())
    expect(top('Labelling of alcoholic beverages')).toBe('2208')
    expect(top('Reglamento técnico de bebidas alcohólicas')).toBe('2208')
    expect(top('酒类产品标签')).toBe('2208')
    expect(top('Bebidas alcohólicas. Cerveza. Especificaciones')).toBe('2203')
    expect(top('Labelling of alcoholic beverages: wine')).toBe('2204')
    expect(top('Soft drinks and other beverages')).toBe('2202')
  })

  it('lets a Chinese qualifier give way to the word it qualifies, when that word heads its phrase or is a one-character term', async () => {
    const c = await createClassifier()
    const top = headingOf(c)
    // 插枝 qualifies 植物 (no term), so it heads the phrase and 芒果 qualifies it
    expect(top('芒果插枝植物卫生要求')).toBe('0602')
    // 籽 is cut out by the segmenter
    expect(top('萝卜籽植物卫生要求')).toBe('1209')
    // a scientific name in brackets does not end the phrase
    expect(top('进口芒果(Mangifera indica L.)插枝的植物卫生要求')).toBe('0602')
    expect(top('萝卜（Daucus carota）籽')).toBe('1209')
  })

  it('lets a word qualifying a noun the lexicon does not know give way to a product named outright', async () => {
    const c = await createClassifier()
    const feeds = c.classify({ id: 'x', title: 'Pig creep meal, pig weaner meal and pig finisher meal', products: 'Compound feeds' }).hs
    expect(feeds[0].code.slice(0, 2)).toBe('23')
    // the pigs (live animals, 0103) well behind the feed they qualify
    expect(feeds.find((h) => h.code.startsWith('01'))!.score).toBeLessThan(feeds[0].score / 2)
    // alone, it is all the notice says
    expect(codes(c.classify({ id: 'x', title: 'Pig creep meal' }))[0]).toBe('01')
  })

  it('reads "X for Y" as X serving Y, in English, Spanish and French, and never runs a term across "for"', async () => {
    const c = await createClassifier()
    const top = headingOf(c)
    expect(top('Tyres for motor vehicles')).toBe('4011')
    expect(top('Neumáticos para vehículos automotores')).toBe('4011')
    expect(top('Pneumatiques pour véhicules automobiles')).toBe('4011')
    expect(top('Chargers for mobile phones')).toBe('8504')
    expect(top('Chargeurs pour téléphones mobiles')).toBe('8504')
    // "batteries for electric vehicles" holds no "battery electric vehicles"
    expect(c.classify({ id: 'x', title: 'Batteries for electric vehicles' }).evidence.some((e) => (e as { term?: string }).term === 'battery electric vehicles')).toBe(false)
    // parts for a product are its parts; the notice's words are no product
    expect(top('Parts for motor vehicles')?.slice(0, 2)).toBe('87')
    expect(top('Safety requirements for toys')).toBe('9503')
    const use = (text: string) => latinTokens(text, 'eng').filter((t) => t.use).map((t) => t.raw)
    expect(use('tyres for motor vehicles')).toEqual(['motor', 'vehicles'])
    expect(use('requirements for toys')).toEqual([])
    expect(use('parts for motor vehicles')).toEqual([])
  })

  it('compares words on light stems as well as Porter stems', () => {
    expect(lightStem('batteries', 'eng')).toBe(lightStem('battery', 'eng'))
    expect(lightStem('periodicals', 'eng')).not.toBe(lightStem('period', 'eng'))
    expect(lightStem('neumáticos', 'spa')).toBe(lightStem('neumatico', 'spa'))
    expect(lightStem('motores', 'spa')).toBe('motor')
    const [w] = latinWords('containers', 'eng')
    expect(w.stem).toBe(latinWords('contain', 'eng')[0].stem)
    expect(w.light).not.toBe(latinWords('contain', 'eng')[0].light)
  })

  it('gives each sentence a role: scope and subject sentences count, purposes, procedures and dates hardly', () => {
    const roles = segmentDescription('This standard specifies requirements for bath seats. Comments must be received by 3 March 2025. This rule applies to bath seats for infants. The rule is effective 180 days after publication. The aim is to protect the health of children.').map((s) => s.role)
    expect(roles).toEqual(['scope', 'procedure', 'scope', 'date', 'purpose'])
    expect(segmentDescription('本规则适用于电动自行车用锂电池。为了保护消费者健康。意见请发送至电子邮件。').map((s) => s.role)).toEqual(['scope', 'purpose', 'procedure'])
    expect(segmentDescription('El presente reglamento se aplica a los neumáticos. Entrará en vigor 6 meses después de su publicación.').map((s) => s.role)).toEqual(['scope', 'date'])
  })

  it('drops the names of authorities, laws and standards, not of products', () => {
    expect(dropAuthorities('The Food and Drug Administration (FDA) is amending the regulations for infant formula')).not.toMatch(/Food|Drug/)
    expect(dropAuthorities('revises Federal Motor Vehicle Safety Standard (FMVSS) No. 999 on tires')).not.toMatch(/Motor Vehicle/)
    expect(dropAuthorities('El Ministerio de Salud Pública establece los requisitos')).not.toMatch(/Salud/)
    expect(dropAuthorities('沙特食品药品管理局发布锂电池要求')).toBe('沙特 发布锂电池要求')
    expect(dropAuthorities('cylinders for Liquefied Petroleum Gas (LPG)')).toContain('Petroleum Gas')
    expect(dropAuthorities('Safety Requirements for Office Furniture and Service Equipment')).toBe('Safety Requirements for Office Furniture and Service Equipment')
    // without "the": a capitalised name ending in a word no product name ends in
    expect(dropAuthorities('Food and Drug Administration, HHS, amends the rule on sprouts')).toMatch(/^[\s,]*amends the rule on sprouts$/)
    expect(dropAuthorities('Environmental Protection Agency sets tolerances')).not.toMatch(/Protection/)
    expect(dropAuthorities('Energy Conservation Standards for Consumer Boilers')).toBe('Energy Conservation Standards for Consumer Boilers')
  })

  it('reads a standard\'s title product first: "X — Specification — Part 2: part title"', async () => {
    const c = await createClassifier()
    const top = headingOf(c)
    expect(top('Hair shampoo — Specification — Part 2: Synthetic detergent-based')).toBe('3305')
    expect(top('玩具安全 第3部分：易燃性能')).toBe('9503')
    // a programme before its product still counts less
    expect(top('Energy Conservation Program: Energy Conservation Standards for Dishwashers')).toBe('8422')
  })

  it('reads a Federal Register preamble: who (AGENCY), the kind of document (ACTION) and the procedure (DATES, ADDRESSES, contact) are dropped, the summary kept', () => {
    const text = 'AGENCY: Consumer Product Safety Commission. ACTION: Notice of proposed rulemaking. SUMMARY: The rule would set a safety standard for portable bed rails. DATES: Submit comments by the date given. ADDRESSES: Comments may be sent to the Office of the Secretary. FOR FURTHER INFORMATION CONTACT: a staff member, Drug and Cosmetic Unit. SUPPLEMENTARY INFORMATION: Bed rails are sold for children.'
    const kept = dropAuthorities(text)
    expect(kept).toMatch(/portable bed rails/)
    expect(kept).toMatch(/Bed rails are sold for children/)
    expect(kept).not.toMatch(/Consumer Product|rulemaking|comments|Secretary|Drug|Cosmetic|AGENCY|SUMMARY/)
    // one label alone, or labels in small letters, are ordinary text
    expect(dropAuthorities('Action: labelling of tyres')).toBe('Action: labelling of tyres')
    expect(dropAuthorities('DATES: 1 June. Pumps for swimming pools')).toBe('DATES: 1 June. Pumps for swimming pools')
  })

  it('finds the product phrase of scope sentences in four languages', () => {
    expect(productPhrases('The Department proposes amended energy conservation standards for consumer furnaces.')).toEqual(['consumer furnaces'])
    expect(productPhrases('Le présent règlement s’applique aux jouets destinés aux enfants')).toEqual(['jouets'])
    expect(productPhrases('本标准规定了速冻饺子的技术要求。')).toEqual(['速冻饺子'])
  })

  it('converts traditional Chinese to simplified before matching', () => {
    expect(toSimplified('鋰離子電池與醫療器械')).toBe('锂离子电池与医疗器械')
    expect(toSimplified('plain text')).toBe('plain text')
  })

  it('removes codes and their labels from text the model learns from', () => {
    const t = scrubCodes('Mobile phones (HS code(s): 8517.13); Terminals (ICS code(s): 33.050); 手机 HS代码: 851713; Neumáticos (Código(s) del SA: 4011)')
    expect(t).not.toMatch(/\d/)
    expect(t).toMatch(/^Mobile phones ; Terminals ; 手机 ; Neumáticos/)
  })
})

describe('what the reading changes in classification', () => {
  it('lets the head of a product phrase decide, not the word that qualifies it', async () => {
    const c = await createClassifier()
    // Tyres for motor vehicles are tyres; batteries for mobile phones are batteries.
    expect(codes(c.classify({ id: '1', title: 'Motor vehicle tyres' }))[0]).toBe('40')
    expect(codes(c.classify({ id: '2', title: 'Neumáticos para vehículos de motor' }))[0]).toBe('40')
    expect(c.classify({ id: '2b', title: '手机电池' }).hs[0].code).toBe('8507')
    // 颗粒燃料取暖炉: a stove for pellet fuel is a stove.
    const stove = c.classify({ id: '3', title: '木颗粒燃料取暖炉排放标准' })
    expect(codes(stove)[0]).toBe('73')
    const fuel = stove.evidence.find((e) => e.kind === 'term' && e.term === '燃料')
    expect(fuel?.attributive).toBe(true)
    expect(fuel?.detail).toMatch(/qualifies the next word/)
    // A word about the product (safety, recycling) leaves the product word whole, and so
    // does a head that names no product of its own (钢 in 钢扁轧产品).
    const toys = c.classify({ id: '4', title: 'Toy safety' })
    expect(toys.evidence.find((e) => e.kind === 'term' && e.code === '9503')?.attributive).toBeUndefined()
    expect(codes(c.classify({ id: '5', title: '汽车轮胎' }))[0]).toBe('40')
    const steel = c.classify({ id: '6', title: '非合金钢扁轧产品' })
    expect(codes(steel)[0]).toBe('72')
    expect(steel.evidence.some((e) => e.kind === 'term' && e.attributive)).toBe(false)
  })

  it('lets the product decide over the use it is put to, but keeps a use that is all the notice names', async () => {
    const c = await createClassifier()
    const oil = c.classify({ id: '1', title: 'Coconut oil for cosmetic use — Specification' })
    expect(oil.hs[0].code.slice(0, 4)).toBe('1513')
    const cosmetic = oil.evidence.find((e) => e.kind === 'term' && e.code?.startsWith('33'))
    expect(cosmetic?.detail).toMatch(/names the use, counted less/)
    expect(codes(c.classify({ id: '2', title: 'Aceite de oliva para uso cosmético' }))[0]).toBe('15')
    // nothing else named: the use is what there is to go on
    const only = c.classify({ id: '3', title: 'Products for cosmetic use' })
    expect(codes(only)[0]).toBe('33')
    expect(only.evidence.some((e) => e.kind === 'term' && /names the use/.test(e.detail))).toBe(false)
  })

  it('reads English "A of B" the way compounds name it: B qualifies A', async () => {
    const phrases = (text: string) => ofPhrases(text).map((p) => p.words.map((w) => w.light).join(' '))
    expect(phrases('Extracts and juices of meat, fish or crustaceans')).toEqual(['meat juic', 'fish juic', 'crustacean juic', 'meat extract', 'fish extract', 'crustacean extract'])
    expect(phrases('Bottles of the glass kind')).toEqual(['glass kind bottl'])
    // "safety" says something about a product, it is none: no phrase from it
    expect(phrases('safety of toys; parts of motor vehicles and trailers')).toEqual(['motor vehicl part', 'trailer part'])
    // no phrase across a line or a full stop, nor from a word that is not a noun's
    expect(phrases('Requirements of.\nbatteries')).toEqual([])
    const c = await createClassifier()
    const extracts = c.classify({ id: '1', title: 'Extracts and juices of meat, fish or crustaceans' })
    expect(extracts.hs[0].code.slice(0, 4)).toBe('1603')
    // (crustaceans only qualify: their own word counts less, or gives way to "crustacean extracts")
    expect(extracts.evidence.filter((e) => e.kind === 'term' && e.code === '0306' && !/qualifies the next word, counted less/.test(e.detail))).toEqual([])
    expect(c.classify({ id: '2', title: 'Juices of fruit' }).hs[0].code.slice(0, 4)).toBe('2009')
    // without a term for the pair, the words count as before
    expect(codes(c.classify({ id: '3', title: 'Labelling of batteries' }))[0]).toBe('85')
  })

  it('reads no shorts into a short-circuit, no periodicals into a comment period', async () => {
    const c = await createClassifier()
    const battery = c.classify({ id: '1', title: 'Safety requirements for lithium-ion batteries', description: 'Batteries shall withstand a short-circuit test. The comment period ends on 1 March.' })
    expect(codes(battery)[0]).toBe('85')
    expect(codes(battery)).not.toContain('62')
    expect(codes(battery)).not.toContain('49')
  })

  it('reads "made of" a material the same written 制 or 质, and leaves 质量 (quality) alone', async () => {
    expect(toSimplified('木质工艺品；钢質門；产品质量；铁质强化')).toBe('木制工艺品；钢制门；产品质量；铁制强化')
    expect(toSimplified('钢质量')).toBe('钢质量')
    const c = await createClassifier()
    expect(c.classify({ id: '1', title: '木制工艺品' }).hs[0]).toEqual(c.classify({ id: '2', title: '木质工艺品' }).hs[0])
  })

  it('classifies a notice in traditional characters as in simplified', async () => {
    const c = await createClassifier()
    const trad = c.classify({ id: 't', title: '電動自行車用鋰離子電池安全要求' })
    const simp = c.classify({ id: 's', title: '电动自行车用锂离子电池安全要求' })
    expect(trad.hs[0]).toEqual(simp.hs[0])
    expect(trad.hs[0].code.slice(0, 4)).toBe('8507')
  })

  it('weighs the product in a title after the programme it belongs to', async () => {
    const c = await createClassifier()
    const r = c.classify({ id: 'f', title: 'Federal Motor Vehicle Safety Standards; Retreaded Tires', description: 'The agency revises Federal Motor Vehicle Safety Standard (FMVSS) No. 999 for retreaded tires: the strength test uses a higher load.' })
    expect(r.hs[0].code.slice(0, 2)).toBe('40')
  })

  it('keeps a one-letter prefix on its word: e-cigarettes are not cigarettes, T-shirts not shirts', async () => {
    const c = await createClassifier()
    const chapters = (products: string) => c.classify({ id: 'p', products }).hs.map((h) => h.code)
    expect(chapters('Cigarettes')).toEqual(['2402'])
    expect(chapters("Men's shirts")[0]).toBe('6205')
    expect(chapters('T-shirts')[0]).toBe('6109')
    expect(chapters('Liquides pour freins hydrauliques')[0]).toBe('3819')
    expect(chapters('E-cigarettes and e-liquids')).not.toContain('2402')
  })

  it('reads French with â, ê and ô as French, and œ as oe', async () => {
    const c = await createClassifier()
    const tole = c.classify({ id: 'f', title: "Projet d'arrêté", products: "tôles d'acier revêtues" })
    expect(tole.language).toBe('fra')
    expect(c.classify({ id: 'o', products: 'œufs en coquille' }).hs[0].code).toBe(c.classify({ id: 'o2', products: 'oeufs en coquille' }).hs[0].code)
    expect(c.classify({ id: 'v', title: 'Quy chuẩn kỹ thuật quốc gia về đồ chơi trẻ em' }).language).toBe('vie')
  })

  it('reads a material named after a comma, and counts the material\'s own word as what qualifies the article', async () => {
    const c = await createClassifier()
    expect(codes(c.classify({ id: 't', products: 'Tubos y accesorios de tubería, de plástico' }))[0]).toBe('39')
    const pan = c.classify({ id: 'u', products: 'ustensiles de cuisine en acier inoxydable' })
    expect(pan.hs[0].code).toBe('7323')
    const steel = pan.evidence.find((e) => e.kind === 'term' && e.code?.startsWith('72'))
    expect(steel?.detail).toContain('counted less')
    // every material word of the nomenclature's list qualifies the article
    const cast = c.classify({ id: 'f', products: 'Ustensiles de cuisine en fonte, fer ou acier' })
    expect(cast.hs[0].code).toBe('7323')
    expect(cast.evidence.filter((e) => e.kind === 'term' && e.code?.startsWith('72')).every((e) => e.detail.includes('counted less'))).toBe(true)
    expect(codes(c.classify({ id: 'p', products: 'Pâtes chimiques de bois, à dissoudre' }))[0]).toBe('47')
  })

  it('reads a state after a list of products as each one\'s, with 的 between them in Chinese, and knitted garments in chapter 61', async () => {
    const c = await createClassifier()
    const first = (products: string) => c.classify({ id: 's', products }).hs[0].code
    const seafood = c.classify({ id: 'c', products: 'Crustáceos, moluscos y demás invertebrados acuáticos, preparados o conservados' })
    expect(codes(seafood)).toEqual(['16'])
    expect(first('Frutas y otros frutos, congelados')).toBe('0811')
    expect(first('制作或保藏的番茄')).toBe('2002')
    expect(first('冷冻的草莓')).toBe('0811')
    // a state of two characters may stand a short qualifier away; a one-character one may not
    expect(first('罐装太平洋鲑鱼')).toBe('1604')
    expect(first('干旱地区苹果')).toBe('0808')
    expect(first('Abrigos, chaquetones, capas y artículos similares, de punto, para hombres')).toBe('6101')
    expect(first('Chemises pour hommes, en bonneterie')).toBe('6105')
    expect(first('针织衬衫')).toBe('6105')
    expect(first('knitted shirts')).toBe('6105')
    expect(first("Men's shirts")).toBe('6205')
    // a state does not reach past a product the list does not hold, nor past its clause
    expect(first('Fresh fruit and vegetables; storage requirements for frozen foods')).not.toBe('0811')
    expect(codes(c.classify({ id: 'v', products: 'Fresh vegetables; canned tomatoes' }))).toContain('07')
    // the chapter's broad word gives way to its product read in a state that moves it out
    const tomatoes = c.classify({ id: 't', products: 'Tomatoes, prepared or preserved otherwise than by vinegar or acetic acid; Vegetables and derived products', description: 'This standard specifies requirements for dried tomatoes.' })
    expect(tomatoes.hs[0].code).toBe('2002')
  })

  it('reads no product into an acronym ("BEE", the Bureau of Energy Efficiency, is no bees) nor into a Chinese term that straddles two words (公报|刊登 holds no 报刊)', async () => {
    const c = await createClassifier()
    const chillers = c.classify({ id: 'b', title: 'BEE/S&L/Chillers/40 号文件:能源效率局制冷机标签条例' })
    expect(codes(chillers)).not.toContain('01')
    expect(chillers.hs[0].code).toBe('8418')
    // an acronym the lexicon writes as such still names its product, and a title in capitals is no acronym
    expect(codes(c.classify({ id: 'p', title: 'Requirements for PVC pipes' }))[0]).toBe('39')
    expect(codes(c.classify({ id: 't', title: 'SAFETY OF TOYS' }))[0]).toBe('95')
    const gazette = c.classify({ id: 'g', title: '关于巴西官方公报刊登的决议:鲜切玫瑰' })
    expect(codes(gazette)).not.toContain('49')
    expect(codes(gazette)[0]).toBe('06')
    // in Chinese text Latin capitals are acronyms too: LED灯具 are luminaires, not LED chips
    expect(c.classify({ id: 'd', title: 'LED灯具安全要求' }).hs[0].code.slice(0, 4)).toBe('9405')
    // a term inside one longer word still counts: 电池 in 锂电池组
    expect(c.classify({ id: 'l', title: '锂电池组安全要求' }).hs[0].code.slice(0, 4)).toBe('8507')
  })

  it('reads the nomenclature\'s ", of" as qualifying every head of the list before it', async () => {
    const read = (t: string) => latinWords(t, 'eng').map((w) => w.stem).join(' ')
    expect(ofPhrases('Extracts, essences and concentrates, of coffee').map((p) => p.words.map((w) => w.stem).join(' '))).toEqual(['coffee concentrates', 'coffee essences', 'coffee extracts'].map(read))
    expect(ofPhrases('Coffee, of which decaffeinated')).toEqual([])
    const c = await createClassifier()
    const extracts = c.classify({ id: 'x', products: 'Extracts, essences and concentrates, of coffee' })
    expect(extracts.hs[0].code.slice(0, 4)).toBe('2101')
    expect(c.classify({ id: 'y', products: 'Coffee, whether or not roasted' }).hs[0].code.slice(0, 4)).toBe('0901')
  })

  it('reads the drugs of an over-the-counter monograph as the cosmetic it names, and drugs alone as drugs', async () => {
    const c = await createClassifier()
    expect(c.classify({ id: 's', title: 'Sunscreen Drug Products for Over-the-Counter Human Use' }).hs[0].code.slice(0, 4)).toBe('3304')
    expect(c.classify({ id: 'a', title: 'Antiperspirant Drug Products for Over-the-Counter Human Use; Final Monograph' }).hs[0].code.slice(0, 4)).toBe('3307')
    expect(codes(c.classify({ id: 'p', title: 'Prescription Drug Labeling', description: 'Requirements for the labeling of human prescription drugs.' }))[0]).toBe('30')
  })

  it('reads a qualifier coordinated with another as qualifying the same head: truck and bus tires are tires', async () => {
    const c = await createClassifier()
    expect(codes(c.classify({ id: 't', title: 'Federal Motor Vehicle Safety Standards; Truck and Bus Tires', description: 'This rule amends the standard for truck and bus tires.' }))[0]).toBe('40')
    expect(codes(c.classify({ id: 'j', title: 'Fruit and vegetable juices' }))[0]).toBe('20')
    expect(c.classify({ id: 'i', products: 'Ice cream and ice confectionery' }).hs[0].code.slice(0, 4)).toBe('2105')
  })

  it('reads a one-letter prefix as part of its word: H-beams are no beam of light, X-ray no fish; chemical locants stay apart', async () => {
    const light = (t: string) => latinWords(t, 'eng').map((w) => w.light)
    expect(light('H-beams, I-beams and V-belts')).toEqual(['hbeam', 'ibeam', 'vbelt'])
    expect(light('X-ray tubes')[0]).toBe('xray')
    expect(light('o-xylene and p-phenylenediamine')).not.toContain('ox')
    const c = await createClassifier()
    const headlamps = c.classify({ id: 'h', title: 'Adaptive Driving Beam Headlamps' })
    expect(codes(headlamps)).not.toContain('72')
    expect(headlamps.hs[0].code.slice(0, 4)).toBe('8512')
    expect(c.classify({ id: 'b', title: 'Steel H-beams for construction' }).hs[0].code.slice(0, 4)).toBe('7216')
    expect(c.classify({ id: 'x', title: 'Diagnostic X-ray equipment' }).hs[0].code.slice(0, 4)).toBe('9022')
  })

  it('reads a term written with "products" only beside that word, in English, Spanish and French', async () => {
    const headed = (t: string, lang: 'eng' | 'spa' | 'fra') => latinWords(t, lang).filter((w) => w.headed).map((w) => w.light)
    expect(headed('Vaping Products Labelling and Packaging Regulations', 'eng')).toEqual(['vaping'])
    expect(headed('products: vaping devices', 'eng')).toEqual([])
    expect(headed('Reglamento de productos de tabaco y productos lácteos', 'spa')).toEqual(['tabaco', 'lacteo'])
    expect(headed('Certificat pour les produits de la pêche', 'fra')).toEqual(['peche'])
    const c = await createClassifier()
    expect(c.classify({ id: 'v', title: 'Vaping Products Labelling and Packaging Regulations' }).hs[0].code).toBe('2404')
    expect(codes(c.classify({ id: 'd', title: 'Health certificate for dairy products' }))[0]).toBe('04')
    expect(codes(c.classify({ id: 'm', title: 'Meat products; labelling' }))[0]).toBe('16')
    // the word alone is not the phrase: "vaping" is what people do
    const alone = c.classify({ id: 'a', title: 'Prohibition of vaping in public places' })
    expect(alone.evidence.some((e) => e.kind === 'term' && e.code === '2404')).toBe(false)
  })

  it('reads "its salts", "salts thereof" and "their packaging" as forms of the thing before, not table salt or packing', async () => {
    const c = await createClassifier()
    expect(codes(c.classify({ id: 'p', products: 'Polyphenols, resorcinol and its salts' }))[0]).toBe('29')
    expect(codes(c.classify({ id: 'a', products: 'Acyclic monoamines and their derivatives, and salts thereof' }))).not.toContain('25')
    expect(codes(c.classify({ id: 's', title: 'Iodized salt for human consumption' }))[0]).toBe('25')
    expect(codes(c.classify({ id: 't', title: 'Toys and their packaging' }))).not.toContain('39')
    expect(latinTokens('fenol y sus sales', 'spa').filter((t) => t.modifier).map((t) => t.raw)).toEqual(['sales'])
  })

  it('reads "knitted or crocheted" anywhere in a garment\'s clause, and "not knitted" as not', async () => {
    const c = await createClassifier()
    const heading = productHeadingOf(c)
    expect(heading("Jackets and blazers, men's or boys', of synthetic fibres, knitted or crocheted")).toBe('6103')
    expect(heading("Overcoats, anoraks and similar articles, men's or boys', of man-made fibres, knitted or crocheted")).toBe('6101')
    expect(heading("Blazers, men's or boys', of wool (not knitted or crocheted)")).toBe('6203')
    expect(latinWords('whether or not cooked', 'eng').map((w) => w.neg === true)).toEqual([false, false, true])
  })

  it('reads what a machine works on as its use, and "machines for X" as X machines', async () => {
    const c = await createClassifier()
    const first = (title: string) => c.classify({ id: 'm', title }).hs[0]?.code
    expect(first('Machinery for making paper and paperboard')?.slice(0, 2)).toBe('84')
    expect(first('Machine-tools for working stone, ceramics and concrete')?.slice(0, 2)).toBe('84')
    expect(first('Máquinas para la fabricación de papel')?.slice(0, 2)).toBe('84')
    expect(first('Machines for additive manufacturing')?.slice(0, 4)).toBe('8485')
    expect(first('Equipment for semiconductor manufacturing')?.slice(0, 4)).toBe('8486')
    // a product's own "for" still names what it serves
    expect(first('Tyres for motor vehicles')?.slice(0, 4)).toBe('4011')
  })

  it('reads a phrase whose words stand apart in one clause, as the nomenclature writes them, but not across a list of products', async () => {
    const c = await createClassifier()
    const heading = productHeadingOf(c)
    expect(heading('Cells and batteries, primary')).toBe('8506')
    const cells = c.classify({ id: 'c', products: 'Cells and batteries, primary' }).evidence.find((e) => e.kind === 'term' && e.code === '8506')!
    expect(cells.detail).toMatch(/words apart in one clause/)
    expect(evidenceText('zh', cells)).toMatch(/同一分句中分开出现/)
    expect(heading('Iron or non-alloy steel, flat-rolled products of a width of 600 mm or more, hot-rolled')).toBe('7208')
    expect(heading('Tableware, kitchenware and other household articles, of plastics')).toBe('3924')
    const apart = (text: string) => c.classify({ id: 'b', description: text }).evidence.filter((e) => e.kind === 'term' && /words apart/.test(e.detail)).map((e) => e.term)
    // items of a list are no phrase, nor is a generic head joined to a word far from it
    expect(apart('It applies to consumer textiles, apparel, footwear and leather.')).toEqual([])
    expect(apart('Meat, fish or crustaceans.')).toEqual([])
    expect(apart('Requirements for vehicles, their engines and parts.')).toEqual([])
  })

  it('reads the items of a Chinese list as qualifying the head they share through 的 or a seed, and 种子 as a noun', async () => {
    const c = await createClassifier()
    const seeds = c.classify({ id: 's', title: '番茄、辣椒、黄瓜和西瓜种子进口植物检疫要求' })
    expect(seeds.hs[0].code.slice(0, 4)).toBe('1209')
    expect(c.classify({ id: 'w', title: '西瓜种子' }).hs[0].code.slice(0, 4)).toBe('1209')
    // without a shared head the items stay products
    expect(codes(c.classify({ id: 'v', title: '番茄、辣椒和黄瓜' }))[0]).toBe('07')
  })

  it('reads what drives or equips a product, and what is measured in it, as not the product', async () => {
    const c = await createClassifier()
    const use = (text: string, lang: string) => latinTokens(text, lang).filter((t) => t.use).map((t) => t.raw)
    expect(use('fans driven by electric motors', 'eng')).toEqual(['electric', 'motors'])
    expect(use('maximum levels of lead in foodstuffs', 'eng')).toEqual(['lead'])
    expect(use('ventiladores accionados por motores eléctricos', 'spa')).toEqual(['motores', 'eléctricos'])
    const fans = c.classify({ id: 'f', title: 'Ecodesign requirements for fans driven by electric motors', description: 'The Regulation sets minimum efficiency requirements for fans driven by motors with an electric input power between 125 W and 500 kW.' })
    expect(fans.hs[0].code.slice(0, 4)).toBe('8414')
    expect(fans.evidence.filter((e) => e.kind === 'term' && e.code?.startsWith('8501')).every((e) => e.use === true)).toBe(true)
    expect(codes(c.classify({ id: 'c', title: 'Maximum levels of lead and cadmium in certain foodstuffs' }))[0]).toBe('21')
  })

  it('reads a use through the list it starts when the list names products of the same chapter', async () => {
    const c = await createClassifier()
    expect(c.classify({ id: 't', title: 'Pneumatiques neufs pour voitures particulières, véhicules utilitaires légers, poids lourds, autobus et motocycles' }).hs[0].code.slice(0, 4)).toBe('4011')
    // a product of another chapter after the use is a product of its own
    expect(codes(c.classify({ id: 'p', title: 'Chargers for mobile phones and lithium-ion power banks' }))).toContain('85')
  })

  it('reads traction batteries as lithium-ion batteries, the Beijing category', async () => {
    const c = await createClassifier()
    for (const title of ['电动汽车动力电池安全要求', 'Electric vehicle batteries: carbon footprint', 'Baterías de tracción para vehículos eléctricos']) {
      const r = c.classify({ id: 'b', title })
      expect(r.hs[0].code).toBe('850760')
      expect(r.categories[0].id).toBe('lithium-batteries')
    }
  })

  it('reads gas heaters and cookers as burning gas (8419, 7321), unless the same words say electric too', async () => {
    const c = await createClassifier()
    const heading = (title: string) => c.classify({ id: 'g', title }).hs[0]?.code.slice(0, 4)
    expect(heading('Calentadores de agua instantáneos a gas')).toBe('8419')
    expect(heading('燃气热水器能效限定值')).toBe('8419')
    expect(heading('Cuisinières à gaz')).toBe('7321')
    expect(heading('Electric water heaters')).toBe('8516')
    expect(heading('Chauffe-eau électriques et au gaz')).toBe('8516')
  })

  it('reads chemicals in general, as chemical-control laws name them, under chapter 38', async () => {
    const c = await createClassifier()
    for (const title of ['Chemical Substances Control Law: designation of Class I Specified Chemical Substances', '化学物质审查和生产控制法修订', 'Reglamento sobre sustancias químicas']) expect(codes(c.classify({ id: 'c', title }))[0]).toBe('38')
  })

  it('reads an English compound written open or hyphenated as the closed one, never across a dropped word', async () => {
    const c = await createClassifier()
    const heading = productHeadingOf(c)
    expect(heading('Ground nut oil and its fractions')).toBe('1508')
    expect(heading('Cotton-seed oil, refined')).toBe('1512')
    // "paper and board" is no "paperboard" twice over, and "in shell" no shells of crustaceans
    const terms = c.classify({ id: 'p', description: 'It applies to food contact paper and board.' }).evidence.filter((e) => e.kind === 'term').map((e) => e.term)
    expect(terms).not.toContain('paperboard')
    expect(heading('Crustaceans, in shell or not, live, fresh, chilled or frozen')).toBe('0306')
  })

  it('reads an ICS group\'s title left in a product field as that group, not as words about products', async () => {
    const c = await createClassifier()
    const r = c.classify({ id: 'i', products: 'Spices and condiments. Food additives' })
    expect(r.evidence.some((e) => e.kind === 'ics' && /the group's title/.test(e.detail))).toBe(true)
    // beside words that say more, the title's own words no longer vote: "Fasteners" are no product of the field
    const mixed = c.classify({ id: 'm', products: 'Plastic toys for children; Fasteners' })
    expect(mixed.evidence.filter((e) => e.kind === 'term' && e.field === 'products').map((e) => e.code?.slice(0, 2))).toEqual(expect.arrayContaining(['95']))
    expect(mixed.evidence.some((e) => e.kind === 'term' && e.field === 'products' && /fastener/i.test(String(e.term)))).toBe(false)
  })

  it('keeps a plural that names another thing than its singular apart from it: shorts, glasses, spirits', async () => {
    const c = await createClassifier()
    // "Short title" is the heading of an order's first article, no garment
    const order = c.classify({ id: 's', title: 'Malleable Iron Shots and Grits (Quality Control) Order', description: '1. Short title and commencement. This Order may be called the Malleable Iron Shots and Grits Order.' })
    expect(codes(order)).not.toContain('62')
    expect(headingOf(c)('Safety glasses for industrial use')).toBe('9004')
    expect(headingOf(c)('Safety glass for motor vehicles')).toBe('7007')
    expect(headingOf(c)('Men\'s shorts and trousers')).toBe('6203')
  })

  it('reads what carries a product as no product of the notice, and a rule\'s "provisions for" as no product using another', async () => {
    const c = await createClassifier()
    const r = c.classify({ id: 'a', title: 'Hazardous Materials: Enhanced Safety Provisions for Lithium Batteries Transported by Aircraft', description: 'Lithium ion cells and batteries are not to be shipped as cargo on passenger aircraft.' })
    expect(r.hs[0].code.slice(0, 4)).toBe('8507')
    const aircraft = r.evidence.filter((e) => e.kind === 'term' && e.code?.startsWith('88'))
    expect(aircraft.length).toBeGreaterThan(0)
    for (const e of aircraft.filter((x) => x.field === 'title')) expect(e.use).toBe(true)
    expect(r.evidence.some((e) => e.kind === 'term' && e.code?.startsWith('8507') && e.field === 'title' && !e.use)).toBe(true)
    const use = (text: string, lang: string) => latinTokens(text, lang).filter((t) => t.use).map((t) => t.raw)
    expect(use('baterías transportadas por vía aérea', 'spa')).toEqual(['vía', 'aérea'])
    expect(use('piles transportées à bord des avions', 'fra')).toEqual(expect.arrayContaining(['avions']))
  })

  it('reads a phrase that ends inside a hyphenated compound as qualifying its head: "Hearing Aid-Compatible Handsets" are handsets', async () => {
    const c = await createClassifier()
    const r = c.classify({ id: 'h', title: 'Standards for Hearing Aid-Compatible Handsets' })
    expect(r.hs[0].code.slice(0, 4)).toBe('8517')
    expect(r.evidence.find((e) => e.kind === 'term' && e.code === '9021')?.attributive).toBe(true)
  })

  it('reads packaging made of elastomers as rubber and of cellulose as paper, the adjective after the noun in Spanish', async () => {
    const c = await createClassifier()
    expect(headingOf(c)('Envases y equipamientos elastoméricos destinados a entrar en contacto con alimentos')).toBe('4016')
    expect(headingOf(c)('Envases y equipamientos celulósicos en contacto con alimentos')).toBe('4823')
    expect(headingOf(c)('Elastomeric materials and articles in contact with food')).toBe('4016')
    // clay is the tiles' material, no clay (2508) of its own
    expect(headingOf(c)('粘土地板砖规范')).toBe('6907')
  })

  it('reads a garment\'s state in the clauses after it that name no other product, and a denial through "or"', async () => {
    const c = await createClassifier()
    const heading = productHeadingOf(c)
    expect(heading("Coats; men's or boys' overcoats, car-coats, anoraks, wind-jackets and similar articles; knitted or crocheted")).toBe('6101')
    expect(heading("Shirts; men's or boys', knitted or crocheted")).toBe('6105')
    // denied, both words: "not knitted or crocheted"
    expect(heading("Shirts; men's or boys' (not knitted or crocheted)")).toBe('6205')
    expect(latinWords('not knitted or crocheted', 'eng').map((w) => !!w.neg)).toEqual([false, true, true])
    // a clause that names another product keeps the state to itself
    expect(heading('Trousers; shirts, knitted')).toBe('6203')
  })

  it('reads the material English names after "of" as the article\'s, not a product of its own', async () => {
    const c = await createClassifier()
    const r = c.classify({ id: 'm', products: 'Drinking straws of paper' })
    expect(r.hs[0].code.slice(0, 4)).toBe('4823')
    const tubes = c.classify({ id: 't', products: 'Tubes of steel' })
    expect(tubes.hs[0].code.slice(0, 2)).toBe('73')
    expect(tubes.evidence.find((e) => e.kind === 'term' && e.code?.startsWith('72'))?.attributive).toBe(true)
    expect(latinWords('tubes of the steel', 'eng').map((w) => !!w.of)).toEqual([false, true])
  })

  it('reads past a species\' scientific name in brackets: "Strawberry (Fragaria x ananassa) plants" are plants', async () => {
    const c = await createClassifier()
    expect(headingOf(c)('Strawberry (Fragaria x ananassa) plants')).toBe('0602')
    expect(cleanText('rooted vine (Vitis vinifera L.) cuttings; maize (Zea mays)')).not.toMatch(/Vitis|Zea/)
    // an ordinary bracket stays
    for (const t of ['Lithium batteries (Lithium ion)', 'Pipes (Other than cast iron)', 'Shirts (Not knitted)', 'Fittings (Steel pipes)']) expect(cleanText(t), t).toBe(t)
  })

  it('counts terms of one chapter that share words once: "Motor Vehicle Safety Standards" is one mention of vehicles', async () => {
    const c = await createClassifier()
    const r = c.classify({ id: 't', title: 'Federal Motor Vehicle Safety Standards; Tires', description: 'We are amending the performance requirements for snow tires used on light vehicles.' })
    expect(r.hs[0].code.slice(0, 4)).toBe('4011')
  })
})
