import { afterEach, describe, expect, it } from 'vitest'
import { startSyntheticEping } from '../../bench/synthetic-eping.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'

const FIXED_NOW = new Date('2026-11-28T04:00:00Z')

describe('ePing list paging and the per-run page cap', () => {
  let env: TestEnv | undefined
  let source: Awaited<ReturnType<typeof startSyntheticEping>> | undefined
  afterEach(async () => {
    await env?.cleanup()
    await source?.close()
    env = source = undefined
  })

  async function scrape(n: number, vars: Record<string, string> = {}) {
    source = await startSyntheticEping(n)
    env = await createTestEnv('sqlite', { TBT_SOURCE_EPING_BASE_URL: source.url, TBT_HTTP_MIN_DELAY_MS: '0', ...vars }, { clock: () => FIXED_NOW })
    await seed(env.ctx, { subscribers: false })
    const r = await scrapeSource(env.ctx, 'eping', { since: '2026-11-01' })
    const listCalls = source.listRequests()
    // The SPS list (domainIds=2) is read as well: one empty page, kept like any response.
    expect(source.otherListRequests()).toBe(1)
    return { r, listCalls }
  }

  it('reads every page of the window by default (1,050 notices: 11 pages, the last one short)', async () => {
    const { r, listCalls } = await scrape(1_050)
    expect(r.status).toBe('ok')
    expect(r.pendingRawIds).toHaveLength(11 + 1)
    expect(listCalls).toBe(11)
  })

  it('stops at TBT_MAX_PAGES_PER_RUN pages, and a higher cap reads past the built-in 200', async () => {
    const capped = await scrape(1_050, { TBT_MAX_PAGES_PER_RUN: '3' })
    expect(capped.r.pendingRawIds).toHaveLength(3 + 1)
    expect(capped.listCalls).toBe(3)
    await env!.cleanup()
    await source!.close()
    const big = await scrape(20_150, { TBT_MAX_PAGES_PER_RUN: '1000' })
    expect(big.r.status).toBe('ok')
    expect(big.r.pendingRawIds).toHaveLength(202 + 1)
  }, 120_000)

  it('refuses a cap that is not a positive whole number, naming the variable', async () => {
    await expect(scrape(10, { TBT_MAX_PAGES_PER_RUN: '0' })).rejects.toThrow(/TBT_MAX_PAGES_PER_RUN/)
  })
})
