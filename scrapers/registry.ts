import { cnTbtSource } from './cn-tbt/cn-tbt.source.js'
import { createEpingApiSource, epingSource } from './eping/eping.source.js'
import { euTrisSource } from './eu-tris/eu-tris.source.js'
import fs from 'node:fs'
import { ConfigError } from '../src/config.js'
import { DataFileError } from '../src/util/yaml-file.js'
import { loadPortalFiles } from './portal/portal-definition.js'
import { createPortalSource, loadPortalSources } from './portal/portal.source.js'
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
 * TBT_PORTALS_DIR adds the portal definitions of an operator's folder; an id that is
 * already taken is refused with the file that took it again.
 */
export function sourcesFor(opts: { epingApiKey?: string; portalsDir?: string }): Source[] {
  let sources = SOURCES
  if (opts.epingApiKey) sources = [...SOURCES.map((s) => (s.id === 'eping' ? { ...s, enabled: false } : s)), createEpingApiSource(opts.epingApiKey)]
  if (opts.portalsDir) {
    if (!fs.existsSync(opts.portalsDir) || !fs.statSync(opts.portalsDir).isDirectory()) throw new ConfigError(`TBT_PORTALS_DIR: ${opts.portalsDir} is not a folder`)
    for (const { file, def } of loadPortalFiles(opts.portalsDir)) {
      if (sources.some((s) => s.id === def.id)) throw new DataFileError(file, undefined, `portal id ${def.id} is already a source`)
      sources = [...sources, createPortalSource(def)]
    }
  }
  return sources
}
