import type { Prompt, Resource, ResourceTemplate, Tool } from '@mcp-gateway/core';
import {
  alias,
  bool,
  checkShape,
  description,
  icon,
  integer,
  isPlainObject,
  localContent,
  oneOf,
  pathOf,
  plainObject,
  promptDefinition,
  promptTemplate,
  resourceAlias,
  resourceDefinition,
  stringList,
  stringRecord,
  tags,
  text,
} from './catalog-validation.ts';
import type { Check, FieldRule, Issues } from './catalog-validation.ts';
import type { GatewayProtocolEra, GatewayRecord, GatewayTransport } from './gateway-store.ts';
import type { Ownership } from './ownership.ts';
import { VISIBILITIES } from './ownership.ts';
import type { RegistryContents } from './load-registry.ts';
import type { PromptRecord, PromptTemplate } from './prompt-store.ts';
import { templateArguments } from './prompt-store.ts';
import { passthroughHeaderProblem } from './passthrough-headers.ts';
import type { LocalResourceContent, ResourceKind, ResourceRecord } from './resource-store.ts';
import { resourceKindOf } from './resource-store.ts';
import { uniqueTags } from './store-support.ts';
import type { ToolRecord } from './tool-store.ts';
import type { VirtualServerMemberKind, VirtualServerRecord } from './virtual-server-store.ts';

/**
 * The whole registry as portable, declarative data: no ids, no timestamps, items keyed by their gateway's name and
 * their original name (or URI). Secrets (env, headers) are included as stored. See {@link exportRegistry} and
 * {@link importRegistry}.
 */
export interface RegistryDocument {
  version: 1;
  gateways: GatewayDocument[];
  tools: ToolDocument[];
  resources: ResourceDocument[];
  prompts: PromptDocument[];
  virtualServers: VirtualServerDocument[];
}

/**
 * A gateway; the same fields as `GatewayInput`. Absent fields take their defaults on import (`visibility`: public;
 * exports leave the default out).
 */
export interface GatewayDocument extends Partial<Ownership> {
  name: string;
  transport: GatewayTransport;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  headers?: Record<string, string>;
  /** Inbound header names forwarded to an HTTP upstream (see `GatewayRecord.passthroughHeaders`). */
  passthroughHeaders?: string[];
  namespace?: string;
  enabled?: boolean;
  timeoutMs?: number;
  protocolEra?: GatewayProtocolEra;
  tags?: string[];
}

/**
 * A tool. Under a `gateway` it is a discovered tool: the entry carries the overrides, and `definition` is only used
 * until the upstream is synced (a placeholder when absent). Without one it is a local tool and `definition` is
 * required and authoritative.
 */
export interface ToolDocument extends Partial<Ownership> {
  gateway?: string;
  /** The original name (`definition.name`). */
  name: string;
  definition?: Tool;
  integration?: string;
  integrationConfig?: Record<string, unknown>;
  enabled?: boolean;
  alias?: string;
  descriptionOverride?: string;
  annotationsOverride?: Record<string, unknown>;
  tags?: string[];
}

/** A resource or resource template; `gateway` and `definition` as for {@link ToolDocument}. */
export interface ResourceDocument extends Partial<Ownership> {
  gateway?: string;
  /** The `uri`, or the template's `uriTemplate`. */
  uri: string;
  /** Default: from `definition`, else `'resource'`. */
  kind?: ResourceKind;
  definition?: Resource | ResourceTemplate;
  localContent?: LocalResourceContent;
  enabled?: boolean;
  tags?: string[];
}

/** A prompt; a local one needs `definition` or `template` (or both). */
export interface PromptDocument extends Partial<Ownership> {
  gateway?: string;
  name: string;
  definition?: Prompt;
  template?: PromptTemplate;
  enabled?: boolean;
  alias?: string;
  descriptionOverride?: string;
  tags?: string[];
}

/** A virtual server; members name their items portably. */
export interface VirtualServerDocument extends Partial<Ownership> {
  name: string;
  description?: string;
  icon?: string;
  enabled?: boolean;
  tags?: string[];
  members?: VirtualServerMemberDocument[];
}

/** A member: a tool or prompt by (gateway, original name), a resource by (gateway, URI); no gateway means local. */
export type VirtualServerMemberDocument =
  | { kind: 'tool' | 'prompt'; gateway?: string; name: string; alias?: string }
  | { kind: 'resource'; gateway?: string; uri: string; alias?: string };

