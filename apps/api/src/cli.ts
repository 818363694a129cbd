import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { prepareDatabase } from './bootstrap.js'
import { CONTENT_USAGE, contentCommand } from './commands/content-command.js'
import { INGEST_USAGE, ingestCommand } from './commands/ingest-command.js'
import { workerCommand } from './commands/worker-command.js'
import { ConfigError, loadConfig } from './config.js'
import { listTenants } from './modules/tenants/index.js'
import { prepareClusterTemplate } from './platform/db/client.js'
import { createCliLogger } from './platform/log.js'

/**
 * `npm run cli -- <command>`: operator commands that run in their own process against the configured
 * database. Exit codes: 0 done, 1 failed, 2 bad usage, 78 bad configuration.
 */

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  migrate              apply pending migrations and exit
  pglite-template      make the embedded database's install-time cluster (run by npm ci)
  tenants [--json]     print each tenant's slug, name and app key
  worker               work queued runs (local transport) until SIGTERM
${INGEST_USAGE}
${CONTENT_USAGE}`

type Command = (args: string[]) => Promise<number>

const commands: Record<string, Command> = {
  ingest: ingestCommand,
  content: contentCommand,
  worker: workerCommand,
  async migrate() {
    const config = loadConfig()
    const log = createCliLogger(config.logLevel)
    const database = await prepareDatabase(config, log)
    await database.close()
    process.stdout.write('migrations: up to date\n')
    return 0
  },
  async 'pglite-template'() {
    const path = await prepareClusterTemplate()
    process.stdout.write(`PGlite cluster template: ${relative(process.cwd(), path)}\n`)
    return 0
  },
  async tenants(args) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } })
    const config = loadConfig()
    const database = await prepareDatabase(config, createCliLogger('warn'))
    try {
      const rows = await listTenants(database.db)
      if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
      else for (const t of rows) process.stdout.write(`${t.slug}\t${t.name}\t${t.app_key}\n`)
      return 0
    } finally {
      await database.close()
    }
  },
}

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  const command = name ? commands[name] : undefined
  if (!command) {
    process.stderr.write(name ? `Unknown command: ${name}\n\n${USAGE}` : USAGE)
    return 2
  }
  try {
    return await command(rest)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      return 78
    }
    const e = err as Error & { code?: string }
    if (e.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${e.message}\n\n${USAGE}`)
      return 2
    }
    process.stderr.write(`${name} failed: ${e.message}\n`)
    return 1
  }
}

run(process.argv.slice(2)).then((code) => process.exit(code))
