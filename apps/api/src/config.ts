import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { z } from 'zod'

/**
 * The only module that reads `process.env`. Configuration is resolved once at start and passed in;
 * an invalid environment stops the process with one message naming every bad variable.
 */

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)
const optionalString = z.preprocess(emptyToUndefined, z.string().optional())
const bool = (fallback: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0'])
      .optional()
      .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1')),
  )
const int = (fallback: number, min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`
  return z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message })
      .int({ message })
      .min(min, { message })
      .max(max, { message })
      .default(fallback),
  )
}
const url = (what: string) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .url({ message: `must be a URL (${what})` })
      .optional(),
  )

const envSchema = z
  .object({
    NODE_ENV: z.preprocess(
      emptyToUndefined,
      z.enum(['development', 'production', 'test']).default('development'),
    ),
    PORT: int(3000, 1, 65535),
    HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
    LOG_LEVEL: z.preprocess(
      emptyToUndefined,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
    DATABASE_URL: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// or postgresql:// URL' })
        .optional(),
    ),
    DATABASE_POOL_MAX: int(10, 1, 200),
    PGLITE_DIR: z.preprocess(emptyToUndefined, z.string().default('.data/pglite')),
    TENANT_APP_KEYS: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^[a-z0-9-]+:[A-Za-z0-9._-]{8,}(,[a-z0-9-]+:[A-Za-z0-9._-]{8,})*$/, {
          message: 'must be "slug:key,slug:key" with keys of at least 8 characters [A-Za-z0-9._-]',
        })
        .optional(),
    ),
    ADMIN_API_TOKEN: z.preprocess(
      emptyToUndefined,
      z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
    ),
    // Named operators, one token each: "name:token,name:token". Their actions are recorded by name.
    ADMIN_TOKENS: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^[a-z0-9._-]{1,64}:[A-Za-z0-9._~+/=-]{16,}(,[a-z0-9._-]{1,64}:[A-Za-z0-9._~+/=-]{16,})*$/, {
          message: 'must be "name:token,name:token": names [a-z0-9._-], tokens of at least 16 characters',
        })
        .optional()
        .superRefine((raw, ctx) => {
          if (!raw) return
          const pairs = raw.split(',').map((p) => p.split(':') as [string, string])
          const names = pairs.map(([n]) => n)
          const tokens = pairs.map(([, t]) => t)
          if (new Set(names).size !== names.length)
            ctx.addIssue({ code: 'custom', message: 'names an operator twice' })
          if (new Set(tokens).size !== tokens.length)
            ctx.addIssue({ code: 'custom', message: 'gives two operators the same token' })
        }),
    ),
    // Four eyes: the operator who edited a tour's draft last cannot publish it.
    ADMIN_FOUR_EYES: bool(true),
    JOBS_TRANSPORT: z.preprocess(emptyToUndefined, z.enum(['local', 'qstash']).default('local')),
    WORKER_ENABLED: bool(true),
    WORKER_CONCURRENCY: int(1, 1, 16),
    JOB_LEASE_SECONDS: int(120, 10, 3600),
    JOB_MAX_ATTEMPTS: int(5, 1, 50),
    JOB_SLICE_SECONDS: int(240, 5, 900),
    INGESTION_CRON: z.preprocess(emptyToUndefined, z.string().default('0 3 * * *')),
    QSTASH_TOKEN: optionalString,
    QSTASH_URL: url('QStash API base'),
    QSTASH_CURRENT_SIGNING_KEY: optionalString,
    QSTASH_NEXT_SIGNING_KEY: optionalString,
    PUBLIC_BASE_URL: url('public base URL of this service'),
    CRON_SECRET: z.preprocess(
      emptyToUndefined,
      z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
    ),
    OVERPASS_URLS: z.preprocess(
      emptyToUndefined,
      z.string().default('https://overpass-api.de/api/interpreter'),
    ),
    OVERPASS_TIMEOUT_SECONDS: int(180, 5, 3600),
    OVERPASS_MAX_BYTES: int(512 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
    OVERPASS_MAX_TRIES: int(4, 1, 20),
    /** Longest silence of an upstream (Overpass, extract server) once its answer has started. */
    UPSTREAM_IDLE_TIMEOUT_SECONDS: int(60, 1, 3600),
    DOWNLOAD_MAX_BYTES: int(2 * 1024 * 1024 * 1024, 1024, 64 * 1024 * 1024 * 1024),
    INGEST_BATCH_SIZE: int(1000, 1, 50_000),
    WORK_DIR: z.preprocess(emptyToUndefined, z.string().default('.data/work')),
    STORES_ACCEPT_SANDBOX: bool(true),
    APPLE_ENABLED: bool(false),
    APPLE_ROOT_CERT_FILES: optionalString,
    APPLE_APPS: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^[a-z0-9-]+:[A-Za-z0-9.-]+(:\d+)?(,[a-z0-9-]+:[A-Za-z0-9.-]+(:\d+)?)*$/, {
          message: 'must be "slug:bundleId:appAppleId,..." (appAppleId digits)',
        })
        .optional(),
    ),
    APPLE_ONLINE_CHECKS: bool(false),
    RUSTORE_ENABLED: bool(false),
    RUSTORE_API_URL: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .url({ message: 'must be a URL (RuStore public API base)' })
        .default('https://public-api.rustore.ru'),
    ),
    RUSTORE_KEY_ID: optionalString,
    RUSTORE_PRIVATE_KEY: optionalString,
    RUSTORE_APPS: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^[a-z0-9-]+:\d+(,[a-z0-9-]+:\d+)*$/, { message: 'must be "slug:appId,..." (appId digits)' })
        .optional(),
    ),
    RUSTORE_TIMEOUT_MS: int(8000, 100, 60_000),
    RUSTORE_TIMESTAMP_OFFSET: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^(Z|[+-]\d{2}:\d{2})$/, { message: 'must be "Z" or an offset like +03:00' })
        .default('+03:00'),
    ),
    /** The console's symmetric key for server notifications: base64 of 32 bytes (AES-256-GCM). */
    RUSTORE_NOTIFICATION_KEY: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32, {
          message: 'must be base64 of 32 bytes (the AES-256 key RuStore shows)',
        })
        .optional(),
    ),
    /** Retry-After of an undecided purchase (202/503), and the delay before its claim job asks the store again. */
    PURCHASE_CLAIM_RETRY_SECONDS: int(60, 5, 3600),
    MEDIA_DIR: z.preprocess(emptyToUndefined, z.string().default('.data/media')),
    /** Content-addressed blobs (basemaps, pack files) on the local disk. */
    BLOB_DIR: z.preprocess(emptyToUndefined, z.string().default('.data/blobs')),
    /** Ed25519 private key (PKCS#8 PEM) that signs pack manifests; unset: generated once, kept in the database. */
    PACK_SIGNING_KEY: optionalString,
    PACK_KEEP_VERSIONS: int(3, 1, 100),
    PACK_TTL_DAYS: int(30, 1, 365),
    /** In-process cache of served map tiles per process, in MB (0: every tile read from the database). */
    TILE_CACHE_MB: int(64, 0, 4096),
    MEDIA_MAX_IMAGE_BYTES: int(10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    MEDIA_MAX_AUDIO_BYTES: int(50 * 1024 * 1024, 1024, 500 * 1024 * 1024),
    CONTENT_DIR: z.preprocess(emptyToUndefined, z.string().default('content')),
    // Accounts and tokens (issue 11)
    AUTH_SIGNING_KEY: optionalString,
    AUTH_PREVIOUS_SIGNING_KEY: optionalString,
    AUTH_AUDIENCE: z.preprocess(emptyToUndefined, z.string().default('gorod-app')),
    AUTH_ACCESS_TTL_SECONDS: int(900, 60, 3600),
    AUTH_REFRESH_TTL_DAYS: int(90, 1, 730),
    ACCOUNT_DELETION_RATE_LIMIT: int(10, 1, 10_000),
    ACCOUNT_DELETION_RATE_WINDOW_SECONDS: int(3600, 10, 86_400),
    // Response validation (development only): every answer checked against the contract, mismatches logged.
    VALIDATE_RESPONSES: bool(false),
  })
  .superRefine((env, ctx) => {
    // Validating every answer costs time and memory; production serves, it does not audit itself.
    if (env.VALIDATE_RESPONSES && env.NODE_ENV === 'production')
      ctx.addIssue({
        code: 'custom',
        path: ['VALIDATE_RESPONSES'],
        message: 'is for development; it is refused when NODE_ENV=production',
      })
  })
  .superRefine((env, ctx) => {
    if (env.JOBS_TRANSPORT !== 'qstash') return
    const required = [
      'QSTASH_TOKEN',
      'QSTASH_CURRENT_SIGNING_KEY',
      'QSTASH_NEXT_SIGNING_KEY',
      'PUBLIC_BASE_URL',
    ] as const
    for (const key of required) {
      if (!env[key])
        ctx.addIssue({ code: 'custom', path: [key], message: 'is required when JOBS_TRANSPORT=qstash' })
    }
  })
  .superRefine((env, ctx) => {
    // A generated key lives in the database; a production server database gets its keys configured.
    if (env.NODE_ENV === 'production' && env.DATABASE_URL && !env.AUTH_SIGNING_KEY)
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_SIGNING_KEY'],
        message: 'is required in production with DATABASE_URL',
      })
  })
  .superRefine((env, ctx) => {
    const need = (key: keyof typeof env, when: string) => {
      if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: `is required when ${when}` })
    }
    if (env.APPLE_ENABLED) {
      need('APPLE_ROOT_CERT_FILES', 'APPLE_ENABLED=true')
      need('APPLE_APPS', 'APPLE_ENABLED=true')
      for (const entry of env.APPLE_APPS?.split(',') ?? []) {
        // Production transactions and notifications are checked against the app's Apple id.
        if (entry.split(':').length < 3)
          ctx.addIssue({
            code: 'custom',
            path: ['APPLE_APPS'],
            message: `needs the appAppleId of ${entry.split(':')[0]} (production checks it)`,
          })
      }
    }
    if (env.RUSTORE_ENABLED) {
      need('RUSTORE_KEY_ID', 'RUSTORE_ENABLED=true')
      need('RUSTORE_PRIVATE_KEY', 'RUSTORE_ENABLED=true')
      need('RUSTORE_APPS', 'RUSTORE_ENABLED=true')
    }
  })

type Env = z.infer<typeof envSchema>

export interface Config {
  env: Env['NODE_ENV']
  port: number
  host: string
  logLevel: Env['LOG_LEVEL']
  database: { kind: 'postgres'; url: string; poolMax: number } | { kind: 'pglite'; dir: string }
  tenantAppKeys: Record<string, string>
  /** The shared operator token (ADMIN_API_TOKEN): its actions are recorded under the body's `by`. */
  adminToken: string | null
  /** Named operators (ADMIN_TOKENS): each signs in with its own token and acts under its name. */
  adminOperators: AdminOperator[]
  /** The last editor of a tour's draft may not publish it. */
  adminFourEyes: boolean
  jobs: {
    transport: Env['JOBS_TRANSPORT']
    workerEnabled: boolean
    workerConcurrency: number
    leaseSeconds: number
    maxAttempts: number
    sliceSeconds: number
    cron: string
    cronSecret: string | null
    qstash: {
      token: string
      url: string | undefined
      currentSigningKey: string
      nextSigningKey: string
      publicBaseUrl: string
    } | null
  }
  stores: StoresConfig
  auth: AuthConfig
  ingestion: {
    overpassUrls: string[]
    overpassTimeoutSeconds: number
    overpassMaxBytes: number
    overpassMaxTries: number
    upstreamIdleTimeoutSeconds: number
    downloadMaxBytes: number
    batchSize: number
    workDir: string
  }
  /** VALIDATE_RESPONSES: log every answer that departs from the contract (never in production). */
  validateResponses: boolean
  content: ContentConfig
  /** Where content-addressed blobs (basemaps, pack files) live on the embedded default. */
  blobDir: string
  packs: PacksConfig
  maps: { tileCacheBytes: number }
}

export interface PacksConfig {
  /** A secret, never logged. Null: a key generated once and kept in the database. */
  signingKeyPem: string | null
  /** Versions kept per city: changesets reach back this far; older blobs are deleted. */
  keepVersions: number
  /** How long a client may trust a pack before it must check for a newer one. */
  ttlDays: number
}

/** Catalog and tours: where media bytes live and how large an upload may be. */
export interface ContentConfig {
  mediaDir: string
  maxImageBytes: number
  maxAudioBytes: number
  /** The content files (`<city>/<tour>.yaml`) the import reads by default. */
  contentDir: string
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(source)
  if (!parsed.success) {
    // Values are never echoed: some of these variables are secrets.
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`)
    throw new ConfigError(problems)
  }
  const e = parsed.data
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX }
      : { kind: 'pglite', dir: e.PGLITE_DIR },
    tenantAppKeys: parseTenantKeys(e.TENANT_APP_KEYS),
    adminToken: e.ADMIN_API_TOKEN ?? null,
    adminOperators: parseOperators(e.ADMIN_TOKENS),
    adminFourEyes: e.ADMIN_FOUR_EYES,
    jobs: {
      transport: e.JOBS_TRANSPORT,
      workerEnabled: e.WORKER_ENABLED,
      workerConcurrency: e.WORKER_CONCURRENCY,
      leaseSeconds: e.JOB_LEASE_SECONDS,
      maxAttempts: e.JOB_MAX_ATTEMPTS,
      sliceSeconds: e.JOB_SLICE_SECONDS,
      cron: e.INGESTION_CRON,
      cronSecret: e.CRON_SECRET ?? null,
      qstash:
        e.JOBS_TRANSPORT === 'qstash' ||
        (e.QSTASH_TOKEN && e.QSTASH_CURRENT_SIGNING_KEY && e.QSTASH_NEXT_SIGNING_KEY && e.PUBLIC_BASE_URL)
          ? {
              token: e.QSTASH_TOKEN ?? '',
              url: e.QSTASH_URL,
              currentSigningKey: e.QSTASH_CURRENT_SIGNING_KEY ?? '',
              nextSigningKey: e.QSTASH_NEXT_SIGNING_KEY ?? '',
              publicBaseUrl: (e.PUBLIC_BASE_URL ?? '').replace(/\/+$/, ''),
            }
          : null,
    },
    stores: storesConfig(e),
    auth: {
      signingKey: e.AUTH_SIGNING_KEY ?? null,
      previousSigningKey: e.AUTH_PREVIOUS_SIGNING_KEY ?? null,
      audience: e.AUTH_AUDIENCE,
      accessTtlSeconds: e.AUTH_ACCESS_TTL_SECONDS,
      refreshTtlDays: e.AUTH_REFRESH_TTL_DAYS,
      deletionRateLimit: e.ACCOUNT_DELETION_RATE_LIMIT,
      deletionRateWindowSeconds: e.ACCOUNT_DELETION_RATE_WINDOW_SECONDS,
    },
    ingestion: {
      overpassUrls: e.OVERPASS_URLS.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      overpassTimeoutSeconds: e.OVERPASS_TIMEOUT_SECONDS,
      overpassMaxBytes: e.OVERPASS_MAX_BYTES,
      overpassMaxTries: e.OVERPASS_MAX_TRIES,
      upstreamIdleTimeoutSeconds: e.UPSTREAM_IDLE_TIMEOUT_SECONDS,
      downloadMaxBytes: e.DOWNLOAD_MAX_BYTES,
      batchSize: e.INGEST_BATCH_SIZE,
      workDir: e.WORK_DIR,
    },
    blobDir: e.BLOB_DIR,
    packs: {
      signingKeyPem: packSigningKey(e.PACK_SIGNING_KEY),
      keepVersions: e.PACK_KEEP_VERSIONS,
      ttlDays: e.PACK_TTL_DAYS,
    },
    maps: { tileCacheBytes: e.TILE_CACHE_MB * 1024 * 1024 },
    content: {
      mediaDir: e.MEDIA_DIR,
      maxImageBytes: e.MEDIA_MAX_IMAGE_BYTES,
      maxAudioBytes: e.MEDIA_MAX_AUDIO_BYTES,
      contentDir: e.CONTENT_DIR,
    },
    validateResponses: e.VALIDATE_RESPONSES,
  }
}

