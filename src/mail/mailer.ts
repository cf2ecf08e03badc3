import fs from 'node:fs/promises'
import path from 'node:path'
import nodemailer, { type Transporter } from 'nodemailer'
import { redactEmails } from '../logger.js'

export interface OutgoingMail {
  to: string
  subject: string
  html: string
  text: string
  messageId: string
  headers?: Record<string, string>
  /** Inline images (charts) referenced from the HTML as `cid:<cid>`. */
  attachments?: { filename: string; content: Buffer; contentType: string; cid: string }[]
  /** Names the .eml file when there is no SMTP server. */
  fileName: string
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox'
  send(mail: OutgoingMail): Promise<{ messageId: string; file?: string }>
  close(): void
}

export class MailError extends Error {
  readonly code = 'MAIL_FAILED'
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message)
    this.name = 'MailError'
  }
}

/**
 * SMTP through a pooled nodemailer transport when SMTP_URL is set; otherwise each
 * message is written as an .eml file to the outbox folder, byte for byte what SMTP
 * would have carried.
 */
export function createMailer(opts: { smtpUrl?: string; from: string; outboxDir: string }): Mailer {
  if (opts.smtpUrl) {
    const url = new URL(opts.smtpUrl)
    const transport: Transporter = nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port) || (url.protocol === 'smtps:' ? 465 : 25),
      secure: url.protocol === 'smtps:',
      auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
      pool: true,
      maxConnections: 3,
      ignoreTLS: url.searchParams.get('tls') === 'off',
      tls: { rejectUnauthorized: url.searchParams.get('tls') !== 'insecure' },
    })
    return {
      kind: 'smtp',
      async send(mail) {
        try {
          const info = await transport.sendMail({ from: opts.from, ...pick(mail) })
          return { messageId: info.messageId }
        } catch (err) {
          const e = err as Error & { responseCode?: number }
          // 5xx SMTP replies are permanent; connection problems and 4xx are worth retrying.
          const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500
          // SMTP replies often quote the recipient ("550 <a@b.example>: no such user"); the
          // message goes to logs, delivery rows and the home page's alerts: never the address.
          throw new MailError(`SMTP: ${redactEmails(e.message)}`, !permanent)
        }
      },
      close: () => transport.close(),
    }
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
  return {
    kind: 'outbox',
    async send(mail) {
      const info = await transport.sendMail({ from: opts.from, ...pick(mail) })
      await fs.mkdir(opts.outboxDir, { recursive: true })
      const file = path.join(opts.outboxDir, `${mail.fileName.replace(/[^\w.-]+/g, '_')}.eml`)
      const tmp = `${file}.tmp`
      await fs.writeFile(tmp, info.message as Buffer)
      await fs.rename(tmp, file)
      return { messageId: info.messageId, file }
    },
    close: () => transport.close(),
  }
}

function pick(m: OutgoingMail) {
  return { to: m.to, subject: m.subject, html: m.html, text: m.text, messageId: m.messageId, headers: m.headers, attachments: m.attachments?.map((a) => ({ ...a, contentDisposition: 'inline' as const })) }
}
