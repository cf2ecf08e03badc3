import type { DocType } from './symbols.js'

/**
 * A measure's lifecycle. `open` until the comment deadline (the whole day, in
 * TBT_TIMEZONE), then `closed` unless a follow-up or a date says it was `adopted`, is
 * `in_force` or was `withdrawn`.
 */
export type MeasureStatus = 'open' | 'closed' | 'adopted' | 'in_force' | 'withdrawn'
export const MEASURE_STATUSES: MeasureStatus[] = ['open', 'closed', 'adopted', 'in_force', 'withdrawn']
/** What the documents themselves can say (deriveMeasure); `closed` follows from the date only. */
export type StatedStatus = Exclude<MeasureStatus, 'closed'>

export interface MeasureDocument {
  docType: DocType
  title: string
  description: string | null
  member: string | null
  distributionDate: string | null
  commentDeadline: string | null
  adoptionDate: string | null
  entryIntoForceDate: string | null
  /** ISO 639-3; China's centre gives Chinese renderings of documents notified in other languages. */
  language?: string | null
}

export interface MeasureState {
  member: string | null
  title: string | null
  /** What the documents say (an addendum's words); lifecycleStatus adds the dates. */
  status: StatedStatus
  commentDeadline: string | null
  adoptionDate: string | null
  entryIntoForceDate: string | null
  firstDistributionDate: string | null
}

// What an addendum says happened, in the languages notices come in. Checked on
// follow-ups only: an original notification's "will enter into force" is a plan.
const LIFECYCLE: { status: StatedStatus; re: RegExp }[] = [
  { status: 'withdrawn', re: /\b(withdrawn|withdrawal|revoked|repealed|retir[ée]e?|retirad[oa]|derogad[oa])\b|撤回|撤销|废止/i },
  { status: 'in_force', re: /\b(entered into force|entry into force of the final|now in force|entr[ée]e? en vigueur|entr[óo] en vigor)\b|已生效|正式实施/i },
  { status: 'adopted', re: /\b(adopted|published|final rule|approved|promulgated|adopt[ée]e?|publi[ée]e?|aprobad[oa]|publicad[oa])\b|已通过|已发布|已批准|正式发布/i },
]

/**
 * A measure's state follows from its documents, read in distribution order: the
 * latest document that states a date sets it (an extension addendum moves the
 * deadline), a revision replaces the title, and an addendum's words set the lifecycle.
 */
export function deriveMeasure(docs: MeasureDocument[]): MeasureState {
  const ordered = [...docs].sort((a, b) => (a.distributionDate ?? '').localeCompare(b.distributionDate ?? '') || rank(a) - rank(b))
  const state: MeasureState = {
    member: null,
    title: null,
    status: 'open',
    commentDeadline: null,
    adoptionDate: null,
    entryIntoForceDate: null,
    firstDistributionDate: null,
  }
  let titleLanguage: string | null = null
  for (const d of ordered) {
    state.member ??= d.member
    if (d.distributionDate && (!state.firstDistributionDate || d.distributionDate < state.firstDistributionDate)) {
      state.firstDistributionDate = d.distributionDate
    }
    // A Chinese rendering sits beside the notified text and never displaces its title.
    const translation = d.language === 'zho' && titleLanguage !== null && titleLanguage !== 'zho'
    if ((d.docType === 'regular' || d.docType === 'revision' || !state.title) && !translation) {
      state.title = d.title
      titleLanguage = d.language ?? 'und'
    }
    if (d.commentDeadline) state.commentDeadline = d.commentDeadline
    if (d.adoptionDate) state.adoptionDate = d.adoptionDate
    if (d.entryIntoForceDate) state.entryIntoForceDate = d.entryIntoForceDate
    if (d.docType === 'addendum') {
      const text = `${d.title} ${d.description ?? ''}`
      const hit = LIFECYCLE.find((l) => l.re.test(text))
      if (hit) state.status = hit.status
    }
  }
  return state
}

const rank = (d: MeasureDocument) => ({ regular: 0, revision: 1, corrigendum: 2, addendum: 3 })[d.docType]

export interface LifecycleInput {
  /** What the documents say (deriveMeasure's status). */
  stated: string
  commentDeadline: string | null
  adoptionDate: string | null
  entryIntoForceDate: string | null
}

/**
 * The measure's status on a local day (YYYY-MM-DD in TBT_TIMEZONE). A withdrawal ends
 * everything; a follow-up saying adopted or in force stands (an adopted measure whose
 * entry-into-force date has come is in force). Otherwise the measure is open through its
 * comment deadline day (or while no deadline was published), and after it in force once
 * the entry-into-force date has come, adopted once the adoption date has, else closed.
 * Pure.
 */
export function lifecycleStatus(m: LifecycleInput, today: string): MeasureStatus {
  const eifCome = !!m.entryIntoForceDate && m.entryIntoForceDate <= today
  const adoptedCome = !!m.adoptionDate && m.adoptionDate <= today
  if (m.stated === 'withdrawn') return 'withdrawn'
  if (m.stated === 'in_force') return 'in_force'
  if (m.stated === 'adopted') return eifCome ? 'in_force' : 'adopted'
  if (!m.commentDeadline || today <= m.commentDeadline) {
    if (m.commentDeadline) return 'open'
    return eifCome ? 'in_force' : adoptedCome ? 'adopted' : 'open'
  }
  return eifCome ? 'in_force' : adoptedCome ? 'adopted' : 'closed'
}

/** Where a comment deadline stands on a local day: passed, due within `soonDays` (7), or later. */
export function deadlineState(deadline: string | null | undefined, today: string, soonDays = 7): 'past' | 'soon' | 'later' | null {
  if (!deadline) return null
  if (deadline < today) return 'past'
  const end = new Date(`${today}T00:00:00Z`)
  end.setUTCDate(end.getUTCDate() + soonDays)
  return deadline <= end.toISOString().slice(0, 10) ? 'soon' : 'later'
}

/**
 * Queue order by lifecycle: measures still open for comments first, then those adopted or
 * in force (exporters must comply), then closed ones, withdrawn last.
 */
export const LIFECYCLE_RANK: Record<MeasureStatus, number> = { open: 0, adopted: 1, in_force: 1, closed: 2, withdrawn: 3 }
export const lifecycleRank = (status: string) => LIFECYCLE_RANK[status as MeasureStatus] ?? 0

/**
 * The status to show on a local day: the stored one (kept current by the daily lifecycle
 * job), recomputed from what the documents say and the dates, so every view, export and
 * e-mail agrees even between midnight and the job's run.
 */
export function statusOn(m: { status: string; stated_status?: string | null; comment_deadline: string | null; adoption_date?: string | null; entry_into_force_date?: string | null }, today: string): string {
  if (!m.stated_status) return m.status
  return lifecycleStatus({ stated: m.stated_status, commentDeadline: m.comment_deadline, adoptionDate: m.adoption_date ?? null, entryIntoForceDate: m.entry_into_force_date ?? null }, today)
}