export interface AuthConfig {
  /** Ed25519 private key, a JWK (JSON) or PKCS#8 PEM; a secret, never logged. Null: generated and kept in the database. */
  signingKey: string | null
  /** The key before the last rotation: its tokens still verify until they expire. */
  previousSigningKey: string | null
  audience: string
  accessTtlSeconds: number
  refreshTtlDays: number
  /** Web deletion attempts allowed per client address and per code in one window. */
  deletionRateLimit: number
  deletionRateWindowSeconds: number
}

export interface StoresConfig {
  /** Sandbox purchases (App Review buys with sandbox) are recorded with their environment. */
  acceptSandbox: boolean
  apple: {
    /** DER-encoded trusted roots (Apple Root CA - G3 in production). */
    rootCertificates: Buffer[]
    apps: Record<string, { bundleId: string; appAppleId: number }>
    onlineChecks: boolean
  } | null
  rustore: {
    apiUrl: string
    keyId: string
    /** PEM (PKCS#8) built from the console's base64 key; a secret, never logged. */
    privateKeyPem: string
    apps: Record<string, { appId: number }>
    timeoutMs: number
    timestampOffset: string
    /** AES-256-GCM key of server notifications; null: the notification route refuses everything. */
    notificationKey: Buffer | null
  } | null
  /** Seconds a client is told to wait (Retry-After) before asking again about an undecided purchase. */
  retryAfterSeconds: number
}

