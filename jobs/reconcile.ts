import type { Job } from 'bullmq'
import type { AppContext } from '../src/app-context.js'
import { markRetried, openFailures, reconcile, recordJobFailure, type ReconcileReport } from '../src/services/reconcile.service.js'
import { STAGES, type Stage } from '../src/pipeline/stages.js'
import { enqueue, type CarriedCache, type Queues } from './queues.js'

/** The message prefix of a permanent SMTP refusal: settled on its delivery row (and its own alert), not a job failure to retry. */
export const PERMANENT_MAIL_FAILURE = 'e-mail refused permanently: '

/**
 * A job that failed for good: recorded in SQL (job_failure), then removed from Redis so that
 * the same deterministic id can be queued again (by the stage, the reconciliation or
 * `retry-failed`). A job whose record cannot be written (the database away) stays in Redis
 * for the next sweep. A permanent SMTP refusal is already settled on its delivery row and its
 * own operations alert: that job stays failed in Redis, as before, and is not recorded.
 */
export async function recordFailedJob(ctx: AppContext, queue: string, job: Job, reason?: string): Promise<boolean> {
  const error = reason ?? job.failedReason ?? null
  if (queue === 'deliver' && error?.startsWith(PERMANENT_MAIL_FAILURE)) return false
  await recordJobFailure(ctx, { queue, jobId: job.id!, name: job.name, data: job.data, error, attempts: job.attemptsMade })
  await job.remove().catch((err: Error) => ctx.log.warn({ queue, jobId: job.id, err: err.message }, 'could not remove a recorded failed job'))
  ctx.log.error({ queue, jobId: job.id, attempts: job.attemptsMade, err: error }, 'job failed for good: recorded for retry-failed')
  return true
}

/** Moves every failed job of every queue (a worker died before recording it) into job_failure. */
export async function harvestFailedJobs(ctx: AppContext, queues: Queues): Promise<number> {
  let n = 0
  for (const stage of STAGES) {
    for (let start = 0; ; ) {
      const jobs = await queues[stage].getFailed(start, start + 499)
      if (!jobs.length) break
      let kept = 0
      for (const job of jobs) {
        if (!job?.id) continue
        if (await recordFailedJob(ctx, stage, job)) n++
        else kept++
      }
      if (jobs.length < 500) break
      start += kept
    }
  }
  return n
}

export type ReconcileRun = ReconcileReport & { harvestedFailures: number }

/** The scheduled reconciliation: failed jobs into SQL first, then every sweep of owed work. */
export async function runReconcile(ctx: AppContext, queues: Queues): Promise<ReconcileRun> {
  const harvestedFailures = await harvestFailedJobs(ctx, queues)
  // What the queued batches carry, read once for the whole sweep.
  const carried: CarriedCache = new Map()
  const r = await reconcile(ctx, (items) => enqueue(queues, items, { carried }))
  const found = r.ingest + r.classify + r.score + r.warn + r.immediate + r.deliver
  ctx.log[found || harvestedFailures ? 'info' : 'debug']({ ...r, harvestedFailures }, 'reconciled: owed work queued again from the database')
  return { ...r, harvestedFailures }
}

export interface RetryReport {
  retried: number
  byQueue: Record<string, number>
  jobs: { queue: string; jobId: string; error: string | null; failedAt: string }[]
}

/**
 * `tbt-watch retry-failed`: every job that failed for good (including failed jobs still in
 * Redis) is queued again under its own id, and its record marked retried. If it fails for
 * good again it is recorded again.
 */
export async function retryFailed(ctx: AppContext, queues: Queues): Promise<RetryReport> {
  await harvestFailedJobs(ctx, queues)
  const failures = await openFailures(ctx)
  const report: RetryReport = { retried: 0, byQueue: {}, jobs: [] }
  for (const f of failures) {
    const queue = f.queue as Stage
    if (!STAGES.includes(queue)) continue
    const q = queues[queue]
    const old = await q.getJob(f.job_id)
    if (old && ((await old.isFailed()) || (await old.isCompleted()))) await old.remove()
    // Marked first: a failure of the new run (however quick) is recorded afresh, never lost.
    await markRetried(ctx, [f.id])
    try {
      await q.add(f.name, f.data, { jobId: f.job_id })
    } catch (err) {
      await ctx.db.updateTable('job_failure').set({ retried_at: null }).where('id', '=', f.id).execute()
      throw err
    }
    report.retried++
    report.byQueue[queue] = (report.byQueue[queue] ?? 0) + 1
    report.jobs.push({ queue, jobId: f.job_id, error: f.error, failedAt: f.failed_at })
  }
  return report
}
