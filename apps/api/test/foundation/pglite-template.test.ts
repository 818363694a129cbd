import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { createPglite, fromPglite, prepareClusterTemplate } from '../../src/platform/db/client.js'
import { migrateToLatest } from '../../src/platform/db/migrator.js'
import { isNewDataDir, readClusterTemplate } from '../../src/platform/db/pglite-template.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const systemId = async (p: Awaited<ReturnType<typeof createPglite>>) =>
  (await p.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]?.id

it('a new data directory starts from the install-time cluster, migrates, and keeps its data on restart', async () => {
  await prepareClusterTemplate()
  const template = readClusterTemplate(['cube', 'earthdistance', 'pg_trgm'])
  expect(template).toBeDefined()
  const reference = await createPglite('memory://', template)
  const templateId = await systemId(reference)
  await reference.close()

  const root = await mkdtemp(join(tmpdir(), 'gorod-template-'))
  dirs.push(root)
  const dir = join(root, 'pglite')
  expect(isNewDataDir(dir)).toBe(true)
  const first = await createPglite(dir)
  // The cluster is the template's (initdb did not run again), not a cluster of its own.
  expect(await systemId(first)).toBe(templateId)
  const database = fromPglite(first)
  const applied = await migrateToLatest(database.db)
  expect(applied.length).toBeGreaterThan(10)
  const cities = await database.db.selectFrom('cities').select('slug').execute()
  expect(cities.length).toBeGreaterThan(0)
  await database.close()

  // An existing directory is opened as it is: the template never overwrites data.
  expect(isNewDataDir(dir)).toBe(false)
  const again = fromPglite(await createPglite(dir))
  expect(await migrateToLatest(again.db)).toEqual([])
  expect(await again.db.selectFrom('cities').select('slug').execute()).toEqual(cities)
  await again.close()
}, 120_000)
