import type { AppContext } from '../app-context.js'

/**
 * Why `digest --dry-run` wrote no digest, in one sentence: no subscribers, none
 * confirmed, none due this period (and what they get instead), all sent already, or due
 * but with nothing that matches their preferences.
 */
export async function whyNoDigests(ctx: AppContext, period: string, key: string, due: number): Promise<string> {
  const subs = await ctx.db.selectFrom('subscriber').select(['role', 'frequency', 'confirmed_at', 'unsubscribed_at']).execute()
  if (!subs.length) return 'there are no subscribers: add one with  tbt-watch subscriber add --email E --confirmed'
  const active = subs.filter((s) => !s.unsubscribed_at)
  if (!active.length) return `all ${subs.length} subscriber${subs.length === 1 ? ' has' : 's have'} unsubscribed`
  const confirmed = active.filter((s) => s.confirmed_at)
  if (!confirmed.length) return `none of the ${active.length} subscriber${active.length === 1 ? '' : 's'} has confirmed the address yet (the double opt-in e-mail; or add them with --confirmed)`
  if (due > 0) {
    const warnings = await ctx.db.selectFrom('warning').select('id').limit(1).executeTakeFirst()
    if (!warnings) return `${due} subscriber${due === 1 ? ' is' : 's are'} due, but there are no warnings yet: run a pass first (tbt-watch run, or npm run demo)`
  }
  if (due > 0) return `${due} subscriber${due === 1 ? ' is' : 's are'} due for ${key}, but no warning matches ${due === 1 ? 'its' : 'their'} preferences (categories, HS codes, markets, keywords, minimum level) that ${due === 1 ? 'it has' : 'they have'} not had already`
  const sentRows = await ctx.db
    .selectFrom('email_delivery')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('period_key', '=', key)
    .where('kind', 'like', `digest-${period}%`)
    .executeTakeFirst()
  const sent = Number(sentRows?.n ?? 0)
  if (sent > 0) return `the ${period} digests of ${key} were sent already (${sent}); a digest goes out once a period`
  const freq = new Map<string, number>()
  for (const s of confirmed) freq.set(`${s.role} ${s.frequency}`, (freq.get(`${s.role} ${s.frequency}`) ?? 0) + 1)
  return `no confirmed subscriber gets a ${period} digest (they are: ${[...freq].map(([k, n]) => `${n} ${k}`).join(', ')})`
}
