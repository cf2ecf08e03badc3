import { cnTbtSource } from './cn-tbt/cn-tbt.source.js'
import { createEpingApiSource, epingSource } from './eping/eping.source.js'
import { euTrisSource } from './eu-tris/eu-tris.source.js'
import { loadPortalSources } from './portal/portal.source.js'
import type { Source } from './types.js'
import { usFedregSource } from './us-fedreg/us-fedreg.source.js'

/** Every source the pipeline knows, by id. */
export const SOURCES: Source[] = [
  epingSource,
  usFedregSource,
  cnTbtSource,
  euTrisSource,
  ...loadPortalSources(),
]

export function sourceById(id: string): Source | undefined {
  return SOURCES.find((s) => s.id === id)
}

/**
 * The sources for a configuration: with an ePing API key the keyed API is used, and the
 * public ePing JSON stays dormant unless its base URL is set or it is asked for by name.
 */
export function sourcesFor(opts: { epingApiKey?: string }): Source[] {
  if (!opts.epingApiKey) return SOURCES
  return [...SOURCES.map((s) => (s.id === 'eping' ? { ...s, enabled: false } : s)), createEpingApiSource(opts.epingApiKey)]
}
