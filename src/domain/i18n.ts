/**
 * Words shared by the web pages, the exports and the e-mails, in Chinese (the default)
 * and English: lifecycle statuses, roles, document types, sources, classification
 * evidence, local times. One place, so every view says the same thing.
 */
export type Lang = 'zh' | 'en'

export const MEASURE_STATUS_LABEL: Record<Lang, Record<string, string>> = {
  zh: { open: '征求意见中', closed: '评议期已结束', adopted: '已通过', in_force: '已生效', withdrawn: '已撤回' },
  en: { open: 'open for comments', closed: 'comment period closed', adopted: 'adopted', in_force: 'in force', withdrawn: 'withdrawn' },
}
export const measureStatusLabel = (lang: Lang, s: string) => MEASURE_STATUS_LABEL[lang][s] ?? s

export const WARNING_STATUS_LABEL: Record<Lang, Record<string, string>> = {
  zh: { new: '新预警', in_review: '审核中', confirmed: '已确认', dismissed: '已排除', escalated: '已上报' },
  en: { new: 'New', in_review: 'In review', confirmed: 'Confirmed', dismissed: 'Dismissed', escalated: 'Escalated' },
}

export const ROLE_LABEL: Record<Lang, Record<string, string>> = {
  zh: { admin: '管理员', analyst: '分析员', official: '政府部门', enterprise: '企业' },
  en: { admin: 'administrator', analyst: 'analyst', official: 'official', enterprise: 'enterprise' },
}

export const DOC_TYPE_LABEL: Record<Lang, Record<string, string>> = {
  zh: { regular: '通报', addendum: '补遗', corrigendum: '勘误', revision: '修订' },
  en: { regular: 'notification', addendum: 'addendum', corrigendum: 'corrigendum', revision: 'revision' },
}

export const DEADLINE_STATE_LABEL: Record<Lang, Record<'past' | 'soon' | 'later', string>> = {
  zh: { past: '已截止', soon: '7天内截止', later: '' },
  en: { past: 'passed', soon: 'due within 7 days', later: '' },
}

const SOURCE_ZH: Record<string, string> = {
  eping: 'WTO ePing 通报平台（公开）',
  'eping-api': 'WTO ePing 通报平台（API）',
  'us-fedreg': '美国联邦公报（拟议规则）',
  'cn-tbt': '中国WTO/TBT-SPS通报咨询网',
  'eu-tris': '欧盟技术法规信息系统（TRIS）',
}
/** A source's name in the reader's language (portal definitions name themselves). */
export function sourceName(lang: Lang, id: string, name?: string): string {
  if (lang === 'zh') return SOURCE_ZH[id] ?? name ?? id
  return name ?? id
}

export const LANG_NAMES: Record<Lang, Record<string, string>> = {
  zh: { eng: '英语', fra: '法语', spa: '西班牙语', zho: '中文', cmn: '中文', por: '葡萄牙语', rus: '俄语', ara: '阿拉伯语', arb: '阿拉伯语', jpn: '日语', kor: '韩语', deu: '德语', tha: '泰语', vie: '越南语', und: '未知' },
  en: { eng: 'English', fra: 'French', spa: 'Spanish', zho: 'Chinese', cmn: 'Chinese', por: 'Portuguese', rus: 'Russian', ara: 'Arabic', arb: 'Arabic', jpn: 'Japanese', kor: 'Korean', deu: 'German', tha: 'Thai', vie: 'Vietnamese', und: 'unknown' },
}
export const languageName = (lang: Lang, code: string) => LANG_NAMES[lang][code] ?? code

const EVIDENCE_KIND: Record<Lang, Record<string, string>> = {
  zh: { language: '语言', 'hs-code': '通报所列HS编码', ics: 'ICS对照', term: '关键词', model: '统计模型', nomenclature: '税则品目措辞', near: '相近词' },
  en: { language: 'language', 'hs-code': 'HS code on the notice', ics: 'ICS crosswalk', term: 'term', model: 'model', nomenclature: 'nomenclature wording', near: 'nearest words' },
}
export const evidenceKindLabel = (lang: Lang, kind: string) => EVIDENCE_KIND[lang][kind] ?? kind

const LANG_METHOD_ZH: Record<string, string> = { script: '按文字识别', 'function-words': '按常用词识别', hint: '按来源标注', empty: '无文字', trigrams: '按字母组合识别', source: '按来源标注', unsure: '识别不确定' }

const FIELD_ZH: Record<string, string> = { title: '标题', products: '产品', description: '描述', objectives: '目的' }

/**
 * One piece of classification evidence in the reader's language. The classifier writes
 * its details in English; the Chinese reading is rebuilt from the structured fields (and,
 * where the classifier keeps none, from its fixed English wording). Anything unrecognised
 * is shown as written.
 */
