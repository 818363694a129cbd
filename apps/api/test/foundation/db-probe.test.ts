import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDbProbe } from '../../src/modules/health/db-probe.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'

describe('the health check’s database probe', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(() => database.close())

  it('sends one query for many simultaneous checks and reuses a good answer for a second', async () => {
    let queries = 0
    database.pool.on('acquire', () => {
      queries++
    })
    let clock = 0
    const probe = createDbProbe(database.db, () => clock)
    expect(await Promise.all(Array.from({ length: 20 }, () => probe()))).toEqual(Array(20).fill(true))
    expect(queries).toBe(1)
    clock = 500
    expect(await probe()).toBe(true)
    expect(queries).toBe(1)
    clock = 1500
    expect(await probe()).toBe(true)
    expect(queries).toBe(2)
  })

  it('never reuses a failure: once the database is gone it says so, on every check', async () => {
    const other = await createTestDatabase()
    let clock = 0
    const probe = createDbProbe(other.db, () => clock)
    expect(await probe()).toBe(true)
    await other.close()
    clock = 1001
    expect(await probe()).toBe(false)
    expect(await probe()).toBe(false)
  })
})
