import type { AppContext } from '../app-context.js'
import { buildApp } from './app.js'

export async function serve(ctx: AppContext, port: number, host = '0.0.0.0') {
  const app = await buildApp(ctx)
  await app.listen({ port, host })
  return app
}
