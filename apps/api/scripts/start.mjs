// `npm start`: compiles apps/api/src to apps/api/dist with esbuild when a source is newer than the
// build (or there is none), then runs the compiled server in this same process, so a signal sent to
// `npm start` reaches the server itself (see docs/adr/011-compiled-start.md).
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const api = fileURLToPath(new URL('../', import.meta.url))
const outdir = join(api, 'dist')
const entries = ['main', 'cli']

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs
    if (mtime > newest) newest = mtime
  }
  return newest
}

/** Builds when any output is missing or older than a source file or apps/api/package.json. */
export async function buildIfStale() {
  const outputs = entries.map((e) => join(outdir, `${e}.js`))
  const built = outputs.every(existsSync) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0
  const sources = Math.max(newestMtime(join(api, 'src')), statSync(join(api, 'package.json')).mtimeMs)
  if (built > sources) return false
  const { build } = await import('esbuild')
  await build({
    entryPoints: entries.map((e) => join(api, 'src', `${e}.ts`)),
    outdir,
    bundle: true,
    // Dependencies stay in node_modules (PGlite loads its WebAssembly next to its own files).
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  })
  return true
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildIfStale()
  process.setSourceMapsEnabled(true)
  const entry = process.argv[2] === 'cli' ? 'cli' : 'main'
  if (entry === 'cli') process.argv.splice(2, 1)
  await import(pathToFileURL(join(outdir, `${entry}.js`)).href)
}
