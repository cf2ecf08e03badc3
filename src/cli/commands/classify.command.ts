import fs from 'node:fs'
import { InvalidArgumentError, type Command } from 'commander'
import { z } from 'zod'
import { loadConfig } from '../../config.js'
import { createClassifier, inputFromRow, readLabelledJsonl } from '../../classify/index.js'
import { evaluate, formatEvaluation, type LabelledRecord } from '../../classify/evaluate.js'

const text = z.string().nullish()
const texts = z.array(z.string()).nullish()
/** The shape of one input line, checked before the classifier sees it. */
const InputLine = z.looseObject({
  id: z.union([z.string(), z.number()]).nullish(),
  symbol: text,
  member: text,
  type: text,
  title: text,
  products: text,
  description: text,
  description_head: text,
  language: text,
  objectives: texts,
  hs_codes: texts,
  ics_codes: texts,
})

/** One JSONL file's rows, each checked; a bad line names the file and line. */
function readRows(file: string): { row: Parameters<typeof inputFromRow>[0]; line: number }[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new InvalidArgumentError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
  const out: { row: Parameters<typeof inputFromRow>[0]; line: number }[] = []
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return
    let row: Parameters<typeof inputFromRow>[0]
    try {
      row = JSON.parse(line)
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not JSON (${(err as Error).message})`)
    }
    const checked = InputLine.safeParse(row)
    if (!checked.success) {
      const issue = checked.error.issues[0]
      throw new Error(`${file}:${i + 1}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
    }
    out.push({ row, line: i + 1 })
  })
  return out
}

/**
 * `tbt-watch classify --input IN.jsonl --output OUT.jsonl [--train LABELLED.jsonl]`:
 * classifies notices from a file, with no database, Redis or network. With --train the
 * labelled notices are learnt first (codes removed from their text), the model is
 * retrained and saved under $TBT_DATA_DIR/models/, and this run already uses it.
 *
 * `tbt-watch classify --evaluate LABELLED.jsonl`: scores the classifier on labelled
 * notices with their codes scrubbed, as the project's evaluation does, and prints
 * per-chapter precision and recall and a last line
 * `chapter_top1=… heading_top1=… category_f1=…`.
 */
export function registerClassifyCommand(program: Command): void {
  program
    .command('classify')
    .description('classify notices (JSONL) into HS codes and Beijing export categories, with evidence; or score the classifier on labelled notices')
    .option('--input <file>', 'notices, one JSON object a line (id, title, products, description, objectives, hs_codes?, ics_codes?)')
    .option('--output <file>', 'where to write one result a line')
    .option('--train <file>', 'labelled notices to learn from first (the ../shared/data format)')
    .option('--evaluate <file>', 'labelled notices to score the classifier on (codes are removed before classifying)')
    .option('--verbose', 'with --evaluate: list the misses')
    .option('--json', 'with --evaluate: the figures as JSON')
    .action(async (opts: { input?: string; output?: string; train?: string; evaluate?: string; verbose?: boolean; json?: boolean }) => {
      if (!opts.evaluate && !(opts.input && opts.output)) throw new InvalidArgumentError('classify needs --input and --output, or --evaluate LABELLED.jsonl')
      if (opts.evaluate && (opts.input || opts.output)) throw new InvalidArgumentError('--evaluate scores a labelled file; it takes no --input or --output')
      const config = loadConfig()
      const classifier = await createClassifier({ dataDir: config.dataDir, nomenclaturePath: config.nomenclaturePath })
      if (opts.train) {
        classifier.learn(readLabelledJsonl(opts.train))
        await classifier.save()
      }
      if (opts.evaluate) {
        const rows = readRows(opts.evaluate).map((r) => r.row as LabelledRecord)
        const e = evaluate(classifier, rows)
        console.log(opts.json ? JSON.stringify({ ...e, misses: opts.verbose ? e.misses : undefined }, null, 2) : formatEvaluation(e, opts.verbose))
        return
      }
      const out: string[] = []
      for (const { row, line } of readRows(opts.input!)) {
        let input
        try {
          input = inputFromRow(row, line)
        } catch (err) {
          // Name the file as well as the line, like the JSON error above.
          throw new Error(`${opts.input}:${line}: ${(err as Error).message.replace(/^line \d+: /, '')}`)
        }
        out.push(JSON.stringify(classifier.classify(input)))
      }
      fs.writeFileSync(opts.output!, out.join('\n') + (out.length ? '\n' : ''))
    })

  program
    .command('train')
    .description('train the classifier on the stored notices that carry HS codes (and analysts\' corrections), then classify again what the new model changes')
    .option('--if-needed', `train only when enough labelled notices are new since the last model`)
    .option('--no-reclassify', 'do not classify the stored notices again afterwards')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: { ifNeeded?: boolean; reclassify: boolean; json?: boolean }) => {
      const { withContext } = await import('../with-context.js')
      const { trainClassifier } = await import('../../services/training.service.js')
      const { reclassifyAll } = await import('../../services/reclassify.service.js')
      await withContext(async (ctx) => {
        const t = await trainClassifier(ctx, { force: !opts.ifNeeded })
        const r = t.trained && opts.reclassify ? await reclassifyAll(ctx) : null
        if (opts.json) {
          console.log(JSON.stringify({ ...t, reclassified: r }, null, 2))
          return
        }
        if (!t.trained) {
          console.log(`not trained: ${t.reason}`)
          return
        }
        const m = t.metrics!
        const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`)
        console.log(`model ${t.version}: ${m.examples} labelled notices (${m.trained} trained on, ${m.heldOut} held out), ${m.seconds}s`)
        if (m.heldOut) console.log(`held out: chapter top-1 ${pct(m.chapterTop1)} (lexicon alone ${pct(m.lexiconChapterTop1)}), heading top-1 ${pct(m.headingTop1)}; model weight ${m.scale}`)
        else console.log(`too few notices to hold any out (${m.trained} trained on): no accuracy measured yet`)
        if (r) console.log(`reclassified ${r.notices} notices: ${r.changed} changed, ${r.measures} measures re-scored, warnings raised ${r.raised}, updated ${r.updated}`)
      })
    })
}