/** How {@link importRegistry} treats what the document does not mention. */
export type ImportMode = 'merge' | 'replace';

// ---- The validated form (internal) --------------------------------------------------------------------------------

/** A gateway's configurable state, `undefined` for absent optional values: comparable with {@link gatewayStateOf}. */
export interface GatewayState extends Ownership {
  transport: GatewayTransport;
  command?: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  url?: string;
  headers: Record<string, string>;
  passthroughHeaders: string[];
  namespace?: string;
  enabled: boolean;
  timeoutMs?: number;
  protocolEra?: GatewayProtocolEra;
  tags: string[];
}

/** A tool's configurable state, comparable with {@link toolStateOf}. */
export interface ToolState extends Ownership {
  integration: string;
  integrationConfig?: Record<string, unknown>;
  enabled: boolean;
  alias?: string;
  descriptionOverride?: string;
  annotationsOverride?: Record<string, unknown>;
  tags: string[];
  /** Compared and written for local tools only. */
  definition?: Tool;
}

/** A resource's configurable state, comparable with {@link resourceStateOf}. */
export interface ResourceState extends Ownership {
  localContent?: LocalResourceContent;
  enabled: boolean;
  tags: string[];
  /** Local resources only. */
  definition?: Resource | ResourceTemplate;
}

/** A prompt's configurable state, comparable with {@link promptStateOf}. */
export interface PromptState extends Ownership {
  enabled: boolean;
  alias?: string;
  descriptionOverride?: string;
  tags: string[];
  /** Local prompts only. */
  definition?: Prompt;
  template?: PromptTemplate;
}

/** A virtual server's own fields (members apart), comparable with {@link virtualServerStateOf}. */
export interface VirtualServerState extends Ownership {
  description?: string;
  icon?: string;
  enabled: boolean;
  tags: string[];
}

/** A scoped item key: gateway name (`''` for local) and original name or URI. */
export function itemKey(gateway: string | undefined, name: string): string {
  return `${gateway ?? ''}\u0000${name}`;
}

interface Entry {
  /** Where the entry sits in the document, e.g. `tools.3`. */
  path: string;
}

/** A well-formed gateway entry. */
export interface GatewayEntry extends Entry {
  name: string;
  state: GatewayState;
}

/** A well-formed tool entry. */
export interface ToolEntry extends Entry {
  gateway?: string;
  name: string;
  /** The definition to insert with when the row is new (a placeholder for a discovered tool without one). */
  definition: Tool;
  state: ToolState;
}

/** A well-formed resource entry. */
export interface ResourceEntry extends Entry {
  gateway?: string;
  uri: string;
  definition: Resource | ResourceTemplate;
  state: ResourceState;
}

/** A well-formed prompt entry. */
export interface PromptEntry extends Entry {
  gateway?: string;
  name: string;
  definition: Prompt;
  state: PromptState;
}

/** A well-formed virtual-server member, not yet resolved to an id. */
export interface MemberEntry extends Entry {
  kind: VirtualServerMemberKind;
  gateway?: string;
  /** Original name, or URI for resources. */
  key: string;
  alias?: string;
}

/** A well-formed virtual-server entry. */
export interface VirtualServerEntry extends Entry {
  name: string;
  state: VirtualServerState;
  members: MemberEntry[];
}

/** A document that passed the structural checks: only well-formed entries, defaults applied. */
export interface ImportPlan {
  gateways: GatewayEntry[];
  tools: ToolEntry[];
  resources: ResourceEntry[];
  prompts: PromptEntry[];
  virtualServers: VirtualServerEntry[];
  /**
   * Keys named by every entry, well-formed or not, so a reference to a malformed entry is not reported a second time
   * as a missing one.
   */
  mentioned: { gateway: Set<string>; tool: Set<string>; resource: Set<string>; prompt: Set<string> };
}

// In a document, `null` means absent: YAML users write `alias: ~`.
function optional(check: Check): FieldRule {
  return { check, nullable: true };
}

const nameText = text({
  maxLength: 100,
  pattern: /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/,
  message: 'must start with a letter or digit and contain only letters, digits, spaces, ".", "_" and "-"',
});

const transports = ['stdio', 'streamable-http', 'sse', 'websocket'] as const;

