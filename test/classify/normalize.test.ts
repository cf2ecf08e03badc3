import { describe, expect, it } from 'vitest'
import { cleanText, hanBigrams, latinStems, stemToken } from '../../src/classify/normalize.js'

describe('normalisation', () => {
  it('drops HTML, code annotations and page notes', () => {
    const t = cleanText('<p>Electric kettles (HS code(s): 8516.71); Kitchen appliances (ICS code(s): 97.040.50) (12 page(s), in Spanish)</p>')
    expect(t).not.toMatch(/8516|97\.040|page|Spanish|<p>/)
    expect(t).toContain('Electric kettles')
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
