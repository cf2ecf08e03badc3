import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import iconv from 'iconv-lite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PortalDefinitionSchema } from '../../scrapers/portal/portal-definition.js'
import { createPortalSource } from '../../scrapers/portal/portal.source.js'
import { decode } from '../../scrapers/http-client.js'
import { ingestRaw } from '../../src/services/ingest.service.js'
import { scrapeSource } from '../../src/services/scrape.service.js'
import { seed } from '../../src/services/seed.service.js'
import { PORTALS_DIR } from '../../scrapers/portal/portal-definition.js'
import { cli } from '../helpers/cli.js'
import { createTestEnv, type TestEnv } from '../helpers/db.js'
import { startServer } from '../helpers/http-server.js'

/**
 * A portal whose list and detail pages are empty shells filled in by their own script
 * from a JSON API (a JavaScript application), served as GBK without a declared charset:
 * `engine: browser` must render them in Chromium, and the stored pages must parse as the
 * HTTP engine's do.
 */
const NOW = new Date('2026-11-28T04:00:00Z')
const ITEMS = [
  { id: '20261121_7', date: '2026-11-21', member: '美国', symbol: 'G/TBT/N/USA/2301', title: '锂离子电池储能系统安全要求', deadline: '2027-01-20', hs: '850760', products: '锂离子蓄电池' },
  { id: '20261119_6', date: '2026-11-19', member: '欧盟', symbol: 'G/TBT/N/EU/1201', title: '无线电设备网络安全授权法规', deadline: '2027-01-18', hs: '851713', products: '手机' },
  { id: '20261112_5', date: '2026-11-12', member: '日本', symbol: 'G/TBT/N/JPN/880', title: '电动自行车用电池技术规范', deadline: '2027-01-11', hs: '871160', products: '电动自行车' },
]
/** Listed, but withdrawn: its detail page shows the portal's error text instead of the notice. */
const GONE = { id: '20261110_4', date: '2026-11-10', title: '已撤回的通报' }
const LISTED = [...ITEMS, GONE]
const PAGE_SIZE = 2

/** A GBK shell: static Chinese text (needs the encoding hint) and a script that renders the rest. */
const shell = (title: string, script: string) =>
  iconv.encode(`<!DOCTYPE html><html><head><title>${title}</title></head><body><div class="site">北京市 TBT 通报门户</div>${script}</body></html>`, 'gbk')

const LIST_SCRIPT = `<ul class="news-list"></ul><script>
const page = Number(location.pathname.match(/list_(\\d+)/)[1])
fetch('/api/list?page=' + page).then(r => r.json()).then(items => {
  const ul = document.querySelector('ul.news-list')
  for (const it of items) {
    const li = document.createElement('li')
    li.innerHTML = '<a></a><span class="date"></span>'
    li.querySelector('a').href = '/js/detail/t' + it.id + '.html'
    li.querySelector('a').textContent = it.title
    li.querySelector('.date').textContent = it.date
    ul.appendChild(li)
  }
  if (!items.length) document.body.insertAdjacentHTML('beforeend', '<p class="empty">没有更多</p>')
})</script>`

const DETAIL_SCRIPT = `<div class="detail"></div><script>
const id = location.pathname.match(/t(\\d{8}_\\d+)\\.html$/)[1]
fetch('/api/detail?id=' + id).then(r => r.json()).then(d => {
  const box = document.querySelector('div.detail')
  if (d.error) { box.innerHTML = '<p class="error"></p>'; box.firstChild.textContent = d.error; return }
  box.innerHTML = '<h1 class="title"></h1><table class="tbt-info"></table>'
  box.querySelector('h1').textContent = d.title
  for (const [k, v] of [['通告成员', d.member], ['通告发布时间', d.date], ['评议截止时间', d.deadline], ['文档编号', d.symbol], ['HS Code', d.hs], ['相关产品', d.products]]) {
    const tr = document.createElement('tr')
    tr.innerHTML = '<th></th><td></td>'
    tr.querySelector('th').textContent = k
    tr.querySelector('td').textContent = v
    box.querySelector('table').appendChild(tr)
  }
})</script>`