const ownershipFields = {
  owner: optional(text({ maxLength: 200 })),
  team: optional(text({ maxLength: 200 })),
  visibility: optional(oneOf(VISIBILITIES)),
};

/** The ownership of an entry, `public` when it gives no visibility. */
function ownershipOfEntry(entry: Partial<Ownership>): Ownership {
  return { owner: entry.owner, team: entry.team, visibility: entry.visibility ?? 'public' };
}

/** The ownership of a record, for comparing with an entry's. */
function ownershipOfRecord(record: Ownership): Ownership {
  return { owner: record.owner, team: record.team, visibility: record.visibility };
}

const httpUrl: Check = (value, path, issues) => {
  text()(value, path, issues);
  if (typeof value !== 'string' || value === '') return;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    issues.push({ path, message: 'must be an http(s):// or ws(s):// URL' });
  }
};

const namespace = text({
  allowEmpty: true,
  pattern: /^$|^(?!.*__)[A-Za-z0-9_-]{0,31}[A-Za-z0-9-]$/,
  message:
    'must be empty (no prefix) or 1 to 32 letters, digits, "_" or "-", without "__" and not ending with "_"',
});

const integrationName = text({
  pattern: /^[a-z][a-z0-9-]{0,31}$/,
  message: 'must be 1 to 32 lowercase letters, digits or "-", starting with a letter',
});

const passthroughHeaderList: Check = (value, path, issues) => {
  const before = issues.length;
  stringList(value, path, issues);
  if (issues.length > before) return;
  (value as string[]).forEach((entry, index) => {
    const problem = passthroughHeaderProblem(entry);
    if (problem !== undefined) issues.push({ path: pathOf(path, index), message: problem });
  });
};

const gatewayShape = {
  required: ['name', 'transport'],
  fields: {
    name: { check: nameText },
    transport: { check: oneOf(transports) },
    command: optional(text()),
    args: optional(stringList),
    env: optional(stringRecord),
    cwd: optional(text()),
    url: optional(httpUrl),
    headers: optional(stringRecord),
    passthroughHeaders: optional(passthroughHeaderList),
    namespace: optional(namespace),
    enabled: optional(bool),
    timeoutMs: optional(integer(100, 600_000)),
    protocolEra: optional(oneOf(['auto', 'legacy', 'modern'])),
    tags: optional(tags),
    ...ownershipFields,
  },
  unknownKeys: 'report' as const,
};

const itemFields = {
  ...ownershipFields,
  gateway: optional(text()),
  enabled: optional(bool),
  tags: optional(tags),
};

const toolShape = {
  required: ['name'],
  fields: {
    ...itemFields,
    name: { check: text({ maxLength: 1000 }) },
    definition: optional(plainObject),
    integration: optional(integrationName),
    integrationConfig: optional(plainObject),
    alias: optional(alias),
    descriptionOverride: optional(description),
    annotationsOverride: optional(plainObject),
  },
  unknownKeys: 'report' as const,
};

const resourceShape = {
  required: ['uri'],
  fields: {
    ...itemFields,
    uri: { check: text({ maxLength: 4096 }) },
    kind: optional(oneOf(['resource', 'template'])),
    definition: optional(plainObject),
    localContent: optional(localContent),
  },
  unknownKeys: 'report' as const,
};

const promptShape = {
  required: ['name'],
  fields: {
    ...itemFields,
    name: { check: text({ maxLength: 1000 }) },
    definition: optional(plainObject),
    template: optional(promptTemplate),
    alias: optional(alias),
    descriptionOverride: optional(description),
  },
  unknownKeys: 'report' as const,
};

const memberKinds = ['tool', 'prompt', 'resource'] as const;

const virtualServerShape = {
  required: ['name'],
  fields: {
    name: { check: nameText },
    description: optional(description),
    icon: optional(icon),
    enabled: optional(bool),
    tags: optional(tags),
    ...ownershipFields,
    members: optional((value, path, issues) => {
      if (!Array.isArray(value)) issues.push({ path, message: 'must be a list' });
    }),
  },
  unknownKeys: 'report' as const,
};

const documentKeys = ['version', 'gateways', 'tools', 'resources', 'prompts', 'virtualServers'] as const;

/** Drops `null` and `undefined` values, so a document's `null` reads as absent. */
function present(entry: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(entry).filter(([, value]) => value !== undefined && value !== null),
  );
}

