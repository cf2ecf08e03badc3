import type { Generated, Insertable, Selectable, Updateable } from 'kysely'

/**
 * Table interfaces. Timestamps are ISO-8601 text and dates `YYYY-MM-DD` text on both
 * engines, so values compare and sort the same in SQLite and PostgreSQL; JSON values
 * are text, parsed in the repositories.
 */
export interface SourceTable {
  id: string
  name: string
  engine: string
  base_url: string
  enabled: number
  cursor: string | null
  baseline_at: string | null
  last_run_at: string | null
  last_status: string | null
  created_at: string
}

export interface SourceRunTable {
  id: Generated<number>
  source_id: string
  mode: string
  started_at: string
  finished_at: string | null
  status: string // running | ok | partial | failed
  cursor_before: string | null
  cursor_after: string | null
  requests: number
  not_modified: number
  raw_new: number
  items: number
  errors: number
  error: string | null
  /** 1 when this was the source's first run (a baseline): old history raises no warnings. */
  baseline: Generated<number>
}

export interface RawResponseTable {
  id: Generated<number>
  source_id: string
  url: string
  content_hash: string
  status: number
  content_type: string | null
  etag: string | null
  last_modified: string | null
  body: string
  fetched_at: string
  run_id: number | null
  parse_status: string // pending | ok | error | quarantined
  parse_error: string | null
  parsed_at: string | null
  /** 'http': the bytes a server sent; 'browser': the DOM Chromium rendered (migration 015). */
  engine: Generated<string>
}

export interface MeasureTable {
  id: Generated<number>
  key: string
  member: string | null
  title: string | null
  /** The lifecycle on the current local day: open | closed | adopted | in_force | withdrawn (migration 300). */
  status: string
  /** What the documents say: open | adopted | in_force | withdrawn (migration 300). */
  stated_status: Generated<string>
  comment_deadline: string | null
  adoption_date: string | null
  entry_into_force_date: string | null
  first_distribution_date: string | null
  created_at: string
  updated_at: string
  /** TBT or SPS: the agreement of the measure's WTO symbol (migration 500). */
  area: Generated<string>
}

export interface NoticeTable {
  id: Generated<number>
  source_id: string
  source_item_id: string
  measure_id: number
  symbol: string
  symbols: string // JSON array
  doc_type: string // regular | addendum | corrigendum | revision
  area: string // TBT | SPS
  member: string | null
  member_code: string | null
  title: string
  products: string | null
  description: string | null
  objectives: string // JSON array of strings
  keywords: string // JSON array
  language: string
  distribution_date: string | null
  comment_deadline: string | null
  adoption_date: string | null
  adoption_text: string | null
  entry_into_force_date: string | null
  entry_into_force_text: string | null
  links: string // JSON array of URLs
  source_url: string | null
  /** The source's own status text (TRIS), migration 015. */
  source_status: string | null
  content_hash: string
  raw_response_id: number | null
  first_seen_at: string
  updated_at: string
  /** 1 when first seen by a baseline run and older than the baseline window. */
  baseline: Generated<number>
}

export interface NoticeSymbolTable {
  notice_id: number
  symbol: string
  base_symbol: string
}

export interface NoticeHsTable {
  notice_id: number
  code: string
}

export interface NoticeIcsTable {
  notice_id: number
  code: string
}

export interface NoticeChangeTable {
  id: Generated<number>
  notice_id: number
  changed_at: string
  changes: string // JSON {field: [old, new]}
}

export interface CategoryTable {
  id: string
  name_zh: string
  name_en: string
  hs_prefixes: string // JSON array
  export_weight: number
}

export interface MarketTable {
  code: string
  name_zh: string
  name_en: string
  members: string // JSON array of WTO member codes in this market
  trade_share: number
  watched: number
}

export interface ClassificationTable {
  id: Generated<number>
  notice_id: number
  /** The content hash of the notice version that was classified. */
  notice_hash: string
  language: string
  hs: string // JSON [{code, score}]
  evidence: string // JSON
  classifier: string
  classified_at: string
}

export interface ClassificationCategoryTable {
  notice_id: number
  category_id: string
  score: number
}

