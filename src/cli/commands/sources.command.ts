import type { Command } from 'commander'

// Services are loaded by the actions, not here: `tbt-watch --help` must stay light.
const load = async () => ({
  ...(await import('../../app-context.js')),
  ...(await import('../../config.js')),
  ...(await import('../../services/sources.service.js')),
})

/**
 * `tbt-watch sources [--json]`: every source with its engine, base URL, last run,
 * cursor, counts and health. `tbt-watch reparse <source>`: re-parse the source's stored
 * raw responses with the current parser, fetching nothing.
 */
export function registerSourcesCommand(program: Command): void {
  program
    .command('sources')
    .description('list every source: engine, base URL, last run, status, cursor, counts, health')
    .option('--json', 'one JSON array')
    .action(async (opts: { json?: boolean }) => {
      const { createContext, loadConfig, listSources } = await load()
      const ctx = await createContext(loadConfig())
      try {
        const list = await listSources(ctx)
        if (opts.json) return console.log(JSON.stringify(list))
        console.log('source          engine   enabled  health     status  last run                  cursor      notices  raw  quarantined  alerts  base URL')
        for (const s of list) {
          console.log(
            [
              s.id.padEnd(15),
              s.engine.padEnd(8),
              (s.enabled ? 'yes' : 'no').padEnd(8),
              s.health.padEnd(10),
              (s.status ?? '-').padEnd(7),
              (s.lastRunAt ?? '-').padEnd(25),
              (s.cursor ?? '-').padEnd(11),
              String(s.notices).padStart(7),
              String(s.rawResponses).padStart(4),
              String(s.quarantined).padStart(12),
              String(s.openAlerts).padStart(7),
              ` ${s.baseUrl}`,
            ].join(' '),
          )
          if (s.lastRun?.error) console.log(`  ! ${s.id}: ${s.lastRun.error}`)
        }
      } finally {
        await ctx.close()
      }
    })

  program
    .command('reparse <source>')
    .description("re-parse every stored raw response of a source with the current parser (no fetching), then classify, score and warn what changed")
    .option('--json', 'print the counts as JSON')
    .action(async (sourceId: string, opts: { json?: boolean }) => {
      const { createContext, loadConfig, reparseSource } = await load()
      const ctx = await createContext(loadConfig())
      try {
        const r = await reparseSource(ctx, sourceId)
        if (opts.json) return console.log(JSON.stringify(r))
        console.log(
          `${sourceId}: re-parsed ${r.responses} responses: ${r.items} items, ${r.errors} item errors, ${r.quarantined} quarantined, ${r.changedNotices} notices changed`,
        )
        console.log(`classified ${r.classified} · scored ${r.measuresScored} measures · warnings raised ${r.warningsRaised}, updated ${r.warningsUpdated}, closed ${r.warningsClosed}`)
      } finally {
        await ctx.close()
      }
    })
}
