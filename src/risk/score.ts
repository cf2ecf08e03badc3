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
  member: string | null
  status: MeasureStatus
  commentDeadline: string | null
  entryIntoForceDate: string | null
  /** Title, description, products and objectives of the measure's documents. */
  text: string
  /** The classifier's score for this category (0..1). */
  confidence: number
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

  const marketWeight = input.market?.tradeShare ?? f.exposure.unwatchedMarketWeight
  const exposure = round1(f.exposure.max * Math.sqrt(Math.min(1, (input.category.exportWeight * marketWeight) / f.exposure.saturation)))
  const where = input.market ? { zh: input.market.zh, en: input.market.en } : { zh: `${input.member ?? '该成员'}（非重点市场）`, en: `${input.member ?? 'this member'} (not a watched market)` }
  trace.push({
    factor: 'exposure',
    points: exposure,
    zh: `北京${input.category.zh}出口约占全市出口的${pct(input.category.exportWeight)}，${where.zh}约占北京贸易的${pct(marketWeight)}`,
    en: `${input.category.en} are about ${pct(input.category.exportWeight)} of Beijing's exports; ${where.en} takes about ${pct(marketWeight)} of Beijing's trade`,
  })

  const natureHits = f.nature.kinds.filter((k) => k.terms.some((t) => matches(text, t)))
  const natureRaw = natureHits.reduce((s, k) => s + k.points, 0)
  const nature = Math.min(f.nature.max, natureRaw)
  trace.push({
    factor: 'nature',
    points: nature,
    zh: natureHits.length ? `措施涉及${natureHits.map((k) => k.zh).join('、')}` : '未识别出强制性或合格评定要求',
    en: natureHits.length ? `the measure involves ${natureHits.map((k) => k.en).join(', ')}` : 'no mandatory or conformity-assessment requirement recognised',
  })

  const objHits = f.objectives.kinds.filter((k) => k.terms.some((t) => matches(text, t)))
  const objectives = Math.min(f.objectives.max, objHits.reduce((s, k) => s + k.points, 0))
  if (objHits.length) {
    trace.push({
      factor: 'objectives',
      points: objectives,
      zh: `目的为${objHits.map((k) => k.zh).join('、')}`,
      en: `its objective is ${objHits.map((k) => k.en).join(', ')}`,
    })
  }

  let urgency: number
  let urgencyZh: string
  let urgencyEn: string
  if (input.commentDeadline) {
    const days = daysBetween(input.today, input.commentDeadline)
    const band = f.urgency.deadline.find((b) => days <= b.within) ?? f.urgency.deadline[f.urgency.deadline.length - 1]
    urgency = band.points
    urgencyZh = days < 0 ? `评议期已于${input.commentDeadline}结束` : `距评议截止（${input.commentDeadline}）还有${days}天`
    urgencyEn = days < 0 ? `the comment period closed on ${input.commentDeadline}` : `${days} days left to comment (deadline ${input.commentDeadline})`
  } else {
    urgency = f.urgency.noDeadline
    urgencyZh = '未公布评议截止日期'
    urgencyEn = 'no comment deadline published'
  }
  if (input.entryIntoForceDate) {
    const days = daysBetween(input.today, input.entryIntoForceDate)
    if (days >= 0 && days <= f.urgency.entryIntoForceWithinDays) {
      urgency += f.urgency.entryIntoForcePoints
      urgencyZh += `；${days}天后生效`
      urgencyEn += `; enters into force in ${days} days`
    }
  }
  urgency = Math.min(f.urgency.max, urgency)
  trace.push({ factor: 'urgency', points: urgency, zh: urgencyZh, en: urgencyEn })

  if (input.status !== 'open') {
    const pts = f.lifecycle[input.status]
    const words = { adopted: ['措施已通过或发布', 'the measure has been adopted or published'], in_force: ['措施已生效', 'the measure is in force'], withdrawn: ['措施已撤回', 'the measure has been withdrawn'] }[input.status]
    trace.push({ factor: 'lifecycle', points: pts, zh: words[0], en: words[1] })
  }

  const subtotal = trace.reduce((s, t) => s + t.points, 0)
  const factor = f.confidence.floor + (1 - f.confidence.floor) * clamp01(input.confidence)
  const score = Math.round(clamp(subtotal * factor, 0, 100))
  const adjust = round1(score - subtotal)
  trace.push({
    factor: 'confidence',
    points: adjust,
    zh: `产品归类置信度${Math.round(input.confidence * 100)}%`,
    en: `product classification confidence ${Math.round(input.confidence * 100)}%`,
  })
  const level: Level = score >= rules.levels.high ? 'high' : score >= rules.levels.medium ? 'medium' : 'low'
  return { score, level, trace }
}

/** Whole-word match for Latin-script terms (so "ban" misses "urban"); substring for CJK. */
function matches(text: string, term: string): boolean {
  const t = term.toLowerCase()
  if (/[\u3400-\u9fff]/.test(t)) return text.includes(t)
  let from = 0
  for (;;) {
    const i = text.indexOf(t, from)
    if (i < 0) return false
    const isWord = (c: string | undefined) => !!c && /[\p{L}\p{N}]/u.test(c)
    let end = i + t.length
    if (text[end] === 's' && !isWord(text[end + 1])) end++ // plural
    if (!isWord(text[i - 1]) && !isWord(text[end])) return true
    from = i + 1
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v))
const clamp01 = (v: number) => clamp(v, 0, 1)
const round1 = (v: number) => Math.round(v * 10) / 10
const pct = (v: number) => `${Math.round(v * 1000) / 10}%`
