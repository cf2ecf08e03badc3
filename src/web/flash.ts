import type { FastifyReply, FastifyRequest } from 'fastify'
import { html, type Raw } from '../util/html.js'

/**
 * A message for the next page after an action ("已确认预警 …", "批量排除需要填写理由"):
 * a signed, HttpOnly cookie that lives one minute and is cleared by the page that shows
 * it (post/redirect/get without inline script). `undo` offers a button that posts the
 * warnings back to `/warnings/undo`; `link` points somewhere the action led.
 */
export interface Flash {
  kind: 'ok' | 'error'
  text: string
  link?: { href: string; label: string }
  undo?: { ids: number[]; next: string; label: string }
}

export const FLASH_COOKIE = 'tbt_flash'
const MAX_AGE = 60 // seconds
// A cookie holds about 4 KB, and a Chinese character takes 9 bytes once encoded: 250 characters and 200 ids fit.
const MAX_TEXT = 250

const localPath = (s: unknown): s is string => typeof s === 'string' && s.startsWith('/') && !s.startsWith('//') && !s.includes('\\')

export function setFlash(reply: FastifyReply, flash: Flash): FastifyReply {
  const value: Flash = { ...flash, text: flash.text.slice(0, MAX_TEXT) }
  if (value.undo) value.undo = { ...value.undo, ids: value.undo.ids.slice(0, 200) }
  return reply.setCookie(FLASH_COOKIE, JSON.stringify(value), { path: '/', httpOnly: true, sameSite: 'lax', signed: true, maxAge: MAX_AGE, secure: reply.request.protocol === 'https' || undefined })
}

/** The flash sent with this request, if any (cleared: it shows once). */
export function takeFlash(req: FastifyRequest, reply: FastifyReply): Flash | null {
  const cookie = req.cookies[FLASH_COOKIE]
  if (!cookie) return null
  reply.clearCookie(FLASH_COOKIE, { path: '/' })
  const unsigned = req.unsignCookie(cookie)
  if (!unsigned.valid || !unsigned.value) return null
  try {
    const f = JSON.parse(unsigned.value) as Flash
    if ((f.kind !== 'ok' && f.kind !== 'error') || typeof f.text !== 'string') return null
    if (f.link && (!localPath(f.link.href) || typeof f.link.label !== 'string')) delete f.link
    if (f.undo && (!localPath(f.undo.next) || !Array.isArray(f.undo.ids) || !f.undo.ids.every(Number.isInteger))) delete f.undo
    return f
  } catch {
    return null
  }
}

/** The flash as the top of the page (role=status, or alert for an error). */
export function flashBox(f: Flash | null, csrf: () => string): Raw | '' {
  if (!f) return ''
  return html`<div class="flash flash-${f.kind}" id="flash" role="${f.kind === 'error' ? 'alert' : 'status'}"><span class="flash-text">${f.text}</span>${f.link ? html` <a href="${f.link.href}" id="flash-link">${f.link.label}</a>` : ''}${
    f.undo
      ? html` <form method="post" action="/warnings/undo" class="inline" data-key="u"><input type="hidden" name="_csrf" value="${csrf()}"><input type="hidden" name="next" value="${f.undo.next}">${f.undo.ids.map((id) => html`<input type="hidden" name="ids" value="${id}">`)}<button type="submit" id="undo">${f.undo.label} <kbd>u</kbd></button></form>`
      : ''
  }</div>`
}
