import path from 'node:path'
import { fileURLToPath } from 'node:url'

const above = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The repository root, wherever the process was started from: from the sources, or from the build in dist/ (scripts/build.mjs). */
export const projectRoot = path.basename(above) === 'dist' ? path.dirname(above) : above
