import { daysBetween } from './dates.js'

/**
 * Linking one measure across sources: a US Federal Register proposed rule and the
 * G/TBT/N/USA notification of the same draft. Neither carries the other's identifier,
 * so the link is scored from what they share: the RIN or docket (decisive when the WTO
 * text quotes it), the agency, title words, and dates (the WTO notice usually follows the
 * Federal Register within weeks, often with the same comment deadline).
 */
export interface LinkDocument {
  title: string
  description: string | null
  keywords: string[]
  distributionDate: string | null
  commentDeadline: string | null
}

export interface LinkScore {
  score: number
  reasons: string[]
}

export const LINK_THRESHOLD = 0.5

const STOP = new Set(
  'the and for with from that this into under over such their other than which are was were been being its per new draft proposed rule rules rulemaking amendments amendment standard standards regulation regulations requirements program notice part'.split(
    ' ',
  ),
)

export function titleWords(s: string): Set<string> {
  return new Set(
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, ' ')
      .split(' ')
      .filter((w) => w.length >= 3 && !STOP.has(w))
      .map((w) => w.replace(/(ies|es|s)$/, (m) => (m === 'ies' ? 'y' : ''))),
  )
}

/** Dice coefficient over significant title words, 0..1. */
export function titleSimilarity(a: string, b: string): number {
  const x = titleWords(a)
  const y = titleWords(b)
  if (!x.size || !y.size) return 0
  let shared = 0
  for (const w of x) if (y.has(w)) shared++
  return (2 * shared) / (x.size + y.size)
}

/** Scores a Federal Register document (fr) against a WTO notification (wto). */
export function linkScore(fr: LinkDocument, wto: LinkDocument): LinkScore {
  const reasons: string[] = []
  let score = 0
  const wtoText = `${wto.title} ${wto.description ?? ''} ${wto.keywords.join(' ')}`.toLowerCase()
  const ids = fr.keywords.filter((k) => /^(RIN|Docket) /.test(k)).map((k) => k.replace(/^(RIN|Docket) /, '').toLowerCase())
  const idHit = ids.find((id) => id.length >= 6 && wtoText.includes(id))
  if (idHit) {
    score += 0.5
    reasons.push(`WTO text quotes ${idHit}`)
  }
  const agencies = fr.keywords.filter((k) => !/^(RIN|Docket) /.test(k) && !/\b(rule|rulemaking|nprm)\b/i.test(k))
  const agency = agencies.find((a) => wtoText.includes(a.toLowerCase()))
  if (agency) {
    score += 0.15
    reasons.push(`agency ${agency}`)
  }
  const sim = titleSimilarity(fr.title, `${wto.title}`)
  if (sim > 0) {
    score += 0.5 * sim
    reasons.push(`title similarity ${sim.toFixed(2)}`)
  }
  if (fr.distributionDate && wto.distributionDate) {
    const gap = daysBetween(fr.distributionDate, wto.distributionDate)
    if (gap >= -30 && gap <= 120) {
      score += 0.1
      reasons.push(`notified ${gap} days after publication`)
    } else {
      score -= 0.3
    }
  }
  if (fr.commentDeadline && wto.commentDeadline && Math.abs(daysBetween(fr.commentDeadline, wto.commentDeadline)) <= 3) {
    score += 0.15
    reasons.push('same comment deadline')
  }
  return { score: Math.round(score * 1000) / 1000, reasons }
}

/** The best-scoring candidate above the threshold, if any. */
export function bestLink<T extends LinkDocument>(fr: LinkDocument, candidates: T[], threshold = LINK_THRESHOLD): { candidate: T; score: LinkScore } | null {
  let best: { candidate: T; score: LinkScore } | null = null
  for (const c of candidates) {
    const s = linkScore(fr, c)
    if (s.score >= threshold && (!best || s.score > best.score.score)) best = { candidate: c, score: s }
  }
  return best
}
