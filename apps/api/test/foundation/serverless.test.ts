import { describe, expect, inject, it } from 'vitest'
import { configFrom } from '../../src/config.js'
import { createServerlessHandler } from '../../src/serverless.js'
import { json } from '../helpers/http.js'
import { createTestDatabase } from '../helpers/test-db.js'

describe('the Vercel entry', () => {
  it('exports a fetch handler that answers health from a plain Request', async () => {
    // The entry builds its app from the process environment on the first request.
    const postgres = inject('postgres')
    const database = postgres ? await createTestDatabase() : null
    if (database) process.env.DATABASE_URL = database.url!
    else process.env.PGLITE_DIR = 'memory://'
    process.env.LOG_LEVEL = 'silent'
    const { default: handler, GET } = await import('../../../../api/index.js')
    expect(GET).toBe(handler)
    const res = await handler(new Request('https://gorod.example/v1/api/health'))
    expect(res.status).toBe(200)
    expect(await json(res)).toMatchObject({ status: 'ok', db: 'ok' })
    await database?.close()
  })

  it('retries building the app after a failed start instead of poisoning the instance', async () => {
    let calls = 0
    const handler = createServerlessHandler(() => {
      calls++
      if (calls === 1) return configFrom({ DATABASE_URL: 'postgres://x@127.0.0.1:1/none' })
      return configFrom({ PGLITE_DIR: 'memory://' })
    })
    await expect(handler(new Request('https://gorod.example/v1/api/health'))).rejects.toThrow(
      /Cannot connect/,
    )
    const res = await handler(new Request('https://gorod.example/v1/api/health'))
    expect(res.status).toBe(200)
    expect(calls).toBe(2)
  })
})