export interface RiskScoreTable {
  id: Generated<number>
  measure_id: number
  category_id: string
  score: number
  level: string // high | medium | low
  trace: string // JSON [{factor, points, reason}]
  rules_version: string
  scored_at: string
}

/** One warning per measure (migration 310). */
export interface WarningTable {
  id: Generated<number>
  measure_id: number
  /** The measure's top category (highest score); warning_category lists all of them. */
  category_id: string
  level: string
  score: number
  status: string // new | in_review | confirmed | dismissed | escalated
  assignee: string | null
  note: string | null
  created_at: string
  updated_at: string
  /** A level an analyst set by hand; rescoring keeps it (migration 020). */
  level_override?: string | null
  /** Queue order by the measure's lifecycle: open 0, adopted/in force 1, closed 2, withdrawn 3 (migration 310). */
  lifecycle_rank: Generated<number>
}

/** Every category a measure's warning touches, with that category's score and computed level (migration 310). */
export interface WarningCategoryTable {
  warning_id: number
  category_id: string
  score: number
  level: string
}

/** Warnings merged into another when warnings became one per measure: old id → warning (migration 310). */
export interface WarningMergedTable {
  id: number
  warning_id: number
}

/** The members that notified a measure, in symbol order (migration 300). */
export interface MeasureMemberTable {
  measure_id: number
  member_code: string
  position: number
}

/** An officials' report, computed once per period and stored (migration 320). */
export interface ReportTable {
  id: Generated<number>
  kind: string // weekly | monthly | quarterly
  period_key: string
  snapshot: string // JSON
  version: number
  created_at: string
}

export interface WarningEventTable {
  id: Generated<number>
  warning_id: number
  at: string
  actor: string
  action: string
  from_status: string | null
  to_status: string | null
  details: string | null // JSON
}

export interface SubscriberTable {
  id: Generated<number>
  email: string
  name: string | null
  role: string // enterprise | official
  lang: string // zh | en
  frequency: string // immediate | daily | weekly
  min_level: string // low | medium | high
  confirmed_at: string | null
  unsubscribed_at: string | null
  created_at: string
  /** Last preference change (migration 030). */
  updated_at: string | null
  /** In every manage and unsubscribe link; raising it voids the links sent before (migration 200). */
  token_version: Generated<number>
}

/** An anonymous sign-up's choices, applied only when its confirmation link is followed (migration 200). */
export interface SubscribeRequestTable {
  id: Generated<number>
  subscriber_id: number
  prefs: string // JSON Preferences
  created_at: string
  confirmed_at: string | null
}

/** Public-form nonces already used, until they expire (migration 200). */
export interface FormNonceTable {
  nonce_hash: string
  expires_at: string
}

/** Failed logins per account key (SHA-256 of the normalised e-mail, known or not), migration 200. */
export interface LoginFailureTable {
  key_hash: string
  failures: number
  first_at: string
  locked_until: string | null
}

export interface SubscriptionTable {
  id: Generated<number>
  subscriber_id: number
  kind: string // category | hs | market | keyword
  value: string
}

export interface EmailDeliveryTable {
  id: Generated<number>
  subscriber_id: number
  kind: string // digest-daily | digest-weekly | immediate | reminder | confirm
  period_key: string
  status: string // pending | claimed | sending | sent | failed | failed-permanent | uncertain
  subject: string | null
  message_id: string | null
  attempts: number
  error: string | null
  created_at: string
  sent_at: string | null
}

export interface DeliveryWarningTable {
  delivery_id: number
  subscriber_id: number
  warning_id: number
}

export interface OpsAlertTable {
  id: Generated<number>
  source_id: string | null
  kind: string // layout-changed | source-failed
  message: string
  created_at: string
  resolved_at: string | null
}

