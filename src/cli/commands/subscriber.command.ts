import { InvalidArgumentError, Option, type Command } from 'commander'
import type { AppContext } from '../../app-context.js'

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean)

// The services are loaded by the actions, not here: `tbt-watch --help` must stay light.
const services = async () => ({
  ...(await import('../../services/digest.service.js')),
  ...(await import('../../services/subscriber.service.js')),
  ...(await import('../with-context.js')),
})

/** The option a preference is given with, to name it in a message. */
const OPTION: Record<string, string> = { categories: '--categories', hs: '--hs', markets: '--markets', keywords: '--keywords', minLevel: '--level', frequency: '--frequency', lang: '--lang', role: '--role', name: '--name', email: '--email' }

/**
 * Bad input exits 2 with the message, like every other argument error, naming the
 * option and the value given ("--hs 85x7: …"), not the validator's path ("hs.0: …").
 */
const asArgError = (err: unknown, given: Record<string, unknown> = {}) => {
  if ((err as { code?: string })?.code !== 'SUBSCRIBER_INVALID') return err
  const message = (err as Error).message
  const m = /^(\w+)(?:\.(\d+))?: (.*)$/s.exec(message)
  if (!m || !OPTION[m[1]]) return new InvalidArgumentError(message)
  const value = given[m[1]]
  const shown = Array.isArray(value) ? (m[2] !== undefined ? value[Number(m[2])] : value.join(',')) : value
  return new InvalidArgumentError(`${OPTION[m[1]]}${shown !== undefined ? ` ${String(shown)}` : ''}: ${m[3]}`)
}

/** The subscriber an `--email` names; a bad or unknown address is a usage error (exit 2). */
async function subscriberNamed(ctx: AppContext, o: { email: string }) {
  const { parseEmail } = await import('../../services/subscriber.service.js')
  let email: string
  try {
    email = parseEmail(o.email)
  } catch (err) {
    throw asArgError(err, o)
  }
  const sub = await ctx.db.selectFrom('subscriber').select(['id', 'unsubscribed_at']).where('email', '=', email).executeTakeFirst()
  if (!sub) throw new InvalidArgumentError(`no subscriber ${email}`)
  return { email, sub }
}

interface AddOpts {
  email: string
  name?: string
  role: 'enterprise' | 'official'
  categories?: string[]
  hs?: string[]
  markets?: string[]
  keywords?: string[]
  level: 'low' | 'medium' | 'high'
  frequency: 'immediate' | 'daily' | 'weekly'
  lang: 'zh' | 'en'
  confirmed?: boolean
}

/**
 * `tbt-watch subscriber add|list|remove`: the admin's side of subscriptions. `add`
 * without --confirmed sends the double opt-in e-mail; `remove` only marks the address
 * unsubscribed (its delivery history stays).
 */