/**
 * Checks the document's structure, entry by entry, appending every problem to `issues`; returns the entries that
 * passed, with defaults applied. References between entries and to the database are checked by
 * {@link checkReferences}.
 */
export function readRegistryDocument(value: unknown, issues: Issues): ImportPlan {
  const plan: ImportPlan = {
    gateways: [],
    tools: [],
    resources: [],
    prompts: [],
    virtualServers: [],
    mentioned: { gateway: new Set(), tool: new Set(), resource: new Set(), prompt: new Set() },
  };
  if (!isPlainObject(value)) {
    issues.push({ path: '(root)', message: 'must be an object' });
    return plan;
  }
  for (const key of Object.keys(value)) {
    if (!(documentKeys as readonly string[]).includes(key))
      issues.push({ path: key, message: 'unknown field' });
  }
  if (value.version !== 1) issues.push({ path: 'version', message: 'must be 1' });
  const sections = Object.fromEntries(
    documentKeys.slice(1).map((key) => {
      const section = value[key];
      if (section === undefined || section === null) return [key, []];
      if (!Array.isArray(section)) {
        issues.push({ path: key, message: 'must be a list' });
        return [key, []];
      }
      return [key, section as unknown[]];
    }),
  ) as Record<(typeof documentKeys)[number], unknown[]>;

  const mention = (kind: keyof ImportPlan['mentioned'], raw: unknown, keyField: string) => {
    if (!isPlainObject(raw) || typeof raw[keyField] !== 'string') return;
    const gateway = typeof raw.gateway === 'string' ? raw.gateway : undefined;
    plan.mentioned[kind].add(kind === 'gateway' ? raw[keyField] : itemKey(gateway, raw[keyField]));
  };
  sections.gateways.forEach((raw) => mention('gateway', raw, 'name'));
  sections.tools.forEach((raw) => mention('tool', raw, 'name'));
  sections.resources.forEach((raw) => mention('resource', raw, 'uri'));
  sections.prompts.forEach((raw) => mention('prompt', raw, 'name'));

  sections.gateways.forEach((raw, index) => {
    const entry = readGateway(raw, `gateways.${index}`, issues);
    if (entry !== undefined) plan.gateways.push(entry);
  });
  sections.tools.forEach((raw, index) => {
    const entry = readTool(raw, `tools.${index}`, issues);
    if (entry !== undefined) plan.tools.push(entry);
  });
  sections.resources.forEach((raw, index) => {
    const entry = readResource(raw, `resources.${index}`, issues);
    if (entry !== undefined) plan.resources.push(entry);
  });
  sections.prompts.forEach((raw, index) => {
    const entry = readPrompt(raw, `prompts.${index}`, issues);
    if (entry !== undefined) plan.prompts.push(entry);
  });
  sections.virtualServers.forEach((raw, index) => {
    const entry = readVirtualServer(raw, `virtualServers.${index}`, issues);
    if (entry !== undefined) plan.virtualServers.push(entry);
  });
  return plan;
}

/** Runs `read` and returns its result only when it added no issue. */
function clean<T>(issues: Issues, read: () => T | undefined): T | undefined {
  const before = issues.length;
  const result = read();
  return issues.length === before ? result : undefined;
}

function readGateway(raw: unknown, path: string, issues: Issues): GatewayEntry | undefined {
  return clean(issues, () => {
    if (!checkShape(gatewayShape)(raw, path, issues)) return undefined;
    const entry = present(raw) as unknown as GatewayDocument;
    if (!(transports as readonly string[]).includes(entry.transport)) return undefined;
    const isStdio = entry.transport === 'stdio';
    const required = isStdio ? ['command'] : ['url'];
    const forbidden = isStdio
      ? ['url', 'headers', 'passthroughHeaders']
      : entry.transport === 'websocket'
        ? ['command', 'args', 'env', 'cwd', 'passthroughHeaders']
        : ['command', 'args', 'env', 'cwd'];
    for (const field of required) {
      if (!hasContent(raw[field])) {
        issues.push({
          path: pathOf(path, field),
          message: `is required when transport is "${entry.transport}"`,
        });
      }
    }
    for (const field of forbidden) {
      if (hasContent(raw[field])) {
        issues.push({
          path: pathOf(path, field),
          message: `is not allowed when transport is "${entry.transport}"`,
        });
      }
    }
    return {
      path,
      name: entry.name,
      state: {
        transport: entry.transport,
        command: entry.command,
        args: entry.args ?? [],
        env: entry.env ?? {},
        cwd: entry.cwd,
        url: entry.url,
        headers: entry.headers ?? {},
        passthroughHeaders: entry.passthroughHeaders ?? [],
        namespace: entry.namespace,
        enabled: entry.enabled ?? true,
        timeoutMs: entry.timeoutMs,
        protocolEra: entry.protocolEra,
        tags: uniqueTags(entry.tags),
        ...ownershipOfEntry(entry),
      },
    };
  });
}

