import { html, raw } from '../util/html.js'
import { renderWeeklyReport, type WeeklyReport } from './weekly-report.js'
import type { Lang } from './render.js'

const CSS = `body{font-family:-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",Arial,sans-serif;margin:0;color:#222;background:#f4f4f4}
main{max-width:820px;margin:0 auto;background:#fff;padding:24px 32px}
nav{max-width:820px;margin:0 auto;padding:8px 32px;display:flex;justify-content:space-between;font-size:13px}
figure.chart{margin:8px 0}figure.chart svg{max-width:100%;height:auto}
table{page-break-inside:avoid}h2{page-break-after:avoid}
@page{size:A4;margin:14mm}
@media print{body{background:#fff}nav,.no-print{display:none}main{max-width:none;padding:0}a{color:#222;text-decoration:none}}`

/** The officials' weekly report as a stand-alone web page, printable to PDF (A4 print stylesheet). Pure. */
export function renderReportPage(lang: Lang, r: WeeklyReport, url: string, nav?: { prev: string; next: string | null; other: string }): string {
  const body = renderWeeklyReport(lang, r, { kind: 'web', webUrl: url })
  const t = lang === 'zh' ? { prev: '上一周', next: '下一周', print: '打印或另存为 PDF：使用浏览器的“打印”功能。', other: 'English' } : { prev: 'Previous week', next: 'Next week', print: "Print or save as PDF with the browser's Print command.", other: '中文' }
  return html`<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${body.subject}</title><style>${raw(CSS)}</style></head><body>
${nav ? html`<nav><a href="${nav.prev}">← ${t.prev}</a><a href="${nav.other}">${t.other}</a>${nav.next ? html`<a href="${nav.next}">${t.next} →</a>` : html`<span></span>`}</nav>` : ''}
<main>${raw(body.html)}<p class="no-print" style="color:#888;font-size:12px">${t.print}</p></main></body></html>`.html
}
