// Prints the category tables for docs/categories.md: `npx tsx apps/api/scripts/categories-doc.ts`.
import { renderCategoriesMarkdown } from '../src/modules/ingestion/categories-markdown.js'

process.stdout.write(renderCategoriesMarkdown())
