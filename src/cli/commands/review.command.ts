import type { Command } from 'commander'
import { registerUserCommand } from './user.command.js'
import { registerWarningsCommand } from './warnings.command.js'

/** The review queue's commands: `user` and `warnings` (one line in main.ts). */
export function registerReviewCommands(program: Command): void {
  registerUserCommand(program)
  registerWarningsCommand(program)
}
