import { createRequire } from 'node:module'
import type * as Cheerio from 'cheerio'

const require = createRequire(import.meta.url)
let cheerio: typeof Cheerio | undefined

/**
 * cheerio.load, with cheerio loaded on first use: it takes about a second to load, and
 * every CLI command loads the source registry, so only a process that parses HTML pays.
 */
export function loadHtml(html: string): Cheerio.CheerioAPI {
  cheerio ??= require('cheerio') as typeof Cheerio
  return cheerio.load(html)
}
