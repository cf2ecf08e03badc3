import type { Db } from '../db/database.js'

export interface Stats {
  sources: number
  rawResponses: number
  notices: number
  measures: number
  /** measures by lifecycle: open, closed, adopted, in_force, withdrawn */
  measuresByStatus: Record<string, number>
  classifications: number
  riskScores: number
  warnings: number
  warningsByStatus: Record<string, number>
  /** officials' reports stored, by kind (weekly, monthly, quarterly) */
  reports: Record<string, number>
  subscribers: number
  emails: number
  emailsByStatus: Record<string, number>
  opsAlerts: number
}

const count = async (db: Db, table: Parameters<Db['selectFrom']>[0] & string) =>
  Number((await db.selectFrom(table as 'notice').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)

export async function collectStats(db: Db): Promise<Stats> {
  const byStatus = async (table: 'warning' | 'email_delivery' | 'measure') => {
    const rows = await db
      .selectFrom(table)
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .orderBy('status')
      .execute()
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))
  }
  const reports = await db.selectFrom('report').select(['kind', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('kind').orderBy('kind').execute()
  const emailsByStatus = await byStatus('email_delivery')
  return {
    sources: await count(db, 'source'),
    rawResponses: await count(db, 'raw_response'),
    notices: await count(db, 'notice'),
    measures: await count(db, 'measure'),
    measuresByStatus: await byStatus('measure'),
    classifications: await count(db, 'classification'),
    riskScores: await count(db, 'risk_score'),
    warnings: await count(db, 'warning'),
    warningsByStatus: await byStatus('warning'),
    reports: Object.fromEntries(reports.map((r) => [r.kind, Number(r.n)])),
    subscribers: await count(db, 'subscriber'),
    emails: emailsByStatus.sent ?? 0,
    emailsByStatus,
    opsAlerts: Number(
      (await db.selectFrom('ops_alert').select((eb) => eb.fn.countAll<number>().as('n')).where('resolved_at', 'is', null).executeTakeFirstOrThrow()).n,
    ),
  }
}
