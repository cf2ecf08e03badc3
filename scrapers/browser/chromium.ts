import { chromium, type Browser } from 'playwright-core'
import { SourceError } from '../types.js'

/**
 * Flags for Debian's Chromium in a container: no sandbox (no user namespaces there), no
 * GPU, and none of the background traffic (updates, sync, field trials, QUIC) a crawler
 * should not make.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]

export interface ChromiumOptions {
  executablePath: string
  launchTimeoutMs?: number
}

/**
 * One Chromium per process, launched on first use and shared by every render; each
 * render gets a fresh browser context, so no cookie or cache leaks from one page to the
 * next. Playwright gives each launch its own temporary profile and removes it on close.
 */
export class ChromiumEngine {
  private launching: Promise<Browser> | undefined

  constructor(private readonly opts: ChromiumOptions) {}

  browser(): Promise<Browser> {
    if (!this.launching) {
      const launching = chromium
        .launch({
          executablePath: this.opts.executablePath,
          headless: true,
          args: CHROMIUM_ARGS,
          timeout: this.opts.launchTimeoutMs ?? 30_000,
        })
        .then((b) => {
          // A crashed browser is launched again on the next render.
          b.on('disconnected', () => {
            if (this.launching === launching) this.launching = undefined
          })
          return b
        })
        .catch((err: Error) => {
          if (this.launching === launching) this.launching = undefined
          throw new SourceError('unavailable', `Chromium could not start from ${this.opts.executablePath}: ${err.message.split('\n')[0]}`, false)
        })
      this.launching = launching
    }
    return this.launching
  }

  /** True once a browser has been asked for (and not closed since). */
  get started(): boolean {
    return this.launching !== undefined
  }

  async close(): Promise<void> {
    const launching = this.launching
    this.launching = undefined
    const b = await launching?.catch(() => undefined)
    await b?.close().catch(() => {})
  }
}
