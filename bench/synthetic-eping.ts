import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A synthetic ePing: N notifications generated on the fly (deterministic), served by the
 * list endpoint with paging, as the replay server serves the recorded ones.
 */
const MEMBERS = ['USA', 'EU', 'JPN', 'KOR', 'IND', 'BRA', 'VNM', 'SAU', 'GBR', 'CAN']
const PRODUCTS = ['lithium-ion batteries', 'mobile phones', 'LED lamps', 'steel pipes', 'photovoltaic modules', 'toys', 'textile garments', 'medical devices', 'automobile tyres', 'electric bicycles']

export function syntheticRecord(i: number) {
  const member = MEMBERS[i % MEMBERS.length]
  const product = PRODUCTS[(i * 7) % PRODUCTS.length]
  const day = String(1 + (i % 27)).padStart(2, '0')
  return {
    id: 900000 + i,
    documentSymbol: `G/TBT/N/${member}/${5000 + i}`,
    title: `Technical regulation on ${product} (${i})`,
    productsFreeText: `${product}; HS ${['8507.60', '8517.13', '9405.42', '7304.19', '8541.43'][i % 5]}`,
    description: `The draft regulation sets mandatory safety and labelling requirements for ${product}. Notification ${i}.`,
    distributionDate: `2026-11-${day}T00:00:00`,
    commentDeadline: '2027-01-31T00:00:00',
    memberName: member,
    memberCode: member,
    objectives: [{ name: 'Protection of human health or safety' }],
    hsCodes: [],
    icsCodes: [],
  }
}

export async function startSyntheticEping(n: number) {
  let requests = 0
  let listRequests = 0
  const server = http.createServer((req, res) => {
    requests++
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname !== '/api/v1/azureSearch/getAll') return void res.writeHead(404).end('{}')
    listRequests++
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1))
    const size = Math.min(100, Number(url.searchParams.get('pageSize') ?? 100))
    const from = (page - 1) * size
    const items = []
    for (let i = from; i < Math.min(n, from + size); i++) items.push(syntheticRecord(n - 1 - i))
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, totalCount: n, endRow: Math.min(n, from + size) }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, listRequests: () => listRequests, close: () => new Promise<void>((r) => server.close(() => r())) }
}