// Empty lists and objects count as absent: they are the defaults.
function hasContent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}

function readTool(raw: unknown, path: string, issues: Issues): ToolEntry | undefined {
  return clean(issues, () => {
    if (!checkShape(toolShape)(raw, path, issues)) return undefined;
    const entry = present(raw) as unknown as ToolDocument;
    const definitionPath = pathOf(path, 'definition');
    if (entry.definition !== undefined) {
      const before = issues.length;
      checkShape({
        required: ['name', 'inputSchema'],
        fields: { name: { check: text() }, inputSchema: { check: plainObject } },
      })(entry.definition, definitionPath, issues);
      if (issues.length === before && entry.definition.name !== entry.name) {
        issues.push({ path: pathOf(definitionPath, 'name'), message: 'must equal the entry’s name' });
      }
    } else if (entry.gateway === undefined) {
      issues.push({ path: definitionPath, message: 'is required for a local tool (one without gateway)' });
    }
    const definition = entry.definition ?? { name: entry.name, inputSchema: { type: 'object' } };
    return {
      path,
      gateway: entry.gateway,
      name: entry.name,
      definition,
      state: {
        integration: entry.integration ?? 'mcp',
        integrationConfig: entry.integrationConfig,
        enabled: entry.enabled ?? true,
        alias: entry.alias,
        descriptionOverride: entry.descriptionOverride,
        annotationsOverride: entry.annotationsOverride,
        tags: uniqueTags(entry.tags),
        ...ownershipOfEntry(entry),
        definition: entry.gateway === undefined ? definition : undefined,
      },
    };
  });
}

function readResource(raw: unknown, path: string, issues: Issues): ResourceEntry | undefined {
  return clean(issues, () => {
    if (!checkShape(resourceShape)(raw, path, issues)) return undefined;
    const entry = present(raw) as unknown as ResourceDocument;
    const kind =
      entry.kind ?? (entry.definition === undefined ? 'resource' : resourceKindOf(entry.definition));
    const definitionPath = pathOf(path, 'definition');
    if (entry.definition !== undefined) {
      const before = issues.length;
      resourceDefinition(kind)(entry.definition, definitionPath, issues);
      const key = kind === 'template' ? 'uriTemplate' : 'uri';
      if (
        issues.length === before &&
        (entry.definition as unknown as Record<string, unknown>)[key] !== entry.uri
      ) {
        issues.push({ path: pathOf(definitionPath, key), message: 'must equal the entry’s uri' });
      }
    } else if (entry.gateway === undefined) {
      issues.push({
        path: definitionPath,
        message: 'is required for a local resource (one without gateway)',
      });
    }
    if (entry.localContent !== undefined && (entry.gateway !== undefined || kind === 'template')) {
      issues.push({
        path: pathOf(path, 'localContent'),
        message: 'only local concrete resources have content',
      });
    }
    const definition =
      entry.definition ??
      (kind === 'template'
        ? { uriTemplate: entry.uri, name: entry.uri }
        : { uri: entry.uri, name: entry.uri });
    return {
      path,
      gateway: entry.gateway,
      uri: entry.uri,
      definition,
      state: {
        localContent: entry.localContent,
        enabled: entry.enabled ?? true,
        tags: uniqueTags(entry.tags),
        ...ownershipOfEntry(entry),
        definition: entry.gateway === undefined ? definition : undefined,
      },
    };
  });
}

