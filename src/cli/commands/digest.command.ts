import path from 'node:path'
import { Option, type Command } from 'commander'
import type { Period } from '../../services/digest.service.js'

/**
 * `tbt-watch digest --period daily|weekly|monthly|quarterly [--dry-run]`: sends, now, the period's
 * digests (weekly, monthly, quarterly: the officials' report of the last complete ISO week,
 * month or quarter in TBT_TIMEZONE)
 * digests to every confirmed subscriber due (the scheduler's digest job calls the same
 * services). The daily run also sends due comment-deadline reminders and any immediate
 * alert still owed. --dry-run writes the digests as .eml files (and, weekly, the
 * officials' report as HTML) and records nothing.
 */
export function registerDigestCommand(program: Command): void {
  program
    .command('digest')
    .description("send the current period's digests to everyone due (or preview them)")
    .addOption(new Option('--period <period>', 'digest period (monthly, quarterly: the officials reports)').choices(['daily', 'weekly', 'monthly', 'quarterly']).makeOptionMandatory())
    .option('--dry-run', "write the digests as .eml files (weekly, monthly, quarterly: and the officials' report as HTML) under $TBT_DATA_DIR/dry-run/; send nothing")
    .action(async (opts: { period: Period; dryRun?: boolean }) => {
      // Loaded here, not at the top: `tbt-watch --help` must not load the digest machinery.
      const { sendDigests } = await import('../../pipeline/run-pass.js')
      const { dueSubscribers, periodKey, previewDigests, sendImmediateAlerts, sendReminders } = await import('../../services/digest.service.js')
      const { withContext } = await import('../with-context.js')
      await withContext(async (ctx) => {
        const key = periodKey(opts.period, ctx.clock(), ctx.config.schedule.timezone)
        if (opts.dryRun) {
          const dir = path.join(ctx.config.dataDir, 'dry-run', `${opts.period}-${key}`)
          const files = await previewDigests(ctx, opts.period, key, dir)
          const emls = files.filter((f) => f.endsWith('.eml'))
          console.log(`${emls.length} digest(s) written to ${dir}`)
          for (const f of files) console.log(`  ${f}`)
          if (!emls.length) {
            const { whyNoDigests } = await import('../digest-why.js')
            console.log(`no digest because ${await whyNoDigests(ctx, opts.period, key, (await dueSubscribers(ctx, opts.period, key)).length)}`)
          }
          return
        }
        const immediate = opts.period === 'daily' ? await sendImmediateAlerts(ctx) : { sent: 0, failed: 0 }
        const r = await sendDigests(ctx, [opts.period])
        const reminders = opts.period === 'daily' ? await sendReminders(ctx) : { sent: 0, failed: 0 }
        // The daily run also purges unconfirmed sign-ups older than 7 days (and used form nonces).
        if (opts.period === 'daily') await (await import('../../services/subscriber.service.js')).purgeStaleSubscriptions(ctx)
        console.log(`${opts.period} digests ${key} sent: ${r.sent}${opts.period === 'daily' ? ` · immediate alerts ${immediate.sent} · reminders ${reminders.sent}` : ''}`)
        const failed = r.failed + immediate.failed + reminders.failed
        if (failed) {
          console.log(`  ! ${failed} e-mail(s) failed: see \`tbt-watch subscriber list\``)
          process.exitCode = 3
        }
      })
    })
}
