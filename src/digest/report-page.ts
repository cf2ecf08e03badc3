import { html, raw, type Raw } from '../util/html.js'
import type { PeriodKind } from '../domain/periods.js'
import { periodLabel, renderReport, type ReportSnapshot } from './report.js'
import type { Lang } from './render.js'

const CSS = `body{font-family:-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",Arial,sans-serif;margin:0;color:#222;background:#f4f4f4;font-size:14px;line-height:1.5}
header.bar{background:#1f3a5f;color:#fff;padding:8px 16px;display:flex;flex-wrap:wrap;gap:6px 16px;align-items:center}
header.bar a,header.bar button{color:#fff;text-decoration:none;background:none;border:0;font:inherit;cursor:pointer;padding:0}
header.bar .brand{font-weight:bold;margin-right:8px}header.bar nav{display:flex;gap:16px}header.bar nav a.on{border-bottom:2px solid #fff;font-weight:600}header.bar .who{margin-left:auto;display:flex;gap:12px;align-items:center;flex-wrap:wrap;font-size:13px}
header.bar form{display:inline;margin:0}
nav.periods{max-width:820px;margin:0 auto;padding:10px 16px 6px;display:flex;flex-wrap:wrap;gap:6px 14px;font-size:13px;align-items:center}
nav.periods .kinds a{display:inline-block;padding:2px 10px;border:1px solid #1f3a5f;border-radius:12px;color:#1f3a5f;text-decoration:none;margin-right:4px}
nav.periods .kinds a.on{background:#1f3a5f;color:#fff}nav.periods .step{margin-left:auto;display:flex;gap:14px}
main{max-width:820px;margin:0 auto 24px;background:#fff;padding:20px 28px}
figure.chart{margin:8px 0;overflow-x:auto}figure.chart svg{max-width:100%;height:auto}
table{page-break-inside:avoid}h2{page-break-after:avoid}
.notice{background:#fff8e1;border:1px solid #f0d98c;padding:10px 14px;border-radius:4px}
@media (max-width:600px){main{padding:14px 12px}header.bar{padding:8px 10px}nav.periods{padding:8px 10px}table{font-size:12px!important}td,th{padding:4px!important}}
@page{size:A4;margin:14mm}
@media print{body{background:#fff}header.bar,nav.periods,.no-print{display:none}main{max-width:none;padding:0}a{color:#222;text-decoration:none}}`

export interface ReportPageNav {
  /** the app's own header (brand, menu, who is signed in): markup without inline styles */
  header?: Raw
  kinds?: Record<PeriodKind, string>
  prev?: string | null
  next?: string | null
  index?: string
  other?: string
}

const W = {
  zh: { prev: '← 上一期', next: '下一期 →', index: '全部报告', kinds: { weekly: '周报', monthly: '月报', quarterly: '季报' }, print: '打印或另存为 PDF：使用浏览器的“打印”功能。', other: 'English' },
  en: { prev: '← Previous', next: 'Next →', index: 'All reports', kinds: { weekly: 'Weekly', monthly: 'Monthly', quarterly: 'Quarterly' }, print: "Print or save as PDF with the browser's Print command.", other: '中文' },
}

function frame(lang: Lang, title: string, nav: ReportPageNav | undefined, kind: PeriodKind | undefined, main: Raw): string {
  const t = W[lang]
  const periods = nav
    ? html`<nav class="periods" aria-label="periods">${nav.kinds ? html`<span class="kinds">${(Object.keys(nav.kinds) as PeriodKind[]).map((k) => html`<a href="${nav.kinds![k]}"${raw(k === kind ? ' class="on" aria-current="page"' : '')}>${t.kinds[k]}</a>`)}</span>` : ''}
${nav.index ? html`<a href="${nav.index}">${t.index}</a>` : ''}${nav.other ? html`<a href="${nav.other}" id="lang-switch">${t.other}</a>` : ''}
<span class="step">${nav.prev ? html`<a href="${nav.prev}" rel="prev">${t.prev}</a>` : ''}${nav.next ? html`<a href="${nav.next}" rel="next">${t.next}</a>` : ''}</span></nav>`
    : ''
  return html`<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${raw(CSS)}</style></head><body>
${nav?.header ?? ''}${periods}
<main>${main}</main></body></html>`.html
}

/** An officials' report as a stand-alone web page, printable to PDF (A4 print stylesheet). Pure. */
export function renderReportPage(lang: Lang, r: ReportSnapshot, opts: { baseUrl: string; url: string; nav?: ReportPageNav }): string {
  const body = renderReport(lang, r, { kind: 'web', baseUrl: opts.baseUrl, webUrl: opts.url })
  return frame(lang, body.subject, opts.nav, r.kind, html`${raw(body.html)}<p class="no-print" style="color:#888;font-size:12px">${W[lang].print}</p>`)
}

/** The page for a period that has not ended yet: no report until it is complete. Pure. */
export function renderPendingPage(lang: Lang, kind: PeriodKind, key: string, range: { from: string; to: string }, latest: string | null, nav?: ReportPageNav): string {
  const label = periodLabel(lang, kind, key, range.from, range.to)
  const text =
    lang === 'zh'
      ? html`<h1 style="font-size:20px">${label}</h1><p class="notice">本期尚未结束，报告将在本期结束后的第一个周一生成并发送。</p>${latest ? html`<p><a href="${latest}">查看最近一期完整报告</a></p>` : ''}`
      : html`<h1 style="font-size:20px">${label}</h1><p class="notice">This period has not ended yet: its report is built and sent on the first Monday after it.</p>${latest ? html`<p><a href="${latest}">Open the latest complete report</a></p>` : ''}`
  return frame(lang, label, nav, kind, text)
}
