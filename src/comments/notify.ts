import type { AppContext } from '../app-context.js'
import type { SubscriberRow } from '../db/schema.js'
import { mailFrame } from '../digest/render.js'
import { deliverOnce, envelope, mailLinks, runDeliveries, type DeliveryOutcome, type SendReport } from '../services/digest.service.js'
import { cleanText, feedbackClosingSoon, getComment, measureFacts } from '../services/comment.service.js'
import { warningLinkUrl } from '../services/subscriber.service.js'
import { html, type Raw } from '../util/html.js'
import type { Lang } from './words.js'

// The e-mails of 评议: to every enterprise that gave feedback on a measure when China's
// comment is submitted and when the reply arrives, and a reminder before the internal
// deadline. Each goes through the digests' exactly-once delivery (email_delivery, keyed
// by subscriber, kind and measure): a crash neither loses one (the scheduled sweep sends
// what is due) nor sends one twice.

/**
 * The subscriber row an enterprise's e-mails go through. An enterprise user who never
 * subscribed gets an account-only row (confirmed, and unsubscribed from alerts: it
 * receives only the e-mails about its own feedback).
 */
export async function subscriberFor(ctx: AppContext, email: string, name?: string | null): Promise<SubscriberRow> {
  const address = email.trim().toLowerCase()
  const found = await ctx.db.selectFrom('subscriber').selectAll().where('email', '=', address).executeTakeFirst()
  if (found) return found
  const now = ctx.clock().toISOString()
  await ctx.db
    .insertInto('subscriber')
    .values({ email: address, name: name ?? null, role: 'enterprise', lang: ctx.config.lang, frequency: 'weekly', min_level: 'low', confirmed_at: now, unsubscribed_at: now, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('email').doNothing())
    .execute()
  return ctx.db.selectFrom('subscriber').selectAll().where('email', '=', address).executeTakeFirstOrThrow()
}

const M = {
  zh: {
    hello: (n: string | null) => (n ? `${n}：` : '您好：'),
    submittedSubject: (key: string) => `【评议】${key} 的中方评议意见已提交`,
    submitted: (key: string, title: string, on: string, to: string | null) => `您参与评议的措施 ${key}（${title}）的中方评议意见已于${on}提交${to ? `至${to}` : ''}。感谢您提供的意见。收到答复后我们会再通知您。`,
    repliedSubject: (key: string) => `【评议】${key} 收到通报方答复`,
    replied: (key: string, title: string, on: string) => `通报方已于${on}就措施 ${key}（${title}）的中方评议意见作出答复：`,
    reminderSubject: (key: string, d: string) => `【评议】${key} 的企业意见将于${d}截止`,
    reminder: (key: string, title: string, d: string) => `您已就措施 ${key}（${title}）提交评议意见。企业意见将于${d}截止，截止前您仍可补充或修改。`,
    view: '查看措施和您的意见',
    footer: '本邮件由技术性贸易措施预警系统发送，因为您就该措施提交了评议意见。',
  },
  en: {
    hello: (n: string | null) => (n ? `Dear ${n},` : 'Hello,'),
    submittedSubject: (key: string) => `[Comments] China's comment on ${key} has been submitted`,
    submitted: (key: string, title: string, on: string, to: string | null) => `China's comment on ${key} (${title}), to which you contributed, was submitted on ${on}${to ? ` to ${to}` : ''}. Thank you for your feedback; we will tell you when the reply arrives.`,
    repliedSubject: (key: string) => `[Comments] Reply received on ${key}`,
    replied: (key: string, title: string, on: string) => `The notifying member replied on ${on} to China's comment on ${key} (${title}):`,
    reminderSubject: (key: string, d: string) => `[Comments] Feedback on ${key} closes on ${d}`,
    reminder: (key: string, title: string, d: string) => `You sent feedback on ${key} (${title}). Feedback closes on ${d}; until then you can still add to it or change it.`,
    view: 'View the measure and your feedback',
    footer: 'Sent by the trade-measure early-warning system because you sent feedback on this measure.',
  },
}

type Kind = 'comment-submitted' | 'comment-replied' | 'comment-reminder'

async function viewUrl(ctx: AppContext, sub: SubscriberRow, measureId: number): Promise<string> {
  const w = await ctx.db.selectFrom('warning').select('id').where('measure_id', '=', measureId).orderBy('id').executeTakeFirst()
  const active = sub.confirmed_at && !sub.unsubscribed_at
  if (w && active) return warningLinkUrl(ctx, sub, w.id)
  return `${ctx.config.publicBaseUrl}/me`
}

/** One e-mail about a measure's comment to one enterprise, exactly once per (kind, key). */
export async function deliverCommentMail(ctx: AppContext, sub: SubscriberRow, kind: Kind, measureId: number, key: string): Promise<DeliveryOutcome> {
  return deliverOnce(ctx, sub, kind, key, async () => {
    const m = await measureFacts(ctx, measureId)
    const c = await getComment(ctx, measureId)
    if (!m) return null
    if (kind === 'comment-submitted' && !c?.submittedOn) return null
    if (kind === 'comment-replied' && !c?.replyOn) return null
    const lang: Lang = sub.lang === 'en' ? 'en' : 'zh'
    const t = M[lang]
    const title = cleanText(m.title ?? '').replace(/\s+/g, ' ').slice(0, 200)
    const url = await viewUrl(ctx, sub, measureId)
    const name = cleanText(sub.name ?? '').replace(/\s+/g, ' ').slice(0, 100) || null
    let subject: string
    let lead: string
    let extra: Raw = html``
    let extraText = ''
    if (kind === 'comment-submitted') {
      subject = t.submittedSubject(m.key)
      lead = t.submitted(m.key, title, c!.submittedOn!, c!.submittedTo)
    } else if (kind === 'comment-replied') {
      subject = t.repliedSubject(m.key)
      lead = t.replied(m.key, title, c!.replyOn!)
      extra = html`<blockquote style="border-left:3px solid #ccc;margin:8px 0;padding:4px 12px;white-space:pre-wrap">${c!.replyText ?? ''}</blockquote>`
      extraText = `\n${c!.replyText ?? ''}\n`
    } else {
      const d = key.slice(-10)
      subject = t.reminderSubject(m.key, d)
      lead = t.reminder(m.key, title, d)
    }
    const links = sub.confirmed_at && !sub.unsubscribed_at ? mailLinks(ctx, sub) : null
    const body = html`<p>${t.hello(name)}</p><p>${lead}</p>${extra}<p><a href="${url}">${t.view}</a></p><p style="color:#888;font-size:12px">${t.footer}</p>`
    const text = [t.hello(name), '', lead, extraText, `${t.view}: ${url}`, '', '--', t.footer].join('\n')
    return { warningIds: [], compose: () => envelope(ctx, sub, kind, key, { subject, html: mailFrame(lang, subject, body, links), text }, links) }
  })
}

/** Deliveries already settled for a kind (sent, or not to be retried). */
async function settled(ctx: AppContext, kind: Kind): Promise<Set<string>> {
  const rows = await ctx.db.selectFrom('email_delivery').select(['subscriber_id', 'period_key']).where('kind', '=', kind).where('status', 'in', ['sent', 'uncertain', 'failed-permanent']).execute()
  return new Set(rows.map((r) => `${r.subscriber_id}|${r.period_key}`))
}

/**
 * The submitted and reply e-mails due (for one measure, or all): every enterprise with
 * feedback on a measure whose comment was submitted (replied), not told yet. An address
 * that unsubscribed after sending its feedback is not written to.
 */
export async function dueCommentMails(ctx: AppContext, measureId?: number): Promise<{ sub: SubscriberRow; kind: Kind; measureId: number; key: string }[]> {
  let q = ctx.db.selectFrom('measure_comment').select(['measure_id', 'submitted_on', 'reply_on']).where('submitted_on', 'is not', null)
  if (measureId !== undefined) q = q.where('measure_id', '=', measureId)
  const comments = await q.execute()
  if (!comments.length) return []
  const done = { 'comment-submitted': await settled(ctx, 'comment-submitted'), 'comment-replied': await settled(ctx, 'comment-replied') }
  const out: { sub: SubscriberRow; kind: Kind; measureId: number; key: string }[] = []
  for (const c of comments) {
    const fs = await ctx.db.selectFrom('enterprise_feedback').select(['email', 'company', 'updated_at']).where('measure_id', '=', c.measure_id).orderBy('id').execute()
    for (const f of fs) {
      const sub = await subscriberFor(ctx, f.email, f.company)
      if (sub.unsubscribed_at && sub.unsubscribed_at > f.updated_at) continue
      const key = `m${c.measure_id}`
      for (const kind of ['comment-submitted', 'comment-replied'] as const) {
        if (kind === 'comment-replied' && !c.reply_on) continue
        if (!done[kind].has(`${sub.id}|${key}`)) out.push({ sub, kind, measureId: c.measure_id, key })
      }
    }
  }
  return out
}

/** Sends the submitted and reply e-mails due (after a status change, and from the daily sweep). */
export async function sendCommentMails(ctx: AppContext, measureId?: number): Promise<SendReport> {
  const due = await dueCommentMails(ctx, measureId)
  return runDeliveries(ctx, due.map((d) => () => deliverCommentMail(ctx, d.sub, d.kind, d.measureId, d.key)))
}

/** Reminders to enterprises whose feedback closes within two days (once per measure and internal deadline). */
export async function sendFeedbackReminders(ctx: AppContext): Promise<SendReport> {
  const due = await feedbackClosingSoon(ctx)
  const done = await settled(ctx, 'comment-reminder')
  const jobs: (() => Promise<DeliveryOutcome>)[] = []
  for (const d of due) {
    const sub = await subscriberFor(ctx, d.email)
    const key = `m${d.measureId}-${d.internalDeadline}`
    if (done.has(`${sub.id}|${key}`)) continue
    jobs.push(() => deliverCommentMail(ctx, sub, 'comment-reminder', d.measureId, key))
  }
  return runDeliveries(ctx, jobs)
}

/** The daily sweep: reminders, and any submitted/reply e-mail a crash left unsent. */
export async function sendDueCommentMails(ctx: AppContext): Promise<SendReport> {
  const a = await sendFeedbackReminders(ctx)
  const b = await sendCommentMails(ctx)
  return { sent: a.sent + b.sent, failed: a.failed + b.failed }
}
