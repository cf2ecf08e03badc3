import type { AppContext } from '../app-context.js'
import { draftFromTemplate, feedbackForMeasure, getComment, measureFacts, totalsOf, type Feedback, type MeasureComment, type MeasureFacts } from '../services/comment.service.js'
import { html } from '../util/html.js'
import { REQUEST_LABEL, STATUS_LABEL, W, type Lang } from './words.js'

// The comment on a measure as a document: the draft (as saved, or the template's when
// none was started), its status, the totals and the feedback it rests on. HTML (escaped)
// or DOCX (the `docx` library writes the XML; characters XML cannot hold are dropped).

export interface CommentDocument {
  measure: MeasureFacts
  comment: MeasureComment | null
  draft: { zh: string; en: string }
  feedback: Feedback[]
}

export async function loadCommentDocument(ctx: AppContext, measureId: number): Promise<CommentDocument | null> {
  const measure = await measureFacts(ctx, measureId)
  if (!measure) return null
  const feedback = await feedbackForMeasure(ctx, measureId)
  const comment = await getComment(ctx, measureId)
  const draft = comment ? { zh: comment.draftZh, en: comment.draftEn } : draftFromTemplate(measure, feedback)
  return { measure, comment, draft, feedback }
}

const money = (n: number | null, lang: Lang) => (n === null ? '—' : n.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US'))

interface Row {
  label: string
  value: string
}

/** The document's parts in one language, as plain text: shared by both formats. */
function parts(d: CommentDocument, lang: Lang) {
  const w = W[lang]
  const t = totalsOf(d.feedback)
  const status = STATUS_LABEL[lang][d.comment?.status ?? 'none']
  const head: Row[] = [
    { label: w.measure, value: `${d.measure.symbols.join(', ')} ${d.measure.title ?? ''}`.trim() },
    { label: w.wtoDeadline, value: d.measure.commentDeadline ?? '—' },
    { label: w.status, value: status },
    ...(d.comment?.submittedOn ? [{ label: w.submittedOn, value: `${d.comment.submittedOn}${d.comment.submittedTo ? ` → ${d.comment.submittedTo}` : ''}` }] : []),
    ...(d.comment?.replyOn ? [{ label: w.replyOn, value: d.comment.replyOn }] : []),
    { label: w.enterprises, value: String(t.enterprises) },
    { label: w.totalExport, value: money(t.exportValue, lang) },
    { label: w.totalCost, value: money(t.complianceCost, lang) },
  ]
  const feedback = d.feedback.map((f) => ({
    title: f.company,
    rows: [
      { label: w.products, value: `${f.products}${f.hs.length ? ` (HS ${f.hs.join(', ')})` : ''}` },
      { label: w.exportValue, value: money(f.exportValue, lang) },
      { label: w.complianceCost, value: money(f.complianceCost, lang) },
      ...(f.markets.length ? [{ label: w.markets, value: f.markets.join(', ') }] : []),
      ...f.concerns.map((c, i) => ({ label: `${w.concerns} ${i + 1}`, value: `${c.requirement}${c.requirement && c.why ? ': ' : ''}${c.why}` })),
      { label: w.requests, value: [...f.requests.map((r) => REQUEST_LABEL[lang][r]), f.requestOther].filter(Boolean).join('; ') || '—' },
      { label: w.contact, value: `${f.contact} <${f.email}>` },
    ] as Row[],
  }))
  return { w, head, feedback, reply: d.comment?.replyText ?? null }
}

/** The stand-alone HTML document (every value escaped). */
export function commentHtml(d: CommentDocument, lang: Lang): string {
  const { w, head, feedback, reply } = parts(d, lang)
  const drafts = lang === 'zh' ? [[w.draftZh, d.draft.zh, 'zh-CN'], [w.draftEn, d.draft.en, 'en']] : [[w.draftEn, d.draft.en, 'en'], [w.draftZh, d.draft.zh, 'zh-CN']]
  return html`<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><title>${w.draft} · ${d.measure.key}</title>
<style>body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",Arial,sans-serif;max-width:860px;margin:24px auto;padding:0 16px;line-height:1.6}th{text-align:left;padding-right:12px;vertical-align:top}.pre{white-space:pre-wrap}</style></head><body>
<h1>${w.draft} · ${d.measure.key}</h1><table><tbody>${head.map((r) => html`<tr><th>${r.label}</th><td>${r.value}</td></tr>`)}</tbody></table>
${drafts.map(([label, text, l]) => html`<h2>${label}</h2><div class="pre" lang="${l}">${text}</div>`)}
${reply ? html`<h2>${w.replyText}</h2><div class="pre">${reply}</div>` : ''}
<h2>${w.feedback}</h2>${feedback.length ? feedback.map((f) => html`<h3>${f.title}</h3><table><tbody>${f.rows.map((r) => html`<tr><th>${r.label}</th><td class="pre">${r.value}</td></tr>`)}</tbody></table>`) : html`<p>${w.noFeedback}</p>`}
</body></html>`.html
}

/** Characters XML 1.0 cannot hold (control characters, lone surrogates) are dropped. */
// eslint-disable-next-line no-control-regex
const xmlSafe = (s: string) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')

/** The DOCX document (the `docx` library, loaded only here). */
export async function commentDocx(d: CommentDocument, lang: Lang): Promise<Buffer> {
  const { Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow, TextRun, WidthType } = await import('docx')
  const { w, head, feedback, reply } = parts(d, lang)
  const font = { ascii: 'Arial', eastAsia: 'SimSun', hAnsi: 'Arial' }
  const lines = (text: string) => xmlSafe(text).split('\n').map((l) => new Paragraph({ children: [new TextRun({ text: l, font })] }))
  const table = (rows: Row[]) =>
    new Table({
      width: { size: 100, type: WidthType.PERCENTAGE },
      rows: rows.map(
        (r) =>
          new TableRow({
            children: [
              new TableCell({ width: { size: 25, type: WidthType.PERCENTAGE }, children: [new Paragraph({ children: [new TextRun({ text: xmlSafe(r.label), bold: true, font })] })] }),
              new TableCell({ width: { size: 75, type: WidthType.PERCENTAGE }, children: lines(r.value) }),
            ],
          }),
      ),
    })
  const heading = (text: string, level: (typeof HeadingLevel)[keyof typeof HeadingLevel]) => new Paragraph({ heading: level, children: [new TextRun({ text: xmlSafe(text), font })] })
  const drafts: [string, string][] = lang === 'zh' ? [[w.draftZh, d.draft.zh], [w.draftEn, d.draft.en]] : [[w.draftEn, d.draft.en], [w.draftZh, d.draft.zh]]
  const doc = new Document({
    creator: 'tbt-watch',
    title: `${w.draft} ${d.measure.key}`,
    sections: [
      {
        children: [
          heading(`${w.draft} · ${d.measure.key}`, HeadingLevel.TITLE),
          table(head),
          ...drafts.flatMap(([label, text]) => [heading(label, HeadingLevel.HEADING_1), ...lines(text)]),
          ...(reply ? [heading(w.replyText, HeadingLevel.HEADING_1), ...lines(reply)] : []),
          heading(w.feedback, HeadingLevel.HEADING_1),
          ...(feedback.length ? feedback.flatMap((f) => [heading(f.title, HeadingLevel.HEADING_2), table(f.rows)]) : [new Paragraph(w.noFeedback)]),
        ],
      },
    ],
  })
  return Packer.toBuffer(doc)
}