export function evidenceText(lang: Lang, e: { kind?: unknown; detail?: unknown; code?: unknown; [k: string]: unknown }): string {
  const detail = String(e.detail ?? '')
  if (lang === 'en') return detail
  const kind = String(e.kind ?? '')
  let m: RegExpExecArray | null
  switch (kind) {
    case 'language':
      if ((m = /^(\S+) \((.+)\)$/.exec(detail))) return `文本语言：${languageName('zh', m[1])}（${LANG_METHOD_ZH[m[2]] ?? m[2]}）`
      break
    case 'term':
      if (typeof e.term === 'string' && typeof e.code === 'string')
        return `${FIELD_ZH[String(e.field)] ?? String(e.field ?? '')}中出现“${e.term}”（${languageName('zh', String(e.lang ?? ''))}）→ HS ${e.code}${e.apart ? '（词语在同一分句中分开出现）' : ''}${e.attributive ? '（修饰其后的词，权重降低）' : ''}${e.use ? '（指用途，权重降低）' : ''}${typeof e.material === 'string' ? `（材质：${e.material}）` : ''}${typeof e.state === 'string' ? `（状态：${e.state}）` : ''}`
      break
    case 'hs-code':
      if ((m = /^HS (.+?) listed on the notice(?:; (.*))?$/.exec(detail))) return `通报列明 HS ${m[1]}${m[2] ? `；${hsNotesZh(m[2])}` : ''}`
      if ((m = /^"(.*)" on the notice is not an HS code; ignored$/.exec(detail))) return `通报中的“${m[1]}”不是 HS 编码，未采用`
      if ((m = /^(.+) is a national line outside the HS \(chapters 98-99\); not used$/.exec(detail))) return `${m[1]} 为 HS 以外的国家税目（第98、99章），未采用`
      break
    case 'ics':
      if ((m = /^ICS (\S+) → HS (\S+) \(crosswalk group (.+)\)$/.exec(detail))) return `ICS ${m[1]} → HS ${m[2]}（对照组 ${m[3]}）`
      break
    case 'nomenclature':
      if ((m = /^wording close to HS (\S+) "(.*)" \(shared: (.*)\)$/.exec(detail))) return `措辞接近 HS ${m[1]}“${m[2]}”（共同词：${m[3]}）`
      break
    case 'near':
      if ((m = /^no term of the lexicon; words nearest its terms for HS (\S+) \(shared: (.*)\)$/.exec(detail))) return `未见词库中的词；与 HS ${m[1]} 的词最相近（共同的词或字：${m[2]}）`
      break
    case 'model':
      if ((m = /^naive Bayes on (\d+) labelled notices: chapter (\S+) p=(\S+) \(features: (.*)\)$/.exec(detail)))
        return `朴素贝叶斯模型（${m[1]}条已标注通报）：第${m[2]}章，概率 ${m[3]}（特征：${m[4]}）`
      if ((m = /^naive Bayes: heading (\S+) p=(\S+)$/.exec(detail))) return `朴素贝叶斯模型：品目 ${m[1]}，概率 ${m[2]}`
      if ((m = /^learnt model: chapter (\S+) p=([\d.]+)(?:, heading (\S+) p=([\d.]+))? \(features: (.*)\)$/.exec(detail)))
        return `学习模型：第${m[1]}章，概率 ${m[2]}${m[3] ? `；品目 ${m[3]}，概率 ${m[4]}` : ''}（特征：${m[5] === '-' ? '无' : m[5]}）`
      break
  }
  return detail
}

function hsNotesZh(notes: string): string {
  return notes
    .split('; ')
    .map((n) => {
      let m: RegExpExecArray | null
      if ((m = /^(\d+)-digit national line read as its first 10 digits$/.exec(n))) return `${m[1]}位国家税目按前10位读取`
      if ((m = /^national line (\d+) mapped to HS6 (\d+)$/.exec(n))) return `国家税目 ${m[1]} 对应 HS 六位 ${m[2]}`
      return n.replace(/^HS (\d{4})→(\d{4}): /, 'HS $1→$2 版本转换：')
    })
    .join('；')
}

/** The label of a time zone for the reader: 北京时间 / Beijing time for Asia/Shanghai, else its name. */
export function timeZoneLabel(lang: Lang, timeZone: string): string {
  if (timeZone === 'Asia/Shanghai' || timeZone === 'Asia/Chongqing' || timeZone === 'PRC') return lang === 'zh' ? '北京时间' : 'Beijing time'
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 'UTC'
  return timeZone
}

/** An instant (ISO) as local `YYYY-MM-DD HH:mm` in the time zone, without the label. */
// One formatter per time zone, and the zone's UTC offset per hour: making an
// Intl.DateTimeFormat costs ~0.5 ms and formatToParts ~20 µs, and a whole-queue export
// formats a time per row. An offset read at both ends of an hour holds for all of it
// (no zone changes its offset twice within an hour); otherwise the formatter decides.
const formatters = new Map<string, Intl.DateTimeFormat>()
const formatterOf = (timeZone: string) => {
  let f = formatters.get(timeZone)
  if (!f) formatters.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })))
  return f
}
const HOUR = 3_600_000
const offsets = new Map<string, number | null>()
function formatParts(d: Date, timeZone: string): string {
  const p = Object.fromEntries(formatterOf(timeZone).formatToParts(d).map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}
/** The zone's offset (ms) at an instant, from its local wall time (to the minute). */
function offsetAt(ms: number, timeZone: string): number {
  const local = formatParts(new Date(ms), timeZone)
  return Date.parse(`${local.replace(' ', 'T')}:00Z`) - (ms - (ms % 60_000))
}
function hourOffset(ms: number, timeZone: string): number | null {
  const start = ms - (((ms % HOUR) + HOUR) % HOUR)
  const key = `${timeZone} ${start}`
  let v = offsets.get(key)
  if (v === undefined) {
    const a = offsetAt(start, timeZone)
    v = a === offsetAt(start + HOUR - 60_000, timeZone) ? a : null
    if (offsets.size > 10_000) offsets.clear()
    offsets.set(key, v)
  }
  return v
}

export function localTime(iso: string, timeZone: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const offset = hourOffset(d.getTime(), timeZone)
  if (offset === null) return formatParts(d, timeZone)
  return new Date(d.getTime() + offset).toISOString().slice(0, 16).replace('T', ' ')
}
export function localTimeLabelled(lang: Lang, iso: string, timeZone: string): string {
  const label = timeZoneLabel(lang, timeZone)
  return lang === 'zh' ? `${localTime(iso, timeZone)}（${label}）` : `${localTime(iso, timeZone)} (${label})`
}
