import createFetchClient, { type Client, type ClientOptions } from 'openapi-fetch'
import type { paths } from './schema.js'

export type { components, operations, paths } from './schema.js'

export interface GorodClientOptions extends ClientOptions {
  baseUrl: string
  /** Public key of the calling app; sent as X-App-Key on every request. */
  appKey?: string
  /** Operator token; sent as X-Admin-Token on every request. */
  adminToken?: string
}

/** A typed client of the gorod API, generated from packages/contract/openapi.yaml. */
export function createGorodClient(options: GorodClientOptions): Client<paths> {
  const { appKey, adminToken, headers, ...rest } = options
  return createFetchClient<paths>({
    ...rest,
    headers: {
      ...(headers as Record<string, string> | undefined),
      ...(appKey ? { 'X-App-Key': appKey } : {}),
      ...(adminToken ? { 'X-Admin-Token': adminToken } : {}),
    },
  })
}
