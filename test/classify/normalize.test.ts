import { describe, expect, it } from 'vitest'
import { cleanText, hanBigrams, latinStems, stemToken } from '../../src/classify/normalize.js'

describe('normalisation', () => {
  it('drops HTML, code annotations and page notes', () => {
    const t = cleanText('<p>Electric kettles (HS code(s): 8516.71); Kitchen appliances (ICS code(s): 97.040.50) (12 page(s), in Spanish)</p>')
    expect(t).not.toMatch(/8516|97\.040|page|Spanish|<p>/)
    expect(t).toContain('Electric kettles')
    // ePing's Spanish and French labels, with their codes or with the codes scrubbed away
    const es = cleanText('Aparatos telefónicos (Código(s) del SA: 8517); Telecomunicaciones (Código(s) ICS: ); Chaussures (Code(s) SH : 6403)')
    expect(es).not.toMatch(/C[óo]digo|Code|SA|SH|ICS|8517|6403/)
    expect(es).toContain('Aparatos telefónicos')
    expect(es).toContain('Chaussures')
  })

  it('stems each Latin language with its own stemmer and drops stop words', () => {
    expect(latinStems('Requirements for the batteries of toys', 'eng')).toEqual(['batteri', 'toi'])
    expect(latinStems('Reglamento de las baterías', 'spa')).toEqual(latinStems('baterias', 'spa'))
    expect(stemToken('véhicules', 'fra')).toBe(stemToken('vehicules', 'fra'))
    expect(stemToken('2024', 'eng')).toBeNull()
  })

  it('splits Chinese into character bigrams without function characters', () => {
    expect(hanBigrams('电动玩具的安全')).toEqual(['电动', '动玩', '玩具', '安全'])
  })
})
