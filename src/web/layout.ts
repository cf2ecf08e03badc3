import type { FastifyReply, FastifyRequest } from 'fastify'
import { DOC_TYPE_LABEL, LANG_NAMES, MEASURE_STATUS_LABEL, ROLE_LABEL } from '../domain/i18n.js'
import { html, raw, type Raw } from '../util/html.js'
import { flashBox, takeFlash } from './flash.js'

export type Lang = 'zh' | 'en'

/** UI words. Chinese first: it is the default language of the UI. */
export const T = {
  zh: {
    title: 'TBT 技术性贸易措施预警',
    queue: '审核队列',
    comments: '评议',
    myHome: '我的预警',
    warnings: '预警列表',
    reports: '风险报告',
    latestReport: '最新周报',
    reportKinds: { weekly: '周报', monthly: '月报', quarterly: '季报' } as Record<string, string>,
    reportsIntro: '每期报告在该期结束后计算一次并存档，邮件与网页内容一致。',
    reportLatest: '最近一期',
    reportNotYet: '尚未生成（打开时生成）',
    reportTotals: (n: number, high: number) => `新增预警措施 ${n} 项，其中高风险 ${high} 项`,
    reportGenerated: '生成时间',
    reportSummary: '概况',
    period: '统计期间',
    lifecycle: '措施状态',
    members: '通报成员',
    deadlineStates: { past: '已截止', soon: '7天内截止', later: '' } as Record<string, string>,
    daysLeft: (d: number) => (d < 0 ? `已截止${-d}天` : d === 0 ? '今天截止' : `剩余${d}天`),
    allCategories: '涉及的产品类别',
    categoryScores: '各产品类别的风险评分',
    otherTraces: '其他类别的评分依据',
    times: (label: string) => `时间均为${label}`,
    colon: '：',
    docDeadline: '本文件所列评议截止',
    ops: '运行状况',
    login: '登录',
    logout: '退出',
    email: '邮箱',
    password: '密码',
    newPassword: '新密码（至少10个字符）',
    changePassword: '修改密码',
    mustChange: '这是一次性密码，请先设置新密码。',
    badLogin: '邮箱或密码不正确。',
    tooMany: '尝试次数过多，请稍后再试。',
    forbidden: '您的账号无权访问此页面。',
    csrf: '表单已过期，请返回刷新页面后重试。',
    notFound: '未找到该页面。',
    level: '风险等级',
    score: '分数',
    status: '状态',
    category: '产品类别',
    categories: '产品类别',
    measure: '措施',
    member: '通报成员',
    market: '市场',
    source: '来源',
    language: '语言',
    deadline: '评议截止',
    deadlineWithin: '评议截止（天内）',
    assignee: '负责人',
    unassigned: '未分配',
    search: '搜索',
    searchHint: '通报号、标题、产品、描述……',
    filter: '筛选',
    reset: '清除',
    sort: '排序',
    sorts: { score: '分数', deadline: '评议截止', created: '创建时间', updated: '更新时间', id: '编号' } as Record<string, string>,
    asc: '升序',
    desc: '降序',
    all: '全部',
    any: '不限',
    none: '没有符合条件的预警。',
    // `more`: the total is a lower bound (the counts stop at TBT_COUNT_MAX): no last page.
    page: (p: number, n: number, total: number, more = false) => (more ? `第 ${p} 页，共 ${total}+ 条` : `第 ${p}/${n} 页，共 ${total} 条`),
    countAtLeast: (n: number) => `至少 ${n} 条（为保持页面速度，计数到上限即停止）`,
    countNotYet: '未计数（结果很多，为保持页面速度只统计了已读取的部分；打开此标签查看）',
    prev: '上一页',
    next: '下一页',
    export: '导出',
    bulk: '批量操作',
    selected: '对所选预警',
    apply: '执行',
    statuses: { new: '新预警', in_review: '审核中', confirmed: '已确认', dismissed: '已排除', escalated: '已上报' } as Record<string, string>,
    levels: { high: '高', medium: '中', low: '低' } as Record<string, string>,
    actions: { review: '开始审核', confirm: '确认', dismiss: '排除', escalate: '上报', reopen: '重新打开' } as Record<string, string>,
    reason: '排除理由',
    note: '分析员备注',
    saveNote: '保存备注',
    assign: '指派',
    assignMe: '指派给我',
    levelOverride: '更正风险等级',
    levelAuto: '按评分自动',
    correctCategories: '更正产品类别',
    correctHint: '更正将覆盖自动归类，并作为训练样本交给分类器学习。',
    corrected: '已由分析员更正',
    save: '保存',
    trace: '风险评分依据',
    total: '合计',
    timeline: '措施时间线',
    timelineKinds: { notified: '通报', 'follow-up': '后续文件', 'comment-deadline': '评议截止', adoption: '通过/发布', 'entry-into-force': '生效' } as Record<string, string>,
    roles: ROLE_LABEL.zh,
    docTypes: DOC_TYPE_LABEL.zh,
    classification: '产品归类及依据',
    evidence: '依据',
    hs: 'HS 编码',
    ics: 'ICS 编码',
    notices: '通报文件',
    original: '原文',
    translation: '译文',
    noTranslation: '暂无其他语言版本。',
    symbols: '文件编号',
    products: '产品',
    description: '描述',
    objectives: '目的',
    keywords: '关键词',
    links: '原始文件链接',
    history: '处理记录',
    at: '时间',
    actor: '操作人',
    action: '操作',
    details: '说明',
    back: '返回队列',
    switch: 'English',
    unsubDone: '您已退订，今后不会再收到此类邮件。',
    unsubBad: '退订链接无效或已过期。',
    alerts: '运行告警',
    sources: '数据来源',
    lastRun: '最近运行',
    lastStatus: '结果',
    errors: '错误',
    items: '条目',
    depths: '队列积压',
    pendingRaw: '待解析的原始响应',
    unclassified: '待归类的通报',
    unlearnt: '待学习的训练样本',
    failedWork: { title: '失败且不再自动重试的任务', hint: '排除原因后，运行 tbt-watch retry-failed 将这些任务按原编号重新排队。', queue: '队列', job: '任务编号', error: '失败原因', at: '失败时间', attempts: '尝试次数' },
    shortcuts: '快捷键：j/k 上下移动，x 选择，o 打开，/ 搜索；详情页 j/k 下一条/上一条，c 确认，e 上报，d 排除，n 备注，a 指派给我，u 撤销排除，q 返回队列',
    measureStatus: MEASURE_STATUS_LABEL.zh,
    events: { raised: '系统生成预警', rescored: '重新评分', closed: '系统关闭', reopened: '系统重新打开', lifecycle: '措施状态变化', merged: '合并为一条措施预警', note: '修改备注', assign: '指派', level: '更正等级', categories: '更正类别', 'categories-auto': '产品类别变化', review: '开始审核', confirm: '确认', dismiss: '排除', escalate: '上报', reopen: '重新打开', undo: '撤销排除' } as Record<string, string>,
    reasons: { 'measure withdrawn': '措施已撤回', 'measure no longer withdrawn': '措施不再处于撤回状态', 'measure adopted': '措施已通过', 'measure in_force': '措施已生效', 'category corrected': '产品类别已更正', 'category restored by a correction': '更正恢复了该类别' } as Record<string, string>,
    openWork: '待处理',
    filterSummary: (n: number) => (n ? `筛选与排序（已设 ${n} 项）` : '筛选与排序'),
    prevWarning: '上一条',
    nextWarning: '下一条',
    position: (i: number, n: number, iMore = false, nMore = false) => `当前筛选第 ${i}${iMore ? '+' : ''}/${n}${nMore ? '+' : ''} 条`,
    notInFilter: '此预警已不在当前筛选结果中',
    leftFilter: (key: string) => `刚处理的预警 ${key} 不在本页（可能已不符合当前筛选条件）。`,
    allSourcesFailed: (n: number) => `上一轮抓取中全部 ${n} 个数据来源均失败，队列可能不是最新的。`,
    allSourcesFailedHint: '查看运行状况',
    allSourcesFailedDemo: '如在无网络的环境下试用，可运行 npm run demo 载入演示数据。',
    chipsHidden: (n: number, pct: number) => `另有 ${n} 项低于 ${pct}%，未列出`,
    statusAll: '全部状态',
    flash: {
      done: { review: '已开始审核', confirm: '已确认', dismiss: '已排除', escalate: '已上报', reopen: '已重新打开' } as Record<string, string>,
      one: (done: string, key: string) => `${done}预警 ${key}。`,
      reason: (r: string) => `理由：${r}`,
      unchanged: (st: string) => `该预警已是「${st}」，未作更改。`,
      cannot: (action: string, st: string) => `不能对「${st}」的预警执行「${action}」。`,
      reasonNeeded: '排除预警需要填写排除理由，请在“排除理由”中填写后再执行。',
      undo: '撤销',
      undone: (n: number) => (n === 1 ? '已撤销排除，预警恢复为排除前的状态。' : `已撤销排除，${n} 条预警恢复为排除前的状态。`),
      cannotUndo: '无法撤销：预警在排除后已有新的处理。',
      bulkNone: '请先勾选要处理的预警，再执行批量操作。',
      bulkDone: (done: string, n: number) => `${done} ${n} 条预警。`,
      bulkAssigned: (n: number) => `已将 ${n} 条预警指派给您。`,
      bulkUnchanged: (n: number) => `${n} 条原本已是该状态`,
      bulkFailed: (n: number) => `${n} 条的当前状态不允许此操作`,
      bulkNothing: '所选预警均未改变。',
      unknownAction: '未知的操作，请从列表中选择。',
      noteSaved: '备注已保存。',
      noteCleared: '备注已清除。',
      assigned: (who: string) => `已指派给 ${who}。`,
      unassigned: '已取消指派。',
      level: (l: string) => `风险等级已更正为「${l}」。`,
      levelAuto: (l: string) => `风险等级恢复为按评分自动，当前为「${l}」。`,
      categories: (to: string, from: string) => `产品类别已更正为：${to}（原为：${from || '无'}）。`,
      rescored: (level: string, score: number) => `已按新类别重新评分：风险等级「${level}」，分数 ${score}。`,
      learnt: (n: number) => `本措施的 ${n} 份文件已作为训练样本，分类器将在下次训练时学习。`,
      moved: (id: number) => `该措施现由另一条预警 #${id} 跟踪，本预警已关闭。`,
      openMoved: (id: number) => `打开预警 #${id}`,
      categoriesNone: '请至少选择一个产品类别；如均不适用，请排除该预警。',
      invalid: '输入无效，请检查后重试。',
    },
    system: '系统',
    readOnly: '只读',
    langNames: LANG_NAMES.zh,
  },
  en: {
    title: 'TBT trade-measure early warning',
    queue: 'Review queue',
    comments: 'Comments',
    myHome: 'My warnings',
    warnings: 'Warnings',
    reports: 'Risk reports',
    latestReport: 'Latest weekly report',
    reportKinds: { weekly: 'Weekly', monthly: 'Monthly', quarterly: 'Quarterly' } as Record<string, string>,
    reportsIntro: 'Each report is computed once when its period is over and kept: the e-mail and the page show the same.',
    reportLatest: 'Latest',
    reportNotYet: 'not built yet (built when opened)',
    reportTotals: (n: number, high: number) => `${n} newly warned measure${n === 1 ? '' : 's'}, ${high} high risk`,
    reportGenerated: 'Generated',
    reportSummary: 'Summary',
    period: 'Period',
    lifecycle: 'Measure status',
    members: 'Notified by',
    deadlineStates: { past: 'passed', soon: 'due within 7 days', later: '' } as Record<string, string>,
    daysLeft: (d: number) => (d < 0 ? `closed ${-d} day${d === -1 ? '' : 's'} ago` : d === 0 ? 'closes today' : `${d} day${d === 1 ? '' : 's'} left`),
    allCategories: 'Categories concerned',
    categoryScores: 'Risk score per product category',
    otherTraces: 'Why the other categories score',
    times: (label: string) => `Times in ${label}`,
    colon: ': ',
    docDeadline: 'Comment deadline in this document',
    ops: 'Operations',
    login: 'Log in',
    logout: 'Log out',
    email: 'E-mail',
    password: 'Password',
    newPassword: 'New password (10 characters or more)',
    changePassword: 'Change password',
    mustChange: 'This was a one-time password: please set a new one first.',
    badLogin: 'Wrong e-mail or password.',
    tooMany: 'Too many attempts; please try again later.',
    forbidden: 'Your account may not open this page.',
    csrf: 'This form has expired: go back, reload the page and try again.',
    notFound: 'Page not found.',
    level: 'Level',
    score: 'Score',
    status: 'Status',
    category: 'Category',
    categories: 'Categories',
    measure: 'Measure',
    member: 'Member',
    market: 'Market',
    source: 'Source',
    language: 'Language',
    deadline: 'Comment deadline',
    deadlineWithin: 'Deadline within (days)',
    assignee: 'Assignee',
    unassigned: 'Unassigned',
    search: 'Search',
    searchHint: 'symbol, title, products, description…',
    filter: 'Filter',
    reset: 'Reset',
    sort: 'Sort',
    sorts: { score: 'Score', deadline: 'Comment deadline', created: 'Created', updated: 'Updated', id: 'Id' } as Record<string, string>,
    asc: 'ascending',
    desc: 'descending',
    all: 'All',
    any: 'Any',
    none: 'No warnings match.',
    page: (p: number, n: number, total: number, more = false) => (more ? `Page ${p}, ${total}+ warnings` : `Page ${p} of ${n}, ${total} warnings`),
    countAtLeast: (n: number) => `at least ${n} (counting stops at a limit, to keep the page fast)`,
    countNotYet: 'not counted (many results; to keep the page fast only those read so far are counted; open the tab to see them)',
    prev: 'Previous',
    next: 'Next',
    export: 'Export',
    bulk: 'Bulk action',
    selected: 'on the selected warnings',
    apply: 'Apply',
    statuses: { new: 'New', in_review: 'In review', confirmed: 'Confirmed', dismissed: 'Dismissed', escalated: 'Escalated' } as Record<string, string>,
    levels: { high: 'High', medium: 'Medium', low: 'Low' } as Record<string, string>,
    actions: { review: 'Start review', confirm: 'Confirm', dismiss: 'Dismiss', escalate: 'Escalate', reopen: 'Reopen' } as Record<string, string>,
    reason: 'Reason for dismissing',
    note: 'Analyst note',
    saveNote: 'Save note',
    assign: 'Assign',
    assignMe: 'Assign to me',
    levelOverride: 'Correct the level',
    levelAuto: 'Automatic (from the score)',
    correctCategories: 'Correct the categories',
    correctHint: 'A correction overrides the classifier and becomes a training example for it.',
    corrected: 'corrected by an analyst',
    save: 'Save',
    trace: 'Why this score',
    total: 'Total',
    timeline: 'Timeline of the measure',
    timelineKinds: { notified: 'Notified', 'follow-up': 'Follow-up', 'comment-deadline': 'Comment deadline', adoption: 'Adoption', 'entry-into-force': 'Entry into force' } as Record<string, string>,
    roles: ROLE_LABEL.en,
    docTypes: DOC_TYPE_LABEL.en,
    classification: 'Classification and evidence',
    evidence: 'Evidence',
    hs: 'HS codes',
    ics: 'ICS codes',
    notices: 'Documents',
    original: 'Original',
    translation: 'Translation',
    noTranslation: 'No other language version yet.',
    symbols: 'Symbols',
    products: 'Products',
    description: 'Description',
    objectives: 'Objectives',
    keywords: 'Keywords',
    links: 'Source documents',
    history: 'History',
    at: 'When',
    actor: 'Who',
    action: 'What',
    details: 'Details',
    back: 'Back to the queue',
    switch: '中文',
    unsubDone: 'You have been unsubscribed and will receive no more of these e-mails.',
    unsubBad: 'This unsubscribe link is invalid.',
    alerts: 'Operations alerts',
    sources: 'Sources',
    lastRun: 'Last run',
    lastStatus: 'Result',
    errors: 'Errors',
    items: 'Items',
    depths: 'Queue depths',
    pendingRaw: 'Raw responses waiting to be parsed',
    unclassified: 'Notices waiting for classification',
    unlearnt: 'Training examples not yet learnt',
    failedWork: { title: 'Work that failed for good', hint: 'Once the cause is fixed, run tbt-watch retry-failed to queue these jobs again under their own ids.', queue: 'Queue', job: 'Job id', error: 'Reason', at: 'Failed at', attempts: 'Attempts' },
    shortcuts: 'Keys: j/k move, x select, o open, / search; on a warning j/k next/previous, c confirm, e escalate, d dismiss, n note, a assign to me, u undo a dismissal, q back to the queue',
    measureStatus: MEASURE_STATUS_LABEL.en,
    events: { raised: 'raised by the system', rescored: 'rescored', closed: 'closed by the system', reopened: 'reopened by the system', lifecycle: 'measure status changed', merged: 'merged into one warning per measure', note: 'note edited', assign: 'assigned', level: 'level corrected', categories: 'categories corrected', 'categories-auto': 'categories changed', review: 'review started', confirm: 'confirmed', dismiss: 'dismissed', escalate: 'escalated', reopen: 'reopened', undo: 'dismissal undone' } as Record<string, string>,
    reasons: {} as Record<string, string>,
    openWork: 'Open work',
    filterSummary: (n: number) => (n ? `Filters and sort (${n} set)` : 'Filters and sort'),
    prevWarning: 'Previous',
    nextWarning: 'Next',
    position: (i: number, n: number, iMore = false, nMore = false) => `${i}${iMore ? '+' : ''} of ${n}${nMore ? '+' : ''} under the current filter`,
    notInFilter: 'This warning no longer matches the current filter',
    leftFilter: (key: string) => `The warning just handled (${key}) is not on this page (it may no longer match the filter).`,
    allSourcesFailed: (n: number) => `Every source (${n}) failed in the last pass: the queue may be out of date.`,
    allSourcesFailedHint: 'See operations',
    allSourcesFailedDemo: 'Trying it without a network? Run npm run demo to load the demo data.',
    chipsHidden: (n: number, pct: number) => `${n} more below ${pct}% not shown`,
    statusAll: 'All statuses',
    flash: {
      done: { review: 'Review started on', confirm: 'Confirmed', dismiss: 'Dismissed', escalate: 'Escalated', reopen: 'Reopened' } as Record<string, string>,
      one: (done: string, key: string) => `${done} warning ${key}.`,
      reason: (r: string) => `Reason: ${r}`,
      unchanged: (st: string) => `This warning already is ${st}: nothing changed.`,
      cannot: (action: string, st: string) => `A warning that is ${st} cannot be given “${action}”.`,
      reasonNeeded: 'Dismissing needs a reason: fill in “Reason for dismissing” and apply again.',
      undo: 'Undo',
      undone: (n: number) => (n === 1 ? 'Dismissal undone: the warning is back where it was.' : `Dismissal undone: ${n} warnings are back where they were.`),
      cannotUndo: 'Cannot undo: the warning changed again after it was dismissed.',
      bulkNone: 'Select the warnings first, then apply the bulk action.',
      bulkDone: (done: string, n: number) => `${done} ${n} warning${n === 1 ? '' : 's'}.`,
      bulkAssigned: (n: number) => `${n} warning${n === 1 ? '' : 's'} assigned to you.`,
      bulkUnchanged: (n: number) => `${n} already were so`,
      bulkFailed: (n: number) => `${n} could not be changed from their status`,
      bulkNothing: 'None of the selected warnings changed.',
      unknownAction: 'Unknown action: choose one from the list.',
      noteSaved: 'Note saved.',
      noteCleared: 'Note cleared.',
      assigned: (who: string) => `Assigned to ${who}.`,
      unassigned: 'No longer assigned.',
      level: (l: string) => `Level corrected to ${l}.`,
      levelAuto: (l: string) => `Level back to automatic: now ${l}.`,
      categories: (to: string, from: string) => `Categories corrected to ${to} (were ${from || 'none'}).`,
      rescored: (level: string, score: number) => `Rescored under the new categories: ${level}, score ${score}.`,
      learnt: (n: number) => `The measure's ${n} document${n === 1 ? '' : 's'} became training examples, learnt at the next training.`,
      moved: (id: number) => `The measure is now followed by warning #${id}; this one is closed.`,
      openMoved: (id: number) => `Open warning #${id}`,
      categoriesNone: 'Choose at least one category; if none applies, dismiss the warning.',
      invalid: 'Invalid input: please check and try again.',
    },
    system: 'system',
    readOnly: 'read-only',
    langNames: LANG_NAMES.en,
  },
}
export type Words = (typeof T)['zh']

