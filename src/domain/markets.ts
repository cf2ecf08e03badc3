import path from 'node:path'
import { z } from 'zod'
import { loadYamlFile } from '../util/yaml-file.js'
import { projectRoot } from '../util/paths.js'
import { loadMembers, type MemberIndex } from './members.js'

const MarketSchema = z.object({
  code: z.string().regex(/^[A-Z]{2,6}$/),
  zh: z.string(),
  en: z.string(),
  tradeShare: z.number().min(0).max(1),
  basis: z.string(),
  members: z.array(z.string().regex(/^[A-Z]{2,4}$/)).min(1),
})
export type WatchedMarket = z.infer<typeof MarketSchema>
/**
 * A market: a watched one from seeds/markets.yaml (a member or a group of members with
 * its share of Beijing's trade), or any other notifying member on its own (`watched:
 * false`, its code the member's). Both kinds can be filtered, subscribed and reported;
 * only the watch list weights risk.
 */
export type Market = WatchedMarket & { watched: boolean }

export const DEFAULT_MARKETS_FILE = path.join(projectRoot, 'seeds', 'markets.yaml')

/** The watched markets of seeds/markets.yaml only. */
export function loadWatchedMarkets(file = DEFAULT_MARKETS_FILE): WatchedMarket[] {
  return loadYamlFile(file, z.object({ markets: z.array(MarketSchema) })).markets
}

/**
 * Every market: the watched ones first (seeds/markets.yaml order), then each notifying
 * member (seeds/members.yaml) that no watched market holds, by code.
 */
export function loadMarkets(file = DEFAULT_MARKETS_FILE, members: MemberIndex = loadMembers()): Market[] {
  const watched = loadWatchedMarkets(file).map((m) => ({ ...m, watched: true }))
  const covered = new Set(watched.flatMap((m) => [m.code, ...m.members]))
  const others = members.members
    .filter((m) => !covered.has(m.code))
    .map((m) => ({ code: m.code, zh: m.zh, en: m.en, tradeShare: 0, basis: 'not watched', members: [m.code], watched: false }))
    .sort((a, b) => a.code.localeCompare(b.code))
  return [...watched, ...others]
}

/** The market a WTO member code (USA, DEU, EU...) belongs to: its watched market, else its own. */
export function marketOfMember<M extends { code: string; members: string[] }>(markets: M[], memberCode: string | null | undefined): M | undefined {
  if (!memberCode) return undefined
  const code = memberCode.toUpperCase()
  return markets.find((m) => m.members.includes(code))
}

/** The markets of several members (a joint notification), each once, in member order. */
export function marketsOfMembers<M extends { code: string; members: string[] }>(markets: M[], memberCodes: string[]): M[] {
  const out: M[] = []
  for (const c of memberCodes) {
    const m = marketOfMember(markets, c)
    if (m && !out.includes(m)) out.push(m)
  }
  return out
}
