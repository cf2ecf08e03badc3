// The baseline of bench/pipeline.bench.ts: BullMQ's own workers with no-op processors, on
// the same queues, with the same concurrency and the same fan-out as the pipeline
// (scrape → one ingest per page → one classify per notice → score → warn).
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'

const [redisUrl, prefix, nStr] = process.argv.slice(2)
const n = Number(nStr)
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
const q = (name: string) => new Queue(name, { connection, prefix, defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } } })
const queues = { ingest: q('ingest'), classify: q('classify'), score: q('score'), warn: q('warn') }
const pages = Math.ceil(n / 100)
const handlers: Record<string, (job: { data: Record<string, number> }) => Promise<void>> = {
  scrape: async () => void (await queues.ingest.addBulk(Array.from({ length: pages }, (_, p) => ({ name: 'ingest', data: { p }, opts: { jobId: `ingest-${p}` } })))),
  ingest: async (job) => {
    const p = job.data.p
    const ids = Array.from({ length: Math.min(100, n - p * 100) }, (_, i) => p * 100 + i)
    await queues.classify.addBulk(ids.map((id) => ({ name: 'classify', data: { id }, opts: { jobId: `classify-${id}` } })))
  },
  classify: async (job) => void (await queues.score.add('score', job.data, { jobId: `score-${job.data.id}` })),
  score: async (job) => void (await queues.warn.add('warn', job.data, { jobId: `warn-${job.data.id}` })),
  warn: async () => {},
}
const CONCURRENCY: Record<string, number> = { scrape: 2, ingest: 2, classify: 4, score: 4, warn: 4 }
const workers = Object.entries(handlers).map(([name, fn]) => new Worker(name, fn as never, { connection, prefix, concurrency: CONCURRENCY[name] }))
process.stderr.write('workers started\n')
process.once('SIGTERM', async () => {
  await Promise.all(workers.map((w) => w.close()))
  await Promise.all(Object.values(queues).map((x) => x.close()))
  connection.disconnect()
  process.exit(0)
})
