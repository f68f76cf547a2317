import { DEFAULT_NAME_SEPARATOR, toPublicName, toPublicUri } from './naming.ts';
import type { Prompt, Resource, ResourceTemplate, Tool } from './mcp-types.ts';
import type { Upstream } from './upstream.ts';

/** An administrator's changes to one upstream item, kept beside (never instead of) its definition. */
export interface ItemOverride {
  /** Replaces the whole public name (`namespace__name`). */
  readonly alias?: string;
  /** `false` hides the item: not listed, calls refused as unknown. */
  readonly enabled?: boolean;
  readonly description?: string;
  /** Merged over the upstream's annotations. */
  readonly annotations?: Record<string, unknown>;
}

/** One upstream as the catalog sees it: the connection and the namespace its names are exposed under. */
export interface CatalogMember {
  readonly upstream: Upstream;
  /** `''` exposes the upstream's names unprefixed. */
  readonly namespace: string;
  /**
   * Overrides by original tool name, prompt name and resource URI. Read as immutable, like upstream catalogs:
   * snapshots reuse what they computed from the same maps and lists, so change them by passing new ones.
   */
  readonly overrides?: {
    readonly tools?: ReadonlyMap<string, ItemOverride>;
    readonly prompts?: ReadonlyMap<string, ItemOverride>;
    readonly resources?: ReadonlyMap<string, ItemOverride>;
  };
}

/**
 * What one virtual server exposes: chosen items of the full catalog, each under its public name there (an alias
 * or the catalog's own public name). Clients of the virtual server see only these.
 */
export interface CatalogView {
  readonly id: string;
  /** Name in this view → public name in the full catalog. */
  readonly tools: ReadonlyMap<string, string>;
  readonly prompts: ReadonlyMap<string, string>;
  /** Public URIs (and URI templates) of the full catalog this view includes. */
  readonly resources: ReadonlySet<string>;
}

/** Where a public tool or prompt name leads: the upstream and the name it has there. */
export interface ItemRoute {
  readonly upstream: Upstream;
  readonly namespace: string;
  readonly name: string;
}

/** An item left out of the merged catalog because another upstream already exposes its public name. */
export interface CatalogConflict {
  readonly kind: 'tool' | 'prompt' | 'resource' | 'resource template' | 'namespace';
  readonly publicName: string;
  /** The upstream whose item was refused. */
  readonly upstreamId: string;
  /** The upstream that keeps the name (the one registered first). */
  readonly ownerId: string;
  readonly message: string;
}

interface UnprefixedMember {
  readonly upstream: Upstream;
  readonly matchers: readonly RegExp[];
}

/**
 * An immutable view of the merged catalog. The router answers every list and routes every call from one snapshot,
 * with no database query and no upstream round trip; a change builds a new snapshot and swaps it in.
 */
export interface CatalogSnapshot {
  readonly version: number;
  readonly tools: readonly Tool[];
  readonly prompts: readonly Prompt[];
  readonly resources: readonly Resource[];
  readonly resourceTemplates: readonly ResourceTemplate[];
  readonly toolRoutes: ReadonlyMap<string, ItemRoute>;
  readonly promptRoutes: ReadonlyMap<string, ItemRoute>;
  /** Public name → the tool or prompt as listed (for views). */
  readonly toolsByName: ReadonlyMap<string, Tool>;
  readonly promptsByName: ReadonlyMap<string, Prompt>;
  /** Non-empty namespace → member, for namespaced resource URIs. */
  readonly namespaces: ReadonlyMap<string, CatalogMember>;
  /** Exact public URI → route, for resources of unprefixed upstreams. */
  readonly resourceRoutes: ReadonlyMap<string, ItemRoute>;
  readonly unprefixed: readonly UnprefixedMember[];
  readonly conflicts: readonly CatalogConflict[];
}

/** Options of {@link buildCatalogSnapshot}. */
export interface BuildCatalogSnapshotOptions {
  /** Separator between namespace and name. Default `__`. */
  separator?: string;
  version?: number;
}