function storesConfig(e: Env): StoresConfig {
  return {
    acceptSandbox: e.STORES_ACCEPT_SANDBOX,
    apple: e.APPLE_ENABLED
      ? {
          rootCertificates: readRootCertificates(e.APPLE_ROOT_CERT_FILES ?? ''),
          apps: Object.fromEntries(
            (e.APPLE_APPS ?? '').split(',').map((entry) => {
              const [slug, bundleId, appAppleId] = entry.split(':') as [string, string, string]
              return [slug, { bundleId, appAppleId: Number(appAppleId) }]
            }),
          ),
          onlineChecks: e.APPLE_ONLINE_CHECKS,
        }
      : null,
    rustore: e.RUSTORE_ENABLED
      ? {
          apiUrl: e.RUSTORE_API_URL.replace(/\/+$/, ''),
          keyId: e.RUSTORE_KEY_ID ?? '',
          privateKeyPem: rustorePrivateKeyPem(e.RUSTORE_PRIVATE_KEY ?? ''),
          apps: Object.fromEntries(
            (e.RUSTORE_APPS ?? '').split(',').map((entry) => {
              const [slug, appId] = entry.split(':') as [string, string]
              return [slug, { appId: Number(appId) }]
            }),
          ),
          timeoutMs: e.RUSTORE_TIMEOUT_MS,
          timestampOffset: e.RUSTORE_TIMESTAMP_OFFSET,
          notificationKey: e.RUSTORE_NOTIFICATION_KEY
            ? Buffer.from(e.RUSTORE_NOTIFICATION_KEY, 'base64')
            : null,
        }
      : null,
    retryAfterSeconds: e.PURCHASE_CLAIM_RETRY_SECONDS,
  }
}

