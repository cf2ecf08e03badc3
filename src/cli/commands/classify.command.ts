import fs from 'node:fs'
import type { Command } from 'commander'

/** The shape of one input line, checked before the classifier sees it (zod is loaded by the action). */
const inputLine = (z: typeof import('zod').z) => {
  const text = z.string().nullish()
  const texts = z.array(z.string()).nullish()
  return z.looseObject({
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
}

/**
 * `tbt-watch classify --input IN.jsonl --output OUT.jsonl [--train LABELLED.jsonl]`:
 * classifies notices from a file, with no database, Redis or network. With --train the
 * labelled notices are learnt first, the model is saved under $TBT_DATA_DIR/models/,
 * and this run already uses it.
 */
export function registerClassifyCommand(program: Command): void {
  program
    .command('classify')
    .description('classify notices (JSONL) into HS codes and Beijing export categories, with evidence')
    .requiredOption('--input <file>', 'notices, one JSON object a line (id, title, products, description, objectives, hs_codes?, ics_codes?)')
    .requiredOption('--output <file>', 'where to write one result a line')
    .option('--train <file>', 'labelled notices to learn from first (the ../shared/data format)')
    .action(async (opts: { input: string; output: string; train?: string }) => {
      // Loaded here, not at the top: `tbt-watch --help` must not load the classifier.
      const { loadConfig } = await import('../../config.js')
      const { createClassifier, inputFromRow, readLabelledJsonl } = await import('../../classify/index.js')
      const InputLine = inputLine((await import('zod')).z)
      const config = loadConfig()
      const classifier = await createClassifier({ dataDir: config.dataDir, nomenclaturePath: config.nomenclaturePath })
      if (opts.train) {
        classifier.learn(readLabelledJsonl(opts.train))
        await classifier.save()
      }
      const lines = fs.readFileSync(opts.input, 'utf8').split('\n')
      const out: string[] = []
      lines.forEach((line, i) => {
        if (!line.trim()) return
        let row: Parameters<typeof inputFromRow>[0]
        try {
          row = JSON.parse(line)
        } catch (err) {
          throw new Error(`${opts.input}:${i + 1}: not JSON (${(err as Error).message})`)
        }
        const checked = InputLine.safeParse(row)
        if (!checked.success) {
          const issue = checked.error.issues[0]
          throw new Error(`${opts.input}:${i + 1}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
        }
        let input
        try {
          input = inputFromRow(row, i + 1)
        } catch (err) {
          // Name the file as well as the line, like the JSON error above.
          throw new Error(`${opts.input}:${i + 1}: ${(err as Error).message.replace(/^line \d+: /, '')}`)
        }
        out.push(JSON.stringify(classifier.classify(input)))
      })
      fs.writeFileSync(opts.output, out.join('\n') + (out.length ? '\n' : ''))
    })
}
