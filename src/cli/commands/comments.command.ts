import { InvalidArgumentError, Option, type Command } from 'commander'
import type { AppContext } from '../../app-context.js'

async function withCtx<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  return (await import('../with-context.js')).withContext(fn)
}

const symbolArg = (v: string) => {
  const s = v.trim()
  if (!s || s.length > 100 || /[\u0000-\u001f\u007f]/.test(s)) throw new InvalidArgumentError('expected a measure symbol such as G/TBT/N/AUS/219')
  return s
}

/**
 * 评议 from the command line:
 * `tbt-watch comments list [--measure SYMBOL] [--json]` and
 * `tbt-watch comments export SYMBOL --format docx|html [--lang zh|en] --out FILE`.
 * Heavy modules (the database, the docx library) are imported inside the actions.
 */
export function registerCommentsCommand(program: Command): void {
  const comments = program.command('comments').description("enterprises' feedback on measures and China's comments (评议)")
  comments
    .command('list')
    .description('measures with enterprise feedback or a comment: status, enterprises, export value, cost')
    .option('--measure <symbol>', 'only this measure (its key or any of its symbols)', symbolArg)
    .option('--json', 'one JSON array')
    .action(async (opts: { measure?: string; json?: boolean }) => {
      const { listComments, measureIdByKey } = await import('../../services/comment.service.js')
      const { UsageError } = await import('../errors.js')
      await withCtx(async (ctx) => {
        let measureId: number | undefined
        if (opts.measure) {
          const id = await measureIdByKey(ctx, opts.measure)
          if (id === null) throw new UsageError(`no measure ${opts.measure}`)
          measureId = id
        }
        const rows = await listComments(ctx, { measureId })
        if (opts.json) return console.log(JSON.stringify(rows))
        if (!rows.length) return console.log('no feedback or comments')
        console.log('measure                  deadline    internal    status      enterprises  export value (yuan)  cost (yuan)')
        for (const r of rows) {
          console.log(
            `${r.measureKey.padEnd(24)} ${(r.commentDeadline ?? '-').padEnd(11)} ${(r.internalDeadline ?? '-').padEnd(11)} ${r.status.padEnd(11)} ${String(r.enterprises).padStart(11)}  ${String(r.exportValue).padStart(19)}  ${String(r.complianceCost).padStart(11)}`,
          )
        }
      })
    })
  comments
    .command('export <symbol>')
    .description('write the comment draft of a measure with the feedback it rests on')
    .addOption(new Option('--format <format>', 'docx or html').choices(['docx', 'html']).makeOptionMandatory())
    .addOption(new Option('--lang <lang>', 'language of the labels; the draft is given in both').choices(['zh', 'en']).default('zh'))
    .requiredOption('--out <file>', 'where to write it')
    .action(async (symbol: string, opts: { format: 'docx' | 'html'; lang: 'zh' | 'en'; out: string }) => {
      const key = symbolArg(symbol)
      const fs = await import('node:fs/promises')
      const { measureIdByKey } = await import('../../services/comment.service.js')
      const { commentDocx, commentHtml, loadCommentDocument } = await import('../../comments/export.js')
      const { UsageError } = await import('../errors.js')
      await withCtx(async (ctx) => {
        const id = await measureIdByKey(ctx, key)
        const doc = id === null ? null : await loadCommentDocument(ctx, id)
        if (!doc) throw new UsageError(`no measure ${key}`)
        const body = opts.format === 'docx' ? await commentDocx(doc, opts.lang) : commentHtml(doc, opts.lang)
        await fs.writeFile(opts.out, body)
        console.log(`wrote ${opts.out}: ${doc.measure.key}, ${doc.feedback.length} feedback, status ${doc.comment?.status ?? 'none'}`)
      })
    })
}