/** Only http(s) links from scraped data become hrefs; anything else (javascript:, data:) is dropped. */
export function safeUrl(u: string | null | undefined): string | null {
  return u && /^https?:\/\/[^\s]+$/i.test(u) ? u : null
}

/** The current URL with one query parameter set (the language switch). */
function withParam(url: string, key: string, value: string): string {
  const u = new URL(url, 'http://x')
  u.searchParams.set(key, value)
  return `${u.pathname}${u.search}`
}

export interface PageOptions {
  title: string
  body: Raw
  status?: number
}

/** The menu for a signed-in user: officials start from their reports. */
function menu(req: FastifyRequest): Raw {
  const t = T[req.lang]
  const u = req.user
  if (!u) return html``
  const path = req.url.split('?')[0]
  const item = (href: string, label: string, on: boolean) => html`<a href="${href}"${raw(on ? ' class="on" aria-current="page"' : '')}>${label}</a>`
  const staff = u.role === 'admin' || u.role === 'analyst'
  const items: Raw[] = []
  if (u.role === 'official') {
    items.push(item('/reports/latest', t.reports, path.startsWith('/reports')))
    items.push(item('/queue', t.warnings, path === '/queue' || path.startsWith('/warnings')))
    items.push(item('/comments', t.comments, path.startsWith('/comments')))
  } else if (staff) {
    items.push(item('/', t.queue, path === '/' || path === '/queue' || path.startsWith('/warnings')))
    items.push(item('/comments', t.comments, path.startsWith('/comments')))
    items.push(item('/reports', t.reports, path.startsWith('/reports')))
    items.push(item('/ops', t.ops, path.startsWith('/ops')))
  } else if (u.role === 'enterprise') {
    items.push(item('/me', t.myHome, path === '/me' || path.startsWith('/me/') || path.startsWith('/warnings')))
  }
  return html`${items}`
}

