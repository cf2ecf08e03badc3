import cliProgress from 'cli-progress'

/** A progress bar on stderr when it is a terminal; nothing otherwise (logs, CI, pipes). */
export function createProgress(): { update: (stage: string, done: number, total: number) => void; stop: () => void } | undefined {
  if (!process.stderr.isTTY) return undefined
  const bar = new cliProgress.SingleBar(
    { format: '{stage} [{bar}] {value}/{total}', stream: process.stderr, clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  return {
    update(stage, done, total) {
      if (!started) {
        bar.start(total, done, { stage: stage.padEnd(16) })
        started = true
      }
      bar.setTotal(Math.max(total, 1))
      bar.update(done, { stage: stage.padEnd(16) })
    },
    stop() {
      if (started) bar.stop()
    },
  }
}
