import { pino, type Logger } from 'pino'

export type { Logger }

/** The one logger. Logs go to stderr so that stdout stays for command output. */
export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2))
}
