import type { AppContext } from '../app-context.js'
import type { PassReport } from '../pipeline/run-pass.js'
import { safeUrl, shownPath } from './errors.js'

/**
 * What `npm start` and `npm run demo` say at the end: where the web UI is, how to log
 * in (the demo's account, or how to create the first one), where the e-mails of the
 * pass went, and, when no source answered, to try the offline demo.
 */

/** The offline demo's account, documented in the README. The password must be changed at the first login. */
export const DEMO_ADMIN = 'admin@example.com'
export const DEMO_PASSWORD = 'demo-password'

/** How the demo account can log in now. */
export type DemoLogin = 'created' | 'unchanged' | 'changed' | 'other-accounts'

/**
 * A database without accounts gets the demo admin (one-time password: the first login
 * sets a new one). Only `npm run demo` calls this, never `start` or `serve`.
 */
export async function ensureDemoAccount(ctx: AppContext): Promise<DemoLogin> {
  const { authenticate, createUser, findUserByEmail } = await import('../services/user.service.js')
  const demo = await findUserByEmail(ctx.db, DEMO_ADMIN)
  if (demo) return demo.mustChangePassword && (await authenticate(ctx.db, DEMO_ADMIN, DEMO_PASSWORD)) ? 'unchanged' : 'changed'
  const any = await ctx.db.selectFrom('app_user').select('id').limit(1).executeTakeFirst()
  if (any) return 'other-accounts'
  await createUser(ctx.db, { email: DEMO_ADMIN, role: 'admin', password: DEMO_PASSWORD, oneTime: true }, ctx.clock().toISOString())
  return 'created'
}

const ADD_USER = 'npx tbt-watch user add --email you@example.org --role admin'

/** One line on how to get in when the web UI is served by `serve`, or undefined when accounts exist. */
export async function accountHint(ctx: AppContext): Promise<string | undefined> {
  const n = await accounts(ctx)
  return n === 0 ? `no account yet: create the first one with  ${ADD_USER}  (it prints a one-time password)` : undefined
}

async function accounts(ctx: AppContext): Promise<number> {
  const r = await ctx.db.selectFrom('app_user').select((eb) => eb.fn.countAll<number>().as('n')).where('disabled_at', 'is', null).executeTakeFirstOrThrow()
  return Number(r.n)
}

export interface Guidance {
  serving: boolean
  port: number
  demo: boolean
  demoLogin?: DemoLogin
  report: PassReport
}

const rel = (p: string) => `${shownPath(p)}/`

export async function nextSteps(ctx: AppContext, g: Guidance): Promise<string[]> {
  const url = `http://localhost:${g.port}/`
  const out: string[] = ['', 'What next:']
  out.push(g.serving ? `  web UI   ${url}  (serving now; Ctrl-C to stop)` : `  web UI   npx tbt-watch serve${g.port !== 8080 ? ` --port ${g.port}` : ''}  then open ${url}`)

  if (g.demo && (g.demoLogin === 'created' || g.demoLogin === 'unchanged')) {
    out.push(`  log in   ${DEMO_ADMIN} / ${DEMO_PASSWORD}  (the demo account; you choose a new password at the first login)`)
  } else if (g.demo && g.demoLogin === 'changed') {
    out.push(`  log in   ${DEMO_ADMIN} with the password you chose for it`)
  } else {
    const n = await accounts(ctx)
    if (n === 0) {
      out.push(`  log in   no account yet: create the first one (it prints a one-time password):`)
      out.push(`             ${ADD_USER}`)
    } else {
      out.push(`  log in   with your account (${n} account${n === 1 ? '' : 's'}); add one with  npx tbt-watch user add --email E --role analyst`)
    }
  }

  const sent = g.report.stages.emailsSent
  if (ctx.config.smtpUrl) {
    out.push(`  e-mails  ${sent} sent through ${safeUrl(ctx.config.smtpUrl)} (SMTP_URL)`)
  } else {
    out.push(`  e-mails  ${sent} written as .eml files to ${rel(ctx.config.outboxDir)}  (no SMTP_URL set; open them with a mail program)`)
  }

  const failed = g.report.sources.filter((s) => s.status === 'failed')
  if (g.report.sources.length > 0 && failed.length === g.report.sources.length) {
    out.push('')
    out.push(`No source could be reached (${failed.map((s) => s.sourceId).join(', ')}): is there a network? Nothing new was fetched.`)
    if (!g.demo) out.push('Try the offline demo, a recorded snapshot with a demo login:  npm run demo')
  }
  return out
}
