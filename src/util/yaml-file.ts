import fs from 'node:fs'
import { LineCounter, parseDocument } from 'yaml'
import type { z } from 'zod'

/** A data file (rules/, seeds/) that failed to load; the message names file, line and reason. */
export class DataFileError extends Error {
  readonly code = 'DATA_FILE_INVALID'
  readonly retryable = false
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${reason}`)
    this.name = 'DataFileError'
  }
}

/**
 * Reads a YAML file and validates it with a zod schema. Errors point at the line of
 * the offending node, so an analyst editing rules/ or seeds/ sees where to look.
 */
export function loadYamlFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new DataFileError(file, undefined, `cannot read: ${(err as Error).message}`)
  }
  return parseYamlText(text, file, schema)
}

export function parseYamlText<S extends z.ZodType>(text: string, file: string, schema: S): z.output<S> {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length) {
    const e = doc.errors[0]
    throw new DataFileError(file, lineCounter.linePos(e.pos[0]).line, e.message.split('\n')[0])
  }
  let value: unknown
  try {
    // Resolving aliases can still fail here (an alias to an anchor defined later).
    value = doc.toJS({ maxAliasCount: 1000 })
  } catch (err) {
    throw new DataFileError(file, undefined, (err as Error).message.split('\n')[0])
  }
  const result = schema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    const node = doc.getIn(issue.path as (string | number)[], true) as { range?: [number, number] } | undefined
    const line = node?.range ? lineCounter.linePos(node.range[0]).line : nearestLine(doc, issue.path, lineCounter)
    const where = issue.path.length ? ` at ${issue.path.join('.')}` : ''
    throw new DataFileError(file, line, `${issue.message}${where}`)
  }
  return result.data
}

function nearestLine(doc: ReturnType<typeof parseDocument>, path: PropertyKey[], lc: LineCounter): number | undefined {
  for (let n = path.length - 1; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as { range?: [number, number] } | undefined
    if (node?.range) return lc.linePos(node.range[0]).line
  }
  return undefined
}
