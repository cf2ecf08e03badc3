/**
 * WTO members as China's notification centre names them, to the codes WTO symbols use
 * (ISO alpha-3; `EU` for the European Union). Used when a record's symbol does not say
 * who notified it. Names not here stay unmapped (the member name is still stored).
 */
export const CN_MEMBER_CODES: Record<string, string> = {
  美国: 'USA',
  欧盟: 'EU',
  欧洲联盟: 'EU',
  日本: 'JPN',
  韩国: 'KOR',
  大韩民国: 'KOR',
  越南: 'VNM',
  泰国: 'THA',
  马来西亚: 'MYS',
  新加坡: 'SGP',
  印度尼西亚: 'IDN',
  菲律宾: 'PHL',
  柬埔寨: 'KHM',
  缅甸: 'MMR',
  老挝: 'LAO',
  文莱: 'BRN',
  印度: 'IND',
  巴基斯坦: 'PAK',
  孟加拉国: 'BGD',
  斯里兰卡: 'LKA',
  澳大利亚: 'AUS',
  新西兰: 'NZL',
  加拿大: 'CAN',
  墨西哥: 'MEX',
  巴西: 'BRA',
  阿根廷: 'ARG',
  智利: 'CHL',
  秘鲁: 'PER',
  哥伦比亚: 'COL',
  厄瓜多尔: 'ECU',
  俄罗斯: 'RUS',
  俄罗斯联邦: 'RUS',
  乌克兰: 'UKR',
  土耳其: 'TUR',
  以色列: 'ISR',
  沙特阿拉伯: 'SAU',
  阿联酋: 'ARE',
  阿拉伯联合酋长国: 'ARE',
  卡塔尔: 'QAT',
  科威特: 'KWT',
  阿曼: 'OMN',
  巴林: 'BHR',
  也门: 'YEM',
  埃及: 'EGY',
  南非: 'ZAF',
  肯尼亚: 'KEN',
  乌干达: 'UGA',
  坦桑尼亚: 'TZA',
  卢旺达: 'RWA',
  布隆迪: 'BDI',
  尼日利亚: 'NGA',
  瑞士: 'CHE',
  挪威: 'NOR',
  英国: 'GBR',
  冰岛: 'ISL',
  中国台北: 'TPKM',
  中国香港: 'HKG',
  中国澳门: 'MAC',
}

/** The WTO member code for a member name as the centre writes it, or null. */
export function cnMemberCode(name: string | null | undefined): string | null {
  if (!name) return null
  const key = name.replace(/\s+/g, '').replace(/[（(].*?[)）]/g, '')
  return CN_MEMBER_CODES[key] ?? null
}
