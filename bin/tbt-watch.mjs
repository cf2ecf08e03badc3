#!/usr/bin/env node
// The one CLI entry point. TypeScript sources run through tsx's loader, so a fresh
// clone needs no build step: `npm ci && npm start` works as it is.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
