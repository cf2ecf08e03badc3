import type { Command } from 'commander'
import { registerUserCommand } from './user.command.js'
import { registerWarningsCommand } from './warnings.command.js'

// The demo's account (`npm run demo` on a database without accounts) is made in src/cli/first-run.ts.
export { DEMO_ADMIN } from '../first-run.js'

/** The review queue's commands: `user` and `warnings` (one line in main.ts). */
export function registerReviewCommands(program: Command): void {
  registerUserCommand(program)
  registerWarningsCommand(program)
}
