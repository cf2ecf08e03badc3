import type { Command } from 'commander'
import { createContext } from '../../app-context.js'
import { loadConfig } from '../../config.js'
import { createUser, oneTimePassword } from '../../services/user.service.js'
import { registerUserCommand } from './user.command.js'
import { registerWarningsCommand } from './warnings.command.js'

export const DEMO_ADMIN = 'admin@example.com'

/** The review queue's commands: `user` and `warnings` (one line in main.ts). */
export function registerReviewCommands(program: Command): void {
  registerUserCommand(program)
  registerWarningsCommand(program)
  // `npm run demo` on a database without accounts: one admin with a one-time password,
  // so the offline demo's queue can be opened. Never for `start` or `serve`.
  program.hook('preAction', async (_program, action) => {
    if (action.name() !== 'demo' || action.opts().serve === false) return
    const ctx = await createContext(loadConfig())
    try {
      const any = await ctx.db.selectFrom('app_user').select('id').limit(1).executeTakeFirst()
      if (any) return
      const password = oneTimePassword()
      await createUser(ctx.db, { email: DEMO_ADMIN, role: 'admin', password, oneTime: true }, ctx.clock().toISOString())
      console.log(`demo login: ${DEMO_ADMIN} / ${password} (one-time: you will set a new password)`)
    } finally {
      await ctx.close()
    }
  })
}
