import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { projectRoot } from '../../src/util/paths.js'

export interface WorkerExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface WorkerProcess {
  child: ChildProcess
  /** Everything the process wrote to stderr (its JSON log), for failure messages. */
  log(): string
  exited: Promise<WorkerExit>
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  stop(graceMs?: number): Promise<WorkerExit>
}

/** `tbt-watch worker --no-schedule` in a child process, as a deployment runs it (`schedule`: with its job schedulers). */
export function spawnWorker(env: Record<string, string>, opts: { schedule?: boolean } = {}): WorkerProcess {
  const child = spawn(process.execPath, [path.join(projectRoot, 'bin', 'tbt-watch.mjs'), 'worker', ...(opts.schedule ? [] : ['--no-schedule'])], {
    cwd: projectRoot,
    // No training job: the suites compare a worker's database with an inline pass, which never trains.
    env: { ...process.env, TBT_LOG_LEVEL: 'info', TBT_TRAIN_CRON: 'off', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  child.stderr!.on('data', (d) => {
    log += d
    if (log.length > 2_000_000) log = log.slice(-1_000_000)
  })
  const exited = new Promise<WorkerExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return {
    child,
    log: () => log,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
        await exited
        clearTimeout(t)
      }
      return exited
    },
  }
}

/**
 * N worker processes under a restart policy, like a process manager or `restart: always`:
 * whenever one exits, a replacement starts with the same environment minus TBT_CRASH_AT
 * (a crash point fires once, in the first process only).
 */
export class WorkerFleet {
  readonly exits: WorkerExit[] = []
  readonly procs: WorkerProcess[] = []
  private stopping = false

  constructor(
    private readonly env: Record<string, string>,
    size: number,
    crashEnv: Record<string, string> = {},
  ) {
    for (let i = 0; i < size; i++) this.start(i === 0 ? { ...env, ...crashEnv } : env)
  }

  private start(env: Record<string, string>) {
    const p = spawnWorker(env)
    this.procs.push(p)
    void p.exited.then((exit) => {
      this.exits.push(exit)
      if (!this.stopping) this.start(this.env)
    })
  }

  /** Resolves when every process started so far has logged that its workers run. */
  async ready(timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.live.every((p) => p.log().includes('workers started'))) {
      if (Date.now() > deadline) throw new Error(`workers did not start\n${this.logs()}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  get live(): WorkerProcess[] {
    return this.procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null)
  }

  /** The last lines of every process's log, for an assertion message. */
  logs(lines = 40): string {
    return this.procs.map((p, i) => `--- worker ${i} (pid ${p.child.pid})\n${p.log().trim().split('\n').slice(-lines).join('\n')}`).join('\n')
  }

  async stop(): Promise<void> {
    this.stopping = true
    await Promise.all(this.procs.map((p) => p.stop()))
  }
}