const definition = (baseUrl: string, engine: 'http' | 'browser') =>
  PortalDefinitionSchema.parse({
    id: 'portal-js',
    name: '脚本渲染的通报门户',
    engine,
    baseUrl,
    language: 'zho',
    encoding: 'gbk',
    list: { url: 'js/list_{page}.html', maxPages: 5, item: 'ul.news-list > li', idPattern: 't(\\d{8}_\\d+)\\.html$', date: 'span.date' },
    detail: {
      container: 'div.detail',
      rows: 'table.tbt-info tr',
      label: 'th',
      value: 'td',
      fields: { title: { selector: 'h1.title' }, member: '通告成员', distributionDate: '通告发布时间', commentDeadline: '评议截止时间', symbols: '文档编号', hsCodes: 'HS Code', products: '相关产品' },
    },
  })

describe('a portal rendered by JavaScript, with engine: browser', () => {
  let site: Awaited<ReturnType<typeof startServer>>
  const envs: TestEnv[] = []
  const open = async (engine: 'http' | 'browser') => {
    const env = await createTestEnv('sqlite', {}, { clock: () => NOW, sources: [createPortalSource(definition(site.url, engine))] })
    envs.push(env)
    await seed(env.ctx, { subscribers: false })
    return env
  }

  beforeAll(async () => {
    site = await startServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x')
      if (u.pathname === '/robots.txt') return res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nAllow: /\n')
      // Pages: text/html without a charset, GBK bytes. The API: JSON, UTF-8, no charset either.
      if (/^\/js\/list_\d+\.html$/.test(u.pathname)) return res.writeHead(200, { 'content-type': 'text/html' }).end(shell('通报列表', LIST_SCRIPT))
      if (/^\/js\/detail\/t\d{8}_\d+\.html$/.test(u.pathname)) return res.writeHead(200, { 'content-type': 'text/html' }).end(shell('通报详情', DETAIL_SCRIPT))
      if (u.pathname === '/api/list') {
        const page = Number(u.searchParams.get('page'))
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(LISTED.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)))
      }
      if (u.pathname === '/api/detail') {
        const item = ITEMS.find((i) => i.id === u.searchParams.get('id'))
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(item ?? { error: '页面不存在' }))
      }
      res.writeHead(404).end()
    })
  })
  afterAll(async () => {
    for (const env of envs) await env.cleanup()
    await site?.close()
  })

  it('renders list and detail pages in Chromium and stores every notice with its fields', { timeout: 120_000 }, async () => {
    const env = await open('browser')
    const r = await scrapeSource(env.ctx, 'portal-js', { since: '2026-10-01' })
    expect(r.status, r.error).toBe('ok')
    // Three detail pages kept as raw material; the list pages are not.
    expect(r.pendingRawIds).toHaveLength(ITEMS.length)
    for (const id of r.pendingRawIds) expect(await ingestRaw(env.ctx, id)).toMatchObject({ items: 1, errors: 0, quarantined: false })
    const rows = await env.ctx.db.selectFrom('notice').selectAll().orderBy('source_item_id', 'desc').execute()
    expect(rows.map((n) => [n.source_item_id, n.symbol, n.member, n.title, n.distribution_date, n.comment_deadline])).toEqual(ITEMS.map((i) => [i.id, i.symbol, i.member, i.title, i.date, i.deadline]))
    const hs = await env.ctx.db.selectFrom('notice_hs').select('code').orderBy('code').execute()
    expect(hs.map((h) => h.code)).toEqual(['850760', '851713', '871160'])
    // What is stored is the rendered DOM, scripts removed; the GBK shell was decoded with the hint.
    const raws = await env.ctx.db.selectFrom('raw_response').select(['url', 'engine', 'body']).where('engine', '=', 'browser').execute()
    const detail = raws.find((x) => x.url.endsWith('t20261121_7.html'))!
    expect(detail.body).toContain('<th>通告成员</th><td>美国</td>')
    expect(detail.body).toContain('北京市 TBT 通报门户')
    expect(detail.body).not.toContain('<script')
    // Every request the pages made went through the crawl's HTTP client, which asked robots.txt first.
    expect(site.hits[0]).toBe('GET /robots.txt')
    expect(site.hits).toContain('GET /api/list?page=2')
    expect(site.hits).toContain('GET /api/detail?id=20261112_5')
    // The withdrawn notice's page was tried and skipped; page 3, empty, ended the list.
    expect(site.hits).toContain(`GET /api/detail?id=${GONE.id}`)
    expect(site.hits).toContain('GET /api/list?page=3')
    expect(site.hits).not.toContain('GET /js/list_4.html')
  })

  it('fails the run as a layout change when no detail page renders', { timeout: 120_000 }, async () => {
    const def = definition(site.url, 'browser')
    def.detail.fields.title = { label: undefined, selector: 'h1.headline', attr: undefined }
    const env = await createTestEnv('sqlite', {}, { clock: () => NOW, sources: [createPortalSource(def)] })
    envs.push(env)
    await seed(env.ctx, { subscribers: false })
    const r = await scrapeSource(env.ctx, 'portal-js', { since: '2026-10-01' })
    expect(r.status).toBe('failed')
    expect(r.errorCode).toBe('layout-changed')
    expect(r.retryable).toBe(false)
  })

  it('finds nothing in the same pages over plain HTTP: a layout change, not an empty success', { timeout: 60_000 }, async () => {
    const env = await open('http')
    const r = await scrapeSource(env.ctx, 'portal-js', { since: '2026-10-01' })
    expect(r.status).toBe('failed')
    expect(r.errorCode).toBe('layout-changed')
    expect(await env.ctx.db.selectFrom('notice').select('id').execute()).toEqual([])
  })

  it('decodes JSON without a charset as UTF-8 whatever the page hint', () => {
    const json = Buffer.from(JSON.stringify({ member: '美国' }))
    expect(decode(json, 'application/json', 'gbk')).toBe('{"member":"美国"}')
    expect(decode(json, 'application/problem+json', 'gbk')).toBe('{"member":"美国"}')
    expect(decode(iconv.encode('<p>美国</p>', 'gbk'), 'text/html', 'gbk')).toBe('<p>美国</p>')
    // GBK JSON that declares nothing is not valid UTF-8: the hint still applies.
    expect(decode(iconv.encode('{"member":"美国"}', 'gbk'), 'application/json', 'gbk')).toBe('{"member":"美国"}')
  })
})

