/** Escapes untrusted text (scraped titles, descriptions) for HTML text and attributes. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/** A tagged template that escapes every interpolated value unless it is marked raw. */
export class Raw {
  constructor(readonly html: string) {}
  toString() {
    return this.html
  }
}
export const raw = (html: string) => new Raw(html)

export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]
  })
  return new Raw(out)
}

function render(v: unknown): string {
  if (v instanceof Raw) return v.html
  if (Array.isArray(v)) return v.map(render).join('')
  if (v === null || v === undefined || v === false) return ''
  return esc(v)
}
