import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'

export interface TestSmtp {
  url: string
  messages: ParsedMail[]
  /** When set, every DATA command is answered with this SMTP error. */
  refuse: { code: number; message: string } | null
  close(): Promise<void>
}

/** A real SMTP server on a random port; what arrives is parsed with mailparser. */
export async function startSmtp(): Promise<TestSmtp> {
  const state: TestSmtp = { url: '', messages: [], refuse: null, close: async () => {} }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', async () => {
        if (state.refuse) {
          const err = Object.assign(new Error(state.refuse.message), { responseCode: state.refuse.code })
          return callback(err)
        }
        state.messages.push(await simpleParser(Buffer.concat(chunks)))
        callback()
      })
    },
  })
  // A client killed in the middle of a message (the fault suite's SIGKILLs) resets its
  // connection; smtp-server reports that as an 'error' event, which with no listener would
  // be an uncaught exception in the test process. A mail server logs it and goes on.
  server.on('error', () => {})
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.server.address() as AddressInfo
  state.url = `smtp://127.0.0.1:${port}?tls=off`
  state.close = () => new Promise((r) => server.close(() => r()))
  return state
}
