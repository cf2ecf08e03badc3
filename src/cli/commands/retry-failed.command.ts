import { InvalidArgumentError, type Command } from 'commander'

/**
 * `tbt-watch retry-failed [--json]`: queues again every job that failed for good (recorded
 * in job_failure, shown on /ops and as tbt_jobs_failed_for_good), each under its own job id,
 * and says in one line what it did. A job that fails for good again is recorded again.
 */
export function registerRetryFailedCommand(program: Command): void {
  program
    .command('retry-failed')
    .description('queue again the work that failed for good (see /ops), each job under its own id (needs REDIS_URL)')
    .option('--json', 'one JSON object: retried, byQueue, jobs')
    .action(async (opts: { json?: boolean }) => {
      // Loaded here: `tbt-watch --help` must not load Redis or the database.
      const [{ Redis }, { loadConfig }, { withContext }] = await Promise.all([import('ioredis'), import('../../config.js'), import('../with-context.js')])
      const config = loadConfig()
      if (!config.redisUrl) throw new InvalidArgumentError('retry-failed needs REDIS_URL (e.g. redis://127.0.0.1:6379)')
      await withContext(async (ctx) => {
        // The queue boundary, loaded only here (nothing in src/ imports jobs/ otherwise).
        const { openQueues } = await import('../../../jobs/queues.js')
        const { retryFailed } = await import('../../../jobs/reconcile.js')
        const redis = new Redis(config.redisUrl!, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 5_000, retryStrategy: () => null })
        redis.on('error', () => {})
        try {
          await redis.connect()
        } catch (err) {
          throw new Error(`Redis at ${config.redisUrl} does not answer (${(err as Error).message}); nothing was retried`)
        }
        const queues = openQueues({ redisUrl: config.redisUrl!, prefix: config.queuePrefix, attempts: config.queue.attempts }, redis)
        try {
          const r = await retryFailed(ctx, queues)
          if (opts.json) return console.log(JSON.stringify(r))
          const parts = Object.entries(r.byQueue).map(([q, n]) => `${q} ${n}`)
          console.log(r.retried ? `queued again ${r.retried} job(s) that had failed for good: ${parts.join(', ')}` : 'nothing to retry: no job has failed for good')
        } finally {
          await Promise.all(Object.values(queues).map((q) => q.close()))
          redis.disconnect()
        }
      }, config)
    })
}
