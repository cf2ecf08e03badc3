import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createClassifier, type LabelledExample } from '../../src/classify/index.js'
import { evidenceText } from '../../src/domain/i18n.js'
import { LinearModel, type TrainingExample } from '../../src/classify/linear-model.js'
import { MODEL_FILE, EXAMPLES_FILE } from '../../src/classify/model-store.js'
import { scaleByFolds } from '../../src/classify/training.js'

// Made-up words that no lexicon term knows, so only the model can place them.
const examples: LabelledExample[] = [
  { text: { id: 'm1', title: 'Zorblax quavering gizmos for kitchens' }, hsCodes: ['8516.71'] },
  { text: { id: 'm2', title: 'Zorblax gizmos, revised' }, hsCodes: ['851671'] },
  { text: { id: 'm3', title: 'Plinth wobbler garments' }, hsCodes: ['6204'] },
  { text: { id: 'm4', title: 'Wobbler plinth apparel' }, hsCodes: ['6204.42'] },
]

const ex = (id: string, keys: string[], chapters: string[], prior: [string, number][] = []): TrainingExample => ({
  id,
  x: { keys, values: keys.map(() => 1 / Math.sqrt(keys.length)) },
  chapters,
  headings: [],
  chapterPrior: new Map(prior),
  headingPrior: new Map(),
  weight: 1,
})

describe('learnt model', () => {
  it('learns from labelled notices and classifies notices without codes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-model-'))
    const c = await createClassifier({ dataDir: dir })
    expect(c.classify({ id: 'x', title: 'Zorblax gizmos' }).hs).toEqual([])
    c.learn(examples)
    const r = c.classify({ id: 'x', title: 'Zorblax gizmos' })
    expect(r.hs[0].code.slice(0, 2)).toBe('85')
    const model = r.evidence.find((e) => e.kind === 'model')!
    expect(model.detail).toMatch(/^learnt model: chapter 85 /)
    // and in Chinese, as the warning's page shows it
    expect(evidenceText('zh', model)).toMatch(/^学习模型：第85章，概率 [\d.]+.*（特征：.+）$/)
  })

  it('persists under dataDir/models, loads again, and learning the same examples again changes nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-model-'))
    const c = await createClassifier({ dataDir: dir })
    c.learn(examples)
    await c.save()
    expect(fs.existsSync(path.join(dir, 'models', MODEL_FILE))).toBe(true)
    expect(fs.readFileSync(path.join(dir, 'models', EXAMPLES_FILE), 'utf8').trim().split('\n')).toHaveLength(4)
    const again = await createClassifier({ dataDir: dir })
    expect(again.model?.version).toBe(c.model?.version)
    expect(again.classify({ id: 'y', title: 'wobbler plinth' }).hs[0].code.slice(0, 2)).toBe('62')
    again.learn(examples)
    await again.save()
    expect(again.model?.version).toBe(c.model?.version)
    // A new label for an example replaces the old one.
    again.learn([{ text: examples[0].text, hsCodes: ['9503'] }])
    again.classify({ id: 'z', title: 'anything' })
    expect(again.model?.version).not.toBe(c.model?.version)
  })

  it('never learns from the codes printed in a training notice', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-model-'))
    const c = await createClassifier({ dataDir: dir })
    c.learn([{ text: { id: 'a', title: 'Quibbletons (HS code(s): 8517.13)', products: 'quibbletons 8517.13; ICS 33.050' }, hsCodes: ['851713'] }])
    c.train()
    const features = (c.exportModel()?.model.data.chapters.features ?? [])
    expect(features.some((f) => /\d{4}/.test(f))).toBe(false)
    expect(features).toContain('s:quibbleton')
  })

  it('with no weights the offsets give back the lexicon; weights correct it where data says so', () => {
    const train: TrainingExample[] = []
    // The lexicon says 49 whenever "period" appears; the truth is chapter 85 in every example.
    for (let i = 0; i < 40; i++) train.push(ex(`e${i}`, ['s:period', `s:w${i % 5}`, 's:charger'], ['85'], [['49', Math.log(0.6)], ['85', Math.log(0.2)], ['*', Math.log(0.002)]]))
    const m = LinearModel.train(train, { epochs: 10 })
    const prior = new Map<string, number>([['49', Math.log(0.6)], ['85', Math.log(0.2)], ['*', Math.log(0.002)]])
    expect(m.withScale(0).predictChapters(ex('q', ['s:period', 's:charger'], []).x, prior)[0].code).toBe('49')
    expect(m.predictChapters(ex('q', ['s:period', 's:charger'], []).x, prior)[0].code).toBe('85')
    // Too few examples to hold a slice out: folds of the examples choose the trust, and
    // a model that corrects the lexicon consistently earns it.
    expect(scaleByFolds(train, { epochs: 10 })).toBeGreaterThan(0)
    const restored = LinearModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON())))
    expect(restored.predictChapters(ex('q', ['s:period', 's:charger'], []).x, prior)[0].p).toBeCloseTo(m.predictChapters(ex('q', ['s:period', 's:charger'], []).x, prior)[0].p, 5)
  })

  it('gives a model no say when its folds do worse than the lexicon', () => {
    // Every example's label is its own, told by a word no other example has: nothing
    // learnt from the others carries over, and the lexicon (right half the time) is kept.
    const prior: [string, number][] = [['84', Math.log(0.6)], ['85', Math.log(0.3)], ['*', Math.log(0.002)]]
    const chapters = ['84', '85', '90', '39', '61', '94', '95', '73']
    const train = Array.from({ length: 60 }, (_, i) => ex(`n${i}`, [`s:only${i}`, 's:machine'], [i % 2 ? '84' : chapters[(i * 7) % chapters.length]], prior))
    expect(scaleByFolds(train, { epochs: 10 })).toBe(0)
  })
})
