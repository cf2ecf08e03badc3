import { chromium, type Browser } from 'playwright-core'
import { SourceError } from '../types.js'

/**
 * Flags for Debian's Chromium: no GPU, none of the background traffic (updates, sync,
 * field trials, QUIC) a crawler should not make, and no way out to the network except
 * through the engine: every request a page makes is answered by render.ts's route
 * handler (the outbound policy and the HTTP engine), so anything that slips past
 * interception (WebRTC, a WebSocket) meets a proxy that does not exist, loopback included.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=<-loopback>',
  '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
]

/** `auto`: the sandbox unless the process is root or the kernel refuses it (then off, with a warning). */
export type SandboxMode = 'auto' | 'on' | 'off'

export interface ChromiumOptions {
  executablePath: string
  launchTimeoutMs?: number
  /** TBT_CHROMIUM_SANDBOX (default auto). */
  sandbox?: SandboxMode
  /** Told once when Chromium runs without its sandbox, and why. */
  warn?: (message: string) => void
}

/**
 * One Chromium per process, launched on first use and shared by every render; each
 * render gets a fresh browser context, so no cookie or cache leaks from one page to the
 * next. Playwright gives each launch its own temporary profile and removes it on close.
 *
 * Chromium runs third parties' JavaScript, so it keeps its sandbox where it can: it
 * needs a non-root user and unprivileged user namespaces (the Docker image runs as the
 * user `node`; Docker's default seccomp profile may still refuse the namespaces, see
 * scrapers/browser/README.md). As root, or when a sandboxed launch fails under `auto`,
 * it runs with --no-sandbox and says so once.
 */
export class ChromiumEngine {
  private launching: Promise<Browser> | undefined
  /** Whether the running browser has its sandbox (known once launched). */
  sandboxed: boolean | undefined

  constructor(private readonly opts: ChromiumOptions) {}

  browser(): Promise<Browser> {
    if (!this.launching) {
      const launching = this.launch()
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

  private async launch(): Promise<Browser> {
    const mode = this.opts.sandbox ?? 'auto'
    const start = (sandbox: boolean) =>
      chromium.launch({
        executablePath: this.opts.executablePath,
        headless: true,
        chromiumSandbox: sandbox,
        args: sandbox ? CHROMIUM_ARGS : [...CHROMIUM_ARGS, '--no-sandbox'],
        timeout: this.opts.launchTimeoutMs ?? 30_000,
      })
    const root = typeof process.getuid === 'function' && process.getuid() === 0
    if (mode === 'off' || (mode === 'auto' && root)) {
      this.sandboxed = false
      if (mode === 'auto') this.opts.warn?.('Chromium runs without its sandbox: the process runs as root (run as another user to keep it)')
      return start(false)
    }
    try {
      const b = await start(true)
      this.sandboxed = true
      return b
    } catch (err) {
      if (mode === 'on') throw err
      this.opts.warn?.(`Chromium runs without its sandbox: a sandboxed launch failed (${(err as Error).message.split('\n')[0]}); the kernel or the container refuses user namespaces`)
      this.sandboxed = false
      return start(false)
    }
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
