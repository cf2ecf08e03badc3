import net from 'node:net'
import { expect } from 'vitest'
import type { CliResult } from '../helpers/cli.js'

/** A port nothing listens on (taken from the OS, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}

const STACK_FRAME = /^\s+at |node:internal|\.(ts|js|mjs):\d+:\d+|Error: /m

/** The CLI's failure contract: exactly one line on stderr, a sentence, no stack frame, the documented exit code. */
export function expectOneLine(r: CliResult, code: number, message: RegExp) {
  const lines = r.stderr.trimEnd().split('\n')
  expect(lines, r.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^tbt-watch: /)
  expect(lines[0]).toMatch(message)
  expect(r.stderr).not.toMatch(STACK_FRAME)
  expect(r.code, r.stderr).toBe(code)
}

