/**
 * The mark the browser engine puts in the head of every DOM it stores. The bytes the
 * server sent for the same URL are stored too (for conditional requests) and an
 * application's shell holds no fields: a parser asked to read one (say by `reparse`
 * over every stored response) gives no notices rather than a false layout alert.
 */
export const SNAPSHOT_META = '<meta name="tbt-watch-snapshot" content="rendered">'

export const isRenderedSnapshot = (html: string) => html.includes('name="tbt-watch-snapshot"')