describe('portal definitions from an operator folder (TBT_PORTALS_DIR)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-portals-'))
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-portals-data-'))
  const builtIn = fs.readFileSync(path.join(PORTALS_DIR, 'labelled-tbt-portal.yaml'), 'utf8')
  const run = (portalsDir: string) => cli(['sources', '--json'], { TBT_DATA_DIR: dataDir, DATABASE_URL: `sqlite:${path.join(dataDir, 'x.db')}`, TBT_PORTALS_DIR: portalsDir })
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true })
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('adds them to the built-in sources, and refuses a taken id, a bad file or a missing folder by name', { timeout: 120_000 }, async () => {
    fs.writeFileSync(path.join(dir, 'gazette.yaml'), builtIn.replace(/^id: .*$/m, 'id: gazette-x').replace(/^enabled: .*$/m, 'enabled: true').replace(/^engine: .*$/m, 'engine: browser'))
    const ok = await run(dir)
    expect(ok.code, ok.stderr).toBe(0)
    const listed = JSON.parse(ok.stdout) as { id: string; engine: string; enabled: boolean }[]
    expect(listed.find((s) => s.id === 'gazette-x')).toMatchObject({ engine: 'browser', enabled: true })
    expect(listed.map((s) => s.id)).toEqual(expect.arrayContaining(['eping', 'portal-labelled', 'gazette-x']))

    fs.writeFileSync(path.join(dir, 'taken.yaml'), builtIn)
    const taken = await run(dir)
    expect(taken.code).not.toBe(0)
    expect(taken.stderr).toContain(`${path.join(dir, 'taken.yaml')}: portal id portal-labelled is already a source`)
    fs.rmSync(path.join(dir, 'taken.yaml'))

    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'id: bad\nname: x\nbaseUrl: https://x.invalid\nlist: 3\n')
    const bad = await run(dir)
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(new RegExp(`${path.join(dir, 'bad.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: .*list`))
    fs.rmSync(path.join(dir, 'bad.yaml'))

    const missing = await run(path.join(dir, 'nope'))
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain(`TBT_PORTALS_DIR: ${path.join(dir, 'nope')} is not a folder`)
  })
})