/** Turns a URI template into a matcher for URIs expanded from it (`{x}` one segment, `{+x}` and others anything). */
export function uriTemplateMatcher(template: string): RegExp {
  let pattern = '';
  let last = 0;
  for (const match of template.matchAll(/\{([^}]*)\}/g)) {
    pattern += escapeRegExp(template.slice(last, match.index));
    const operator = match[1]?.[0] ?? '';
    pattern += operator === '' || /[A-Za-z0-9_]/.test(operator) ? '[^/?#]*' : '.*';
    last = match.index + match[0].length;
  }
  pattern += escapeRegExp(template.slice(last));
  return new RegExp(`^${pattern}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Merges the members' catalogs into one snapshot with reversible public names. Members are taken in order: when two
 * expose the same public name, the earlier keeps it and the later one's item is refused and reported in `conflicts`
 * (only possible with unprefixed members, or with a name shortened onto another).
 */
export function buildCatalogSnapshot(
  members: readonly CatalogMember[],
  options: BuildCatalogSnapshotOptions = {},
): CatalogSnapshot {
  const separator = options.separator ?? DEFAULT_NAME_SEPARATOR;
  const tools: Tool[] = [];
  const prompts: Prompt[] = [];
  const resources: Resource[] = [];
  const resourceTemplates: ResourceTemplate[] = [];
  const toolRoutes = new Map<string, ItemRoute>();
  const promptRoutes = new Map<string, ItemRoute>();
  const toolsByName = new Map<string, Tool>();
  const promptsByName = new Map<string, Prompt>();
  const resourceRoutes = new Map<string, ItemRoute>();
  const templateOwners = new Map<string, string>();
  const namespaces = new Map<string, CatalogMember>();
  const unprefixed: UnprefixedMember[] = [];
  const conflicts: CatalogConflict[] = [];

  const refuse = (
    member: CatalogMember,
    item: { kind: CatalogConflict['kind']; publicName: string; ownerId: string },
  ) => {
    const { kind, publicName, ownerId } = item;
    const owner = members.find((m) => m.upstream.id === ownerId)?.upstream.name ?? ownerId;
    conflicts.push({
      kind,
      publicName,
      upstreamId: member.upstream.id,
      ownerId,
      message:
        `${kind} "${publicName}" of upstream "${member.upstream.name}" is hidden: upstream "${owner}" already ` +
        `exposes that name; give one of them a namespace`,
    });
  };

  for (const member of members) {
    const { upstream, namespace } = member;
    const catalog = upstream.getCatalog();
    if (namespace !== '') {
      const owner = namespaces.get(namespace);
      if (owner) {
        // Every name of this member would collide: refuse the member as a whole.
        conflicts.push({
          kind: 'namespace',
          publicName: namespace,
          upstreamId: upstream.id,
          ownerId: owner.upstream.id,
          message:
            `upstream "${upstream.name}" is hidden: its namespace "${namespace}" is already used by upstream ` +
            `"${owner.upstream.name}"; give one of them another namespace`,
        });
        continue;
      }
      namespaces.set(namespace, member);
    }

    const toolEntries = namedEntries(catalog.tools, member, {
      overrides: member.overrides?.tools,
      separator,
    });
    for (const { publicName, route, listed } of toolEntries) {
      const owner = toolRoutes.get(publicName);
      if (owner) {
        refuse(member, { kind: 'tool', publicName: publicName, ownerId: owner.upstream.id });
        continue;
      }
      toolRoutes.set(publicName, route);
      toolsByName.set(publicName, listed);
      tools.push(listed);
    }
    const promptEntries = namedEntries(catalog.prompts, member, {
      overrides: member.overrides?.prompts,
      separator,
    });
    for (const { publicName, route, listed } of promptEntries) {
      const owner = promptRoutes.get(publicName);
      if (owner) {
        refuse(member, { kind: 'prompt', publicName: publicName, ownerId: owner.upstream.id });
        continue;
      }
      promptRoutes.set(publicName, route);
      promptsByName.set(publicName, listed);
      prompts.push(listed);
    }
    for (const resource of catalog.resources) {
      if (member.overrides?.resources?.get(resource.uri)?.enabled === false) continue;
      const uri = toPublicUri(namespace, resource.uri);
      if (namespace === '') {
        const owner = resourceRoutes.get(uri);
        if (owner) {
          refuse(member, { kind: 'resource', publicName: uri, ownerId: owner.upstream.id });
          continue;
        }
        resourceRoutes.set(uri, { upstream, namespace, name: resource.uri });
      }
      resources.push(
        namespace === '' ? resource : listedItem(resource, { publicName: uri }, () => ({ ...resource, uri })),
      );
    }
    for (const template of catalog.resourceTemplates) {
      if (member.overrides?.resources?.get(template.uriTemplate)?.enabled === false) continue;
      const uriTemplate = toPublicUri(namespace, template.uriTemplate);
      const owner = templateOwners.get(uriTemplate);
      if (owner !== undefined) {
        refuse(member, { kind: 'resource template', publicName: uriTemplate, ownerId: owner });
        continue;
      }
      templateOwners.set(uriTemplate, upstream.id);
      resourceTemplates.push(
        namespace === ''
          ? template
          : listedItem(template, { publicName: uriTemplate }, () => ({ ...template, uriTemplate })),
      );
    }
    if (namespace === '') {
      unprefixed.push({
        upstream,
        matchers: catalog.resourceTemplates.map((t) => uriTemplateMatcher(t.uriTemplate)),
      });
    }
  }

  return Object.freeze({
    version: options.version ?? 0,
    tools,
    prompts,
    resources,
    resourceTemplates,
    toolRoutes,
    promptRoutes,
    toolsByName,
    promptsByName,
    namespaces,
    resourceRoutes,
    unprefixed,
    conflicts,
  });
}

/** A tool or prompt of one member as listed, before name conflicts with other members are looked at. */
interface NamedEntry<T> {
  readonly publicName: string;
  readonly route: ItemRoute;
  readonly listed: T;
}

interface NamedEntries {
  readonly upstream: Upstream;
  readonly namespace: string;
  readonly overrides: ReadonlyMap<string, ItemOverride> | undefined;
  readonly separator: string;
  readonly entries: readonly NamedEntry<object>[];
}

/** Per list an upstream returned (lists are immutable): its entries, with what they were computed from. */
const namedEntriesCache = new WeakMap<readonly object[], NamedEntries>();

/**
 * A member's tools or prompts under their public names. Computed once per upstream list, namespace and overrides:
 * a rebuild caused by another member (a hundred of them connecting at start-up) reuses them as they are.
 */
function namedEntries<T extends { name: string; description?: string; annotations?: unknown }>(
  items: readonly T[],
  member: CatalogMember,
  options: { overrides: ReadonlyMap<string, ItemOverride> | undefined; separator: string },
): readonly NamedEntry<T>[] {
  const { upstream, namespace } = member;
  const { overrides, separator } = options;
  const cached = namedEntriesCache.get(items);
  if (
    cached?.upstream === upstream &&
    cached.namespace === namespace &&
    cached.overrides === overrides &&
    cached.separator === separator
  )
    return cached.entries as readonly NamedEntry<T>[];
  const entries: NamedEntry<T>[] = [];
  for (const item of items) {
    const override = overrides?.get(item.name);
    if (override?.enabled === false) continue;
    const publicName = override?.alias ?? toPublicName(namespace, item.name, separator);
    entries.push({
      publicName,
      route: { upstream, namespace, name: item.name },
      listed: listedItem(item, { publicName, override }, () => applyOverride(item, publicName, override)),
    });
  }
  namedEntriesCache.set(items, { upstream, namespace, overrides, separator, entries });
  return entries;
}

/** What an item is listed as: its public name (or URI) and the administrator's override. */
interface ListedAs {
  readonly publicName: string;
  readonly override?: ItemOverride;
}

/** The object each upstream item was last listed as, with what it was built from. */
const listedItems = new WeakMap<object, ListedAs & { readonly listed: object }>();

/**
 * The item as listed, reusing the object of the previous snapshot when the item, its public name and its override
 * are the same ones: a rebuild then keeps the unchanged items identical, which makes comparing snapshots cheap and
 * allocates nothing for them.
 */
function listedItem<T extends object>(item: T, as: ListedAs, build: () => T): T {
  const cached = listedItems.get(item);
  if (cached?.publicName === as.publicName && cached.override === as.override) return cached.listed as T;
  const listed = build();
  if (listed !== item) listedItems.set(item, { ...as, listed });
  return listed;
}

/** The item as listed: its public name, with an administrator's description and annotations applied. */
function applyOverride<T extends { name: string; description?: string; annotations?: unknown }>(
  item: T,
  publicName: string,
  override: ItemOverride | undefined,
): T {
  if (publicName === item.name && !override?.description && !override?.annotations) return item;
  const listed: T = { ...item, name: publicName };
  if (override?.description !== undefined) listed.description = override.description;
  if (override?.annotations)
    listed.annotations = { ...(item.annotations as object), ...override.annotations };
  return listed;
}