/** The header every signed-in page shares (brand, menu, who, logout, language): also used by the stand-alone report pages. */
export function appHeader(req: FastifyRequest, reply: FastifyReply, className = ''): Raw {
  const t = T[req.lang]
  const u = req.user
  const home = u?.role === 'official' ? '/reports/latest' : u?.role === 'enterprise' ? '/me' : '/'
  return html`<header${raw(className ? ` class="${className}"` : '')}><a href="${home}" class="brand">${t.title}</a><nav>${menu(req)}</nav>
<div class="who">${u ? html`<span>${u.email} · ${t.roles[u.role] ?? u.role}</span><form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${reply.generateCsrf()}"><button type="submit" class="link">${t.logout}</button></form>` : ''}
<a href="${withParam(req.url, 'lang', req.lang === 'zh' ? 'en' : 'zh')}" id="lang-switch">${t.switch}</a></div></header>`
}

/** Renders a full page into the reply: header, navigation, CSRF-protected logout. */
export function sendPage(req: FastifyRequest, reply: FastifyReply, opts: PageOptions): FastifyReply {
  const lang = req.lang
  const t = T[lang]
  const doc = html`<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${opts.title} · ${t.title}</title>
<link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
<body>${appHeader(req, reply)}<main>${flashBox(takeFlash(req, reply), () => reply.generateCsrf())}${opts.body}</main></body></html>`
  return reply.code(opts.status ?? 200).type('text/html; charset=utf-8').send(doc.html)
}

export const levelBadge = (t: Words, level: string) => html`<span class="badge lv-${['high', 'medium', 'low'].includes(level) ? level : 'low'}">${t.levels[level] ?? level}</span>`
export const statusBadge = (t: Words, status: string) => html`<span class="st st-${status.replace(/[^a-z_]/g, '')}">${t.statuses[status] ?? status}</span>`
/** The measure's lifecycle as a badge: open, closed, adopted, in force, withdrawn. */
export const lifecycleBadge = (t: Words, status: string) => html`<span class="ms ms-${status.replace(/[^a-z_]/g, '')}">${t.measureStatus[status] ?? status}</span>`
/** A comment deadline with where it stands: passed, due within 7 days, later. */
export const deadlineCell = (t: Words, deadline: string | null, state: string | null) =>
  deadline ? html`<span class="dl dl-${state ?? 'later'}">${deadline}</span>${state && t.deadlineStates[state] ? html` <small class="dl-note dl-${state}">${t.deadlineStates[state]}</small>` : ''}` : html`—`

/**
 * Evidence chips (a notice's candidate categories and HS codes with their share) below
 * this share only add noise ("6203 1%"): they are hidden, the top one is always kept.
 */
export const CHIP_MIN_SHARE = 0.05
export function significantChips<X extends { score: number }>(xs: X[], min = CHIP_MIN_SHARE): { shown: X[]; hidden: number } {
  const top = xs.reduce<X | undefined>((best, x) => (!best || x.score > best.score ? x : best), undefined)
  const shown = xs.filter((x) => x === top || x.score >= min)
  return { shown, hidden: xs.length - shown.length }
}