export interface Database {
  source: SourceTable
  source_run: SourceRunTable
  raw_response: RawResponseTable
  measure: MeasureTable
  notice: NoticeTable
  notice_symbol: NoticeSymbolTable
  notice_hs: NoticeHsTable
  notice_ics: NoticeIcsTable
  notice_change: NoticeChangeTable
  category: CategoryTable
  market: MarketTable
  classification: ClassificationTable
  classification_category: ClassificationCategoryTable
  risk_score: RiskScoreTable
  warning: WarningTable
  warning_event: WarningEventTable
  warning_category: WarningCategoryTable
  warning_merged: WarningMergedTable
  measure_member: MeasureMemberTable
  report: ReportTable
  subscriber: SubscriberTable
  subscription: SubscriptionTable
  email_delivery: EmailDeliveryTable
  delivery_warning: DeliveryWarningTable
  ops_alert: OpsAlertTable
  app_user: AppUserTable
  user_session: UserSessionTable
  category_correction: CategoryCorrectionTable
  training_example: TrainingExampleTable
  classifier_model: ClassifierModelTable
  subscribe_request: SubscribeRequestTable
  form_nonce: FormNonceTable
  login_failure: LoginFailureTable
  pipeline_outbox: PipelineOutboxTable
  job_failure: JobFailureTable
  enterprise_feedback: EnterpriseFeedbackTable
  measure_comment: MeasureCommentTable
}

export type NoticeRow = Selectable<NoticeTable>
export type NewNotice = Insertable<NoticeTable>
export type MeasureRow = Selectable<MeasureTable>
export type WarningRow = Selectable<WarningTable>
export type WarningUpdate = Updateable<WarningTable>
export type SubscriberRow = Selectable<SubscriberTable>
export type SourceRunRow = Selectable<SourceRunTable>
export type RawResponseRow = Selectable<RawResponseTable>

// Review queue (migration 020).
export interface AppUserTable {
  id: Generated<number>
  email: string
  name: string | null
  role: string // admin | analyst | official | enterprise
  password_hash: string
  must_change_password: number
  lang: string | null
  created_at: string
  disabled_at: string | null
}

export interface UserSessionTable {
  id_hash: string
  user_id: number
  created_at: string
  expires_at: string
}

export interface CategoryCorrectionTable {
  id: Generated<number>
  measure_id: number
  warning_id: number | null
  categories: string // JSON array of category ids
  previous: string // JSON array of category ids
  actor: string
  at: string
}

export interface TrainingExampleTable {
  id: Generated<number>
  notice_id: number
  correction_id: number
  hs_codes: string // JSON array
  categories: string // JSON array
  created_at: string
  learnt_at: string | null
}

export type AppUserRow = Selectable<AppUserTable>

// The learnt classifier model (migration 600).
export interface ClassifierModelTable {
  id: Generated<number>
  version: string
  created_at: string
  examples: number
  metrics: string // JSON ModelMetrics
  model: string // base64 of the gzipped model JSON
}

// Reliability (migration 100): what is left to do lives in the database, not in Redis.

/** A step owed to an entity: `score`/`warn` of a measure, the `immediate` alert sweep (ref 0). */
export interface PipelineOutboxTable {
  stage: string
  ref_id: number
  /** Changes on every (re)write; a step consumes the row only while it still holds the token it read. */
  token: string
  created_at: string
}

/** A job that failed for good, recorded and removed from Redis; `retried_at` once `retry-failed` queued it again. */
export interface JobFailureTable {
  id: Generated<number>
  queue: string
  job_id: string
  name: string
  data: string // JSON
  error: string | null
  attempts: number
  failed_at: string
  retried_at: string | null
  retries: Generated<number>
}

// 评议: enterprises' feedback on a measure and China's comment drafted from it (migration 700).
export interface EnterpriseFeedbackTable {
  id: Generated<number>
  measure_id: number
  /** The enterprise: a user and a subscriber with this address are the same one (lower case). */
  email: string
  subscriber_id: number | null
  user_id: number | null
  company: string
  products: string
  hs_codes: string // JSON string[]
  /** Yearly export value concerned, whole yuan. */
  export_value: number | string | null
  markets: string // JSON string[]
  /** Estimated compliance cost, whole yuan. */
  compliance_cost: number | string | null
  concerns: string // JSON { requirement, why }[]
  requests: string // JSON string[]
  request_other: string
  contact: string
  created_at: string
  updated_at: string
}

export interface MeasureCommentTable {
  measure_id: number
  status: string // drafting | submitted | replied | closed
  draft_zh: string
  draft_en: string
  submitted_on: string | null
  submitted_to: string | null
  reply_on: string | null
  reply_text: string | null
  updated_by: string
  created_at: string
  updated_at: string
}
