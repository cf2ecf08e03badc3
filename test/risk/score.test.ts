import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadRiskRules } from '../../src/risk/rules.js'
import { scoreRisk, type RiskInput } from '../../src/risk/score.js'
import { DataFileError } from '../../src/util/yaml-file.js'

const rules = loadRiskRules()
const input = (over: Partial<RiskInput> = {}): RiskInput => ({
  today: '2026-11-28',
  category: { id: 'mobile-phones', zh: '手机', en: 'Mobile phones', exportWeight: 0.14 },
  market: { code: 'EU', zh: '欧盟', en: 'European Union', tradeShare: 0.135 },
  member: 'European Union',
  status: 'open',
  commentDeadline: '2026-12-20',
  entryIntoForceDate: null,
  text: 'Draft technical regulation requiring certification and labelling of smartphones for safety',
  confidence: 0.95,
  ...over,
})

describe('risk scoring', () => {
  it('explains every point of the score', () => {
    const r = scoreRisk(rules, input())
    expect(Math.round(r.trace.reduce((s, t) => s + t.points, 0))).toBe(r.score)
    expect(r.level).toBe('high')
    expect(r.trace.map((t) => t.factor)).toEqual(['exposure', 'nature', 'objectives', 'urgency', 'confidence'])
    expect(r.trace.find((t) => t.factor === 'urgency')!.zh).toContain('还有22天')
  })
  it('scores a voluntary standard in a small market lower', () => {
    const high = scoreRisk(rules, input())
    const low = scoreRisk(rules, input({ market: null, member: 'Chile', text: 'Voluntary standard for garment sizes', category: { id: 'textiles-garments', zh: '纺织服装', en: 'Textiles', exportWeight: 0.01 }, commentDeadline: null }))
    expect(low.score).toBeLessThan(high.score)
    expect(low.level).toBe('low')
  })
  it('detects the nature of a measure in Chinese and Spanish', () => {
    const zh = scoreRisk(rules, input({ text: '强制性技术法规：手机须经认证并加贴标签' }))
    expect(zh.trace.find((t) => t.factor === 'nature')!.zh).toMatch(/强制性技术法规.*合格评定/)
    const es = scoreRisk(rules, input({ text: 'Reglamento técnico: certificación obligatoria y etiquetado de teléfonos' }))
    expect(es.trace.find((t) => t.factor === 'nature')!.points).toBeGreaterThanOrEqual(20)
  })
  it('does not match a term inside another word', () => {
    const r = scoreRisk(rules, input({ text: 'urban planning banner' }))
    expect(r.trace.find((t) => t.factor === 'nature')!.en).toMatch(/no mandatory/)
  })
  it('drops a withdrawn measure to zero', () => {
    expect(scoreRisk(rules, input({ status: 'withdrawn' })).score).toBe(0)
  })
  it('reports a bad rules file with its line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-'))
    const file = path.join(dir, 'risk.yaml')
    const text = fs.readFileSync(path.join(process.cwd(), 'rules', 'risk.yaml'), 'utf8').replace('  high: 60', '  high: "sixty"')
    fs.writeFileSync(file, text)
    try {
      loadRiskRules(file)
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(DataFileError)
      const line = text.split('\n').findIndex((l) => l.includes('"sixty"')) + 1
      expect((err as DataFileError).line).toBe(line)
      expect((err as Error).message).toContain(`${file}:${line}`)
    }
    fs.writeFileSync(file, 'version: [unclosed')
    expect(() => loadRiskRules(file)).toThrow(/risk\.yaml:1/)
    fs.rmSync(dir, { recursive: true })
  })
})
