import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Queue } from 'bullmq'
import type { Db } from '../db/database.js'

/**
 * Prometheus metrics. Two kinds:
 * - process counters (jobs, stage durations, e-mails, scrape requests) that a worker
 *   process counts as it works and serves on TBT_METRICS_PORT;
 * - gauges read at scrape time from the database (per source, e-mails by status,
 *   warnings) and from Redis (queue depths), the same whichever process serves them,
 *   so the web app's /metrics gives the whole picture of a scaled-out deployment.
 */
export interface Metrics {
  registry: Registry
  jobs: Counter<'queue' | 'status'>
  stageSeconds: Histogram<'stage'>
  emails: Counter<'status'>
  scrapeRequests: Counter<'source'>
  scrapeRuns: Counter<'source' | 'status'>
}

export function createMetrics(opts: { processDefaults?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (opts.processDefaults) collectDefaultMetrics({ register: registry, prefix: 'tbt_' })
  return {
    registry,
    jobs: new Counter({ name: 'tbt_jobs_total', help: 'Jobs this process finished, by queue and outcome (completed, failed)', labelNames: ['queue', 'status'], registers: [registry] }),
    stageSeconds: new Histogram({
      name: 'tbt_stage_duration_seconds',
      help: 'Time a job of each stage took in this process',
      labelNames: ['stage'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    emails: new Counter({ name: 'tbt_emails_total', help: 'Digest e-mails this process sent or failed to send', labelNames: ['status'], registers: [registry] }),
    scrapeRequests: new Counter({ name: 'tbt_scrape_requests_total', help: 'HTTP requests this process made to each source', labelNames: ['source'], registers: [registry] }),
    scrapeRuns: new Counter({ name: 'tbt_scrape_runs_total', help: 'Source runs this process finished, by outcome', labelNames: ['source', 'status'], registers: [registry] }),
  }
}

/** Gauges computed from the database when /metrics is read. */
export function registerDbGauges(registry: Registry, db: Db): void {
  new Gauge({
    name: 'tbt_source_runs',
    help: 'Source runs recorded in the database, by source and status (ok, failed, running)',
    labelNames: ['source', 'status'],
    registers: [registry],
    async collect() {
      this.reset()
      const rows = await db.selectFrom('source_run').select(['source_id', 'status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy(['source_id', 'status']).execute()
      for (const r of rows) this.set({ source: r.source_id, status: r.status }, Number(r.n))
    },
  })
  new Gauge({
    name: 'tbt_source_requests',
    help: 'HTTP requests made to each source over all recorded runs',
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      this.reset()
      const rows = await db.selectFrom('source_run').select(['source_id', (eb) => eb.fn.sum<number>('requests').as('n')]).groupBy('source_id').execute()
      for (const r of rows) this.set({ source: r.source_id }, Number(r.n ?? 0))
    },
  })
  new Gauge({
    name: 'tbt_source_errors',
    help: 'Item errors and quarantined responses per source',
    labelNames: ['source', 'kind'],
    registers: [registry],
    async collect() {
      this.reset()
      const items = await db.selectFrom('source_run').select(['source_id', (eb) => eb.fn.sum<number>('errors').as('n')]).groupBy('source_id').execute()
      for (const r of items) this.set({ source: r.source_id, kind: 'item' }, Number(r.n ?? 0))
      const q = await db.selectFrom('raw_response').select(['source_id', (eb) => eb.fn.countAll<number>().as('n')]).where('parse_status', '=', 'quarantined').groupBy('source_id').execute()
      for (const r of q) this.set({ source: r.source_id, kind: 'quarantined' }, Number(r.n))
    },
  })
  new Gauge({
    name: 'tbt_notices',
    help: 'Notices stored, by source',
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      this.reset()
      const rows = await db.selectFrom('notice').select(['source_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('source_id').execute()
      for (const r of rows) this.set({ source: r.source_id }, Number(r.n))
    },
  })
  new Gauge({
    name: 'tbt_warnings',
    help: 'Warnings by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset()
      const rows = await db.selectFrom('warning').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute()
      for (const r of rows) this.set({ status: r.status }, Number(r.n))
    },
  })
  new Gauge({
    name: 'tbt_email_deliveries',
    help: 'E-mail deliveries by status (sent, failed, failed-permanent, uncertain, sending, claimed, pending)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset()
      const rows = await db.selectFrom('email_delivery').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute()
      for (const r of rows) this.set({ status: r.status }, Number(r.n))
    },
  })
  registerFailureGauge(registry, db)
}

/** Work that failed for good (job_failure not yet retried), by queue: alert on any. */
export function registerFailureGauge(registry: Registry, db: Db): void {
  new Gauge({
    name: 'tbt_jobs_failed_for_good',
    help: 'Jobs that failed for good (attempts or stalls used up, or unrecoverable) and were not retried since, by queue; `tbt-watch retry-failed` queues them again',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset()
      const rows = await db.selectFrom('job_failure').select(['queue', (eb) => eb.fn.countAll<number>().as('n')]).where('retried_at', 'is', null).groupBy('queue').execute()
      for (const r of rows) this.set({ queue: r.queue }, Number(r.n))
    },
  })
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const

/** Queue depths per queue and state, read from Redis when /metrics is read. */
export function registerQueueGauges(registry: Registry, queues: Queue[]): void {
  new Gauge({
    name: 'tbt_queue_jobs',
    help: 'Jobs in each queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset()
      const all = await Promise.all(queues.map((q) => withTimeout(q.getJobCounts(...QUEUE_STATES)).catch(() => null)))
      queues.forEach((q, i) => {
        const counts = all[i]
        if (!counts) return // Redis away: no depth rather than a failed scrape; tbt_redis_up says why
        for (const s of QUEUE_STATES) this.set({ queue: q.name, state: s }, counts[s] ?? 0)
      })
    },
  })
  new Gauge({
    name: 'tbt_redis_up',
    help: '1 when the Redis of the queues answered',
    registers: [registry],
    async collect() {
      this.set(queues[0] ? await withTimeout(queues[0].getJobCounts('waiting')).then(() => 1, () => 0) : 0)
    },
  })
}

function withTimeout<T>(p: Promise<T>, ms = 2_000): Promise<T> {
  let t: NodeJS.Timeout
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)))]).finally(() => clearTimeout(t))
}
