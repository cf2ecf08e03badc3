import { daysBetween } from '../domain/dates.js'
import type { MeasureStatus } from '../domain/measure.js'
import type { RiskRules } from './rules.js'

export type Level = 'high' | 'medium' | 'low'
export const LEVEL_ZH: Record<Level, string> = { high: '高', medium: '中', low: '低' }
export const LEVEL_RANK: Record<Level, number> = { low: 0, medium: 1, high: 2 }

export interface RiskInput {
  today: string
  category: { id: string; zh: string; en: string; exportWeight: number }
  market: { code: string; zh: string; en: string; tradeShare: number } | null
  /** The share of the category's Beijing exports that goes to the market (seeds/exposure.yaml), when known. */
  exposure?: { share: number; basis: string; estimate: boolean } | null
  member: string | null
  /** The member's name in Chinese and English (seeds/members.yaml), when known; `member` otherwise. */
  memberZh?: string | null
  memberEn?: string | null
  status: MeasureStatus
  commentDeadline: string | null
  entryIntoForceDate: string | null
  /** Title, description, products and objectives of the measure's documents. */
  text: string
  /** Title and description of the follow-up documents (addenda, corrigenda, revisions). */
  followUpText?: string
  /** The classifier's score for this category (0..1). */
  confidence: number
  /** An analyst set the measure's categories: the classification is certain. */
  confirmedByAnalyst?: boolean
}

export interface TraceItem {
  factor: string
  points: number
  zh: string
  en: string
}

export interface RiskResult {
  score: number
  level: Level
  trace: TraceItem[]
}

/**
 * Scores one measure for one export category. Pure: the same input always gives the
 * same score and the same trace, and every point in the score appears in the trace.
 */
