/**
 * The cookies of one crawl: what a session call sets is sent back on the calls that
 * follow (China's centre answers its list API only inside a session). Deliberately
 * small: name=value per domain, Domain and expiry honoured, Path ignored; a new crawl
 * starts with an empty jar.
 */
export class CookieJar {
  private readonly cookies = new Map<string, { domain: string; hostOnly: boolean; name: string; value: string }>()

  /** Takes the Set-Cookie header lines of a response from `url`. */
  store(url: string, setCookies: string[], now = Date.now()): void {
    const host = new URL(url).hostname.toLowerCase()
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      let domain = host
      let hostOnly = true
      let expired = false
      let foreign = false
      for (const a of attrs) {
        const [k, ...v] = a.split('=')
        const key = k.trim().toLowerCase()
        const val = v.join('=').trim()
        if (key === 'domain' && val) {
          const d = val.replace(/^\./, '').toLowerCase()
          foreign ||= host !== d && !host.endsWith(`.${d}`) // a cookie for a host we did not ask
          domain = d
          hostOnly = false
        }
        if (key === 'max-age' && Number(val) <= 0) expired = true
        if (key === 'expires' && Date.parse(val) <= now) expired = true
      }
      if (foreign) continue
      const id = `${domain}|${name}`
      if (expired) this.cookies.delete(id)
      else this.cookies.set(id, { domain, hostOnly, name, value })
    }
  }

  /** The Cookie header for a request to `url`, or undefined when there is none. */
  header(url: string): string | undefined {
    const host = new URL(url).hostname.toLowerCase()
    const out = [...this.cookies.values()]
      .filter((c) => c.domain === host || (!c.hostOnly && host.endsWith(`.${c.domain}`)))
      .map((c) => `${c.name}=${c.value}`)
    return out.length ? out.join('; ') : undefined
  }
}
