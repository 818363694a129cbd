import { describe, expect, it } from 'vitest'
import { itemKey, keyParts } from '../../src/modules/ingestion/pipeline/staging-sql.js'

describe('itemKey', () => {
  it('gives every OSM object its own number and reads the type and id back', () => {
    const objects = [
      ['node', 1],
      ['way', 1],
      ['relation', 1],
      ['node', 12_345_678_901],
      ['way', 1_234_567_890],
      ['relation', 17_000_000],
      ['node', -42],
    ] as const
    const keys = objects.map(([type, id]) => itemKey(type, id))
    expect(new Set(keys).size).toBe(objects.length)
    expect(keys.map(keyParts)).toEqual(objects.map(([type, id]) => ({ type, id })))
  })

  it('refuses what is not an OSM object or would lose precision', () => {
    expect(() => itemKey('area', 1)).toThrow(/not an OSM object/)
    expect(() => itemKey('node', 2 ** 52)).toThrow(/not an OSM object/)
  })
})
