import { cnTbtSource } from './cn-tbt/cn-tbt.source.js'
import { epingSource } from './eping/eping.source.js'
import { euTrisSource } from './eu-tris/eu-tris.source.js'
import type { Source } from './types.js'

/** Every source the pipeline knows, by id. */
export const SOURCES: Source[] = [
  epingSource,
  cnTbtSource,
  euTrisSource,
]

export function sourceById(id: string): Source | undefined {
  return SOURCES.find((s) => s.id === id)
}
