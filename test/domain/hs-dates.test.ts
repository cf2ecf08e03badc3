import { describe, expect, it } from 'vitest'
import { addDays, daysBetween, isoWeekKey, toIsoDate } from '../../src/domain/dates.js'
import { hsCodesInText, normalizeHsCode } from '../../src/domain/hs.js'
import { CategoryIndex, loadCategories } from '../../src/domain/categories.js'

describe('HS codes', () => {
  it('normalises dotted, national and chapter codes', () => {
    expect(normalizeHsCode('8517.13.00')).toBe('85171300')
    expect(normalizeHsCode('4011.10.00.00')).toBe('4011100000')
    expect(normalizeHsCode('85')).toBe('85')
    expect(normalizeHsCode('851')).toBe('85')
    expect(normalizeHsCode('abc')).toBeNull()
    expect(normalizeHsCode('00')).toBeNull()
    expect(normalizeHsCode('77')).toBeNull()
    expect(normalizeHsCode('12345678901')).toBeNull()
  })
  it('reads annotations in product text', () => {
    expect(hsCodesInText('Smartphones (HS code(s): 8517.13; 8517.14) (ICS code(s): 33.050)')).toEqual(['851713', '851714'])
    expect(hsCodesInText('锂离子电池 HS编码：8507.60')).toEqual(['850760'])
    expect(hsCodesInText('Juguetes (Código(s) del SA: 9503.00; 61) (Código(s) ICS: 97.200.50)')).toEqual(['950300', '61'])
    expect(hsCodesInText('Cosmétiques (Code(s) du SH : 3304.99)')).toEqual(['330499'])
  })
})

describe('categories', () => {
  const idx = new CategoryIndex(loadCategories())
  it('takes the longest prefix', () => {
    expect(idx.categoryOf('85171300')!.id).toBe('mobile-phones')
    expect(idx.categoryOf('851762')!.id).toBe('electromechanical')
    expect(idx.categoryOf('870380')!.id).toBe('automobiles')
    expect(idx.categoryOf('870899')!.id).toBe('auto-parts')
    expect(idx.categoryOf('2710')!.id).toBe('refined-petroleum')
    expect(idx.categoryOf('3304')).toBeUndefined()
  })
})

describe('dates', () => {
  it('parses the shapes sources use and rejects absurd ones', () => {
    expect(toIsoDate('2026-06-02T00:00:00+00:00')).toBe('2026-06-02')
    expect(toIsoDate('2000/02/15')).toBe('2000-02-15')
    expect(toIsoDate('2023年10月5日')).toBe('2023-10-05')
    expect(toIsoDate('14/04/2025')).toBe('2025-04-14')
    expect(toIsoDate('2026-02-31')).toBeNull()
    expect(toIsoDate('0001-01-01')).toBeNull()
    expect(toIsoDate('9999-12-31')).toBeNull()
    expect(toIsoDate('To be determined')).toBeNull()
    expect(toIsoDate(null)).toBeNull()
  })
  it('does date arithmetic and ISO weeks', () => {
    expect(addDays('2026-11-28', 60)).toBe('2027-01-27')
    expect(daysBetween('2026-11-28', '2026-12-01')).toBe(3)
    expect(isoWeekKey(new Date('2026-11-28T12:00:00Z'))).toBe('2026-W48')
    expect(isoWeekKey(new Date('2027-01-01T12:00:00Z'))).toBe('2026-W53')
  })
})