function readPrompt(raw: unknown, path: string, issues: Issues): PromptEntry | undefined {
  return clean(issues, () => {
    if (!checkShape(promptShape)(raw, path, issues)) return undefined;
    const entry = present(raw) as unknown as PromptDocument;
    const definitionPath = pathOf(path, 'definition');
    if (entry.definition !== undefined) {
      const before = issues.length;
      promptDefinition(entry.definition, definitionPath, issues);
      if (issues.length === before && entry.definition.name !== entry.name) {
        issues.push({ path: pathOf(definitionPath, 'name'), message: 'must equal the entry’s name' });
      }
    } else if (entry.gateway === undefined && entry.template === undefined) {
      issues.push({ path: definitionPath, message: 'a local prompt needs a definition or a template' });
    }
    if (entry.template !== undefined && entry.gateway !== undefined) {
      issues.push({
        path: pathOf(path, 'template'),
        message: 'only local prompts (without gateway) have a template',
      });
    }
    let definition: Prompt = entry.definition ?? { name: entry.name };
    if (entry.template !== undefined && definition.arguments === undefined) {
      definition = { ...definition, arguments: templateArguments(entry.template) };
    }
    const local = entry.gateway === undefined;
    return {
      path,
      gateway: entry.gateway,
      name: entry.name,
      definition,
      state: {
        enabled: entry.enabled ?? true,
        alias: entry.alias,
        descriptionOverride: entry.descriptionOverride,
        tags: uniqueTags(entry.tags),
        ...ownershipOfEntry(entry),
        definition: local ? definition : undefined,
        template: local ? entry.template : undefined,
      },
    };
  });
}

const memberFields = {
  kind: { check: oneOf(memberKinds) },
  gateway: optional(text()),
  name: optional(text()),
  uri: optional(text()),
  alias: optional(text({ allowEmpty: true })),
};

function readVirtualServer(raw: unknown, path: string, issues: Issues): VirtualServerEntry | undefined {
  return clean(issues, () => {
    if (!checkShape(virtualServerShape)(raw, path, issues)) return undefined;
    const entry = present(raw) as unknown as VirtualServerDocument;
    const members: MemberEntry[] = [];
    (entry.members ?? []).forEach((member: unknown, index) => {
      const memberPath = pathOf(pathOf(path, 'members'), index);
      const read = clean(issues, () => readMember(member, memberPath, issues));
      if (read !== undefined) members.push(read);
    });
    return {
      path,
      name: entry.name,
      state: {
        description: entry.description,
        icon: entry.icon,
        enabled: entry.enabled ?? true,
        tags: uniqueTags(entry.tags),
        ...ownershipOfEntry(entry),
      },
      members,
    };
  });
}

function readMember(raw: unknown, path: string, issues: Issues): MemberEntry | undefined {
  if (!checkShape({ required: ['kind'], fields: memberFields, unknownKeys: 'report' })(raw, path, issues)) {
    return undefined;
  }
  const member = present(raw);
  const kind = member.kind as VirtualServerMemberKind;
  const keyField = kind === 'resource' ? 'uri' : 'name';
  const otherField = kind === 'resource' ? 'name' : 'uri';
  if (member[keyField] === undefined)
    issues.push({ path: pathOf(path, keyField), message: `is required for a ${kind}` });
  if (member[otherField] !== undefined) {
    issues.push({ path: pathOf(path, otherField), message: `is not used for a ${kind}; use ${keyField}` });
  }
  if (typeof member.alias === 'string') {
    (kind === 'resource' ? resourceAlias : alias)(member.alias, pathOf(path, 'alias'), issues);
  }
  return {
    path,
    kind,
    gateway: member.gateway as string | undefined,
    key: member[keyField] as string,
    alias: member.alias as string | undefined,
  };
}

/**
 * Checks what the structure cannot: duplicates within the document, references to gateways and to items (in the
 * document, or in the registry when they survive the import), and aliases that would collide with rows the import
 * keeps. Appends to `issues`.
 */
