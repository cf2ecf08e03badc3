import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as net.AddressInfo
  await new Promise((r) => srv.close(r))
  return port
}

async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)))
      s.on('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listening on port ${port}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * A Redis server this test owns: its own port and directory, persisted with an
 * append-only file fsynced on every write (as production runs it), so it can be
 * killed with SIGKILL and restarted without losing acknowledged jobs.
 */
export class OwnRedis {
  private proc?: ChildProcess
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-redis-'))
  constructor(readonly port: number) {}
  get url() {
    return `redis://127.0.0.1:${this.port}`
  }
  static async start(): Promise<OwnRedis> {
    const r = new OwnRedis(await freePort())
    await r.start()
    return r
  }
  async start() {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' })
    await waitForPort(this.port)
  }
  /** kill -9: no shutdown save, nothing flushed that was not already fsynced. */
  async kill() {
    const p = this.proc
    if (!p || p.exitCode !== null) return
    const gone = new Promise((r) => p.once('exit', r))
    p.kill('SIGKILL')
    await gone
  }
  async stop() {
    await this.kill()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

const PG_BIN = '/usr/lib/postgresql/15/bin'

/**
 * A PostgreSQL cluster this test owns (its own data directory in /tmp and port), run as
 * the postgres user because PostgreSQL refuses root. Trust authentication on 127.0.0.1.
 */
export class OwnPostgres {
  readonly dir: string
  readonly socketDir: string
  constructor(readonly port: number) {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-pg-'))
    fs.chmodSync(base, 0o755)
    this.dir = path.join(base, 'data')
    this.socketDir = path.join(base, 'sock')
    fs.mkdirSync(this.socketDir)
  }
  get url() {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`
  }
  private asPostgres(args: string[]) {
    const asRoot = process.getuid?.() === 0
    const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' }) : spawnSync(args[0], args.slice(1), { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.stdout}`)
  }
  static async start(): Promise<OwnPostgres> {
    const pgo = new OwnPostgres(await freePort())
    if (process.getuid?.() === 0) spawnSync('chown', ['-R', 'postgres:postgres', path.dirname(pgo.dir)])
    pgo.asPostgres([`${PG_BIN}/initdb`, '-D', pgo.dir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
    await pgo.start()
    return pgo
  }
  async start() {
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.socketDir} -c fsync=off -c max_connections=200`
    this.asPostgres([`${PG_BIN}/pg_ctl`, '-D', this.dir, '-o', opts, '-l', path.join(path.dirname(this.dir), 'log'), '-w', 'start'])
    await waitForPort(this.port)
  }
  /** Fast shutdown: every connection is terminated, as in a restart or failover. */
  async stopServer() {
    this.asPostgres([`${PG_BIN}/pg_ctl`, '-D', this.dir, '-m', 'fast', '-w', 'stop'])
  }
  async destroy() {
    try {
      this.asPostgres([`${PG_BIN}/pg_ctl`, '-D', this.dir, '-m', 'immediate', '-w', 'stop'])
    } catch {
      // already stopped
    }
    fs.rmSync(path.dirname(this.dir), { recursive: true, force: true })
  }
}

export type SourceMode = 'pass' | 'hang' | 'error'

/**
 * A source in front of another (the replay server) that a test can misbehave: hold
 * requests at a gate, hang without answering (the client times out), or answer 500.
 * `plan` is consumed one entry per request; after it, requests pass through.
 */
export async function startFaultySource(upstream: string, plan: SourceMode[] = []) {
  let gate: Promise<void> = Promise.resolve()
  let openGate = () => {}
  const seen: { mode: SourceMode; url: string }[] = []
  let firstRequest!: () => void
  const first = new Promise<void>((r) => (firstRequest = r))
  const server = http.createServer(async (req, res) => {
    const mode = plan.shift() ?? 'pass'
    seen.push({ mode, url: req.url ?? '' })
    firstRequest()
    if (mode === 'hang') return // never answered; closed with the server
    if (mode === 'error') return void res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error')
    await gate
    const headers: Record<string, string> = {}
    if (req.headers['if-none-match']) headers['if-none-match'] = String(req.headers['if-none-match'])
    try {
      const up = await fetch(upstream + req.url, { headers })
      const body = Buffer.from(await up.arrayBuffer())
      const out: Record<string, string> = {}
      for (const h of ['content-type', 'etag']) if (up.headers.get(h)) out[h] = up.headers.get(h)!
      res.writeHead(up.status, out).end(body)
    } catch (err) {
      res.writeHead(502).end(String(err))
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    /** Resolves when the first request arrives. */
    firstRequest: first,
    /** From now on, passing requests wait until open() is called. */
    hold() {
      gate = new Promise((r) => (openGate = r))
    },
    open: () => openGate(),
    close: () =>
      new Promise<void>((r) => {
        openGate()
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
