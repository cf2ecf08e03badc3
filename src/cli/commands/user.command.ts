import { Option, type Command } from 'commander'
import { ROLES } from '../../services/user.service.js'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** The first line of standard input when something is piped, else '' (a terminal, or nothing piped). */
async function pipedLine(): Promise<string> {
  return process.stdin.isTTY ? '' : (await readStdin()).split(/\r?\n/)[0]
}

type Ctx = Awaited<ReturnType<typeof import('../../app-context.js').createContext>>
type UserService = typeof import('../../services/user.service.js')

/** Opens the context (and the user service) only when a command runs: --help stays light. */
async function withCtx<T>(fn: (ctx: Ctx, users: UserService) => Promise<T>): Promise<T> {
  const [{ createContext }, { loadConfig }, users] = await Promise.all([import('../../app-context.js'), import('../../config.js'), import('../../services/user.service.js')])
  const ctx = await createContext(loadConfig())
  try {
    return await fn(ctx, users)
  } finally {
    await ctx.close()
  }
}

/**
 * Web UI accounts: `user add|list|disable|enable|reset-password|set-role`. A password
 * comes from standard input when it is piped (first line); at a terminal a one-time
 * password is printed instead, which must be changed at the first login. Disabling,
 * a reset and a new role end the user's sessions.
 */
export function registerUserCommand(program: Command): void {
  const user = program.command('user').description('web UI accounts')
  user
    .command('add')
    .description('add a user; the password is read from standard input when piped, else a one-time password is printed')
    .requiredOption('--email <email>', 'login e-mail')
    .addOption(new Option('--role <role>', 'role').choices([...ROLES]).makeOptionMandatory())
    .option('--name <name>', 'display name')
    .addOption(new Option('--lang <lang>', 'UI language').choices(['zh', 'en']))
    .action(async (opts: { email: string; role: string; name?: string; lang?: 'zh' | 'en' }) => {
      // Piped: the first line is the password. At a terminal, or with nothing piped, a one-time one.
      const given = await pipedLine()
      const piped = given.length > 0
      const { createUser, oneTimePassword } = await import('../../services/user.service.js')
      const { createContext } = await import('../../app-context.js')
      const { loadConfig } = await import('../../config.js')
      const password = piped ? given : oneTimePassword()
      const ctx = await createContext(loadConfig())
      try {
        const u = await createUser(ctx.db, { email: opts.email, role: opts.role, password, name: opts.name, lang: opts.lang, oneTime: !piped }, ctx.clock().toISOString())
        console.log(`user ${u.email} (${u.role}) added`)
        if (!piped) console.log(`one-time password: ${password}\n(it must be changed at the first login)`)
      } finally {
        await ctx.close()
      }
    })

  user
    .command('list')
    .description('every account: e-mail, role, status (active, disabled, must-change-password), open sessions')
    .option('--json', 'one JSON array')
    .action(async (opts: { json?: boolean }) => {
      await withCtx(async (ctx, { listUsers }) => {
        const users = await listUsers(ctx.db, ctx.clock())
        if (opts.json) return console.log(JSON.stringify(users))
        if (!users.length) return console.log('no users yet: tbt-watch user add --email E --role admin')
        const w = Math.max(5, ...users.map((u) => u.email.length))
        console.log(`${'email'.padEnd(w)}  role        status                sessions  created`)
        for (const u of users) console.log(`${u.email.padEnd(w)}  ${u.role.padEnd(10)}  ${u.status.padEnd(20)}  ${String(u.sessions).padStart(8)}  ${u.createdAt.slice(0, 10)}`)
      })
    })

  user
    .command('disable')
    .description('stop an account from logging in and end its sessions')
    .requiredOption('--email <email>', 'login e-mail')
    .action(async (opts: { email: string }) => {
      await withCtx(async (ctx, { disableUser }) => {
        const r = await disableUser(ctx.db, opts.email, ctx.clock())
        console.log(`user ${opts.email.trim().toLowerCase()} disabled; ${r.sessionsEnded} session(s) ended`)
      })
    })

  user
    .command('enable')
    .description('let a disabled account log in again')
    .requiredOption('--email <email>', 'login e-mail')
    .action(async (opts: { email: string }) => {
      await withCtx(async (ctx, { enableUser }) => {
        await enableUser(ctx.db, opts.email)
        console.log(`user ${opts.email.trim().toLowerCase()} enabled`)
      })
    })

  user
    .command('reset-password')
    .description('set a new password (piped on standard input, else a one-time password is printed) and end every session')
    .requiredOption('--email <email>', 'login e-mail')
    .action(async (opts: { email: string }) => {
      const given = await pipedLine()
      await withCtx(async (ctx, { resetPassword }) => {
        const r = await resetPassword(ctx.db, opts.email, given || undefined)
        console.log(`password of ${opts.email.trim().toLowerCase()} reset; every session ended`)
        if (r.oneTime) console.log(`one-time password: ${r.password}\n(it must be changed at the next login)`)
      })
    })

  user
    .command('set-role')
    .description("change an account's role (its sessions end)")
    .requiredOption('--email <email>', 'login e-mail')
    .addOption(new Option('--role <role>', 'role').choices([...ROLES]).makeOptionMandatory())
    .action(async (opts: { email: string; role: string }) => {
      await withCtx(async (ctx, { setRole }) => {
        await setRole(ctx.db, opts.email, opts.role)
        console.log(`user ${opts.email.trim().toLowerCase()} is now ${opts.role}`)
      })
    })
}