export function scoreRisk(rules: RiskRules, input: RiskInput): RiskResult {
  const f = rules.factors
  const trace: TraceItem[] = []
  const text = input.text.toLowerCase()

  const cat = input.category
  const where = input.market
    ? { zh: input.market.zh, en: input.market.en }
    : { zh: `${input.memberZh ?? input.member ?? '该成员'}（非重点市场）`, en: `${input.memberEn ?? input.member ?? 'this member'} (not a watched market)` }
  let weight: number
  let exposureZh: string
  let exposureEn: string
  if (input.market && input.exposure) {
    weight = cat.exportWeight * input.exposure.share
    const basisZh = input.exposure.estimate ? '估算值' : `来源：${input.exposure.basis}`
    const basisEn = input.exposure.estimate ? 'an estimate' : `source: ${input.exposure.basis}`
    exposureZh = `${cat.zh}约占北京出口的${pct(cat.exportWeight)}，其中约${pct(input.exposure.share)}销往${where.zh}（${basisZh}）`
    exposureEn = `${cat.en} make up about ${pct(cat.exportWeight)} of Beijing's exports, and about ${pct(input.exposure.share)} of them go to ${where.en} (${basisEn})`
  } else {
    const share = input.market?.tradeShare ?? f.exposure.unwatchedMarketWeight
    weight = cat.exportWeight * share
    exposureZh = `${cat.zh}约占北京出口的${pct(cat.exportWeight)}；${where.zh}约占北京对外贸易的${pct(share)}（无分产品的出口去向数据，按贸易总额比重估算）`
    exposureEn = `${cat.en} make up about ${pct(cat.exportWeight)} of Beijing's exports; ${where.en} takes about ${pct(share)} of Beijing's trade (no per-product destination figures, so total trade stands in)`
  }
  const exposure = round1(f.exposure.max * Math.sqrt(Math.min(1, weight / f.exposure.saturation)))
  trace.push({ factor: 'exposure', points: exposure, zh: `北京出口暴露度：${exposureZh}`, en: `Beijing's exposure: ${exposureEn}` })

  const natureHits = f.nature.kinds.filter((k) => k.terms.some((t) => matches(text, t)))
  // "Standard" also appears in every regulation that cites one: count it only on its own.
  const mandatory = natureHits.filter((k) => k.mandatory)
  const counted = mandatory.length ? mandatory : natureHits
  const nature = Math.min(f.nature.max, counted.reduce((s, k) => s + k.points, 0))
  trace.push({
    factor: 'nature',
    points: nature,
    zh: counted.length
      ? mandatory.length
        ? `措施性质：属强制性要求，涉及${counted.map((k) => k.zh).join('、')}`
        : `措施性质：${counted.map((k) => k.zh).join('、')}，不具强制性`
      : '措施性质：未识别出强制性或合格评定要求',
    en: counted.length
      ? mandatory.length
        ? `Nature: a mandatory requirement involving ${counted.map((k) => k.en).join(', ')}`
        : `Nature: ${counted.map((k) => k.en).join(', ')}, not mandatory`
      : 'Nature: no mandatory or conformity-assessment requirement recognised',
  })

  const objHits = f.objectives.kinds.filter((k) => k.terms.some((t) => matches(text, t)))
  const objectives = Math.min(f.objectives.max, objHits.reduce((s, k) => s + k.points, 0))
  if (objHits.length) {
    trace.push({
      factor: 'objectives',
      points: objectives,
      zh: `措施目的：${objHits.map((k) => k.zh).join('、')}，进口国执行通常较严`,
      en: `Objective: ${objHits.map((k) => k.en).join(', ')}, which importing members usually enforce strictly`,
    })
  }

  let urgency: number
  let urgencyZh: string
  let urgencyEn: string
  if (input.commentDeadline) {
    const days = daysBetween(input.today, input.commentDeadline)
    const band = f.urgency.deadline.find((b) => days <= b.within) ?? f.urgency.deadline[f.urgency.deadline.length - 1]
    urgency = band.points
    urgencyZh = days < 0 ? `时间紧迫性：评议期已于${input.commentDeadline}结束，措施将进入实施阶段` : `时间紧迫性：距评议截止（${input.commentDeadline}）还有${days}天，仍可提交评议意见`
    urgencyEn = days < 0 ? `Urgency: the comment period closed on ${input.commentDeadline}; the measure is moving towards application` : `Urgency: ${days} days left to comment (deadline ${input.commentDeadline}); comments can still be submitted`
  } else {
    urgency = f.urgency.noDeadline
    urgencyZh = '时间紧迫性：未公布评议截止日期'
    urgencyEn = 'Urgency: no comment deadline was published'
  }
  if (input.entryIntoForceDate) {
    const days = daysBetween(input.today, input.entryIntoForceDate)
    if (days >= 0 && days <= f.urgency.entryIntoForceWithinDays) {
      urgency += f.urgency.entryIntoForcePoints
      urgencyZh += `；${days}天后（${input.entryIntoForceDate}）生效，企业需尽快准备`
      urgencyEn += `; it enters into force in ${days} days (${input.entryIntoForceDate}), so exporters must prepare soon`
    }
  }
  urgency = Math.min(f.urgency.max, urgency)
  trace.push({ factor: 'urgency', points: urgency, zh: urgencyZh, en: urgencyEn })

  if (input.status !== 'open') {
    const pts = f.lifecycle[input.status]
    const words = {
      closed: ['生命周期：评议期已结束，措施尚未通过或生效', 'Lifecycle: the comment period is over; the measure is not yet adopted or in force'],
      adopted: ['生命周期：措施已正式通过或发布，即将实施', 'Lifecycle: the measure has been adopted or published and will apply'],
      in_force: ['生命周期：措施已生效，出口产品须立即符合要求', 'Lifecycle: the measure is in force; exports must comply now'],
      withdrawn: ['生命周期：措施已撤回，不再构成风险', 'Lifecycle: the measure has been withdrawn and no longer poses a risk'],
    }[input.status]
    trace.push({ factor: 'lifecycle', points: pts, zh: words[0], en: words[1] })
  } else if (input.followUpText && f.lifecycle.reopened.terms.some((t) => matches(input.followUpText!.toLowerCase(), t))) {
    trace.push({
      factor: 'lifecycle',
      points: f.lifecycle.reopened.points,
      zh: '生命周期：后续通报重新开放或延长了评议期',
      en: 'Lifecycle: a follow-up reopened or extended the comment period',
    })
  }

  const subtotal = trace.reduce((s, t) => s + t.points, 0)
  const confidence = input.confirmedByAnalyst ? 1 : clamp01(input.confidence)
  const factor = f.confidence.floor + (1 - f.confidence.floor) * confidence
  const score = Math.round(clamp(subtotal * factor, 0, 100))
  const adjust = round1(score - subtotal)
  const pctC = Math.round(confidence * 100)
  trace.push({
    factor: 'confidence',
    points: adjust,
    zh: input.confirmedByAnalyst
      ? '归类可信度：产品类别已由分析员确认'
      : pctC >= 95
        ? `归类可信度：产品归类置信度${pctC}%`
        : `归类可信度：产品归类置信度${pctC}%，得分相应下调`,
    en: input.confirmedByAnalyst
      ? 'Classification: an analyst confirmed the product category'
      : pctC >= 95
        ? `Classification: product classification confidence ${pctC}%`
        : `Classification: product classification confidence ${pctC}%, so the score is reduced accordingly`,
  })
  const level: Level = score >= rules.levels.high ? 'high' : score >= rules.levels.medium ? 'medium' : 'low'
  return { score, level, trace }
}

/**
 * Whole-word match for alphabetic scripts (so "ban" misses "urban"), a word prefix for
 * a term ending in * ("obligatori*"), and a substring for CJK.
 */
function matches(text: string, term: string): boolean {
  const prefix = term.endsWith('*')
  const t = (prefix ? term.slice(0, -1) : term).toLowerCase()
  if (/[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/.test(t)) return text.includes(t)
  let from = 0
  for (;;) {
    const i = text.indexOf(t, from)
    if (i < 0) return false
    const isWord = (c: string | undefined) => !!c && /[\p{L}\p{N}]/u.test(c)
    let end = i + t.length
    if (text[end] === 's' && !isWord(text[end + 1])) end++ // plural
    if (!isWord(text[i - 1]) && (prefix || !isWord(text[end]))) return true
    from = i + 1
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v))
const clamp01 = (v: number) => clamp(v, 0, 1)
const round1 = (v: number) => Math.round(v * 10) / 10
const pct = (v: number) => `${Math.round(v * 1000) / 10}%`
