import { addDays, isoDay } from '../src/domain/dates.js'
import type { CrawlState } from './types.js'

/** How far back a source's first run looks when no --since is given. */
export const FIRST_RUN_LOOKBACK_DAYS = 90
/** Re-read this many days before the cursor: notices are often published late. */
export const CURSOR_OVERLAP_DAYS = 7

/**
 * The earliest distribution date a crawl asks for: an explicit --since, else the cursor
 * less an overlap, else the first-run lookback from today. Every source uses this, so
 * they all agree on what "new since the last run" means.
 */
export function crawlWindowStart(state: CrawlState, now: Date, opts: { overlapDays?: number; lookbackDays?: number } = {}): string {
  if (state.since) return state.since
  if (state.cursor) return addDays(state.cursor, -(opts.overlapDays ?? CURSOR_OVERLAP_DAYS))
  return addDays(isoDay(now), -(opts.lookbackDays ?? FIRST_RUN_LOOKBACK_DAYS))
}
