// Public API of @mcp-gateway/auth: inbound authentication, authorization, secrets, rate limits and tool pinning.
// Anything exported here is public; named exports only. Everything speaks web-standard Request/Response.

// Principals and the per-request auth context
export {
  anonymousPrincipal,
  currentAuthContext,
  hasScopes,
  isAuthFailure,
  runWithAuthContext,
  type AuthContext,
  type AuthFailure,
  type Principal,
  type PrincipalKind,
} from './principal.ts';

// Inbound authentication
export {
  challengeResponse,
  createAuthenticator,
  type AnonymousGrants,
  type AuthenticateContext,
  type Authenticator,
  type AuthenticatorOptions,
} from './authenticator.ts';
export {
  createJwtVerifier,
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  type JwtPublicKey,
  type JwtVerifier,
  type JwtVerifierOptions,
  type JwtVerifyResult,
} from './jwt-verifier.ts';
export { jwtOptionsFromEnv } from './jwt-options-from-env.ts';
export { createRevocationList, type RevocationList } from './revocation-list.ts';
export {
  API_TOKEN_PREFIX,
  createTokenService,
  hashApiToken,
  isApiToken,
  type ApiTokenInfo,
  type CreateApiTokenInput,
  type TokenService,
  type TokenServiceOptions,
  type TokenVerifyResult,
} from './token-service.ts';
export { createInMemoryTokenStore, type ApiTokenRecord, type TokenStore } from './token-store.ts';
export { hashPassword, verifyPassword, type PasswordHashOptions } from './password-hash.ts';
export { createInMemoryUserStore, type UserRecord, type UserStore } from './user-store.ts';
export {
  createBasicVerifier,
  type BasicVerifier,
  type BasicVerifierOptions,
  type BasicVerifyResult,
} from './basic-verifier.ts';
export {
  buildProtectedResourceMetadata,
  protectedResourceMetadataResponse,
  protectedResourceMetadataUrl,
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
} from './protected-resource-metadata.ts';
export { assertSafeBinding, isLoopbackHost, type SafeBindingOptions } from './safe-binding.ts';

// Authorization
export {
  ADMIN_SCOPES,
  createPolicy,
  ROLES,
  type AdminAction,
  type AdminTarget,
  type AuthzExplanation,
  type EntityKind,
  type EntityRef,
  type EntityVisibility,
  type Policy,
  type PolicyOptions,
  type Role,
  type Visibility,
} from './policy.ts';

// Secrets and credentials
export {
  createSecretBox,
  isSecretEnvelope,
  parseSecretKey,
  secretBoxFromEnv,
  secretKeyId,
  type SecretBox,
  type SecretBoxOptions,
} from './secret-box.ts';
export { LOG_REDACT_PATHS, maskSecrets, SECRET_FIELD_PATTERN, SECRET_MASK } from './mask-secrets.ts';
export { CREDENTIAL_HEADERS, stripInboundCredentials } from './strip-inbound-credentials.ts';

// Rate limiting
export {
  createInMemoryRateLimitStore,
  createRateLimiter,
  RATE_LIMITED_RPC_CODE,
  rateLimitResponse,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimitRule,
  type RateLimitScope,
  type RateLimitStore,
  type RateLimitSubject,
} from './rate-limiter.ts';

// Tool pinning
export {
  createToolPins,
  hashToolDefinition,
  pinnedToolDefinition,
  type ApproveToolInput,
  type QuarantinedTool,
  type ToolPins,
  type ToolPinsOptions,
  type ToolReview,
} from './tool-pins.ts';
export { createInMemoryToolPinStore, type ToolPinRecord, type ToolPinStore } from './tool-pin-store.ts';
export { withToolPins, type PinnedUpstream, type WithToolPinsOptions } from './pinned-upstream.ts';
export {
  decodeTagCharacters,
  describeHiddenUnicode,
  findHiddenUnicode,
  type HiddenUnicodeCategory,
  type HiddenUnicodeMatch,
} from './hidden-unicode.ts';
export { diffLines } from './text-diff.ts';
export { canonicalJson } from './canonical-json.ts';

// Kysely (Postgres / PGlite) storage
export { authMigrations, migrateAuth, type MigrateAuthOptions } from './kysely/auth-migrations.ts';
export type { AuthDatabase } from './kysely/auth-database.ts';
export { createKyselyTokenStore } from './kysely/kysely-token-store.ts';
export { createKyselyUserStore } from './kysely/kysely-user-store.ts';
export { createKyselyJwtRevocationStore, type JwtRevocationStore } from './kysely/kysely-revocation-store.ts';
export { createKyselyToolPinStore } from './kysely/kysely-tool-pin-store.ts';
export { createKyselyRateLimitStore, type KyselyRateLimitStore } from './kysely/kysely-rate-limit-store.ts';
