import { pino, type Logger } from 'pino'

export type { Logger }

/**
 * Something drawn on the terminal's last line (the CLI's progress bar) that a log line
 * must not break: it clears the line, lets the log line be written, and draws it again.
 */
export type StderrGuard = (write: () => void) => void
let guard: StderrGuard | undefined

/** Set (or, with undefined, remove) the guard every later log line is written through. */
export function guardStderr(g: StderrGuard | undefined): void {
  guard = g
}

/**
 * The one logger: JSON lines on stderr (stdout stays for command output), written
 * synchronously so they keep their order with the CLI's own lines, and above the
 * progress bar while one is shown.
 */
export function createLogger(level: string = 'info'): Logger {
  const fd2 = pino.destination({ fd: 2, sync: true })
  const stream = {
    write(line: string) {
      if (guard) guard(() => fd2.write(line))
      else fd2.write(line)
    },
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream)
}
