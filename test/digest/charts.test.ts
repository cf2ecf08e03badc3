import { describe, expect, it } from 'vitest'
import { barChart, countTicks, noDataLabel, trendChart } from '../../src/digest/charts.js'
import { sourceLinkLabels } from '../../src/digest/render.js'
import { CHIP_MIN_SHARE, significantChips } from '../../src/web/layout.js'

const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])
const week = (label: string, high: number, medium = 0, low = 0) => ({ label, high, medium, low })

describe('charts (pure)', () => {
  it('puts only whole numbers on a count axis', () => {
    for (let max = 1; max <= 2000; max++) {
      const ticks = countTicks(max)
      expect(ticks[0]).toBe(0)
      expect(ticks.every(Number.isInteger), `max ${max}: ${ticks.join(',')}`).toBe(true)
      expect(ticks.at(-1)).toBe(max)
    }
    expect(countTicks(50)).toEqual([0, 10, 20, 30, 40, 50])
    // The trend chart of 13 weeks whose busiest week had 41 warnings: no 12.5 or 37.5.
    const weeks = Array.from({ length: 13 }, (_, i) => week(`W${i + 1}`, i === 5 ? 30 : 3, i === 5 ? 11 : 2, 1))
    const labels = texts(trendChart(weeks, { avg4: 6.25, avg12: 9.5 }))
    const axis = labels.filter((t) => /^\d+(\.\d+)?$/.test(t))
    expect(axis.length).toBeGreaterThan(5)
    expect(axis.every((t) => /^\d+$/.test(t))).toBe(true)
    expect(axis).toContain('50')
  })

  it('says 暂无数据 / No data on an empty chart instead of a lone 0', () => {
    const emptyBars = barChart([], undefined, undefined, noDataLabel('zh'))
    expect(texts(emptyBars)).toEqual(['暂无数据'])
    expect(texts(barChart([week('EU', 0)], undefined, undefined, noDataLabel('en')))).toEqual(['No data'])
    const emptyTrend = texts(trendChart([week('W1', 0), week('W2', 0)], { avg4: 0, avg12: 0 }, undefined, undefined, undefined, noDataLabel('zh')))
    expect(emptyTrend).toContain('暂无数据')
    expect(emptyTrend.some((t) => /平均|avg/.test(t))).toBe(false)
    expect(noDataLabel('codes')).toBe('No data')
    // A chart with data says no such thing.
    expect(texts(barChart([week('EU', 2)], undefined, undefined, noDataLabel('zh')))).not.toContain('暂无数据')
  })
})

describe('source links and evidence chips (pure)', () => {
  it('names adjacent source links apart', () => {
    const zh = sourceLinkLabels(['https://epingalert.org/en/Search?viewData=G/TBT/N/EU/1', 'https://docs.wto.org/dol2fe/Pages/FE_Search/x.pdf'], 'zh')
    expect(zh).toEqual(['ePing 通报页面', 'WTO 通报原文'])
    expect(sourceLinkLabels(['https://example.gov/notice/1', 'https://example.gov/a.pdf', 'https://example.gov/b.pdf'], 'zh')).toEqual(['来源页面', '相关文件 1', '相关文件 2'])
    expect(sourceLinkLabels(['https://docs.wto.org/a.pdf', 'https://docs.wto.org/b.pdf'], 'en')).toEqual(['WTO document 1', 'WTO document 2'])
    for (const urls of [['https://a.example/x', 'https://b.example/y'], ['https://docs.wto.org/1', 'https://epingalert.org/2', 'https://c.example/3']]) {
      const labels = sourceLinkLabels(urls, 'zh')
      expect(new Set(labels).size).toBe(labels.length)
    }
  })

  it('hides chips below the noise threshold and always keeps the top one', () => {
    expect(CHIP_MIN_SHARE).toBe(0.05)
    const r = significantChips([{ id: '8517', score: 0.72 }, { id: '8507', score: 0.2 }, { id: '6203', score: 0.01 }, { id: '3923', score: 0.004 }])
    expect(r.shown.map((x) => x.id)).toEqual(['8517', '8507'])
    expect(r.hidden).toBe(2)
    const weak = significantChips([{ id: 'a', score: 0.03 }, { id: 'b', score: 0.04 }])
    expect(weak.shown.map((x) => x.id)).toEqual(['b'])
    expect(significantChips([]).shown).toEqual([])
  })
})
