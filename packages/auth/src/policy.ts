import { RpcError, RpcErrorCode, silentLogger } from '@mcp-gateway/core';
import type { CallInfo, Logger, RouterHooks } from '@mcp-gateway/core';
import { currentAuthContext, hasScopes } from './principal.ts';
import type { Principal } from './principal.ts';

/** The built-in roles, most powerful first. */
export const ROLES = ['admin', 'developer', 'viewer'] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** Who may see and call an entity: only its owner, its owner's team, or everyone. */
export type Visibility = 'private' | 'team' | 'public';

/** Ownership and visibility of one entity, as the lead's registry snapshot knows it. */
export interface EntityVisibility {
  /** The owning user's id. */
  readonly owner?: string;
  /** The owning team's id. */
  readonly team?: string;
  readonly visibility: Visibility;
}

/** Kinds of catalog entities the router serves. */
export type EntityKind = 'tool' | 'prompt' | 'resource' | 'resource-template';

/** A catalog entity by its public name (tools, prompts) or public URI (resources, templates). */
export interface EntityRef {
  readonly kind: EntityKind;
  readonly name: string;
}

/** What a REST route does. */
export type AdminAction = 'read' | 'create' | 'update' | 'delete';

/**
 * What a REST route acts on: an entity type (`gateway`, `virtual-server`, `token`, `user`, …) and, for an existing
 * entity (or the one about to be created), its ownership.
 */
export interface AdminTarget extends Partial<EntityVisibility> {
  readonly type: string;
}

/** Scopes that let a token or JWT use the REST API (on top of its owner's role). */
export const ADMIN_SCOPES = { read: 'admin:read', write: 'admin:write' } as const;

/** Options of {@link createPolicy}. */
export interface PolicyOptions {
  /**
   * Ownership and visibility of a catalog entity by kind and public name, from an in-memory snapshot (never a
   * database query: it runs on every call and list).
   */
  visibilityOf: (kind: EntityKind, publicName: string) => EntityVisibility | undefined;
  /** Visibility of entities `visibilityOf` does not know. Default `public`. */
  defaultVisibility?: Visibility;
  /** Role of a principal holding none of {@link ROLES}. Default `viewer`. */
  defaultRole?: Role;
  /** Entity types only admins may touch through the REST API. Default: user, team, settings, policy, tool-pin. */
  adminOnlyTypes?: readonly string[];
  /** Who a router call comes from. Default: the principal of {@link currentAuthContext}. */
  principalOf?: (call: CallInfo) => Principal | undefined;
  /** Which virtual server a router call came through. Default: that of {@link currentAuthContext}. */
  virtualServerOf?: (call: CallInfo) => string | undefined;
  logger?: Logger;
}

/** The outcome of {@link Policy.explain}: the decision and each step that led to it, for people. */
export interface AuthzExplanation {
  readonly allowed: boolean;
  readonly steps: readonly string[];
  /** The steps as one text. */
  readonly text: string;
}

/** Role-based and visibility-based authorization, decided in memory. */
export interface Policy {
  /** May `principal` call (or read) this entity? */
  canCall(principal: Principal, entity: EntityRef): boolean;
  /**
   * May `principal` see something with this ownership? The rule `canCall` applies, for entities outside the catalog
   * snapshot (a virtual server) whose ownership the caller already has.
   */
  canSee(principal: Principal, ownership: EntityVisibility): boolean;
  /** The items `principal` may see; items are matched by `name`, or `uri`/`uriTemplate` for resources. */
  filterVisible<T extends { name?: string; uri?: string; uriTemplate?: string }>(
    principal: Principal,
    kind: EntityKind,
    items: readonly T[],
  ): T[];
  /** A list result (`tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`) with hidden items removed. */
  filterListResult(
    principal: Principal,
    method: string,
    result: Record<string, unknown>,
  ): Record<string, unknown>;
  /**
   * May `principal` perform `action` through the REST API? viewer: read only; developer: read, create, and
   * update/delete of entities they own or their team owns; admin: everything. `target` is an entity type, or the
   * type with the entity's ownership: pass the ownership for update/delete, since without it (a bare type) the answer
   * is only whether the role allows the action on that type at all.
   */
  canAdmin(principal: Principal, action: AdminAction, target: string | AdminTarget): boolean;
  /** The decision for `canCall`, step by step (for `GET /v1/authz/explain`). */
  explain(principal: Principal, entity: EntityRef): AuthzExplanation;
  /** Router hooks: a call the principal may not make fails exactly as a call to an unknown tool/prompt/resource. */
  readonly hooks: RouterHooks;
}

