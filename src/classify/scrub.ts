/**
 * Removes HS and ICS codes, and the labels that introduce them, from a notice's text.
 *
 * The learnt model must never see the codes of the notice it classifies: a notice that
 * prints "(HS code(s): 8517)" in its product field would teach the model that the token
 * "8517" means chapter 85, and the words beside it would learn nothing. Training text is
 * scrubbed the same way the evaluation scrubs its blind copy, so what the model learns
 * from is what it will be asked about: words only.
 */
const CODE_NOTES: RegExp[] = [
  /\((?:HS|ICS)\s*code\(s\)\s*:[^)]*\)/gi,
  /\((?:C[oó]digos?\s*(?:\(s\)\s*)?(?:del\s+)?(?:SA|ICS)|codes?\s*(?:\(s\)\s*)?(?:du\s+)?(?:SH|ICS))\s*:[^)]*\)/gi,
  /(?:HS|ICS|\bSA|\bSH)\s*(?:代码|编码|編碼|code\(s\)|codes?)?\s*[:：]?\s*(?=\d)/gi,
  /\d{2}\.\d{3}(?:\.\d{2})?/g,
  /\d[\d.]{2,}\d/g,
]

export function scrubCodes(text: string | null | undefined): string {
  if (!text) return ''
  let t = text
  for (const re of CODE_NOTES) t = t.replace(re, ' ')
  return t.replace(/\s+/g, ' ').trim()
}
