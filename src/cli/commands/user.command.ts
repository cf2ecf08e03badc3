import { Option, type Command } from 'commander'
import { ROLES } from '../../services/user.service.js'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * `tbt-watch user add --email E --role R`: the password comes from standard input when
 * it is piped (first line); at a terminal a one-time password is printed instead, which
 * must be changed at the first login.
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
      const given = process.stdin.isTTY ? '' : (await readStdin()).split(/\r?\n/)[0]
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
}
