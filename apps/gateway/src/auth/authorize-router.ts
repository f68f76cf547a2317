import { currentAuthContext, anonymousPrincipal, type EntityKind, type Policy } from '@mcp-gateway/auth';
import { RpcError, RpcErrorCode, type CatalogView, type Router, type RpcParams } from '@mcp-gateway/core';

const LISTS: Record<string, { key: string; kind: EntityKind }> = {
  'tools/list': { key: 'tools', kind: 'tool' },
  'prompts/list': { key: 'prompts', kind: 'prompt' },
  'resources/list': { key: 'resources', kind: 'resource' },
  'resources/templates/list': { key: 'resourceTemplates', kind: 'resource-template' },
};

/** Used when a request somehow arrives without an auth context: it sees only public items (fail closed). */
const NOBODY = anonymousPrincipal();

/**
 * Wraps the router so each caller sees only what the policy lets it call: list answers drop hidden items (under a
 * virtual server's aliases too), and a completion for a hidden prompt or resource fails as if it did not exist.
 * Calls themselves are checked by the policy's router hooks. Admins skip the filtering entirely.
 */
export function authorizeRouter(router: Router, policy: Policy): Router {
  const principalNow = () => currentAuthContext()?.principal ?? NOBODY;

  /** The public name on the gateway's own endpoint for a name seen through `view`. */
  const publicName = (kind: EntityKind, name: string, view: CatalogView | undefined): string => {
    if (!view) return name;
    if (kind === 'tool') return view.tools.get(name) ?? name;
    if (kind === 'prompt') return view.prompts.get(name) ?? name;
    return name; // resources keep their public URIs in views
  };

  const checkCompletion = (params: RpcParams | undefined, view: CatalogView | undefined) => {
    const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
    const principal = principalNow();
    if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
      if (!policy.canCall(principal, { kind: 'prompt', name: publicName('prompt', ref.name, view) })) {
        throw new RpcError(RpcErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`);
      }
    } else if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      const allowed =
        policy.canCall(principal, { kind: 'resource-template', name: ref.uri }) &&
        policy.canCall(principal, { kind: 'resource', name: ref.uri });
      if (!allowed) throw new RpcError(RpcErrorCode.ResourceNotFound, `Resource not found: ${ref.uri}`);
    }
  };

  return {
    ...router,
    async handle(method, params, context) {
      const principal = principalNow();
      const admin = principal.roles.includes('admin');
      if (method === 'completion/complete' && !admin) checkCompletion(params, context?.view);
      const result = await router.handle(method, params, context);
      const list = LISTS[method];
      if (!list || admin) return result;
      const items = result[list.key];
      if (!Array.isArray(items)) return result;
      const view = context?.view;
      const visible = items.filter((item: { name?: string; uri?: string; uriTemplate?: string }) => {
        const key =
          list.kind === 'resource'
            ? item.uri
            : list.kind === 'resource-template'
              ? item.uriTemplate
              : item.name;
        return (
          key !== undefined &&
          policy.canCall(principal, { kind: list.kind, name: publicName(list.kind, key, view) })
        );
      });
      return visible.length === items.length ? result : { ...result, [list.key]: visible };
    },
  };
}
