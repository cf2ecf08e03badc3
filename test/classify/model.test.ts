import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createClassifier, type LabelledExample } from '../../src/classify/index.js'
import { MODEL_FILE, NaiveBayesModel } from '../../src/classify/model.js'

// Made-up words that no lexicon term knows, so only the model can place them.
const examples: LabelledExample[] = [
  { text: { id: 'm1', title: 'Zorblax quavering gizmos for kitchens' }, hsCodes: ['8516.71'] },
  { text: { id: 'm2', title: 'Zorblax gizmos, revised' }, hsCodes: ['851671'] },
  { text: { id: 'm3', title: 'Plinth wobbler garments' }, hsCodes: ['6204'] },
  { text: { id: 'm4', title: 'Wobbler plinth apparel' }, hsCodes: ['6204.42'] },
]

describe('model', () => {
  it('learns from labelled notices and classifies notices without codes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-model-'))
    const c = await createClassifier({ dataDir: dir })
    expect(c.classify({ id: 'x', title: 'Zorblax gizmos' }).hs).toEqual([])
    c.learn(examples)
    const r = c.classify({ id: 'x', title: 'Zorblax gizmos' })
    expect(r.hs[0].code.slice(0, 2)).toBe('85')
    expect(r.evidence.some((e) => e.kind === 'model')).toBe(true)
  })

  it('persists under dataDir/models and loads again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-model-'))
    const c = await createClassifier({ dataDir: dir })
    c.learn(examples)
    await c.save()
    expect(fs.existsSync(path.join(dir, 'models', MODEL_FILE))).toBe(true)
    const t0 = performance.now()
    const again = await createClassifier({ dataDir: dir })
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(again.classify({ id: 'y', title: 'wobbler plinth' }).hs[0].code.slice(0, 2)).toBe('62')
  })

  it('is idempotent, and a correction replaces the earlier labels', () => {
    const m = new NaiveBayesModel()
    expect(m.learn([{ id: 'a', features: ['zorb', 'gizmo'], labels: ['85'] }])).toBe(1)
    expect(m.learn([{ id: 'a', features: ['zorb', 'gizmo'], labels: ['85'] }])).toBe(0)
    expect(m.learn([{ id: 'a', features: ['zorb', 'gizmo'], labels: ['62'] }])).toBe(1)
    expect(m.size).toBe(1)
    const p = m.predict(['zorb'], (l) => l.length === 2)
    expect(p.map((x) => x.label)).toEqual(['62'])
    const restored = NaiveBayesModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON())))
    expect(restored.predict(['zorb'], (l) => l.length === 2)).toEqual(p)
  })
})