export function registerSubscriberCommand(program: Command): void {
  const cmd = program.command('subscriber').description('manage e-mail subscribers (add, list, remove, rotate-links)')

  cmd
    .command('add')
    .description('add a subscriber, or update the preferences of an existing address')
    .requiredOption('--email <address>', 'e-mail address')
    .option('--name <name>', 'name shown in the greeting')
    .addOption(new Option('--role <role>', 'enterprise or official (officials get the weekly risk report)').choices(['enterprise', 'official']).default('enterprise'))
    .option('--categories <ids>', 'Beijing export categories (seeds/categories.yaml ids), comma-separated', list)
    .option('--hs <prefixes>', 'HS code prefixes, comma-separated (e.g. 8517,8542)', list)
    .option('--markets <codes>', 'markets (seeds/markets.yaml codes), comma-separated (e.g. USA,EU)', list)
    .option('--keywords <words>', 'keywords, comma-separated', list)
    .addOption(new Option('--level <level>', 'minimum risk level').choices(['low', 'medium', 'high']).default('low'))
    .addOption(new Option('--frequency <f>', 'immediate (high warnings at once, the rest daily), daily or weekly').choices(['immediate', 'daily', 'weekly']).default('daily'))
    .addOption(new Option('--lang <lang>', 'e-mail language').choices(['zh', 'en']).default('zh'))
    .option('--confirmed', 'the address is known to be right: skip the double opt-in e-mail')
    .action(async (o: AddOpts) => {
      const { addSubscriber, parseEmail, sendConfirmation, validatePreferences, withContext, withMailRetries } = await services()
      await withContext(async (ctx) => {
        try {
          const prefs = validatePreferences(ctx, {
            name: o.name,
            role: o.role,
            lang: o.lang,
            frequency: o.frequency,
            minLevel: o.level,
            categories: o.categories,
            hs: o.hs,
            markets: o.markets,
            keywords: o.keywords,
          })
          const r = await addSubscriber(ctx, o.email, prefs, { confirmed: o.confirmed })
          let note = o.confirmed ? 'confirmed' : 'awaiting confirmation'
          if (r.needsConfirmation) {
            const sent = await withMailRetries(ctx, () => sendConfirmation(ctx, r.id))
            note = sent === 'sent' ? 'confirmation e-mail sent' : sent === 'already-sent' ? 'confirmation e-mail already sent today' : `confirmation e-mail: ${sent}`
          }
          console.log(`subscriber ${r.id} ${r.created ? 'added' : 'updated'}: ${parseEmail(o.email)} (${note})`)
        } catch (err) {
          throw asArgError(err, { ...o, minLevel: o.level })
        }
      })
    })

  cmd
    .command('list')
    .description('list subscribers, their preferences and delivery problems')
    .option('--json', 'one JSON array')
    .action(async (o: { json?: boolean }) => {
      const { listSubscribers, withContext } = await services()
      await withContext(async (ctx) => {
        const subs = await listSubscribers(ctx)
        if (o.json) return console.log(JSON.stringify(subs))
        if (!subs.length) return console.log('no subscribers')
        console.log('id  status        role        freq       level   lang  sent  email')
        for (const s of subs) {
          console.log(`${String(s.id).padEnd(3)} ${s.status.padEnd(13)} ${s.role.padEnd(11)} ${s.frequency.padEnd(10)} ${s.minLevel.padEnd(7)} ${s.lang.padEnd(5)} ${String(s.sent).padStart(4)}  ${s.email}`)
          const what = [
            s.categories.length ? `categories ${s.categories.join(',')}` : '',
            s.hs.length ? `hs ${s.hs.join(',')}` : '',
            s.markets.length ? `markets ${s.markets.join(',')}` : '',
            s.keywords.length ? `keywords ${s.keywords.join(',')}` : '',
          ].filter(Boolean)
          if (what.length) console.log(`      ${what.join(' · ')}`)
          for (const p of s.problems) console.log(`      ! ${p.status} ${p.kind} ${p.periodKey}${p.error ? `: ${p.error}` : ''}`)
        }
      })
    })

  cmd
    .command('remove')
    .description('unsubscribe an address (nothing is deleted; idempotent)')
    .requiredOption('--email <address>', 'e-mail address')
    .action(async (o: { email: string }) => {
      const { unsubscribeSubscriber, withContext } = await services()
      await withContext(async (ctx) => {
        const { email, sub } = await subscriberNamed(ctx, o)
        await unsubscribeSubscriber(ctx, sub.id)
        console.log(`subscriber ${sub.id} ${sub.unsubscribed_at ? 'was already unsubscribed' : 'unsubscribed'}: ${email}`)
      })
    })

  cmd
    .command('rotate-links')
    .description("void every manage and unsubscribe link sent to an address so far (a forwarded or leaked e-mail); the next e-mail carries new ones")
    .requiredOption('--email <address>', 'e-mail address')
    .action(async (o: { email: string }) => {
      const { rotateSubscriberTokens, withContext } = await services()
      await withContext(async (ctx) => {
        const { sub } = await subscriberNamed(ctx, o)
        await rotateSubscriberTokens(ctx, sub.id)
        console.log(`subscriber ${sub.id}: every earlier manage and unsubscribe link now fails`)
      })
    })
}
