import type { Lang } from './layout.js'

/**
 * A request the app cannot serve as asked (a bad query parameter, a malformed value):
 * 400 with a message in the reader's language. Thrown anywhere in a route (or a helper
 * it calls, like filterFromQuery); app.ts's error handler answers it as a page or as JSON.
 */
export class BadRequestError extends Error {
  readonly statusCode = 400
  readonly code = 'BAD_REQUEST'
  constructor(
    readonly messages: Record<Lang, string>,
    /** The parameter at fault, for API clients. */
    readonly param?: string,
  ) {
    super(messages.en)
    this.name = 'BadRequestError'
  }
}

/** A path naming nothing that can exist (an id out of range): 404 like any missing page. */
export class NotFoundError extends Error {
  readonly statusCode = 404
  readonly code = 'NOT_FOUND'
  constructor(what: string) {
    super(`not found: ${what}`)
    this.name = 'NotFoundError'
  }
}

/** The largest id a table holds (PostgreSQL integer): a larger one names nothing, and the database would refuse it. */
const MAX_ID = 2_147_483_647
/** Ids a form may send (bulk actions, undo): whole numbers every table can hold. */
export const formIds = (v: unknown): number[] => (Array.isArray(v) ? v : v === undefined || v === null || v === '' ? [] : [v]).map(Number).filter((n) => Number.isSafeInteger(n) && n > 0 && n <= MAX_ID)

/** A query parameter whose value is not one the page accepts. */
export const badParam = (param: string, zh: string, en: string) => new BadRequestError({ zh: `参数 ${param} 无效：${zh}`, en: `query parameter ${param}: ${en}` }, param)

// C0 controls and DEL: never part of a value a person typed into a search box or a link.
const CONTROL = /[\u0000-\u001f\u007f]/

/**
 * Every query value (and path parameter) must be printable text of sane length, an `:id`
 * a row id (else 404), and a body must hold no NUL (PostgreSQL text cannot). Called for
 * every request in app.ts, before any route sees its input.
 */
export function checkInput(query: unknown, params: unknown, body: unknown): BadRequestError | NotFoundError | null {
  for (const [k, v] of entries(query)) {
    if (CONTROL.test(k) || k.length > 100) return badParam(printable(k), '名称含有控制字符或过长', 'name holds a control character or is too long')
    for (const x of Array.isArray(v) ? v : [v]) {
      if (typeof x !== 'string') continue
      if (CONTROL.test(x)) return badParam(printable(k), '含有控制字符', 'holds a control character')
      if (x.length > 2000) return badParam(printable(k), '过长（最多2000个字符）', 'too long (2000 characters at most)')
    }
  }
  for (const [k, v] of entries(params)) {
    if (typeof v === 'string' && (CONTROL.test(v) || v.length > 500)) return badParam(printable(k), '路径含有控制字符或过长', 'the path holds a control character or is too long')
    // Every `:id` is a row id: a whole number the database can hold, or nothing is there.
    if (k === 'id' && typeof v === 'string' && !(/^\d{1,10}$/.test(v) && Number(v) <= MAX_ID)) return new NotFoundError(`id ${printable(v)}`)
  }
  if (hasNul(body, 0)) return new BadRequestError({ zh: '提交的内容含有空字符（NUL），无法保存。', en: 'the submitted text holds a NUL character, which cannot be stored.' })
  return null
}

const entries = (o: unknown): [string, unknown][] => (o && typeof o === 'object' ? Object.entries(o as Record<string, unknown>) : [])
const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 40)

function hasNul(v: unknown, depth: number): boolean {
  if (typeof v === 'string') return v.includes('\u0000')
  if (depth > 8 || !v || typeof v !== 'object') return false
  for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) if (hasNul(x, depth + 1)) return true
  return false
}
