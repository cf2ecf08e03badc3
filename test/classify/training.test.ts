import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createContext, type AppContext } from '../../src/app-context.js'
import type { ScrapedNotice } from '../../src/domain/notice.js'
import { createLogger } from '../../src/logger.js'
import { upsertNotice } from '../../src/repositories/notice.repository.js'
import { classifyNotices } from '../../src/services/classify.service.js'
import { reclassifyAll } from '../../src/services/reclassify.service.js'
import { seed } from '../../src/services/seed.service.js'
import { adoptLatestModel, labelledExamples, modelStatus, trainClassifier } from '../../src/services/training.service.js'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/db.js'

const NOW = '2026-11-30T02:00:00.000Z'

// Made-up product words no lexicon knows: only a model that learnt them can place a notice.
const KINDS = [
  { words: ['zorblax', 'quaverer'], hs: ['8516.71'] },
  { words: ['plinthwob', 'garmentry'], hs: ['6204.42'] },
  { words: ['fizzlewick', 'glimmerpot'], hs: ['3304.99'] },
]

function notice(i: number, kind: (typeof KINDS)[number] | null, title: string, docType: ScrapedNotice['docType'] = 'regular'): ScrapedNotice {
  return {
    sourceId: 'eping', sourceItemId: `train-${i}`, symbols: [`G/TBT/N/ZZZ/${i}`], docType, area: 'TBT', member: 'Kenya', memberCode: 'KEN',
    title, products: null, description: `This standard specifies requirements for ${title.toLowerCase()}.`, objectives: [], keywords: [],
    hsCodes: kind?.hs ?? [], icsCodes: [], languageHint: 'eng', distributionDate: '2026-11-01', commentDeadline: null, adoptionDate: null,
    adoptionText: null, entryIntoForceDate: null, entryIntoForceText: null, links: [], sourceUrl: null,
  }
}

describe.each(DIALECTS)('the classifier learns from the stored notices (%s)', (dialect) => {
  let env: TestEnv
  let other: AppContext | undefined
  let uncoded: number
  beforeAll(async () => {
    env = await createTestEnv(dialect)
    await seed(env.ctx, { subscribers: false })
    const ids: number[] = []
    for (let i = 0; i < 36; i++) {
      const kind = KINDS[i % KINDS.length]
      const { noticeId } = await upsertNotice(env.ctx.db, notice(i, kind, `${kind.words[0]} ${i % 2 ? kind.words[1] : ''} requirements`), null, NOW)
      ids.push(noticeId)
    }
    // A follow-up repeats its codes over a text about dates: it teaches nothing.
    ids.push((await upsertNotice(env.ctx.db, notice(99, KINDS[0], 'Comment period extended', 'addendum'), null, NOW)).noticeId)
    uncoded = (await upsertNotice(env.ctx.db, notice(100, null, 'Glimmerpot fizzlewick labelling'), null, NOW)).noticeId
    ids.push(uncoded)
    await classifyNotices(env.ctx, ids)
  })
  afterAll(async () => {
    await other?.close()
    await env.cleanup()
  })

  it('takes every coded notice as an example, codes removed from its text, follow-ups left out', async () => {
    const examples = await labelledExamples(env.ctx)
    expect(examples).toHaveLength(36)
    expect(examples.every((e) => e.example.text.hsCodes === undefined && e.weight === 1)).toBe(true)
  })

  it('trains, stores the model in the database, and classifies the uncoded notice again', async () => {
    const before = await env.ctx.db.selectFrom('classification').selectAll().where('notice_id', '=', uncoded).executeTakeFirstOrThrow()
    expect(JSON.parse(before.hs)).toEqual([])
    const t = await trainClassifier(env.ctx, { force: true })
    expect(t.trained).toBe(true)
    expect(t.metrics?.trained).toBe(36)
    const status = await modelStatus(env.ctx)
    expect(status?.version).toBe(t.version)
    const r = await reclassifyAll(env.ctx)
    expect(r.notices).toBeGreaterThan(0)
    const after = await env.ctx.db.selectFrom('classification').selectAll().where('notice_id', '=', uncoded).executeTakeFirstOrThrow()
    expect((JSON.parse(after.hs) as { code: string }[])[0].code.slice(0, 2)).toBe('33')
    expect(after.classifier).toContain(`+m${t.version}`)
    expect(JSON.parse(after.evidence).some((e: { kind: string }) => e.kind === 'model')).toBe(true)
    // Nothing is stale any more.
    expect((await reclassifyAll(env.ctx)).notices).toBe(0)
  })

  it('waits for enough new examples unless told otherwise', async () => {
    const t = await trainClassifier(env.ctx)
    expect(t.trained).toBe(false)
    expect(t.reason).toMatch(/new labelled notices/)
  })

  it('serves the model to a process on another host (another data directory)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-other-'))
    other = await createContext({ ...env.config, dataDir }, { log: createLogger('silent'), schema: env.schema })
    const classifier = await other.classifier()
    expect(classifier.model).toBeNull()
    expect(await adoptLatestModel(other, classifier, true)).toBe(true)
    expect(classifier.model?.version).toBe((await modelStatus(env.ctx))?.version)
    const r = classifier.classify({ id: 'q', title: 'fizzlewick requirements' })
    expect(r.hs[0]?.code.slice(0, 2)).toBe('33')
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
})
