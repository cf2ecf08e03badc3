import path from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { createContext } from '../../app-context.js'
import { loadConfig } from '../../config.js'
import { ImportFileError } from '../../import/eping-xlsx.reader.js'
import { dryRunEpingXlsx, importEpingXlsx, trainFromEpingXlsx, type ImportReport } from '../../import/eping-import.service.js'
import { createProgress } from '../progress.js'

interface ImportOpts {
  dryRun?: boolean
  trainOnly?: boolean
  json?: boolean
}

/**
 * `tbt-watch import eping-xlsx FILE [--dry-run] [--train-only] [--json]`: ePing's Excel
 * export (a search's "Export", or the daily bulk file of every notification) into the
 * `eping` source, then classify → score → warn.
 */
export function registerImportCommand(program: Command): void {
  const imp = program.command('import').description('import notices from a file')
  imp
    .command('eping-xlsx <file>')
    .description("ePing's Excel export (search results or the daily bulk file): store its notices, then classify, score and warn")
    .option('--dry-run', 'read and check the file, print the counts, store nothing')
    .option('--train-only', 'teach the classifier from the rows that carry HS codes; store no notice')
    .option('--json', 'print the summary as one JSON object')
    .action(async (file: string, opts: ImportOpts) => {
      if (opts.dryRun && opts.trainOnly) throw new InvalidArgumentError('choose --dry-run or --train-only, not both')
      const config = loadConfig()
      const progress = opts.json ? undefined : createProgress()
      let report: ImportReport
      try {
        if (opts.dryRun) {
          report = await dryRunEpingXlsx(file, { now: config.now ? new Date(config.now) : new Date(), baselineDays: config.baselineDays, onProgress: progress?.update })
        } else if (opts.trainOnly) {
          const { createClassifier } = await import('../../classify/index.js')
          const classifier = await createClassifier({ dataDir: config.dataDir, nomenclaturePath: config.nomenclaturePath })
          report = await trainFromEpingXlsx(file, classifier, { modelDir: path.join(config.dataDir, 'models'), onProgress: progress?.update })
        } else {
          const ctx = await createContext(config)
          try {
            report = await importEpingXlsx(ctx, file, { onProgress: progress?.update })
          } finally {
            await ctx.close()
          }
        }
      } catch (err) {
        if (err instanceof ImportFileError) {
          progress?.stop()
          console.error(`tbt-watch: ${err.message}`)
          process.exitCode = 1
          return
        }
        throw err
      } finally {
        progress?.stop()
      }
      if (opts.json) console.log(JSON.stringify(report))
      else printReport(report)
    })
}

function printReport(r: ImportReport) {
  const what = r.mode === 'dry-run' ? 'dry run (nothing stored)' : r.mode === 'train-only' ? 'training only (no notice stored)' : 'imported'
  console.log(`${path.basename(r.file)}: ${what} in ${r.seconds} s`)
  const types = Object.entries(r.byType).filter(([, n]) => n).map(([t, n]) => `${t} ${n}`).join(', ')
  console.log(`rows ${r.rows} · notices ${r.notices} (${r.jointNotices} joint, ${r.mergedRows} member rows merged) · TBT ${r.byArea.TBT}, SPS ${r.byArea.SPS} · ${types || 'no notices'}`)
  console.log(`with HS codes ${r.withHsCodes}${r.mode !== 'train-only' ? ` · older than the baseline window ${r.olderThanBaseline} (no warnings for them)` : ''}`)
  if (r.stored) {
    const s = r.stored
    console.log(`stored: new ${s.newNotices}, changed ${s.changedNotices}, unchanged ${s.unchangedNotices} (${s.rawNew} notifications' rows not seen before)`)
  }
  if (r.stages) {
    const st = r.stages
    console.log(`classified ${st.classified} notices · scored ${st.measuresScored} measures · warnings raised ${st.warningsRaised}, updated ${st.warningsUpdated}, closed ${st.warningsClosed}`)
  }
  if (r.training) {
    const t = r.training
    console.log(`learnt from ${t.examples} notices with HS codes (${t.withoutHsCodes} without codes skipped)${t.examples ? `; model saved in ${t.modelDir}` : '; nothing to learn, model unchanged'}`)
  }
  if (r.badRows.length) {
    console.log(`${r.badRows.length} bad row(s) skipped:`)
    for (const b of r.badRows) console.log(`  row ${b.row}: ${b.reason}`)
  }
}
