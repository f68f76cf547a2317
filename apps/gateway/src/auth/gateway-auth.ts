import type { Kysely } from 'kysely';
import {
  createAuthenticator,
  createBasicVerifier,
  createInMemoryRateLimitStore,
  createJwtVerifier,
  createKyselyJwtRevocationStore,
  createKyselyRateLimitStore,
  createKyselyTokenStore,
  createKyselyToolPinStore,
  createKyselyUserStore,
  createPolicy,
  createRateLimiter,
  createRevocationList,
  createTokenService,
  createToolPins,
  jwtOptionsFromEnv,
  migrateAuth,
  type AuthContext,
  type AuthFailure,
  type Authenticator,
  type JwtRevocationStore,
  type Policy,
  type PolicyOptions,
  type RateLimiter,
  type TokenService,
  type ToolPins,
  type UserStore,
} from '@mcp-gateway/auth';
import { describeError, GatewayError, type Logger, type RouterHooks } from '@mcp-gateway/core';
import type { AuthMethod, RuntimeConfig } from '../config/index.ts';

/** Ownership and visibility of something the policy decides on, as the in-memory catalog knows it. */
export type Ownership = ReturnType<PolicyOptions['visibilityOf']>;

/** Options of {@link createGatewayAuth}. */
export interface GatewayAuthOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  config: RuntimeConfig;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /** Ownership of a catalog item by its public name on the gateway's own endpoint (from memory). */
  visibilityOf: PolicyOptions['visibilityOf'];
  /** How often revoked API tokens and JWT ids are re-read from the database (other replicas revoke too) [5000]. */
  revocationRefreshMs?: number;
}

/** Everything the gateway needs to authenticate and authorize, built from the runtime config and environment. */
export interface GatewayAuth {
  /** True when at least one credential method is on; false in single-user local mode. */
  readonly configured: boolean;
  readonly methods: readonly AuthMethod[];
  readonly authenticator: Authenticator;
  readonly policy: Policy;
  readonly tokens: TokenService;
  readonly users: UserStore;
  readonly jwtRevocations: JwtRevocationStore;
  readonly rateLimiter?: RateLimiter;
  /** Tool pinning, when `--tool-pinning` is not `off`. */
  readonly pins?: ToolPins;
  /** The OAuth authorization servers named in the Protected Resource Metadata (empty without JWT). */
  readonly authorizationServers: readonly string[];
  /** Scopes every MCP request needs. */
  readonly mcpScopes: readonly string[];
  /** Router hooks in the order they must run: the policy first (a denial must not cost a rate-limit token). */
  readonly hooks: readonly RouterHooks[];
  /** Revokes a JWT by its `jti` on every replica (this one at once, others within the refresh interval). */
  revokeJwt(jti: string, expiresAt?: Date): Promise<void>;
  /** Authenticates a WebSocket upgrade (the HTTP request that opens the socket). */
  authenticateUpgrade(
    request: { url: string; headers: Headers },
    target: { resource: string; virtualServerId?: string },
  ): Promise<AuthContext | AuthFailure>;
  close(): Promise<void>;
}

/**
 * The credential methods in force: `--auth` when given, else JWT and API tokens when a JWT key is configured, else
 * none (local mode). Throws when `--auth` names jwt without a key, or the JWT settings are incomplete.
 */
export function authMethodsOf(
  config: RuntimeConfig,
  env: Readonly<Record<string, string | undefined>>,
): AuthMethod[] {
  const jwtOptions = jwtOptionsFromEnv(env);
  const methods: AuthMethod[] = config.auth ?? (jwtOptions ? ['jwt', 'token'] : []);
  if (methods.includes('jwt') && !jwtOptions) {
    throw new GatewayError(
      'config-invalid',
      '--auth includes jwt, but no JWT key is configured: set MCP_GATEWAY_JWT_SECRET (HS256) or ' +
        'MCP_GATEWAY_JWT_JWKS_URL, and MCP_GATEWAY_JWT_AUDIENCE',
    );
  }
  return methods;
}

/**
 * Builds the gateway's auth services: API tokens (always available, so an admin can mint one before turning auth
 * on), users, JWT verification when configured, the policy, rate limits and tool pins. Creates the auth tables.
 */
