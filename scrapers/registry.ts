import { epingSource } from './eping/eping.source.js'
import type { Source } from './types.js'

/** Every source the pipeline knows, by id. */
export const SOURCES: Source[] = [epingSource]

export function sourceById(id: string): Source | undefined {
  return SOURCES.find((s) => s.id === id)
}
