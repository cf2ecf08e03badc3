import path from 'node:path'
import { z } from 'zod'
import { loadCategories } from '../domain/categories.js'
import { loadMarkets } from '../domain/markets.js'
import { projectRoot } from '../util/paths.js'
import { DataFileError, loadYamlFile } from '../util/yaml-file.js'

const Row = z.object({
  category: z.string(),
  market: z.string(),
  share: z.number().min(0).max(1),
  basis: z.string().min(1),
})
const ExposureFileSchema = z.object({ version: z.string(), exposure: z.array(Row) })

export interface Exposure {
  /** share of Beijing's exports of the category that goes to the market */
  share: number
  basis: string
  estimate: boolean
}
export type ExposureTable = Map<string, Exposure>

export const DEFAULT_EXPOSURE_FILE = path.join(projectRoot, 'seeds', 'exposure.yaml')

let cached: ExposureTable | undefined

/** seeds/exposure.yaml, validated against the known categories and markets (cached per process). */
export function loadExposure(file = DEFAULT_EXPOSURE_FILE): ExposureTable {
  if (file === DEFAULT_EXPOSURE_FILE && cached) return cached
  const data = loadYamlFile(file, ExposureFileSchema)
  const categories = new Set(loadCategories().map((c) => c.id))
  const markets = new Set(loadMarkets().map((m) => m.code))
  const table: ExposureTable = new Map()
  data.exposure.forEach((r, i) => {
    if (!categories.has(r.category)) throw new DataFileError(file, undefined, `exposure.${i}: unknown category ${r.category}`)
    if (!markets.has(r.market)) throw new DataFileError(file, undefined, `exposure.${i}: unknown market ${r.market}`)
    const key = `${r.category}|${r.market}`
    if (table.has(key)) throw new DataFileError(file, undefined, `exposure.${i}: ${r.category} × ${r.market} is listed twice`)
    table.set(key, { share: r.share, basis: r.basis, estimate: /^estimate/i.test(r.basis) })
  })
  if (file === DEFAULT_EXPOSURE_FILE) cached = table
  return table
}

export function exposureOf(table: ExposureTable, categoryId: string, marketCode: string): Exposure | null {
  return table.get(`${categoryId}|${marketCode}`) ?? null
}
