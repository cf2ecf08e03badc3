import { epingSource } from './eping/eping.source.js'
import { loadPortalSources } from './portal/portal.source.js'
import type { Source } from './types.js'
import { usFedregSource } from './us-fedreg/us-fedreg.source.js'

/** Every source the pipeline knows, by id. */
export const SOURCES: Source[] = [
  epingSource,
  usFedregSource,
  ...loadPortalSources(),
]

export function sourceById(id: string): Source | undefined {
  return SOURCES.find((s) => s.id === id)
}
