import { describe, expect, it } from 'vitest'
import { detectLanguage } from '../../src/classify/language.js'

describe('detectLanguage', () => {
  it('tells English, French and Spanish notices apart', () => {
    expect(detectLanguage('Draft regulation on the safety of household refrigerators and the labelling of their energy consumption').language).toBe('eng')
    expect(detectLanguage("Projet de décret relatif à l'étiquetage des denrées alimentaires et des boissons sucrées").language).toBe('fra')
    expect(detectLanguage('Proyecto de reglamento técnico sobre el etiquetado de los juguetes para niños').language).toBe('spa')
  })

  it('reads Han script as Mandarin even with Latin symbols in it', () => {
    expect(detectLanguage('关于乘用车燃料消耗量限值的技术法规 (GB 19578-2024)').language).toBe('cmn')
  })

  it('tells Vietnamese by its diacritics', () => {
    expect(detectLanguage('Quy chuẩn kỹ thuật quốc gia về an toàn đồ chơi trẻ em').language).toBe('vie')
  })

  it('says und for text too short to judge, unless the source gives a hint', () => {
    expect(detectLanguage('Tyres').language).toBe('und')
    expect(detectLanguage('Tyres', 'en').language).toBe('eng')
    expect(detectLanguage('', 'zh').language).toBe('cmn')
  })
})
