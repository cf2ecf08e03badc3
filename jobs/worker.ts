import { Worker } from 'bullmq'
import type { AppContext } from '../src/app-context.js'
import type { Metrics } from '../src/ops/metrics.js'
import { openQueues, STAGES, workerConnection, type QueueSettings, type Queues, type Stage } from './queues.js'
import { processors } from './processors.js'
import { recordFailedJob } from './reconcile.js'

export interface WorkerPool {
  queues: Queues
  workers: Worker[]
  /** Closes the workers (letting running jobs finish), then the queues. */
  close(): Promise<void>
  /** Drops the Redis connection: last, after the browser and the database are closed. */
  disconnect(): void
}

const CONCURRENCY: Record<Stage, number> = { scrape: 2, ingest: 2, classify: 4, score: 4, warn: 4, digest: 1, deliver: 4, reconcile: 1 }

export interface WorkerOptions {
  /** The product's job schedulers (scrapes, digests); the reconciliation's runs whatever this says. */
  schedule?: boolean
  metrics?: Metrics
  /** Errors of the workers and queues (Redis going away): the CLI counts them into one outage line a minute. Default: one log line each. */
  onError?: (err: Error, stage: Stage) => void
}

export async function startWorkers(ctx: AppContext, settings: QueueSettings, opts: WorkerOptions = {}): Promise<WorkerPool> {
  const connection = workerConnection(settings.redisUrl)
  const { stalledIntervalMs, lockDurationMs, maxStalledCount, attempts, reconcileEveryMs } = ctx.config.queue
  const queues = openQueues({ attempts, ...settings }, connection)
  const { metrics } = opts
  const handlers = processors(ctx, queues, metrics)
  const onError = opts.onError ?? ((err: Error, stage: Stage) => ctx.log.error({ stage, err: err.message }, 'worker error'))
  // A queue without an 'error' listener prints each Redis error with its stack.
  for (const stage of STAGES) queues[stage].on('error', (err) => onError(err, stage))
  const workers = STAGES.map((stage) => {
    // A job whose worker died (kill -9, lost machine) holds a lock that is no longer
    // renewed; after lockDuration the stalled check of any live worker puts it back. A
    // crash-looping deployment kills the same job again and again: it survives
    // maxStalledCount deaths (BullMQ's default is one) before it fails for good.
    const w = new Worker(stage, handlers[stage], {
      connection,
      prefix: settings.prefix,
      concurrency: CONCURRENCY[stage],
      stalledInterval: stalledIntervalMs,
      lockDuration: lockDurationMs,
      maxStalledCount,
    })
    w.on('completed', (job) => {
      metrics?.jobs.inc({ queue: stage, status: 'completed' })
      if (job.processedOn && job.finishedOn) metrics?.stageSeconds.observe({ stage }, (job.finishedOn - job.processedOn) / 1000)
    })
    w.on('failed', (job, err) => {
      metrics?.jobs.inc({ queue: stage, status: 'failed' })
      ctx.log.warn({ jobId: job?.id, stage, attempts: job?.attemptsMade, err: err.message }, 'job failed')
      // Failed for good (attempts or stalls used up, or unrecoverable): into SQL, out of Redis.
      // Retried later: nothing to do. If this process dies first, the reconciliation harvests it.
      if (job) void job.isFailed().then((final) => (final ? recordFailedJob(ctx, stage, job, err.message) : false)).catch((e: Error) => ctx.log.warn({ jobId: job.id, stage, err: e.message }, 'failed job not recorded yet; the reconciliation will'))
    })
    w.on('stalled', (id) => ctx.log.warn({ jobId: id, stage }, 'job stalled; its worker stopped without finishing it, running it again'))
    w.on('error', (err) => onError(err, stage))
    return w
  })
  if (opts.schedule !== false) await reconcileSchedulers(ctx, queues)
  // The reconciliation: on a timer, and once now (a worker that starts is often one that
  // replaces a dead one). One start run at a time across workers (deduplicated).
  await queues.reconcile.upsertJobScheduler('reconcile', { every: reconcileEveryMs }, { name: 'reconcile', data: { reason: 'scheduled' } })
  await queues.reconcile.add('reconcile', { reason: 'worker start' }, { deduplication: { id: 'reconcile-start' } })
  return {
    queues,
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()))
      await Promise.all(Object.values(queues).map((q) => q.close()))
    },
    disconnect() {
      connection.disconnect()
    },
  }
}

/**
 * One job scheduler per enabled source and one per digest period, from config.
 * Schedulers that no longer match (a source disabled or removed) are removed.
 */
export async function reconcileSchedulers(ctx: AppContext, queues: Queues) {
  const { schedule } = ctx.config
  const enabled = await ctx.db.selectFrom('source').select('id').where('enabled', '=', 1).execute()
  const wanted = new Set<string>()
  for (const { id } of enabled) {
    if (!ctx.sources.some((s) => s.id === id)) continue
    const key = `scrape-${id}`
    wanted.add(key)
    await queues.scrape.upsertJobScheduler(key, { pattern: schedule.scrapeCron, tz: schedule.timezone }, { name: 'scrape', data: { sourceId: id } })
  }
  for (const q of [queues.scrape]) {
    for (const s of await q.getJobSchedulers()) if (s.key && !wanted.has(s.key)) await q.removeJobScheduler(s.key)
  }
  await queues.digest.upsertJobScheduler('digest-daily', { pattern: schedule.digestDailyCron, tz: schedule.timezone }, { name: 'digest', data: { period: 'daily' } })
  await queues.digest.upsertJobScheduler('digest-weekly', { pattern: schedule.digestWeeklyCron, tz: schedule.timezone }, { name: 'digest', data: { period: 'weekly' } })
  // Measures move on with the calendar (a comment deadline passed at midnight, local time).
  await queues.digest.upsertJobScheduler('digest-lifecycle', { pattern: schedule.lifecycleCron, tz: schedule.timezone }, { name: 'digest', data: { period: 'lifecycle' } })
  if (schedule.trainCron) await queues.digest.upsertJobScheduler('digest-train', { pattern: schedule.trainCron, tz: schedule.timezone }, { name: 'digest', data: { period: 'train' } })
  else await queues.digest.removeJobScheduler('digest-train')
  // Catches warnings an analyst confirmed since the last pass (high ones go out at once).
  await queues.digest.upsertJobScheduler('digest-immediate', { pattern: schedule.immediateCron, tz: schedule.timezone }, { name: 'digest', data: { period: 'immediate' } })
}
