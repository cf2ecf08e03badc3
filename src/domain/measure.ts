import type { DocType } from './symbols.js'

export type MeasureStatus = 'open' | 'adopted' | 'in_force' | 'withdrawn'

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
  status: MeasureStatus
  commentDeadline: string | null
  adoptionDate: string | null
  entryIntoForceDate: string | null
  firstDistributionDate: string | null
}

// What an addendum says happened, in the languages notices come in. Checked on
// follow-ups only: an original notification's "will enter into force" is a plan.
const LIFECYCLE: { status: MeasureStatus; re: RegExp }[] = [
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
