import path from 'node:path'
import { z } from 'zod'
import { loadYamlFile } from '../util/yaml-file.js'
import { projectRoot } from '../util/paths.js'

const MarketSchema = z.object({
  code: z.string().regex(/^[A-Z]{2,6}$/),
  zh: z.string(),
  en: z.string(),
  tradeShare: z.number().min(0).max(1),
  basis: z.string(),
  members: z.array(z.string().regex(/^[A-Z]{2,4}$/)).min(1),
})
export type Market = z.infer<typeof MarketSchema>

export const DEFAULT_MARKETS_FILE = path.join(projectRoot, 'seeds', 'markets.yaml')

export function loadMarkets(file = DEFAULT_MARKETS_FILE): Market[] {
  return loadYamlFile(file, z.object({ markets: z.array(MarketSchema) })).markets
}

/** The watched market a WTO member code (USA, DEU, EU...) belongs to, if any. */
export function marketOfMember(markets: Market[], memberCode: string | null | undefined): Market | undefined {
  if (!memberCode) return undefined
  const code = memberCode.toUpperCase()
  return markets.find((m) => m.members.includes(code))
}
