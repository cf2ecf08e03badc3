import os from 'node:os'
import { InvalidArgumentError, Option, type Command } from 'commander'
import type { AppContext } from '../../app-context.js'
import type { WarningAction } from '../../services/warning.service.js'

/** The statuses a warning can have (as src/services/warning.service.ts STATUSES; not imported, to keep `--help` light). */
const STATUSES = ['new', 'in_review', 'confirmed', 'dismissed', 'escalated'] as const

async function withCtx<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  return (await import('../with-context.js')).withContext(fn)
}

const areaArg = (v: string) => {
  const a = v.trim().toUpperCase()
  if (a !== 'TBT' && a !== 'SPS') throw new InvalidArgumentError('expected TBT or SPS')
  return a
}

/**
 * `tbt-watch warnings list [--status S] [--json]` and
 * `tbt-watch warnings confirm|dismiss|escalate <id...|--all-new> [--note TEXT] [--as EMAIL]`.
 */
export function registerWarningsCommand(program: Command): void {
  const warnings = program.command('warnings').description('the review queue from the command line')
  warnings
    .command('list')
    .description('list warnings, highest score first')
    .addOption(new Option('--status <status>', 'only this status').choices([...STATUSES]))
    .addOption(new Option('--area <area>', 'only TBT or only SPS measures (TBT, SPS)').argParser(areaArg))
    .option('--json', 'one JSON array')
    .action(async (opts: { status?: string; area?: string; json?: boolean }) => {
      const { allWarnings } = await import('../../services/warning.service.js')
      await withCtx(async (ctx) => {
        const rows = []
        for await (const r of allWarnings(ctx, { status: opts.status ? [opts.status] : undefined, area: opts.area ? [opts.area] : undefined, sort: 'score', dir: 'desc' })) rows.push(r)
        if (opts.json) return console.log(JSON.stringify(rows))
        if (!rows.length) return console.log('no warnings')
        // One row per measure; `category` lists every category it touches, the top one first.
        console.log('id      level   score  status      measure              category              deadline    assignee')
        for (const r of rows) {
          const categories = (r.categories.length ? r.categories.map((c) => c.id) : [r.categoryId]).join(',')
          console.log(
            `${String(r.id).padEnd(7)} ${r.level.padEnd(7)} ${String(r.score).padStart(5)}  ${r.status.padEnd(11)} ${r.measureKey.padEnd(20)} ${categories.padEnd(21)} ${(r.commentDeadline ?? '-').padEnd(11)} ${r.assignee ?? ''}`,
          )
        }
      })
    })

  for (const action of ['confirm', 'dismiss', 'escalate'] as const satisfies readonly WarningAction[]) {
    warnings
      .command(`${action} [ids...]`)
      .description(`${action} warnings by id, or every new warning${action === 'dismiss' ? ' (--note gives the reason, and is required)' : ''}`)
      .option('--all-new', 'every warning whose status is new')
      .option('--note <text>', action === 'dismiss' ? 'the reason for dismissing' : 'a note to keep with the warning')
      .option('--as <email>', 'act as this user (an admin or analyst)')
      .action(async (ids: string[], opts: { allNew?: boolean; note?: string; as?: string }) => {
        if (!!opts.allNew === ids.length > 0) throw new InvalidArgumentError('give warning ids or --all-new (not both)')
        const numbers = ids.map((s) => {
          const n = Number(s)
          if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`not a warning id: ${s}`)
          return n
        })
        if (action === 'dismiss' && !opts.note?.trim()) throw new InvalidArgumentError('dismiss needs --note with the reason')
        const { findUserByEmail } = await import('../../services/user.service.js')
        const { applyAction } = await import('../../services/warning.service.js')
        await withCtx(async (ctx) => {
          let actor = `cli:${os.userInfo().username}`
          if (opts.as) {
            const u = await findUserByEmail(ctx.db, opts.as)
            if (!u) throw new InvalidArgumentError(`no user ${opts.as} (add one with: tbt-watch user add)`)
            if (u.role !== 'admin' && u.role !== 'analyst') throw new InvalidArgumentError(`${u.email} is ${u.role}; only an admin or analyst reviews warnings`)
            actor = u.email
          }
          const targets = opts.allNew
            ? (await ctx.db.selectFrom('warning').select('id').where('status', '=', 'new').orderBy('id').execute()).map((r) => r.id)
            : numbers
          const results = await applyAction(ctx, targets, action, actor, action === 'dismiss' ? { reason: opts.note } : { note: opts.note })
          let changed = 0
          for (const r of results) {
            if (!r.ok) console.log(`  ! ${r.id}: ${r.error}`)
            else if (!r.unchanged) changed++
          }
          console.log(`${action}: ${changed} changed, ${results.filter((r) => r.unchanged).length} already ${action === 'confirm' ? 'confirmed' : action === 'dismiss' ? 'dismissed' : 'escalated'}, ${results.filter((r) => !r.ok).length} failed`)
          if (results.some((r) => !r.ok)) process.exitCode = 1
        })
      })
  }
}
