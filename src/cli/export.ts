import fs from 'node:fs'
import { withDatabase } from './with-context.js'

/**
 * `tbt-watch export notices|warnings --format jsonl|csv [--out FILE]`. The output file is
 * opened before the database is read, so a path that cannot be written fails at once,
 * in one line ("cannot write /missing/dir/w.csv: the folder /missing/dir does not exist").
 */
export async function exportCommand(what: 'notices' | 'warnings', opts: { format: 'jsonl' | 'csv'; out?: string }): Promise<void> {
  const { csvField, exportNotices, exportWarnings } = await import('../services/export.service.js')
  const file = opts.out ? await fs.promises.open(opts.out, 'w') : undefined
  const out: NodeJS.WritableStream = file ? file.createWriteStream() : process.stdout
  let failure: Error | undefined
  out.on('error', (err: Error) => (failure ??= err))
  const write = (s: string) =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure)
      if (out.write(s)) resolve()
      else out.once('drain', resolve)
    })
  try {
    await withDatabase(async (db, config) => {
      // measureStatus as of today in TBT_TIMEZONE (a deadline that passed yesterday reads `closed`).
      const { localDay } = await import('../domain/dates.js')
      const today = localDay(config.now ? new Date(config.now) : new Date(), config.schedule.timezone)
      const records = what === 'notices' ? exportNotices(db, { today }) : exportWarnings(db, { today })
      let header: string[] | undefined
      let n = 0
      for await (const rec of records as AsyncIterable<Record<string, unknown>>) {
        if (opts.format === 'jsonl') await write(`${JSON.stringify(rec)}\n`)
        else {
          if (!header) {
            header = Object.keys(rec)
            await write(`${header.join(',')}\r\n`)
          }
          await write(`${header.map((k) => csvField(rec[k])).join(',')}\r\n`)
        }
        n++
      }
      if (file) {
        await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())))
        if (failure) throw failure
        console.error(`${n} ${what} written to ${opts.out}`)
      }
    })
  } finally {
    if (file && !(out as fs.WriteStream).closed) (out as fs.WriteStream).destroy()
  }
}
