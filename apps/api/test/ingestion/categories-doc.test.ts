import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { renderCategoriesMarkdown } from '../../src/modules/ingestion/categories-markdown.js'

const DOC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../docs/categories.md')

describe('docs/categories.md', () => {
  it('contains the tables generated from the category table (regenerate with apps/api/scripts/categories-doc.ts)', () => {
    expect(readFileSync(DOC, 'utf8')).toContain(renderCategoriesMarkdown())
  })
})
