import { randomBytes } from 'node:crypto'
import type { Transaction } from 'kysely'
import type { Db } from '../db/database.js'
import { inTx } from '../db/tx.js'
import type { Database } from '../db/schema.js'

/**
 * The pipeline's outbox: the steps owed to an entity, in the database (Redis only
 * schedules them). A row (stage, ref) says "this stage still has to run for this entity";
 * it is written in the same transaction as the write that makes the step owed (a changed
 * classification marks its measure for `score`) and consumed in the transaction that marks
 * the next step owed (`score` → `warn` → the `immediate` alert sweep), after the stage's own
 * writes are committed. A crash anywhere leaves the row, and the step runs again (every stage
 * is idempotent). Every (re)write gives the row a new token; a run consumes the row only if
 * it still holds the token the run read before working, so a change that lands mid-run keeps
 * the row for one more run.
 */
export type OutboxStage = 'score' | 'warn' | 'immediate'
type Tx = Db | Transaction<Database>

export const newToken = () => randomBytes(6).toString('hex')

/** Marks a step owed (or owed again, with a new token); returns the token. */
export async function markOwed(tx: Tx, stage: OutboxStage, refId: number, now: string): Promise<string> {
  const token = newToken()
  await tx
    .insertInto('pipeline_outbox')
    .values({ stage, ref_id: refId, token, created_at: now })
    .onConflict((oc) => oc.columns(['stage', 'ref_id']).doUpdateSet({ token, created_at: now }))
    .execute()
  return token
}

/** The token of an owed step, or null when nothing is owed. */
export async function owedToken(db: Tx, stage: OutboxStage, refId: number): Promise<string | null> {
  const row = await db.selectFrom('pipeline_outbox').select('token').where('stage', '=', stage).where('ref_id', '=', refId).executeTakeFirst()
  return row?.token ?? null
}

/**
 * A step is done as of `token`: its row goes (unless it was rewritten since) and, in the
 * same transaction, `next` becomes owed. With a null token (work that had no row, e.g. a
 * job queued before the outbox existed) only `next` is marked. Returns whether the row was
 * consumed and the next step's token (none when the row had moved on: the newer run marks it).
 */
export async function settle(db: Db, stage: OutboxStage, refId: number, token: string | null, now: string, next?: { stage: OutboxStage; refId: number }): Promise<{ consumed: boolean; nextToken: string | null }> {
  return inTx(db, async (tx) => {
    let consumed = true
    if (token !== null) {
      const r = await tx.deleteFrom('pipeline_outbox').where('stage', '=', stage).where('ref_id', '=', refId).where('token', '=', token).executeTakeFirst()
      consumed = Number(r.numDeletedRows) === 1
    }
    if (!consumed || !next) return { consumed, nextToken: null }
    return { consumed, nextToken: await markOwed(tx, next.stage, next.refId, now) }
  })
}

/** Marks a step owed for each of these entities (duplicates once), each with a new token; returns the tokens. */
export async function markOwedMany(tx: Tx, stage: OutboxStage, refIds: number[], now: string): Promise<Map<number, string>> {
  const tokens = new Map([...new Set(refIds)].sort((a, b) => a - b).map((id) => [id, newToken()]))
  const rows = [...tokens].map(([ref_id, token]) => ({ stage, ref_id, token, created_at: now }))
  for (let i = 0; i < rows.length; i += 1_000) {
    await tx
      .insertInto('pipeline_outbox')
      .values(rows.slice(i, i + 1_000))
      .onConflict((oc) => oc.columns(['stage', 'ref_id']).doUpdateSet((eb) => ({ token: eb.ref('excluded.token'), created_at: eb.ref('excluded.created_at') })))
      .execute()
  }
  return tokens
}

/** The tokens of the steps owed to these entities (an entity with none is absent). */
export async function owedTokens(db: Tx, stage: OutboxStage, refIds: number[]): Promise<Map<number, string>> {
  if (!refIds.length) return new Map()
  const rows = await db.selectFrom('pipeline_outbox').select(['ref_id', 'token']).where('stage', '=', stage).where('ref_id', 'in', refIds).execute()
  return new Map(rows.map((r) => [r.ref_id, r.token]))
}

/**
 * `settle` for many entities in one transaction: each row goes if it still holds the token
 * read before the work (a null token: nothing to consume), and each entity whose row went
 * (or had none) and that `next` names becomes owed at the next stage. Returns the ids whose
 * row was consumed and the next stage's tokens.
 */
export async function settleMany(
  db: Db,
  stage: OutboxStage,
  items: { refId: number; token: string | null }[],
  now: string,
  next?: { stage: OutboxStage; refIdOf: (refId: number) => number | null },
): Promise<{ consumed: number[]; nextTokens: Map<number, string> }> {
  if (!items.length) return { consumed: [], nextTokens: new Map() }
  return inTx(db, async (tx) => {
    const consumed = items.filter((i) => i.token === null).map((i) => i.refId)
    const held = items.filter((i): i is { refId: number; token: string } => i.token !== null)
    for (let k = 0; k < held.length; k += 200) {
      const chunk = held.slice(k, k + 200)
      const gone = await tx
        .deleteFrom('pipeline_outbox')
        .where('stage', '=', stage)
        // The key's range first: a bare OR of pairs makes SQLite scan the whole table.
        .where('ref_id', 'in', chunk.map((i) => i.refId))
        .where((eb) => eb.or(chunk.map((i) => eb.and([eb('ref_id', '=', i.refId), eb('token', '=', i.token)]))))
        .returning('ref_id')
        .execute()
      consumed.push(...gone.map((r) => r.ref_id))
    }
    if (!next) return { consumed, nextTokens: new Map() }
    const refs = consumed.map(next.refIdOf).filter((r): r is number => r !== null)
    return { consumed, nextTokens: refs.length ? await markOwedMany(tx, next.stage, refs, now) : new Map() }
  })
}