const DEFAULT_ADMIN_ONLY = ['user', 'team', 'settings', 'policy', 'tool-pin'];

type Reason =
  'admin' | 'public' | 'owner' | 'team-member' | 'anonymous-not-public' | 'not-in-team' | 'not-owner';

/** Creates a {@link Policy}. */
export function createPolicy(options: PolicyOptions): Policy {
  const defaultVisibility = options.defaultVisibility ?? 'public';
  const defaultRole = options.defaultRole ?? 'viewer';
  const adminOnly = new Set(options.adminOnlyTypes ?? DEFAULT_ADMIN_ONLY);
  const logger = options.logger ?? silentLogger;
  const principalOf = options.principalOf ?? (() => currentAuthContext()?.principal);
  const virtualServerOf = options.virtualServerOf ?? (() => currentAuthContext()?.virtualServerId);

  const roleOf = (principal: Principal): Role =>
    ROLES.find((role) => principal.roles.includes(role)) ?? defaultRole;

  const visibilityOf = (entity: EntityRef): EntityVisibility =>
    options.visibilityOf(entity.kind, entity.name) ?? { visibility: defaultVisibility };

  const decide = (
    principal: Principal,
    visibility: EntityVisibility,
  ): { allowed: boolean; reason: Reason } => {
    // An anonymous admin exists only in single-user local mode (no auth configured, loopback bind).
    if (roleOf(principal) === 'admin') return { allowed: true, reason: 'admin' };
    if (visibility.visibility === 'public') return { allowed: true, reason: 'public' };
    if (principal.kind === 'anonymous') return { allowed: false, reason: 'anonymous-not-public' };
    if (visibility.owner !== undefined && visibility.owner === principal.id)
      return { allowed: true, reason: 'owner' };
    if (visibility.visibility === 'team') {
      return visibility.team !== undefined && principal.teams.includes(visibility.team)
        ? { allowed: true, reason: 'team-member' }
        : { allowed: false, reason: 'not-in-team' };
    }
    return { allowed: false, reason: 'not-owner' };
  };

  const canCall = (principal: Principal, entity: EntityRef): boolean =>
    decide(principal, visibilityOf(entity)).allowed;

  const keyOf = (kind: EntityKind, item: { name?: string; uri?: string; uriTemplate?: string }) =>
    kind === 'resource' ? item.uri : kind === 'resource-template' ? item.uriTemplate : item.name;

  const filterVisible: Policy['filterVisible'] = (principal, kind, items) =>
    items.filter((item) => {
      const name = keyOf(kind, item);
      return name !== undefined && canCall(principal, { kind, name });
    });

  const canAdmin: Policy['canAdmin'] = (principal, action, target) => {
    const entityType = typeof target === 'string' ? target : target.type;
    const entity: EntityVisibility | undefined =
      typeof target === 'string' || target.visibility === undefined
        ? undefined
        : { owner: target.owner, team: target.team, visibility: target.visibility };
    if (principal.kind === 'token' || principal.kind === 'jwt') {
      const scope = action === 'read' ? [ADMIN_SCOPES.read] : [ADMIN_SCOPES.write];
      if (
        !hasScopes(principal, scope) &&
        !(action === 'read' && hasScopes(principal, [ADMIN_SCOPES.write]))
      ) {
        return false;
      }
    }
    const role = roleOf(principal);
    if (role === 'admin') return true;
    if (principal.kind === 'anonymous') return false;
    // Tokens and JWTs passed the scope check above; their owner's role decides the rest.
    if (adminOnly.has(entityType)) return false;
    const visible = entity === undefined || decide(principal, entity).allowed;
    if (action === 'read') return visible;
    if (role !== 'developer') return false;
    if (entity === undefined) return true;
    if (action === 'create') {
      return (
        (entity.owner === undefined || entity.owner === principal.id) &&
        (entity.team === undefined || principal.teams.includes(entity.team))
      );
    }
    if (entity.owner !== undefined && entity.owner === principal.id) return true;
    return (
      entity.team !== undefined && entity.visibility !== 'private' && principal.teams.includes(entity.team)
    );
  };

  const explain = (principal: Principal, entity: EntityRef): AuthzExplanation => {
    const known = options.visibilityOf(entity.kind, entity.name);
    const visibility = known ?? { visibility: defaultVisibility };
    const { allowed, reason } = decide(principal, visibility);
    const role = roleOf(principal);
    const steps = [
      `principal ${principal.id} (${principal.kind}); roles: ${list(principal.roles)}; effective role: ${role}; ` +
        `teams: ${list(principal.teams)}`,
      known
        ? `${entity.kind} ${entity.name}: visibility ${visibility.visibility}, owner ${visibility.owner ?? '(none)'}, ` +
          `team ${visibility.team ?? '(none)'}`
        : `${entity.kind} ${entity.name}: no ownership record; default visibility ${defaultVisibility}`,
      REASON_TEXT[reason](principal, visibility),
      allowed ? 'decision: ALLOW' : `decision: DENY (the call fails as "Unknown ${entity.kind}")`,
    ];
    return { allowed, steps, text: steps.join('\n') };
  };

  const hooks: RouterHooks = {
    beforeCall(call) {
      const entity = entityOfCall(call);
      if (!entity) return;
      const principal = principalOf(call);
      // Refusals name what the client asked for (an alias on a virtual server), like the endpoint's "unknown".
      const asked = { ...entity, name: call.requestedName ?? entity.name };
      if (!principal) {
        logger.warn(
          { method: call.method },
          'call without an auth context refused (wrap requests in runWithAuthContext)',
        );
        throw denial(asked);
      }
      const virtualServer = virtualServerOf(call);
      if (
        principal.virtualServers !== undefined &&
        (virtualServer === undefined || !principal.virtualServers.includes(virtualServer))
      ) {
        throw denial(asked);
      }
      if (!canCall(principal, entity)) throw denial(asked);
    },
  };

  return {
    canCall,
    canSee: (principal, ownership) => decide(principal, ownership).allowed,
    filterVisible,
    filterListResult(principal, method, result) {
      const spec = LIST_METHODS[method];
      if (!spec) return result;
      const items = result[spec.key];
      if (!Array.isArray(items)) return result;
      return { ...result, [spec.key]: filterVisible(principal, spec.kind, items) };
    },
    canAdmin,
    explain,
    hooks,
  };
}

