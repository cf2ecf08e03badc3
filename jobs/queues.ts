import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq'
import { Redis } from 'ioredis'

import { STAGES, type Stage } from '../src/pipeline/stages.js'

/** One queue per stage. Payloads carry ids only; the database holds the rest. */
export { STAGES, type Stage }

export interface QueueSettings {
  redisUrl: string
  /** BullMQ key prefix; each test uses its own so queues never collide. */
  prefix: string
}

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { count: 1_000, age: 7 * 24 * 3600 },
  removeOnFail: { count: 5_000, age: 30 * 24 * 3600 },
}

/** Producers fail fast when Redis is away; workers (below) wait for it forever. */
export function producerConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false })
}

export function workerConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null })
}

export type Queues = Record<Stage, Queue>

export function openQueues(settings: QueueSettings, connection: ConnectionOptions): Queues {
  return Object.fromEntries(
    STAGES.map((s) => [s, new Queue(s, { connection, prefix: settings.prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS })]),
  ) as Queues
}

/** Job ids are deterministic (a retry or a second enqueue adds nothing) and never hold ':'. */
export const jobId = (...parts: (string | number)[]) => parts.map((p) => String(p).replace(/[^\w.-]+/g, '_')).join('-')

/** Resolves when no queue has work waiting, delayed or running, twice in a row. */
export async function waitForIdle(queues: Queues, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000)
  let quietPolls = 0
  while (Date.now() < deadline) {
    let busy = 0
    for (const q of Object.values(queues)) {
      const c = await q.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children')
      busy += Object.values(c).reduce((a, b) => a + b, 0)
      // A job scheduler always holds its next run as a delayed job; only retries count.
      busy += (await q.getDelayed()).filter((j) => !j.id?.startsWith('repeat:')).length
    }
    quietPolls = busy === 0 ? quietPolls + 1 : 0
    if (quietPolls >= 2) return
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100))
  }
  throw new Error('queues did not drain in time')
}