export function checkReferences(
  plan: ImportPlan,
  against: { current: RegistryContents; mode: ImportMode },
  issues: Issues,
): void {
  const { current, mode } = against;
  const documentGateways = new Set<string>();
  for (const entry of plan.gateways) {
    if (documentGateways.has(entry.name)) {
      issues.push({ path: pathOf(entry.path, 'name'), message: `gateway "${entry.name}" is listed twice` });
    }
    documentGateways.add(entry.name);
  }
  const gatewayNameById = new Map(current.gateways.map((gateway) => [gateway.id, gateway.name]));
  const knownGateways = new Set([...documentGateways, ...plan.mentioned.gateway]);
  if (mode === 'merge') for (const gateway of current.gateways) knownGateways.add(gateway.name);
  const where = mode === 'merge' ? 'in the document or the registry' : 'in the document';

  const checkGateway = (entry: { path: string; gateway?: string }) => {
    if (entry.gateway !== undefined && !knownGateways.has(entry.gateway)) {
      issues.push({
        path: pathOf(entry.path, 'gateway'),
        message: `no gateway named "${entry.gateway}" ${where}`,
      });
    }
  };

  /** Rows the import keeps without the document naming them: every row on merge, discovered rows of kept gateways on replace. */
  const survives = (gatewayId: string | undefined): boolean => {
    if (mode === 'merge') return true;
    const name = gatewayId === undefined ? undefined : gatewayNameById.get(gatewayId);
    return name !== undefined && documentGateways.has(name);
  };
  const keyOfRow = (gatewayId: string | undefined, name: string) =>
    itemKey(gatewayId === undefined ? undefined : gatewayNameById.get(gatewayId), name);

  const checkItems = <E extends { path: string; gateway?: string }>(
    label: string,
    entries: readonly E[],
    key: { of: (entry: E) => string; field: string },
  ): Set<string> => {
    const { of: keyOf, field: keyField } = key;
    const keys = new Set<string>();
    for (const entry of entries) {
      checkGateway(entry);
      const key = keyOf(entry);
      if (keys.has(key)) {
        const scope = entry.gateway === undefined ? 'among local items' : `on gateway "${entry.gateway}"`;
        issues.push({ path: pathOf(entry.path, keyField), message: `${label} is listed twice ${scope}` });
      }
      keys.add(key);
    }
    return keys;
  };

  const toolKeys = checkItems('this tool', plan.tools, {
    of: (entry) => itemKey(entry.gateway, entry.name),
    field: 'name',
  });
  const resourceKeys = checkItems('this resource', plan.resources, {
    of: (entry) => itemKey(entry.gateway, entry.uri),
    field: 'uri',
  });
  const promptKeys = checkItems('this prompt', plan.prompts, {
    of: (entry) => itemKey(entry.gateway, entry.name),
    field: 'name',
  });

  // In replace mode, discovered rows not in the document are reset (alias cleared), and local ones deleted.
  const keptAliases = (rows: ReadonlyArray<ToolRecord | PromptRecord>, documentKeys: Set<string>) =>
    new Set(
      mode === 'replace'
        ? []
        : rows
            .filter(
              (row) =>
                row.alias !== undefined && !documentKeys.has(keyOfRow(row.gatewayId, row.originalName)),
            )
            .map((row) => row.alias as string),
    );
  const checkAliases = (
    label: string,
    entries: ReadonlyArray<ToolEntry | PromptEntry>,
    kept: Set<string>,
  ) => {
    const seen = new Set<string>();
    for (const entry of entries) {
      const value = entry.state.alias;
      if (value === undefined) continue;
      if (seen.has(value) || kept.has(value)) {
        issues.push({
          path: pathOf(entry.path, 'alias'),
          message: `another ${label} already has the alias "${value}"`,
        });
      }
      seen.add(value);
    }
  };
  checkAliases('tool', plan.tools, keptAliases(current.tools, toolKeys));
  checkAliases('prompt', plan.prompts, keptAliases(current.prompts, promptKeys));

  const available: Record<VirtualServerMemberKind, Set<string>> = {
    tool: new Set([...toolKeys, ...plan.mentioned.tool]),
    prompt: new Set([...promptKeys, ...plan.mentioned.prompt]),
    resource: new Set([...resourceKeys, ...plan.mentioned.resource]),
  };
  for (const row of current.tools)
    if (survives(row.gatewayId)) available.tool.add(keyOfRow(row.gatewayId, row.originalName));
  for (const row of current.prompts)
    if (survives(row.gatewayId)) available.prompt.add(keyOfRow(row.gatewayId, row.originalName));
  for (const row of current.resources)
    if (survives(row.gatewayId)) available.resource.add(keyOfRow(row.gatewayId, row.uri));

  const serverNames = new Set<string>();
  for (const server of plan.virtualServers) {
    if (serverNames.has(server.name)) {
      issues.push({
        path: pathOf(server.path, 'name'),
        message: `virtual server "${server.name}" is listed twice`,
      });
    }
    serverNames.add(server.name);
    const seen = new Set<string>();
    const aliases = new Set<string>();
    for (const member of server.members) {
      const key = itemKey(member.gateway, member.key);
      const scope = member.gateway === undefined ? 'local' : `on gateway "${member.gateway}"`;
      if (member.gateway !== undefined && !knownGateways.has(member.gateway)) {
        issues.push({
          path: pathOf(member.path, 'gateway'),
          message: `no gateway named "${member.gateway}" ${where}`,
        });
      } else if (!available[member.kind].has(key)) {
        issues.push({ path: member.path, message: `no ${member.kind} "${member.key}" (${scope}) ${where}` });
      }
      if (seen.has(`${member.kind}\u0000${key}`)) {
        issues.push({
          path: member.path,
          message: `the ${member.kind} "${member.key}" (${scope}) is listed twice`,
        });
      }
      seen.add(`${member.kind}\u0000${key}`);
      if (member.alias !== undefined) {
        if (aliases.has(`${member.kind}\u0000${member.alias}`)) {
          issues.push({
            path: pathOf(member.path, 'alias'),
            message: `another ${member.kind} already has the alias "${member.alias}"`,
          });
        }
        aliases.add(`${member.kind}\u0000${member.alias}`);
      }
    }
  }
  issues.sort(byDocumentOrder);
}