const LIST_METHODS: Record<string, { key: string; kind: EntityKind }> = {
  'tools/list': { key: 'tools', kind: 'tool' },
  'prompts/list': { key: 'prompts', kind: 'prompt' },
  'resources/list': { key: 'resources', kind: 'resource' },
  'resources/templates/list': { key: 'resourceTemplates', kind: 'resource-template' },
};

/**
 * The entity a router call targets. `completion/complete` carries no public name in `CallInfo` (its ref is already
 * rewritten to the upstream's name), so it is not checked here.
 */
function entityOfCall(call: CallInfo): EntityRef | undefined {
  if (call.name === undefined) return undefined;
  switch (call.method) {
    case 'tools/call':
      return { kind: 'tool', name: call.name };
    case 'prompts/get':
      return { kind: 'prompt', name: call.name };
    case 'resources/read':
    case 'resources/subscribe':
      return { kind: 'resource', name: call.name };
    default:
      return undefined;
  }
}

/** The same error the router gives for a name it does not know, so a denial reveals nothing. */
function denial(entity: EntityRef): RpcError {
  if (entity.kind === 'tool') return new RpcError(RpcErrorCode.InvalidParams, `Unknown tool: ${entity.name}`);
  if (entity.kind === 'prompt')
    return new RpcError(RpcErrorCode.InvalidParams, `Unknown prompt: ${entity.name}`);
  return new RpcError(RpcErrorCode.ResourceNotFound, `Resource not found: ${entity.name}`, {
    uri: entity.name,
  });
}

function list(values: readonly string[]): string {
  return values.length === 0 ? '(none)' : values.join(', ');
}

const REASON_TEXT: Record<Reason, (principal: Principal, entity: EntityVisibility) => string> = {
  admin: () => 'the admin role may call everything',
  public: () => 'public entities may be called by everyone',
  owner: (p) => `${p.id} owns it`,
  'team-member': (_p, e) => `team visibility and the principal is in team ${e.team ?? ''}`,
  'anonymous-not-public': () => 'anonymous callers may only call public entities',
  'not-in-team': (p, e) =>
    `team visibility, but ${p.id} is neither in team ${e.team ?? '(none)'} nor the owner`,
  'not-owner': (p) => `private, and ${p.id} is not the owner`,
};
