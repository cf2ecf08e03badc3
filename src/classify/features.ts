import { createRequire } from 'node:module'
import type { FeatureVector } from './linear-model.js'
import { hanBigrams, hanRuns, type Word } from './normalize.js'

/**
 * What the learnt model reads of a notice: word stems (and, in the title and product
 * fields, pairs of adjacent stems: "bath seat", "lithium batteri"), Chinese words cut by
 * jieba, and the lexicon's opinion per chapter ("L:85"), which carries across languages:
 * a Spanish notice's "neumáticos" and an English "tyres" both light up L:40 through the
 * lexicon, so what the model learns about L:40 from English notices serves Spanish ones.
 */

export interface TextPart {
  /** the part's words in the notice's language, as the lexicon matched them */
  words: Word[]
  text: string
  /** how much the part's words count (field weight × sentence role) */
  weight: number
  /** title and product fields: adjacent stem pairs are features too */
  phrases: boolean
}

interface Segmenter { cut(text: string, hmm?: boolean): string[] }
let jieba: Segmenter | null | undefined

/**
 * jieba (through @node-rs/jieba, prebuilt binaries, no download) with its default
 * dictionary; loaded on first use, since only Chinese text needs it. Without it
 * (an unsupported platform) Chinese falls back to character bigrams.
 */
export function chineseSegmenter(): Segmenter | null {
  if (jieba === undefined) {
    try {
      const require = createRequire(import.meta.url)
      const { Jieba } = require('@node-rs/jieba') as { Jieba: { withDict(d: Uint8Array): Segmenter } }
      const { dict } = require('@node-rs/jieba/dict') as { dict: Uint8Array }
      jieba = Jieba.withDict(dict)
    } catch {
      jieba = null
    }
  }
  return jieba
}

const cuts = new Map<string, string[]>()

/** A run of Han characters cut into words (cached: the lexicon and the model both ask for the same runs). */
export function cutWords(seg: Segmenter, run: string): string[] {
  let words = cuts.get(run)
  if (!words) {
    words = seg.cut(run, true)
    if (cuts.size > 5000) cuts.clear()
    cuts.set(run, words)
  }
  return words
}

// Words of Chinese notices that name no product: the regulatory frame around it.
const HAN_STOP_WORDS = new Set(
  '技术 法规 草案 标准 要求 规定 规范 规则 条例 通报 通知 修订 修正 修改 产品 国家 进口 出口 实施 管理 相关 有关 以及 包括 应当 应该 适用 用于 关于 本 该 其 的 和 与 及 或 等 在 对 为 是 中 了 用 以 上 下 各 类 种 按 第 条 号 部分 安全 合格 评定 程序 方法 测试 检测 检验 试验 内容 范围 规格 指南 技术规范 市场 生产 销售 使用 制定 发布 年 月 日'.split(' '),
)

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v)

/** Word features of a notice's text parts, in the notice's language (plus Chinese, whatever the language). */
export function wordFeatures(parts: TextPart[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const part of parts) {
    if (!part.text || part.weight <= 0) continue
    let prev: string | undefined
    for (const w of part.words) {
      add(out, `s:${w.stem}`, part.weight)
      if (part.phrases && prev !== undefined) add(out, `b:${prev}_${w.stem}`, part.weight * 0.7)
      prev = w.stem
    }
    const runs = hanRuns(part.text)
    if (runs.length) {
      const seg = chineseSegmenter()
      if (seg) {
        for (const run of runs) {
          let prevWord: string | undefined
          for (const word of cutWords(seg, run)) {
            if (word.length < 2 || HAN_STOP_WORDS.has(word)) {
              prevWord = undefined
              continue
            }
            add(out, `z:${word}`, part.weight)
            // The last two characters of a long compound name its kind (锂离子电池 → 电池).
            if (word.length >= 4) add(out, `z:${word.slice(-2)}`, part.weight * 0.5)
            if (part.phrases && prevWord) add(out, `y:${prevWord}_${word}`, part.weight * 0.5)
            prevWord = word
          }
        }
      } else for (const bg of hanBigrams(part.text)) add(out, `c:${bg}`, part.weight)
    }
  }
  return out
}

/**
 * Sublinear term weights (log 1 + x), scaled to unit length, so a long description does not
 * outweigh a precise title by the number of its words. Lexicon features are added after
 * and keep their own scale.
 */
export function toVector(words: Map<string, number>, extra?: Map<string, number>): FeatureVector {
  const keys: string[] = []
  const values: number[] = []
  let norm = 0
  for (const [k, v] of words) {
    const x = Math.log1p(v)
    keys.push(k)
    values.push(x)
    norm += x * x
  }
  norm = Math.sqrt(norm) || 1
  for (let i = 0; i < values.length; i++) values[i] /= norm
  if (extra) for (const [k, v] of extra) {
    keys.push(k)
    values.push(v)
  }
  return { keys, values }
}
