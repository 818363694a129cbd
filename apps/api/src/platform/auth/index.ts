export {
  ACCESS_TOKEN_TYPE,
  type AccessClaims,
  AccessTokenError,
  issueAccessToken,
  verifyAccessToken,
} from './access-token.js'
export {
  type AccountAuthOptions,
  accountAuth,
  keyRingOf,
  optionalAccount,
  requireAccount,
} from './account-auth.js'
export {
  ALG,
  generatePrivateJwk,
  type KeyRing,
  loadKeyRing,
  parseSigningKey,
  type SigningKey,
} from './key-ring.js'
export { APP_ROLE, enterTenant, withTenant } from './tenant-context.js'
