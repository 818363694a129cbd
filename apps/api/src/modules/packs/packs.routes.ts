import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'
import { requireTenant } from '../../platform/http/tenant.js'
import { JwksSchema } from '../accounts/accounts.routes.js'
import { AUDIO_MIMES, IMAGE_MIMES } from '../catalog/media-sniff.js'

/** An app key always; an account token optionally (it decides which paid tours come with files). */
const appKey: Array<Record<string, string[]>> = [{ AppKey: [] }, { AppKey: [], Bearer: [] }]
const slugParam = z.object({
  slug: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/)
    .openapi({ param: { name: 'slug', in: 'path' }, example: 'sergiev-posad' }),
})

const FileSchema = z
  .object({
    role: z.string().openapi({
      description:
        '`pois`, `helpers`, `poi_tiles` (PMTiles of the POI/helper tiles), `basemap`, `catalog`, `tour:<id>` or `media`.',
    }),
    sha256: z.string(),
    bytes: z.number().int(),
    media_type: z.string(),
    url: z.string().openapi({ example: '/v1/blobs/sha256/…' }),
  })
  .openapi('PackFile')

export const ManifestSchema = z
  .object({
    format: z.literal(1),
    city: z.string(),
    tenant: z.string(),
    version: z
      .number()
      .int()
      .openapi({ description: 'Monotonic per city; a new one when the city data changes.' }),
    created_at: z.string(),
    expires_at: z.string().openapi({ description: 'Check for a newer pack before this.' }),
    attribution: z.string(),
    license: z.string(),
    files: z.array(FileSchema),
    tours: z.array(
      z.object({
        id: z.number().int(),
        title_ru: z.string(),
        access: z.enum(['free', 'owned', 'locked']),
        files: z
          .boolean()
          .openapi({ description: 'False for a locked tour: it is listed without its files.' }),
      }),
    ),
    key_id: z.string().openapi({ description: 'The `kid` of the key in GET /v1/packs/keys.' }),
    signature: z.string().openapi({
      description: 'Ed25519 (base64url) over the RFC 8785 canonical JSON of this object without `signature`.',
    }),
  })
  .openapi('PackManifest')

export const manifestRoute = createRoute({
  method: 'get',
  path: '/v1/cities/{slug}/pack.json',
  tags: ['packs'],
  summary: "The city's offline pack for the calling app (signed manifest)",
  security: appKey,
  request: {
    params: slugParam,
    query: z.object({ platform: z.enum(['ios', 'android']).default('ios') }),
  },
  responses: {
    200: { description: 'The manifest.', content: { 'application/json': { schema: ManifestSchema } } },
    ...errorResponses(401, 403, 404),
  },
})

export const changesRoute = createRoute({
  method: 'get',
  path: '/v1/cities/{slug}/pack/changes',
  tags: ['packs'],
  summary: 'What changed since a kept pack version (NDJSON)',
  description:
    'Lines: `{op:"header",from,to}`, then `{op:"upsert",kind,id,hash,record}` / `{op:"delete",kind,id}` for POIs and helpers, then `{op:"files",version,files}`.',
  security: appKey,
  request: {
    params: slugParam,
    query: z.object({ since: z.coerce.number().int().min(1).max(2_147_483_647) }),
  },
  responses: {
    200: {
      description: 'The changeset.',
      content: { 'application/x-ndjson': { schema: z.string() } },
    },
    ...errorResponses(401, 403, 404, 410),
  },
})

export const keysRoute = createRoute({
  method: 'get',
  path: '/v1/packs/keys',
  tags: ['packs'],
  summary: 'Public keys that verify pack manifests',
  responses: {
    200: {
      description: 'JSON Web Key Set (Ed25519).',
      content: {
        'application/json': {
          schema: JwksSchema,
        },
      },
    },
    ...errorResponses(),
  },
})

const blobContent = Object.fromEntries(
  ['application/octet-stream', 'application/vnd.pmtiles', ...IMAGE_MIMES, ...AUDIO_MIMES].map((t) => [
    t,
    { schema: z.string().openapi({ format: 'binary' }) },
  ]),
)

export const blobRoute = createRoute({
  method: 'get',
  path: '/v1/blobs/sha256/{hex}',
  tags: ['packs'],
  summary: 'A pack file by its sha256 (immutable; Range and If-Range)',
  description:
    "JSON and GeoJSON files are sent as `application/octet-stream` (byte ranges of a JSON document are not JSON); the manifest names each file's `media_type`.",
  security: appKey,
  request: {
    params: z.object({
      hex: z
        .string()
        .regex(/^[0-9a-f]{64}$/, { message: 'ожидается sha256 в шестнадцатеричном виде' })
        .openapi({ param: { name: 'hex', in: 'path' } }),
    }),
    headers: z.object({ range: z.string().max(200).optional(), 'if-range': z.string().max(200).optional() }),
  },
  responses: {
    200: { description: 'The bytes.', content: blobContent },
    206: { description: 'The requested range.', content: blobContent },
    304: { description: 'Not modified (If-None-Match matched).' },
    ...errorResponses(401, 403, 404, 416),
  },
})

export const onboardingRoute = createRoute({
  method: 'get',
  path: '/v1/onboarding',
  tags: ['packs'],
  summary: "The calling app's cities with pack versions and download sizes (first start)",
  security: [{ AppKey: [] }],
  middleware: [requireTenant] as const,
  responses: {
    200: {
      description: 'Cities, each with its pack or null when none is built yet.',
      content: {
        'application/json': {
          schema: z
            .object({
              cities: z.array(
                z.object({
                  slug: z.string(),
                  name_ru: z.string(),
                  center: z.object({ lat: z.number(), lon: z.number() }),
                  pack: z
                    .object({
                      version: z.number().int(),
                      created_at: z.string(),
                      manifest_url: z.string(),
                      bytes: z.record(z.string(), z.number().int()),
                      total_bytes: z.number().int(),
                    })
                    .nullable(),
                }),
              ),
            })
            .openapi('Onboarding'),
        },
      },
    },
    ...errorResponses(401),
  },
})
