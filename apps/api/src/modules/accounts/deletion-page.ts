import { randomBytes } from 'node:crypto'
import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { withTenant } from '../../platform/auth/index.js'
import { secretsEqual } from '../../platform/http/admin-auth.js'
import type { AppEnv } from '../../platform/http/context.js'
import { errorResponses } from '../../platform/http/problem.js'
import { createRouter } from '../../platform/http/router.js'
import { normalizeAccountCode } from './account-code.js'
import { deleteAccount } from './accounts.service.js'
import { deletionAnswer, deletionForm, deletionMessage } from './deletion-page.html.js'
import { hitLimits } from './rate-limit.js'

const CSRF_COOKIE = 'gorod_deletion_csrf'
const Html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } })
// A slug is checked before it reaches a query: a NUL or other junk is a 400, not a database error.
const slug = z.string().regex(/^[a-z0-9-]{1,40}$/, { message: 'должен быть кодом приложения' })

export const deletionPageRoute = createRoute({
  method: 'get',
  path: '/account-deletion',
  tags: ['accounts'],
  summary: 'Web page to delete an account by its code (for stores that require one)',
  request: { query: z.object({ tenant: slug.optional() }) },
  responses: {
    200: Html('The form, in Russian, with the brand name of the app.'),
    404: Html('No such app.'),
    ...errorResponses(),
  },
})

export const deletionSubmitRoute = createRoute({
  method: 'post',
  path: '/account-deletion',
  tags: ['accounts'],
  summary: 'Delete the account of a code (same neutral answer whether or not the code exists)',
  request: {
    body: {
      required: true,
      content: {
        'application/x-www-form-urlencoded': {
          schema: z.object({
            tenant: slug.optional(),
            code: z.string().max(40).optional(),
            confirm: z.string().max(10).optional(),
            csrf: z.string().max(100).optional(),
          }),
        },
      },
    },
  },
  responses: {
    ...errorResponses(413),
    200: Html('Neutral answer: the deletion is done if the code was right.'),
    // A form a browser sent incomplete gets the page again; a body that is not a form at all, a problem.
    400: {
      description:
        'Form incomplete (code or confirmation missing): the page again; malformed form fields: a problem.',
      content: { ...Html('').content, ...errorResponses()[400]?.content },
    },
    403: Html('Form token missing or from another site.'),
    404: Html('No such app.'),
    429: Html('Too many attempts from this address or for this code; see Retry-After.'),
  },
})

async function tenantOf(c: Context<AppEnv>, slugValue: string | undefined) {
  if (!slugValue) return undefined
  return c.var.deps.database.db
    .selectFrom('tenants')
    .select(['id', 'slug', 'name'])
    .where('slug', '=', slugValue)
    .executeTakeFirst()
}

function page(c: Context<AppEnv>, body: Promise<string> | string, status: 200 | 400 | 403 | 404 | 429) {
  c.header('cache-control', 'no-store')
  c.header('x-frame-options', 'DENY')
  c.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
  return c.html(body, status)
}

const notFound = (c: Context<AppEnv>) =>
  page(c, deletionMessage('Приложение не найдено', 'Откройте эту страницу по ссылке из приложения.'), 404)

/** Behind a proxy (Vercel, a load balancer) the client is the first X-Forwarded-For address. */
function clientAddress(c: Context<AppEnv>): string {
  const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim()
  if (forwarded) return forwarded
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
  return incoming?.socket?.remoteAddress ?? 'unknown'
}

/** The same-origin form token: a random value both in an HttpOnly SameSite=Strict cookie and in the form. */
function issueCsrf(c: Context<AppEnv>): string {
  const token = randomBytes(24).toString('base64url')
  setCookie(c, CSRF_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/account-deletion',
    secure: new URL(c.req.url).protocol === 'https:',
    maxAge: 3600,
  })
  return token
}

function sameOrigin(c: Context<AppEnv>): boolean {
  const origin = c.req.header('origin')
  if (origin && origin !== new URL(c.req.url).origin) return false
  return c.req.header('sec-fetch-site') !== 'cross-site'
}

export function deletionPageRouter() {
  return createRouter()
    .openapi(deletionPageRoute, async (c) => {
      const tenant = await tenantOf(c, c.req.valid('query').tenant)
      if (!tenant) return notFound(c)
      return page(c, deletionForm({ brand: tenant.name, slug: tenant.slug, csrf: issueCsrf(c) }), 200)
    })
    .openapi(deletionSubmitRoute, async (c) => {
      const form = c.req.valid('form')
      const tenant = await tenantOf(c, form.tenant)
      if (!tenant) return notFound(c)
      const cookie = getCookie(c, CSRF_COOKIE)
      if (!sameOrigin(c) || !cookie || !form.csrf || !secretsEqual(form.csrf, cookie))
        return page(
          c,
          deletionMessage('Форма устарела', 'Откройте страницу удаления заново и отправьте форму ещё раз.'),
          403,
        )
      const retry = (error: string) =>
        page(c, deletionForm({ brand: tenant.name, slug: tenant.slug, csrf: issueCsrf(c), error }), 400)
      if (form.confirm !== 'yes') return retry('Отметьте подтверждение удаления.')
      if (!form.code?.trim()) return retry('Введите код аккаунта.')

      const { deps } = c.var
      const code = normalizeAccountCode(form.code)
      const wait = await hitLimits(
        deps.database.db,
        [
          `deletion:ip:${clientAddress(c)}`,
          `deletion:code:${tenant.slug}:${code ?? form.code.trim().toUpperCase()}`,
        ],
        {
          limit: deps.config.auth.deletionRateLimit,
          windowSeconds: deps.config.auth.deletionRateWindowSeconds,
          now: deps.clock.now(),
        },
      )
      if (wait !== null) {
        c.header('retry-after', String(wait))
        return page(c, deletionMessage('Слишком много попыток', 'Повторите попытку позже.'), 429)
      }
      if (code) {
        const account = await withTenant(deps.database.db, tenant.id, (trx) =>
          trx
            .selectFrom('account')
            .select('id')
            .where('account_code', '=', code)
            .where('deleted_at', 'is', null)
            .executeTakeFirst(),
        )
        if (account) await deleteAccount(deps, tenant, account.id, 'web')
      }
      return page(c, deletionAnswer(tenant.name), 200)
    })
}
