import type { AdminAction, Principal } from '@mcp-gateway/auth';
import { GatewayError } from '@mcp-gateway/core';
import type { Ownership, Visibility, VisibilityFilter } from '@mcp-gateway/registry';
import type { RestAccess } from '../auth/request-access.ts';

/** The registry entities REST routes guard, as `Policy.canAdmin` names them. */
export type EntityType = 'gateway' | 'tool' | 'prompt' | 'resource' | 'virtual-server';

/** Ownership fields as a create or patch body gives them (`null` clears owner or team in a patch). */
export interface OwnershipBody {
  owner?: string | null;
  team?: string | null;
  visibility?: Visibility | null;
}

/**
 * The SQL visibility filter for `principal`'s lists and reads: `undefined` (every row) for whoever may read a
 * private entity it does not own (admins), else its id and teams. Anonymous callers see public entities only.
 */
export function visibilityFilterFor(
  access: RestAccess,
  principal: Principal,
  type: EntityType,
): VisibilityFilter | undefined {
  if (access.policy.canAdmin(principal, 'read', { type, visibility: 'private' })) return undefined;
  return principal.kind === 'anonymous'
    ? { teams: [] }
    : { principalId: principal.id, teams: principal.teams };
}

/** Per-request access checks of one route family; every method is a no-op without `access`. */
export interface EntityGuard {
  /** Whether access is checked at all (`access` was given). */
  readonly active: boolean;
  /** The filter for lists and get-one (see {@link visibilityFilterFor}); `undefined` without `access`. */
  filter(request: Request): VisibilityFilter | undefined;
  /**
   * The ownership a create stores: the body's, with `owner` defaulting to the caller (unless anonymous). Throws 403
   * when the caller may not create an entity so owned.
   */
  ownershipForCreate(request: Request, body: OwnershipBody): Partial<Ownership>;
  /**
   * Throws 403 unless the caller may `action` an entity it can see, owned as `current`; for an update that changes
   * the ownership, also unless it may give the entity its new ownership (as if creating it).
   */
  authorize(
    request: Request,
    action: Exclude<AdminAction, 'read' | 'create'>,
    entity: { current: Ownership; change?: OwnershipBody },
  ): void;
}

/** The {@link EntityGuard} of `type`'s routes. */
export function createEntityGuard(access: RestAccess | undefined, type: EntityType): EntityGuard {
  if (access !== undefined && (typeof access.principal !== 'function' || access.policy === undefined)) {
    throw new TypeError('`access` must have a `principal` function and a `policy`');
  }
  const label = type.replace('-', ' ');
  const refuse = (principal: Principal, action: AdminAction, reason: string): never => {
    throw new GatewayError('forbidden', `${principal.id} may not ${action} this ${label}: ${reason}`, {
      details: { action, type },
    });
  };
  const canCreate = (principal: Principal, ownership: Partial<Ownership>) =>
    access!.policy.canAdmin(principal, 'create', {
      type,
      owner: ownership.owner,
      team: ownership.team,
      visibility: ownership.visibility ?? 'public',
    });
  return {
    active: access !== undefined,
    filter: (request) =>
      access === undefined ? undefined : visibilityFilterFor(access, access.principal(request), type),

    ownershipForCreate(request, body) {
      const given = {
        owner: body.owner ?? undefined,
        team: body.team ?? undefined,
        visibility: body.visibility ?? undefined,
      };
      if (access === undefined) return given;
      const principal = access.principal(request);
      const ownership = {
        ...given,
        owner: given.owner ?? (principal.kind === 'anonymous' ? undefined : principal.id),
      };
      if (!canCreate(principal, ownership)) {
        refuse(principal, 'create', 'its role does not allow it, or the owner or team given is not its own');
      }
      return ownership;
    },

    authorize(request, action, { current, change }) {
      if (access === undefined) return;
      const principal = access.principal(request);
      const target = { type, owner: current.owner, team: current.team, visibility: current.visibility };
      if (!access.policy.canAdmin(principal, action, target)) {
        refuse(principal, action, 'it neither owns it nor shares its team, or its role does not allow it');
      }
      const changes =
        change !== undefined &&
        (change.owner !== undefined || change.team !== undefined || change.visibility !== undefined);
      if (!changes) return;
      const next = {
        owner: change.owner === undefined ? current.owner : (change.owner ?? undefined),
        team: change.team === undefined ? current.team : (change.team ?? undefined),
        visibility: change.visibility === undefined ? current.visibility : (change.visibility ?? 'public'),
      };
      if (!canCreate(principal, next)) {
        refuse(principal, action, 'the new owner or team is not its own');
      }
    },
  };
}
