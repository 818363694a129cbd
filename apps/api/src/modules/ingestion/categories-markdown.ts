import { type CategoryRule, HELPER_KIND_RULES, POI_CATEGORY_RULES } from './categories.js'
import type { TagSelector } from './tag-selector.js'

function describeSelector(selector: TagSelector): string {
  const parts = [`\`${selector.key}=${selector.values ? selector.values.join('/') : '*'}\``]
  for (const [key, values] of Object.entries(selector.with ?? {}))
    parts.push(`\`${key}=${values.join('/')}\``)
  for (const group of selector.requireAny ?? []) {
    parts.push(
      group.join(',') === 'name,name:ru' ? 'named' : `has ${group.map((k) => `\`${k}\``).join(' or ')}`,
    )
  }
  for (const [key, values] of Object.entries(selector.exclude ?? {})) {
    parts.push(`\`${key}\` not ${values.join('/')}`)
  }
  return parts.join(' + ')
}

function table(rules: readonly CategoryRule[], slugHeading: string): string {
  const rows = rules.map(
    (rule, index) =>
      `| ${index + 1} | ${rule.match.map(describeSelector).join('; or ')} | \`${rule.slug}\` | ${rule.label_ru} | ${rule.public ? 'yes' : 'no'} |`,
  )
  return [
    `| # | OSM tags | ${slugHeading} | label (ru) | shown in apps |`,
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n')
}

/**
 * The markdown tables of docs/categories.md, generated from the category table so the docs cannot
 * drift from the code (a test compares them). `#` is the precedence: the first matching row wins.
 */
export function renderCategoriesMarkdown(): string {
  return [
    '### POI categories',
    '',
    table(POI_CATEGORY_RULES, 'category'),
    '',
    '### Helper kinds',
    '',
    table(HELPER_KIND_RULES, 'kind'),
    '',
  ].join('\n')
}
