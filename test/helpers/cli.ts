import { spawn } from 'node:child_process'
import path from 'node:path'
import { projectRoot } from '../../src/util/paths.js'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the real CLI in a child process, as a user would. */
export function cli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(projectRoot, 'bin', 'tbt-watch.mjs'), ...args], {
      cwd: projectRoot,
      env: { ...process.env, TBT_LOG_LEVEL: 'silent', ...env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    if (input !== undefined) child.stdin.end(input)
    else child.stdin.end()
  })
}
