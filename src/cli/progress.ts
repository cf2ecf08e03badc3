import fs from 'node:fs'
import { guardStderr } from '../logger.js'

/**
 * The CLI's one stream for people, on stderr (stdout keeps the command's output: a
 * report, JSON, CSV):
 * - `say(line)`: what is happening now ("opening the database…"), a plain line;
 * - `update(stage, done, total, detail)`: progress through a stage. On a terminal this is
 *   a bar on the last line, redrawn in place; JSON log lines (TBT_LOG_LEVEL) are written
 *   above it, never through it. Anywhere else (a pipe, a file, CI) it is a plain line
 *   when a stage starts, and no bar at all.
 * Nothing but text and the two ANSI codes `\r` and "erase line" is ever written, and the
 * bar is erased when it stops, so no stray character is left behind.
 */
export interface Progress {
  say(line: string): void
  update(stage: string, done: number, total: number, detail?: string): void
  /** Erases the bar (a terminal); the next say() starts on a clean line. */
  stop(): void
}

const ERASE = '\r\x1b[2K'
const write = (s: string) => {
  try {
    fs.writeSync(2, s)
  } catch {
    // stderr closed (a pipe whose reader left): nothing to tell anyone.
  }
}

/** What a stage of the pass is called in a line. */
export function stageLine(stage: string, done: number, total: number, detail?: string): string {
  const [name, sub] = stage.split(' ')
  switch (name) {
    case 'scrape':
      return detail ? `fetching ${detail} (source ${done + 1} of ${total})` : `fetched ${total} source${total === 1 ? '' : 's'}`
    case 'ingest':
      return `reading ${total} new response${total === 1 ? '' : 's'} of ${sub}`
    case 'classify':
      return `classifying ${total} notice${total === 1 ? '' : 's'}`
    case 'score':
      return `scoring ${total} measure${total === 1 ? '' : 's'}`
    case 'warn':
      return `raising warnings for ${total} measure${total === 1 ? '' : 's'}`
    case 'digest':
      return `sending ${sub} digests to ${total} subscriber${total === 1 ? '' : 's'}`
    // `import eping-xlsx`
    case 'scan':
      return `reading the file (${total} KB)`
    case 'train':
      return `learning from the file (${total} KB)`
    case 'import':
      return `storing ${total} notification${total === 1 ? '' : 's'}`
    default:
      return `${stage}: ${total}`
  }
}

export function createProgress(opts: { tty?: boolean } = {}): Progress {
  const tty = opts.tty ?? (process.stderr.isTTY === true && process.env.TERM !== 'dumb')
  let lastStage = ''
  if (!tty) {
    return {
      say: (line) => write(`${line}\n`),
      update(stage, done, total, detail) {
        const key = `${stage}\0${detail ?? ''}`
        if (key === lastStage || total === 0 || done >= total) return
        lastStage = key
        write(`${stageLine(stage, done, total, detail)}…\n`)
      },
      stop() {},
    }
  }

  let shown = '' // the bar as drawn on the last line, '' when none
  let lastDraw = 0
  const draw = (text: string) => {
    const width = Math.max(20, (process.stderr.columns || 80) - 1)
    shown = text.length > width ? `${text.slice(0, width - 1)}…` : text
    write(ERASE + shown)
  }
  const erase = () => {
    if (shown) write(ERASE)
    const was = shown
    shown = ''
    return was
  }
  const above = (fn: () => void) => {
    const was = erase()
    fn()
    if (was) draw(was)
  }
  guardStderr(above)
  process.once('exit', () => erase())

  return {
    say: (line) => above(() => write(`${line}\n`)),
    update(stage, done, total, detail) {
      const key = `${stage}\0${detail ?? ''}`
      const now = Date.now()
      // Redraw at most 10 times a second, but at once when the stage changes.
      if (key === lastStage && now - lastDraw < 100 && done < total) return
      lastStage = key
      lastDraw = now
      const label = stageLine(stage, done, total, detail)
      const barWidth = 24
      const filled = total > 0 ? Math.round((Math.min(done, total) / total) * barWidth) : 0
      draw(`${label.padEnd(40)} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${done}/${total}`)
    },
    stop() {
      erase()
      guardStderr(undefined)
    },
  }
}

/** For commands that print nothing while they work: lines only, never a bar. */
export const plain: Progress = { say: (line) => write(`${line}\n`), update() {}, stop() {} }
