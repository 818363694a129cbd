import { parseArgs } from 'node:util'
import { prepareDatabase } from '../bootstrap.js'
import { loadConfig } from '../config.js'
import { importContent, localMediaStore } from '../modules/catalog/index.js'
import { createCliLogger } from '../platform/log.js'

export const CONTENT_USAGE = `  content import [path] [--json]
                       import tours and catalog items from content files (default CONTENT_DIR,
                       "content"): idempotent; reports created, changed, unchanged, failed`

export async function contentCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  })
  const [action, path] = positionals
  if (action !== 'import') {
    process.stderr.write(`Usage:\n${CONTENT_USAGE}\n`)
    return 2
  }
  const config = loadConfig()
  const database = await prepareDatabase(config, createCliLogger(config.logLevel))
  try {
    const report = await importContent(
      database.db,
      localMediaStore(config.content.mediaDir),
      config.content,
      path ?? config.content.contentDir,
    )
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    else {
      for (const e of report.entries) {
        process.stdout.write(`${e.outcome.padEnd(9)} ${e.kind.padEnd(12)} ${e.city}/${e.slug}  (${e.file})\n`)
        for (const err of e.errors ?? []) process.stdout.write(`          ${err}\n`)
      }
      process.stdout.write(
        `created ${report.created}, changed ${report.changed}, unchanged ${report.unchanged}, failed ${report.failed}\n`,
      )
    }
    return report.failed ? 1 : 0
  } finally {
    await database.close()
  }
}
