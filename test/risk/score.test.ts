import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { exposureOf, loadExposure } from '../../src/risk/exposure.js'
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
    expect(zh.trace.find((t) => t.factor === 'nature')!.zh).toMatch(/强制性要求.*技术法规.*合格评定/)
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

describe('risk rules v2', () => {
  it('uses the category×market exposure table, naming an estimate as one', () => {
    const table = loadExposure()
    const e = exposureOf(table, 'mobile-phones', 'EU')!
    expect(e.estimate).toBe(true)
    const r = scoreRisk(rules, input({ exposure: e }))
    const x = r.trace.find((t) => t.factor === 'exposure')!
    expect(x.zh).toBe('北京出口暴露度：手机约占北京出口的14%，其中约20%销往欧盟（估算值）')
    expect(x.en).toContain('about 20% of them go to European Union (an estimate)')
    const proxy = scoreRisk(rules, input()).trace.find((t) => t.factor === 'exposure')!
    expect(proxy.zh).toContain('按贸易总额比重估算')
  })
  it('rejects an exposure row for an unknown market, naming the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposure-'))
    const file = path.join(dir, 'exposure.yaml')
    fs.writeFileSync(file, 'version: "1"\nexposure:\n  - { category: mobile-phones, market: MARS, share: 0.2, basis: estimate }\n')
    expect(() => loadExposure(file)).toThrow(/exposure\.yaml.*unknown market MARS/)
    fs.writeFileSync(file, 'version: "1"\nexposure:\n  - { category: mobile-phones, market: EU, share: 2, basis: estimate }\n')
    expect(() => loadExposure(file)).toThrow(/exposure\.yaml:3/)
    fs.rmSync(dir, { recursive: true })
  })
  it('counts a standard only when nothing mandatory is found, and says it is voluntary', () => {
    const voluntary = scoreRisk(rules, input({ text: 'Voluntary standard for smartphone charger performance' })).trace.find((t) => t.factor === 'nature')!
    expect(voluntary.zh).toBe('措施性质：自愿性标准，不具强制性')
    expect(voluntary.points).toBe(3)
    const mandatory = scoreRisk(rules, input({ text: 'Technical regulation citing standard EN 62368' })).trace.find((t) => t.factor === 'nature')!
    expect(mandatory.zh).toBe('措施性质：属强制性要求，涉及技术法规')
  })
  it('detects the nature in French, Portuguese and Russian too', () => {
    for (const text of ['Projet de décret : homologation obligatoire des téléphones', 'Portaria: certificação obrigatória de telefones', 'Технический регламент: обязательная сертификация']) {
      expect(scoreRisk(rules, input({ text })).trace.find((t) => t.factor === 'nature')!.points).toBeGreaterThanOrEqual(20)
    }
  })
  it('notes a reopened comment period, and an analyst-confirmed category', () => {
    const r = scoreRisk(rules, input({ followUpText: 'Addendum: the comment period is extended to 20 December', confirmedByAnalyst: true, confidence: 0.4 }))
    expect(r.trace.find((t) => t.factor === 'lifecycle')!.zh).toBe('生命周期：后续通报重新开放或延长了评议期')
    const c = r.trace.find((t) => t.factor === 'confidence')!
    expect(c.points).toBe(0)
    expect(c.zh).toBe('归类可信度：产品类别已由分析员确认')
    expect(Math.round(r.trace.reduce((s, t) => s + t.points, 0))).toBe(r.score)
  })
  it('reads as sentences an official can quote, in both languages', () => {
    const r = scoreRisk(rules, input({ entryIntoForceDate: '2027-03-01', confidence: 0.6 }))
    for (const t of r.trace) {
      expect(t.zh).toMatch(/^[\u4e00-\u9fff]+：/)
      expect(t.en).toMatch(/^[A-Z][a-z']+( [a-z']+)?: /)
    }
    expect(r.trace.find((t) => t.factor === 'urgency')!.zh).toContain('天后（2027-03-01）生效，企业需尽快准备')
  })
})