export async function createGatewayAuth(options: GatewayAuthOptions): Promise<GatewayAuth> {
  const { db, config, env, logger } = options;
  await migrateAuth(db);
  const jwtOptions = jwtOptionsFromEnv(env);
  const methods = authMethodsOf(config, env);

  const revokedTokens = createRevocationList();
  const revokedJtis = createRevocationList();
  const tokenStore = createKyselyTokenStore(db);
  const jwtRevocations = createKyselyJwtRevocationStore(db);
  const users = createKyselyUserStore(db);
  const tokens = createTokenService({
    store: tokenStore,
    revoked: revokedTokens,
    logger: logger.child({ component: 'api-tokens' }),
  });
  const refreshRevocations = async () => {
    const now = new Date();
    revokedTokens.replace(await tokenStore.listRevokedIds(now));
    revokedJtis.replace(await jwtRevocations.listActive(now));
  };
  await refreshRevocations();
  const refreshTimer = setInterval(() => {
    refreshRevocations().catch((error: unknown) =>
      logger.warn({ err: describeError(error) }, 'revocations not refreshed; keeping the last lists'),
    );
  }, options.revocationRefreshMs ?? 5_000);
  refreshTimer.unref();

  const jwt =
    methods.includes('jwt') && jwtOptions
      ? createJwtVerifier({
          ...jwtOptions,
          revokedJtis,
          logger: logger.child({ component: 'jwt' }),
        })
      : undefined;
  const authenticator = createAuthenticator({
    jwt,
    tokens: methods.includes('token') ? tokens : undefined,
    basic: methods.includes('basic') ? createBasicVerifier({ users }) : undefined,
    logger: logger.child({ component: 'auth' }),
  });
  const policy = createPolicy({
    visibilityOf: options.visibilityOf,
    logger: logger.child({ component: 'policy' }),
  });

  const rateLimiter =
    (config.rateLimits ?? []).length === 0
      ? undefined
      : createRateLimiter({
          rules: (config.rateLimits ?? []).map((rule) => ({
            scope: rule.scope,
            capacity: rule.capacity,
            refillPerSecond: rule.capacity / rule.periodSeconds,
          })),
          store:
            config.rateLimitStore === 'database'
              ? createKyselyRateLimitStore(db)
              : createInMemoryRateLimitStore(),
          logger: logger.child({ component: 'rate-limit' }),
        });

  const pinning = config.toolPinning ?? 'off';
  const pins =
    pinning === 'off'
      ? undefined
      : createToolPins({
          store: createKyselyToolPinStore(db),
          onNew: pinning === 'trust-first' ? 'approve' : 'quarantine',
          logger: logger.child({ component: 'tool-pins' }),
        });

  const configured = methods.length > 0;
  const hooks: RouterHooks[] = [];
  // In local mode everyone is the anonymous admin: the policy would allow every call anyway.
  if (configured) hooks.push(policy.hooks);
  if (rateLimiter) hooks.push(rateLimiter.hooks);

  const authorizationServers = list(env.MCP_GATEWAY_AUTHORIZATION_SERVERS);
  if (authorizationServers.length === 0 && jwtOptions?.issuer !== undefined) {
    authorizationServers.push(...[jwtOptions.issuer].flat());
  }

  return {
    configured,
    methods,
    authenticator,
    policy,
    tokens,
    users,
    jwtRevocations,
    rateLimiter,
    pins,
    authorizationServers,
    mcpScopes: config.mcpScopes ?? [],
    hooks,
    async revokeJwt(jti, expiresAt) {
      await jwtRevocations.revoke(jti, { expiresAt });
      revokedJtis.add(jti);
    },
    async authenticateUpgrade(request, target) {
      const url = new URL(request.url, 'http://gateway');
      const result = await authenticator.authenticate(new Request(url, { headers: request.headers }), {
        resource: target.resource,
        virtualServerId: target.virtualServerId,
        requiredScopes: config.mcpScopes,
      });
      return 'status' in result ? result : { principal: result, virtualServerId: target.virtualServerId };
    },
    async close() {
      clearInterval(refreshTimer);
      await tokens.close();
    },
  };
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
