/**
 * Test-only crash injection for the fault suite (test/faults/). With TBT_CRASH_AT set to
 * `stage:point:n`, the process kills itself with SIGKILL the n-th time it passes that
 * point: no finally blocks, no graceful shutdown, exactly what `kill -9` or a lost
 * machine does. Without the variable every point is a no-op.
 */
export type FaultPoint = (point: string) => void

/** Every point the code passes through, so a test can name one that exists. */
export const FAULT_POINTS = [
  'scrape:start', // scrape job taken, nothing written yet
  'scrape:stored', // a response stored in raw_response, the crawl not finished
  'scrape:done', // scrape finished and recorded, ingest jobs not yet queued
  'ingest:stored', // some notices of a page upserted, the page not yet marked parsed
  'ingest:done', // page parsed and marked, classify jobs not yet queued
  'classify:done', // classification committed, score job not yet queued
  'score:done', // risk scores written, warn job not yet queued
  'warn:done', // warnings raised, job not yet marked complete
  'digest:done', // due subscribers found, deliver jobs not yet queued
  'deliver:pending', // delivery row written, not yet claimed
  'deliver:claimed', // delivery claimed with its warnings (status claimed), not yet composed
  'deliver:handed', // delivery marked sending, SMTP not yet called
  'deliver:sent', // SMTP accepted the message, the delivery not yet marked sent
] as const

export function faultPoints(spec: string | undefined): FaultPoint {
  if (!spec) return () => {}
  const m = /^([a-z]+:[a-z-]+):(\d+)$/.exec(spec)
  if (!m || !(FAULT_POINTS as readonly string[]).includes(m[1])) throw new Error(`TBT_CRASH_AT: unknown crash point ${spec}; known: ${FAULT_POINTS.join(', ')} (then :n)`)
  const target = m[1]
  const nth = Number(m[2])
  let seen = 0
  return (point) => {
    if (point !== target || ++seen !== nth) return
    process.stderr.write(`TBT_CRASH_AT ${spec}: killing process ${process.pid}\n`)
    process.kill(process.pid, 'SIGKILL')
  }
}