/** Each file is one certificate, DER or PEM; an unreadable file or a non-certificate stops the start. */
function readRootCertificates(list: string): Buffer[] {
  const files = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (!files.length) throw new ConfigError(['APPLE_ROOT_CERT_FILES: names no file'])
  return files.map((file) => {
    try {
      return new X509Certificate(readFileSync(file)).raw
    } catch (err) {
      throw new ConfigError([
        `APPLE_ROOT_CERT_FILES: ${file} is not a readable certificate (${(err as NodeJS.ErrnoException).code ?? 'not DER or PEM'})`,
      ])
    }
  })
}

/** An Ed25519 PKCS#8 PEM, or nothing; the key itself is never echoed. */
function packSigningKey(raw: string | undefined): string | null {
  if (!raw) return null
  try {
    if (createPrivateKey(raw).asymmetricKeyType === 'ed25519') return raw
  } catch {
    // fall through to the one message below
  }
  throw new ConfigError(['PACK_SIGNING_KEY: is not an Ed25519 private key (PKCS#8 PEM)'])
}

/** The console shows the key once as base64 PKCS#8 without a PEM header; a full PEM is accepted too. */
function rustorePrivateKeyPem(raw: string): string {
  const body = raw.includes('-----BEGIN')
    ? raw
    : `-----BEGIN PRIVATE KEY-----\n${raw.replace(/\s+/g, '')}\n-----END PRIVATE KEY-----\n`
  try {
    createPrivateKey(body)
  } catch {
    // The key itself is never echoed.
    throw new ConfigError(['RUSTORE_PRIVATE_KEY: is not a PKCS#8 private key (base64 or PEM)'])
  }
  return body
}

export interface AdminOperator {
  name: string
  token: string
}

function parseOperators(raw: string | undefined): AdminOperator[] {
  if (!raw) return []
  return raw.split(',').map((pair) => {
    const i = pair.indexOf(':')
    return { name: pair.slice(0, i), token: pair.slice(i + 1) }
  })
}

function parseTenantKeys(raw: string | undefined): Record<string, string> {
  if (!raw) return {}
  return Object.fromEntries(raw.split(',').map((pair) => pair.split(':') as [string, string]))
}

/** Test and bench helper: a config from defaults plus overrides, never from the process environment. */
export function configFrom(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', ...overrides })
}
