import { describe, expect, it } from 'vitest'
import { docTypeOf, parseSymbol, splitSymbols } from '../../src/domain/symbols.js'

describe('WTO symbols', () => {
  it('parses a regular notification', () => {
    expect(parseSymbol('G/TBT/N/USA/2231')).toMatchObject({ agreement: 'TBT', member: 'USA', serial: '2231', base: 'G/TBT/N/USA/2231', type: 'regular', chain: [] })
  })
  it('parses follow-up chains and takes the type from the last link', () => {
    const p = parseSymbol('G/TBT/N/BRA/1420/Rev.1/Add.2')!
    expect(p.base).toBe('G/TBT/N/BRA/1420')
    expect(p.chain).toEqual([{ kind: 'Rev', n: 1 }, { kind: 'Add', n: 2 }])
    expect(p.type).toBe('addendum')
    expect(parseSymbol('G/TBT/N/EU/1102/Corr.1')!.type).toBe('corrigendum')
    expect(parseSymbol('G/TBT/N/EU/1102/Rev.2')!.type).toBe('revision')
    expect(parseSymbol('G/SPS/N/JPN/900/Suppl.1')!.type).toBe('addendum')
  })
  it('tidies spaces, case and leading zeros', () => {
    expect(parseSymbol(' G/TBT/N/kor/ 0123 /add.1 ')!.symbol).toBe('G/TBT/N/KOR/123/Add.1')
  })
  it('reads the legacy form', () => {
    const p = parseSymbol('G/TBT/Notif.00/005')!
    expect(p.legacy).toBe(true)
    expect(p.base).toBe('G/TBT/Notif.00/005')
  })
  it('rejects what is not a symbol', () => {
    expect(parseSymbol('2026/0266/ES')).toBeNull()
    expect(parseSymbol('G/TBT/N/')).toBeNull()
  })
  it('splits joint notifications with stray spaces', () => {
    expect(splitSymbols('G/TBT/N/BDI/601, G/TBT/N/KEN/1801,G/TBT/N/RWA/1102 , G/TBT/N/TZA/1205')).toEqual([
      'G/TBT/N/BDI/601',
      'G/TBT/N/KEN/1801',
      'G/TBT/N/RWA/1102',
      'G/TBT/N/TZA/1205',
    ])
    expect(splitSymbols('')).toEqual([])
  })
  it('maps notification types, falling back to the symbol', () => {
    expect(docTypeOf('Addendum', ['G/TBT/N/USA/1/Add.1'])).toBe('addendum')
    expect(docTypeOf('Corrigendum', [])).toBe('corrigendum')
    expect(docTypeOf('Regular notification', ['G/TBT/N/USA/1'])).toBe('regular')
    expect(docTypeOf(null, ['G/TBT/N/USA/1/Rev.1'])).toBe('revision')
  })
})
