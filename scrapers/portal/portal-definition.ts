import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { parseYamlText, DataFileError } from '../../src/util/yaml-file.js'
import { isHostPattern } from '../outbound-policy.js'

/** A field read from a detail page: by its printed label (labelled-field pages) or by a CSS selector. */
const FieldSpec = z.union([
  z.string().min(1).transform((label) => ({ label, selector: undefined, attr: undefined })),
  z
    .object({ label: z.string().min(1).optional(), selector: z.string().min(1).optional(), attr: z.string().min(1).optional() })
    .strict()
    .refine((f) => !!f.label !== !!f.selector, { message: 'give either label or selector' }),
])

const DATE_TOKEN = /^(?=.*YYYY)(?=.*(?:MM|M))(?=.*(?:DD|D))[YMD\s./\-年月日]+$/

export const PortalDefinitionSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, 'lower-case letters, digits and dashes'),
    name: z.string().min(1),
    engine: z.enum(['http', 'browser']).default('http'),
    /** False: the source runs only once TBT_SOURCE_<ID>_BASE_URL is set. */
    enabled: z.boolean().default(true),
    baseUrl: z.string().url().refine((u) => /^https?:\/\//i.test(u), 'an http(s) URL'),
    /**
     * Hosts besides the base URL's that list links, redirects and (engine browser) the
     * pages' own requests may go to: `docs.example.org`, `*.example.org`, `host:8443`.
     * Everything else a page points at is never fetched.
     */
    allowHosts: z.array(z.string().refine(isHostPattern, 'a host name, *.domain or host:port')).max(20).default([]),
    /** ISO 639-3 code of the pages' text, handed to the classifier as a hint. */
    language: z.string().regex(/^[a-z]{3}$/).optional(),
    /** Charset to decode with when a page declares none (e.g. gbk). */
    encoding: z.string().min(2).optional(),
    dateFormats: z.array(z.string().regex(DATE_TOKEN, 'use YYYY, MM/M and DD/D with separators')).min(1).default(['YYYY-MM-DD']),
    /** Text that marks a 200 page as an error page (e.g. 页面不存在): a bad response, not a layout change. */
    errorPatterns: z.array(z.string().min(1)).default([]),
    list: z
      .object({
        /** Relative to the base URL; {page} is the 1-based page number. */
        url: z.string().min(1).refine((u) => u.includes('{page}'), 'must contain {page}'),
        /** Page 1 when it has a URL of its own (e.g. list.html, then list_2.html). */
        firstPageUrl: z.string().min(1).optional(),
        maxPages: z.number().int().min(1).max(500).default(10),
        item: z.string().min(1),
        link: z.string().min(1).default('a'),
        /** A regular expression over the detail URL whose first group is the item id (default: the path). */
        idPattern: z.string().min(1).optional(),
        /** Selector of the item's date on the list, to stop paging at --since. */
        date: z.string().min(1).optional(),
        /** engine browser: the selector that shows the list has rendered (default: item). */
        ready: z.string().min(1).optional(),
      })
      .strict(),
    detail: z
      .object({
        /** The part of the page that holds the notice (default: body). */
        container: z.string().min(1).default('body'),
        /** How labelled fields are laid out: a row holding a label element and a value element. */
        rows: z.string().min(1).default('tr, li, dl, p, div.field'),
        label: z.string().min(1).default('th, dt, .label, strong, b'),
        value: z.string().min(1).default('td, dd, .value, span'),
        /** Links (e.g. the notified text) to keep, by selector of <a> elements. */
        links: z.string().min(1).optional(),
        /** engine browser: the selector that shows the page has rendered (default: a row inside the container). */
        ready: z.string().min(1).optional(),
        fields: z
          .object({
            title: FieldSpec,
            symbols: FieldSpec,
            member: FieldSpec.optional(),
            area: FieldSpec.optional(),
            distributionDate: FieldSpec.optional(),
            commentDeadline: FieldSpec.optional(),
            adoptionDate: FieldSpec.optional(),
            entryIntoForceDate: FieldSpec.optional(),
            description: FieldSpec.optional(),
            products: FieldSpec.optional(),
            hsCodes: FieldSpec.optional(),
            icsCodes: FieldSpec.optional(),
            objectives: FieldSpec.optional(),
            keywords: FieldSpec.optional(),
          })
          .strict(),
      })
      .strict(),
  })
  .strict()

export type PortalDefinition = z.output<typeof PortalDefinitionSchema>
export type PortalField = keyof PortalDefinition['detail']['fields']

export const PORTALS_DIR = path.join(import.meta.dirname, '..', 'portals')

export function parsePortalDefinition(text: string, file: string): PortalDefinition {
  const def = parseYamlText(text, file, PortalDefinitionSchema)
  try {
    if (def.list.idPattern) new RegExp(def.list.idPattern)
  } catch (err) {
    throw new DataFileError(file, undefined, `list.idPattern: ${(err as Error).message}`)
  }
  return def
}

/** Every portal definition in a folder (default scrapers/portals/) with its file, in file-name order; ids must be unique. */
export function loadPortalFiles(dir = PORTALS_DIR): { file: string; def: PortalDefinition }[] {
  if (!fs.existsSync(dir)) return []
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()
  const out: { file: string; def: PortalDefinition }[] = []
  for (const f of files) {
    const file = path.join(dir, f)
    const def = parsePortalDefinition(fs.readFileSync(file, 'utf8'), file)
    if (out.some((d) => d.def.id === def.id)) throw new DataFileError(file, undefined, `duplicate portal id ${def.id}`)
    out.push({ file, def })
  }
  return out
}

export const loadPortalDefinitions = (dir = PORTALS_DIR): PortalDefinition[] => loadPortalFiles(dir).map((f) => f.def)
