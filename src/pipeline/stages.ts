/**
 * The pipeline's stages, one BullMQ queue each, and the reconciliation's queue. Named here,
 * outside jobs/, so that the web app's queue dashboard and metrics can watch the queues
 * without importing jobs/.
 */
export const STAGES = ['scrape', 'ingest', 'classify', 'score', 'warn', 'digest', 'deliver', 'reconcile'] as const
export type Stage = (typeof STAGES)[number]
