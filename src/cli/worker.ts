import type { Config } from '../config.js'
import { networkReason, safeUrl, UsageError } from './errors.js'
import { OutageReporter, outageSummaryMs, probeDatabase, withBackoff } from './outage.js'

/**
 * `tbt-watch worker`: the BullMQ workers and job schedulers. PostgreSQL and Redis that
 * cannot be reached are waited for with backoff, told in one line and a summary a
 * minute (never a stack trace per attempt); so is Redis going away while the workers run.
 */
export async function workerCommand(config: Config, opts: { schedule: boolean }): Promise<void> {
  if (!config.redisUrl) throw new UsageError('worker needs REDIS_URL (e.g. redis://127.0.0.1:6379)')
  const { assertSafeMetrics, assertSafeSecret } = await import('../config.js')
  assertSafeSecret(config)
  assertSafeMetrics(config)
  const redisUrl = config.redisUrl
  const { createLogger } = await import('../logger.js')
  const { createContext } = await import('../app-context.js')
  const log = createLogger(config.logLevel)
  const logTo = (level: 'warn' | 'info', fields: Record<string, unknown>, msg: string) => log[level](fields, msg)
  const stopping = new AbortController()
  const earlyStop = () => {
    stopping.abort()
    process.exit(0)
  }
  process.once('SIGINT', earlyStop)
  process.once('SIGTERM', earlyStop)

  const summaryMs = outageSummaryMs()
  const pgReporter = new OutageReporter({ service: 'PostgreSQL', url: safeUrl(config.databaseUrl), log: logTo, endpoints: config, summaryMs })
  await withBackoff(() => probeDatabase(config.databaseUrl), pgReporter, { signal: stopping.signal, maxMs: Math.min(30_000, summaryMs) })
  const ctx = await createContext(config, { log })
  const { seed } = await import('../services/seed.service.js')
  await seed(ctx, { subscribers: false })
  // Load the classifier before taking jobs: loading blocks the event loop for seconds,
  // which inside a job would stop its lock being renewed and make it look stalled.
  await ctx.classifier()

  const waiting = new OutageReporter({ service: 'Redis', url: safeUrl(redisUrl), log: logTo, endpoints: config, summaryMs })
  await withBackoff(() => pingRedis(redisUrl), waiting, { signal: stopping.signal, maxMs: Math.min(30_000, summaryMs) })
  // From here on Redis errors come from the workers' own reconnecting clients.
  const redis = new OutageReporter({ service: 'Redis', url: safeUrl(redisUrl), log: logTo, endpoints: config, summaryMs, quietMeansRecovered: true })

  // The CLI is the one place that starts the queue boundary; nothing in src/ imports jobs/.
  const { startWorkers } = await import('../../jobs/worker.js')
  const { createMetrics, registerDbGauges, registerQueueGauges } = await import('../ops/metrics.js')
  const metrics = createMetrics({ processDefaults: true })
  const pool = await startWorkers(ctx, { redisUrl, prefix: config.queuePrefix }, {
    schedule: opts.schedule,
    metrics,
    onError: (err, stage) => (networkReason(err) ? redis.failure(err) : ctx.log.error({ stage, err: err.message }, 'worker error')),
  })
  let metricsServer: { port: number; close(): Promise<void> } | undefined
  if (config.metricsPort !== undefined) {
    registerDbGauges(metrics.registry, ctx.db)
    registerQueueGauges(metrics.registry, Object.values(pool.queues))
    const { startMetricsServer } = await import('../ops/metrics-server.js')
    metricsServer = await startMetricsServer(metrics.registry, config.metricsPort, { host: config.metricsHost, token: config.adminToken })
  }
  ctx.log.info({ prefix: config.queuePrefix, pid: process.pid, metricsPort: metricsServer?.port }, 'workers started')
  process.off('SIGINT', earlyStop)
  process.off('SIGTERM', earlyStop)
  let shuttingDown = false
  const shutdown = async (signal: string) => {
    if (shuttingDown) return
    shuttingDown = true
    ctx.log.info({ signal }, 'shutting down')
    redis.close()
    await metricsServer?.close()
    await pool.close() // workers (running jobs finish), then queues
    await ctx.close() // browser, mailer, database
    pool.disconnect() // Redis last
    process.exit(0)
  }
  process.once('SIGINT', () => void shutdown('SIGINT'))
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
}

/** One PING on a connection of its own that does not retry: the backoff is ours. */
async function pingRedis(url: string): Promise<void> {
  const { Redis } = await import('ioredis')
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 5_000 })
  // The rejection of connect() only says "Connection is closed"; the 'error' event has the cause.
  let cause: Error | undefined
  r.on('error', (err: Error) => (cause ??= err))
  try {
    await r.connect()
    await r.ping()
  } catch (err) {
    throw cause ?? err
  } finally {
    r.disconnect()
  }
}