const sectionOrder = ['(root)', 'version', 'gateways', 'tools', 'resources', 'prompts', 'virtualServers'];

/** Sorts issues by section, then numerically by path, so they read in document order. */
function byDocumentOrder(a: { path: string }, b: { path: string }): number {
  const section = (path: string) => {
    const index = sectionOrder.indexOf(path.split('.')[0] ?? '');
    return index === -1 ? 0 : index; // unknown top-level fields come first, with the root
  };
  return section(a.path) - section(b.path) || a.path.localeCompare(b.path, 'en', { numeric: true });
}

// ---- Records to states, for comparing and exporting ----------------------------------------------------------------

/** A stored gateway as a {@link GatewayState}. */
export function gatewayStateOf(record: GatewayRecord): GatewayState {
  return {
    transport: record.transport,
    command: record.command,
    args: record.args,
    env: record.env,
    cwd: record.cwd,
    url: record.url,
    headers: record.headers,
    passthroughHeaders: record.passthroughHeaders,
    namespace: record.namespace,
    enabled: record.enabled,
    timeoutMs: record.timeoutMs,
    protocolEra: record.protocolEra,
    tags: record.tags,
    ...ownershipOfRecord(record),
  };
}

/** A stored tool as a {@link ToolState} (definition for local tools only). */
export function toolStateOf(record: ToolRecord): ToolState {
  return {
    integration: record.integration,
    integrationConfig: record.integrationConfig,
    enabled: record.enabled,
    alias: record.alias,
    descriptionOverride: record.descriptionOverride,
    annotationsOverride: record.annotationsOverride,
    tags: record.tags,
    ...ownershipOfRecord(record),
    definition: record.gatewayId === undefined ? record.definition : undefined,
  };
}

/** A stored resource as a {@link ResourceState} (definition for local resources only). */
export function resourceStateOf(record: ResourceRecord): ResourceState {
  return {
    localContent: record.localContent,
    enabled: record.enabled,
    tags: record.tags,
    ...ownershipOfRecord(record),
    definition: record.gatewayId === undefined ? record.definition : undefined,
  };
}

/** A stored prompt as a {@link PromptState} (definition and template for local prompts only). */
export function promptStateOf(record: PromptRecord): PromptState {
  const local = record.gatewayId === undefined;
  return {
    enabled: record.enabled,
    alias: record.alias,
    descriptionOverride: record.descriptionOverride,
    tags: record.tags,
    ...ownershipOfRecord(record),
    definition: local ? record.definition : undefined,
    template: local ? record.template : undefined,
  };
}

/** A stored virtual server's own fields as a {@link VirtualServerState}. */
export function virtualServerStateOf(record: VirtualServerRecord): VirtualServerState {
  return {
    description: record.description,
    icon: record.icon,
    enabled: record.enabled,
    tags: record.tags,
    ...ownershipOfRecord(record),
  };
}
