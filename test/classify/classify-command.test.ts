import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { projectRoot } from '../../src/util/paths.js'

const run = (args: string[], dataDir: string) =>
  spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'tbt-watch.mjs'), 'classify', ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...process.env, TBT_DATA_DIR: dataDir, TBT_HS_NOMENCLATURE: '' },
  })

describe('tbt-watch classify', () => {
  it('classifies a JSONL file, and learns first with --train', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tbt-cli-'))
    const input = path.join(dir, 'in.jsonl')
    const output = path.join(dir, 'out.jsonl')
    const notices = [
      { id: 'A/1', symbol: 'A/1', member: 'Nowhere', type: 'TBT', title: 'Technical regulation on electric kettles', products: 'Electric kettles', description: '', objectives: ['Consumer safety'] },
      { id: 'A/2', symbol: 'A/2', member: 'Nowhere', type: 'TBT', title: '婴幼儿配方乳粉标签要求', products: '', description: '', objectives: [] },
      { id: 'A/3', symbol: 'A/3', member: 'Nowhere', type: 'TBT', title: 'Frobnitz quibbles', products: '', description: '', objectives: [], hs_codes: ['7306.30'], ics_codes: ['77.140.75'] },
      { id: 'A/4', symbol: 'A/4', member: 'Nowhere', type: 'TBT', title: 'Frobnitz quibbles, second draft', products: '', description: '', objectives: [] },
    ]
    fs.writeFileSync(input, notices.map((n) => JSON.stringify(n)).join('\n') + '\n')
    const first = run(['--input', input, '--output', output], path.join(dir, 'data'))
    expect(first.stderr).toBe('')
    expect(first.status).toBe(0)
    const out = fs.readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(out.map((o) => o.id)).toEqual(['A/1', 'A/2', 'A/3', 'A/4'])
    expect(out[0]).toMatchObject({ language: 'eng', hs: [{ code: '8516' }] })
    expect(out[1].hs[0].code).toBe('1901')
    expect(out[2].hs[0].code).toBe('730630')
    expect(out[2].categories[0].id).toBe('steel')
    expect(out[3].hs).toEqual([])

    const train = path.join(dir, 'train.jsonl')
    fs.writeFileSync(train, JSON.stringify({ symbol: 'T/1', title: 'Frobnitz quibbles made of tubes', products: null, description_head: '', hs_codes: ['7306.30'], language: 'en' }) + '\n')
    const second = run(['--input', input, '--output', output, '--train', train], path.join(dir, 'data'))
    expect(second.status).toBe(0)
    const trained = fs.readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(trained[3].hs[0].code.slice(0, 2)).toBe('73')
    expect(fs.existsSync(path.join(dir, 'data', 'models', 'classifier-model.json.gz'))).toBe(true)
  }, 60_000)
})
