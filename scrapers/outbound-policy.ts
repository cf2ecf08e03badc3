import dns from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { SourceError } from './types.js'

/**
 * Where a source's crawl may send requests: the one rule for both engines (the HTTP
 * client checks every request and every redirect hop, and the address each connection
 * goes to; the browser engine checks every request a page makes before answering it).
 *
 * - Hosts: the source's own (its base URL's host, on the same port or the default
 *   ports), plus the hosts its definition allows (`allowHosts`: `docs.example.org`,
 *   `*.example.org`, `files.example.org:8443`). A page cannot send the crawler anywhere else.
 * - Addresses: public ones only. Loopback, private (RFC 1918, CGNAT, ULA), link-local
 *   (169.254/16: cloud metadata) and the like are refused, unless the base URL's own
 *   host is one of that kind (tests and the demo run on 127.0.0.1; a portal on an
 *   intranet). A host name is checked again after DNS, at connect time, on every hop, so
 *   a name that resolves (or is rebound) to an internal address is refused too.
 * - Schemes: http and https only.
 */
export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'multicast' | 'reserved'

export const OUTBOUND_BLOCKED = 'E_OUTBOUND_BLOCKED'

const KINDS: [AddressKind, BlockList][] = (() => {
  const b = (ranges: [string, number, 'ipv4' | 'ipv6'][]) => {
    const l = new BlockList()
    for (const [net, prefix, family] of ranges) l.addSubnet(net, prefix, family)
    return l
  }
  return [
    ['unspecified', b([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']])],
    ['loopback', b([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']])],
    ['link-local', b([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']])],
    ['private', b([['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['fc00::', 7, 'ipv6'], ['fec0::', 10, 'ipv6']])],
    ['multicast', b([['224.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6']])],
    [
      'reserved',
      b([
        ['192.0.0.0', 24, 'ipv4'],
        ['192.0.2.0', 24, 'ipv4'],
        ['198.18.0.0', 15, 'ipv4'],
        ['198.51.100.0', 24, 'ipv4'],
        ['203.0.113.0', 24, 'ipv4'],
        ['240.0.0.0', 4, 'ipv4'],
        ['2001:db8::', 32, 'ipv6'],
        ['64:ff9b::', 96, 'ipv6'],
        ['100::', 64, 'ipv6'],
      ]),
    ],
  ]
})()

/** What kind of address an IP literal is (IPv4-mapped IPv6 as its IPv4). */
export function addressKind(ip: string): AddressKind {
  let a = ip.replace(/^\[|\]$/g, '').split('%')[0]
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a)
  if (mapped) a = mapped[1]
  const family = isIP(a)
  if (!family) return 'reserved'
  const f = family === 4 ? 'ipv4' : 'ipv6'
  for (const [kind, list] of KINDS) if (list.check(a, f)) return kind
  return 'public'
}

const defaultPort = (protocol: string) => (protocol === 'https:' ? '443' : '80')
const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i

/** Whether an allowHosts entry is well-formed (portal definitions are checked at load). */
export const isHostPattern = (s: string) => HOST_PATTERN.test(s)

export type Lookup = (hostname: string, opts: { all: true }) => Promise<{ address: string; family: number }[]>
const systemLookup: Lookup = (hostname, opts) => dns.promises.lookup(hostname, opts)

export class OutboundPolicy {
  private constructor(
    private readonly baseHost: string,
    private readonly basePort: string,
    private readonly allowHosts: string[],
    /** Address kinds this crawl may connect to. */
    readonly kinds: ReadonlySet<AddressKind>,
  ) {}

  /** The policy of a crawl whose base URL is `baseUrl`: its host (and `allowHosts`), public addresses plus the base host's own kind. */
  static async forBase(baseUrl: string, allowHosts: string[] = [], lookup: Lookup = systemLookup): Promise<OutboundPolicy> {
    const u = new URL(baseUrl)
    const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '')
    const kinds = new Set<AddressKind>(['public'])
    if (isIP(host)) kinds.add(addressKind(host))
    else {
      try {
        for (const a of await lookup(host, { all: true })) kinds.add(addressKind(a.address))
      } catch {
        // The base host does not resolve now: public addresses only (the crawl will say why it failed).
      }
    }
    // Never the wildcard address or multicast, whatever the base URL says.
    kinds.delete('unspecified')
    kinds.delete('multicast')
    return new OutboundPolicy(host, u.port || defaultPort(u.protocol), allowHosts.map((h) => h.toLowerCase()), kinds)
  }

  /** The same policy with more hosts allowed (a render's own allowHosts). */
  withHosts(hosts: string[] | undefined): OutboundPolicy {
    if (!hosts?.length) return this
    return new OutboundPolicy(this.baseHost, this.basePort, [...this.allowHosts, ...hosts.map((h) => h.toLowerCase())], this.kinds)
  }

  /** Why a URL may not be requested, or null when it may (its address is checked again at connect time). */
  refusal(url: string): string | null {
    let u: URL
    try {
      u = new URL(url)
    } catch {
      return 'not a URL'
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return `scheme ${u.protocol} is not http(s)`
    const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '')
    const port = u.port || defaultPort(u.protocol)
    if (!this.hostAllowed(host, port)) return `host ${u.host} is neither the source's (${this.baseHost}) nor in its allowHosts`
    if (isIP(host) && !this.addressAllowed(host)) return `address ${host} is ${addressKind(host)}`
    return null
  }

  /** Throws a non-retryable 'refused' SourceError when the URL may not be requested. */
  check(url: string): void {
    const why = this.refusal(url)
    if (why) throw new SourceError('refused', `${url}: refused by the outbound policy: ${why}`, false, url)
  }

  addressAllowed(ip: string): boolean {
    return this.kinds.has(addressKind(ip))
  }

  private hostAllowed(host: string, port: string): boolean {
    const defaults = (p: string) => p === '80' || p === '443'
    if (host === this.baseHost && (port === this.basePort || (defaults(port) && defaults(this.basePort)))) return true
    return this.allowHosts.some((pattern) => {
      const [h, p] = pattern.split(':')
      if (p ? port !== p : !defaults(port)) return false
      return h.startsWith('*.') ? host.endsWith(h.slice(1)) && host.length > h.length - 1 : host === h
    })
  }

  /**
   * A `lookup` for net/tls.connect that refuses addresses of kinds outside `kinds`: the
   * check that holds after DNS (and DNS rebinding), on every connection and redirect.
   */
  static connectLookup(kinds: ReadonlySet<AddressKind>) {
    return (hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '')
        const ok = addresses.filter((a) => kinds.has(addressKind(a.address)))
        if (!ok.length) {
          const e = new Error(`${hostname} resolves to ${addresses.map((a) => `${a.address} (${addressKind(a.address)})`).join(', ')}: refused by the outbound policy`) as NodeJS.ErrnoException
          e.code = OUTBOUND_BLOCKED
          return callback(e, '')
        }
        if (options.all) return callback(null, ok)
        callback(null, ok[0].address, ok[0].family)
      })
    }
  }
}
