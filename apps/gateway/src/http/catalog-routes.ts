import { Ajv } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import {
  describeError,
  GatewayError,
  PUBLIC_NAME_PATTERN,
  RpcError,
  RpcErrorCode,
  silentLogger,
  type Logger,
} from '@mcp-gateway/core';
import { effectiveOwnership } from '@mcp-gateway/registry';
import type {
  GatewayStore,
  GetOptions,
  ListOptions,
  Ownership,
  Page,
  PromptRecord,
  PromptStore,
  PromptTemplate,
  ResourceRecord,
  ResourceStore,
  ToolRecord,
  ToolStore,
  WriteOptions,
} from '@mcp-gateway/registry';
import type { RestAccess } from '../auth/request-access.ts';
import { formatZodIssues } from '../config/index.ts';
import { ownershipInputFields, ownershipPatchFields } from '../config/ownership-input.ts';
import { createEntityGuard, type EntityGuard, type OwnershipBody } from './entity-access.ts';
import { ifMatchVersion, isNotModified, setEtag, withVersionCheck } from './http-caching.ts';
import { restError } from './rest-error.ts';

// ---------------------------------------------------------------------------------------------------------------
// Schemas. Exported so that openapi.ts documents exactly what the routes validate.
// ---------------------------------------------------------------------------------------------------------------

const MAX_PAGE = 500;
const limitMessage = `limit must be a whole number from 1 to ${MAX_PAGE}`;

/** Query string of `GET /v1/tools`, `/v1/prompts` and `/v1/resources`. Unknown parameters are refused. */
export const catalogListQuerySchema = z.strictObject({
  tag: z.string().min(1, 'tag must not be empty').optional().describe('Only items carrying this tag.'),
  gateway: z
    .string()
    .min(1, 'gateway must be a gateway id or "local"')
    .optional()
    .describe('Only items of this gateway (its id), or `local` for items defined in the gateway.'),
  enabled: z
    .enum(['true', 'false'], { error: 'enabled must be true or false' })
    .transform((value) => value === 'true')
    .optional()
    .describe('Only enabled (`true`) or disabled (`false`) items.'),
  q: z
    .string()
    .max(200, 'q must be at most 200 characters')
    .optional()
    .describe('Case-insensitive text found in the name, alias, description (and URI for resources).'),
  cursor: z
    .string()
    .min(1, 'cursor must not be empty')
    .optional()
    .describe('The `nextCursor` of the previous page.'),
  limit: z.coerce
    .number({ error: limitMessage })
    .int(limitMessage)
    .min(1, limitMessage)
    .max(MAX_PAGE, limitMessage)
    .default(50)
    .describe('Page size.'),
});

/** Error map for a field's type check: "x is required" when absent, "x must be …" otherwise. */
function typeError(field: string, expected: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? `${field} is required` : `${field} must be ${expected}`;
}

const tagsSchema = z.array(
  z
    .string({ error: 'tags must be a list of strings' })
    .trim()
    .min(1, 'tags must not be empty strings')
    .max(64, 'tags must be at most 64 characters'),
  { error: 'tags must be a list of strings' },
);

const aliasSchema = z
  .string({ error: typeError('alias', 'a string or null') })
  .regex(PUBLIC_NAME_PATTERN, 'alias must be 1 to 64 letters, digits, "_" or "-"');

const descriptionOverrideSchema = z
  .string({ error: typeError('descriptionOverride', 'a string or null') })
  .max(10_000, 'descriptionOverride must be at most 10000 characters');

const enabledSchema = z.boolean({ error: 'enabled must be true or false' });

/** MCP tool annotations: the known hints are type-checked, other keys pass through. */
const annotationsSchema = z.looseObject(
  {
    title: z.string({ error: 'annotationsOverride.title must be a string' }).optional(),
    readOnlyHint: z.boolean({ error: 'annotationsOverride.readOnlyHint must be true or false' }).optional(),
    destructiveHint: z
      .boolean({ error: 'annotationsOverride.destructiveHint must be true or false' })
      .optional(),
    idempotentHint: z
      .boolean({ error: 'annotationsOverride.idempotentHint must be true or false' })
      .optional(),
    openWorldHint: z.boolean({ error: 'annotationsOverride.openWorldHint must be true or false' }).optional(),
  },
  { error: 'annotationsOverride must be an object or null' },
);

/** Body of `PATCH /v1/tools/:id`: the fields an administrator may override; `null` clears an override. */
export const toolPatchSchema = z.strictObject({
  enabled: enabledSchema.optional(),
  alias: aliasSchema.nullable().optional(),
  descriptionOverride: descriptionOverrideSchema.nullable().optional(),
  annotationsOverride: annotationsSchema.nullable().optional(),
  tags: tagsSchema.optional(),
  ...ownershipPatchFields,
});

const jsonObjectSchema = z.record(z.string(), z.unknown());

/**
 * Body of `POST /v1/tools`: a tool served by an adapter. Only `integration` and the JSON Schemas are checked here;
 * the rest belongs to the adapter (`createTool`).
 */
export const toolCreateSchema = z.looseObject({
  integration: z.enum(['rest', 'command'], { error: 'integration must be "rest" or "command"' }),
  inputSchema: jsonObjectSchema
    .optional()
    .describe('A JSON Schema (2020-12 unless `$schema` says draft-07 or 2019-09) with `"type": "object"`.'),
  outputSchema: jsonObjectSchema.optional().describe('A JSON Schema of the structured result.'),
  ...ownershipInputFields,
});

/** A template argument: the placeholder name and how its value is read. */
const templateArgumentSchema = z.strictObject({
  name: z
    .string({ error: typeError('name', 'a string') })
    .regex(
      /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/,
      'argument names must be a letter or "_" then letters, digits, "_" or "-" (at most 64)',
    ),
  description: z.string().max(10_000).optional(),
  required: z.boolean({ error: 'required must be true or false' }).optional(),
  type: z
    .enum(['string', 'number', 'integer', 'boolean'], {
      error: 'type must be "string", "number", "integer" or "boolean"',
    })
    .optional(),
});

/**
 * A local prompt's template. `text` may use `{{argName}}` placeholders (whitespace inside the braces is allowed);
 * that is the whole language: no expressions, no helpers, no escapes.
 */
export const promptTemplateSchema = z
  .strictObject({
    messages: z
      .array(
        z.strictObject({
          role: z.enum(['user', 'assistant'], { error: 'role must be "user" or "assistant"' }),
          text: z.string({ error: typeError('text', 'a string') }).max(100_000),
        }),
        { error: 'messages must be a list' },
      )
      .min(1, 'messages must hold at least one message'),
    arguments: z.array(templateArgumentSchema, { error: 'arguments must be a list' }).default(() => []),
  })
  .superRefine((template, context) => {
    const seen = new Set<string>();
    template.arguments.forEach((argument, index) => {
      if (seen.has(argument.name)) {
        context.addIssue({
          code: 'custom',
          path: ['arguments', index, 'name'],
          message: `duplicate argument "${argument.name}"`,
        });
      }
      seen.add(argument.name);
    });
  });

/** Body of `POST /v1/prompts`: a local prompt. */
export const promptCreateSchema = z.strictObject({
  name: z
    .string({ error: typeError('name', 'a string') })
    .regex(PUBLIC_NAME_PATTERN, 'name must be 1 to 64 letters, digits, "_" or "-"'),
  description: z.string({ error: 'description must be a string' }).max(10_000).optional(),
  template: promptTemplateSchema,
  tags: tagsSchema.optional(),
  ...ownershipInputFields,
});

/** Body of `PATCH /v1/prompts/:id`; `template` only for local prompts. */
export const promptPatchSchema = z.strictObject({
  enabled: enabledSchema.optional(),
  alias: aliasSchema.nullable().optional(),
  descriptionOverride: descriptionOverrideSchema.nullable().optional(),
  tags: tagsSchema.optional(),
  template: promptTemplateSchema.optional(),
  ...ownershipPatchFields,
});

const mimeTypeSchema = z
  .string({ error: 'mimeType must be a string' })
  .regex(/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/, 'mimeType must be a MIME type such as text/plain');
const base64Schema = z.base64({ error: 'blob must be base64' });

/** Body of `POST /v1/resources`: a local static resource with its content, `text` or `blob`. */
export const resourceCreateSchema = z
  .strictObject({
    uri: z
      .string({ error: typeError('uri', 'a string') })
      .max(4096, 'uri must be at most 4096 characters')
      .regex(/^[A-Za-z][A-Za-z0-9+.-]*:\S*$/, 'uri must be a URI with a scheme, such as note://readme'),
    name: z
      .string({ error: typeError('name', 'a string') })
      .min(1, 'name must not be empty')
      .max(1000),
    description: z.string({ error: 'description must be a string' }).max(10_000).optional(),
    mimeType: mimeTypeSchema.optional(),
    text: z.string({ error: 'text must be a string' }).optional(),
    blob: base64Schema.optional(),
    tags: tagsSchema.optional(),
    ...ownershipInputFields,
  })
  .superRefine((resource, context) => {
    if ((resource.text === undefined) === (resource.blob === undefined)) {
      context.addIssue({
        code: 'custom',
        path: resource.blob === undefined ? ['text'] : ['blob'],
        message: 'give the content as exactly one of text or blob (base64)',
      });
    }
  });

const localContentSchema = z.union(
  [
    z.strictObject({ text: z.string(), mimeType: mimeTypeSchema.optional() }),
    z.strictObject({ blob: base64Schema, mimeType: mimeTypeSchema }),
  ],
  { error: 'localContent must be { text, mimeType? } or { blob (base64), mimeType }' },
);

/** Body of `PATCH /v1/resources/:id`; `localContent` only for local static resources. */
export const resourcePatchSchema = z.strictObject({
  enabled: enabledSchema.optional(),
  tags: tagsSchema.optional(),
  localContent: localContentSchema.optional(),
  ...ownershipPatchFields,
});

// ---------------------------------------------------------------------------------------------------------------
// The safe template language of local prompts.
// ---------------------------------------------------------------------------------------------------------------

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** A prompt as `prompts/get` returns it. */
export interface RenderedPrompt {
  messages: Array<{ role: 'user' | 'assistant'; content: { type: 'text'; text: string } }>;
}

/** `{{x}}` placeholders that name no declared argument, as issues on `${base}.messages.N.text`. */
export function templatePlaceholderIssues(
  template: PromptTemplate,
  base = 'template',
): Array<{ path: string; message: string }> {
  const declared = new Set((template.arguments ?? []).map((argument) => argument.name));
  const issues: Array<{ path: string; message: string }> = [];
  template.messages.forEach((message, index) => {
    for (const match of message.text.matchAll(PLACEHOLDER)) {
      if (!declared.has(match[1] ?? '')) {
        issues.push({ path: `${base}.messages.${index}.text`, message: `unknown placeholder ${match[0]}` });
      }
    }
  });
  return issues;
}

function invalidArgument(name: string, expected: string, value: unknown): RpcError {
  const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  return new RpcError(RpcErrorCode.InvalidParams, `argument "${name}" must be ${expected}, got ${shown}`);
}

function coerceArgument(argument: NonNullable<PromptTemplate['arguments']>[number], value: unknown): string {
  const { name } = argument;
  switch (argument.type ?? 'string') {
    case 'number':
    case 'integer': {
      const number =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : NaN;
      if (!Number.isFinite(number)) throw invalidArgument(name, 'a number', value);
      if (argument.type === 'integer' && !Number.isInteger(number))
        throw invalidArgument(name, 'a whole number', value);
      return String(number);
    }
    case 'boolean': {
      const text = typeof value === 'boolean' ? String(value) : typeof value === 'string' ? value.trim() : '';
      if (!/^(true|false)$/i.test(text)) throw invalidArgument(name, 'true or false', value);
      return text.toLowerCase();
    }
    default:
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw invalidArgument(name, 'a string', value);
  }
}

/**
 * Fills a local prompt's template: each `{{name}}` becomes the argument's value, read per its declared type
 * (`number`, `integer`, `boolean` are checked and normalised; a missing optional argument is empty text). Values
 * are inserted as they are and never scanned again, so a value cannot inject placeholders. Throws an
 * {@link RpcError} (`InvalidParams`) naming every missing required argument, or a value of the wrong type.
 */
export function renderLocalPrompt(
  template: PromptTemplate,
  args: Readonly<Record<string, unknown>> = {},
): RenderedPrompt {
  const declared = template.arguments ?? [];
  const missing = declared
    .filter((argument) => argument.required === true && (args[argument.name] ?? undefined) === undefined)
    .map((argument) => `"${argument.name}"`);
  if (missing.length > 0) {
    throw new RpcError(
      RpcErrorCode.InvalidParams,
      `missing required argument${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    );
  }
  const values = new Map<string, string>();
  for (const argument of declared) {
    const value = args[argument.name];
    values.set(argument.name, value === undefined || value === null ? '' : coerceArgument(argument, value));
  }
  return {
    messages: template.messages.map((message) => ({
      role: message.role,
      content: {
        type: 'text',
        // An unknown placeholder (possible only in a template imported around the API's check) stays as it is.
        text: message.text.replace(PLACEHOLDER, (whole, name: string) => values.get(name) ?? whole),
      },
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// JSON Schema check of adapter tools.
// ---------------------------------------------------------------------------------------------------------------

/**
 * Why `schema` is not a JSON Schema Ajv can compile, or `undefined` when it is. The dialect follows `$schema`
 * (draft-07, 2019-09, 2020-12 when absent, as MCP specifies). A fresh Ajv per check: a rare admin call, and nothing
 * (compiled schemas, `$id`s) outlives it.
 */
function jsonSchemaProblem(schema: Record<string, unknown>): string | undefined {
  const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
  const options = { strict: false, allErrors: true, logger: false, validateFormats: false } as const;
  const ajv = /draft-0[67]/.test(dialect)
    ? new Ajv(options)
    : /2019-09/.test(dialect)
      ? new Ajv2019(options)
      : new Ajv2020(options);
  try {
    if (!ajv.validateSchema(schema)) return ajv.errorsText(ajv.errors, { dataVar: 'schema' });
    ajv.compile(schema);
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Routes.
// ---------------------------------------------------------------------------------------------------------------

/** What a catalog write announces, so every replica reloads the item. */
export interface CatalogChange {
  kind: 'tool' | 'prompt' | 'resource';
  id: string;
  version: number;
}

/** Options of {@link createCatalogRoutes}. */
export interface CatalogRoutesOptions {
  tools: ToolStore;
  prompts: PromptStore;
  resources: ResourceStore;
  /**
   * Called after every committed write. A failure is logged, not returned: the write stands, and the change feed's
   * poll brings the other replicas up to date.
   */
  publish: (change: CatalogChange) => Promise<void>;
  /**
   * The JSON a tool is shown as. Default: the record, with the values of `auth`, `headers` and `env` in
   * `integrationConfig` masked (adapter credentials).
   */
  describeTool?: (record: ToolRecord) => object;
  /**
   * Creates an adapter tool from a validated `POST /v1/tools` body (`integration` checked, JSON Schemas compiled;
   * `owner`, `team` and `visibility` taken out) with the ownership to store (`tools.create({ ...input,
   * ...ownership })`). Without it, that POST answers 422 "integration … is not available yet".
   */
  createTool?: (body: ToolCreateBody, ownership: Partial<Ownership>) => Promise<ToolRecord>;
  /**
   * Who calls and the policy. With it, lists and reads show only what the caller may see (anything else is 404, like
   * an unknown id), creates are owned by the caller, and changes need `Policy.canAdmin`. Without it, no checks.
   */
  access?: RestAccess;
  /** Required with `access`: discovered items are judged by their gateway's ownership (see `effectiveOwnership`). */
  gateways?: GatewayStore;
  /** Default: silent. */
  logger?: Logger;
}

/** A `POST /v1/tools` body after validation (`createTool` gets it without the ownership fields). */
export type ToolCreateBody = z.output<typeof toolCreateSchema>;

/** The three catalog sub-apps; mount each with `app.route('/v1/tools', routes.tools)` and so on. */
export interface CatalogRoutes {
  tools: Hono;
  prompts: Hono;
  resources: Hono;
}

/** What integrationConfig shows instead of a credential. */
const MASK = '********';

/** The default tool view: adapter credentials in `integrationConfig` are masked, like gateway headers and env. */
function presentTool(record: ToolRecord): object {
  const config = record.integrationConfig;
  if (config === undefined) return record;
  const masked = Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key,
      ['auth', 'headers', 'env'].includes(key) && value !== undefined && value !== null ? MASK : value,
    ]),
  );
  return { ...record, integrationConfig: masked };
}

type Issues = Array<{ path: string; message: string }>;

interface CatalogRecord extends Ownership {
  id: string;
  version: number;
  gatewayId?: string;
}

interface KindSpec<R extends CatalogRecord, P extends OwnershipBody> {
  kind: CatalogChange['kind'];
  guard: EntityGuard;
  /** The ownership that decides who may change a record (a discovered item's gateway's, see `effectiveOwnership`). */
  ownershipOf: (record: R) => Promise<Ownership>;
  store: {
    list(options: ListOptions): Promise<Page<R>>;
    get(id: string, options?: GetOptions): Promise<R | undefined>;
    update(id: string, patch: P, options: WriteOptions): Promise<R | undefined>;
    remove(id: string, options: WriteOptions): Promise<boolean>;
  };
  patchSchema: z.ZodType<P>;
  /** Checks that need more than the shape, answered with 422. */
  patchIssues?: (patch: P) => Issues;
  /** How a discovered item is named in messages. */
  nameOf: (record: R) => string;
  present: (record: R) => object;
  /** In lists; default {@link present}. */
  presentInList?: (record: R) => object;
  create: (c: Context, body: unknown) => Promise<Response>;
}

/**
 * `/v1/tools`, `/v1/prompts` and `/v1/resources`: list (filters, search, cursor pages), read (with `ETag`), change
 * the administrator's fields (`If-Match`), create local prompts and static resources (tools: through an adapter),
 * and delete local items. Every write is announced with `publish`.
 */
export function createCatalogRoutes(options: CatalogRoutesOptions): CatalogRoutes {
  const { tools, prompts, resources } = options;
  for (const [name, store] of Object.entries({ tools, prompts, resources })) {
    if (typeof store?.get !== 'function')
      throw new TypeError(`createCatalogRoutes: \`${name}\` must be a store`);
  }
  if (typeof options.publish !== 'function')
    throw new TypeError('createCatalogRoutes: `publish` must be a function');
  if (options.access !== undefined && typeof options.gateways?.get !== 'function') {
    throw new TypeError('createCatalogRoutes: `gateways` (a gateway store) is required with `access`');
  }
  const logger = options.logger ?? silentLogger;
  const ownershipOf = async (record: CatalogRecord): Promise<Ownership> => {
    if (record.gatewayId === undefined || options.gateways === undefined) return record;
    return effectiveOwnership(record, await options.gateways.get(record.gatewayId));
  };
  const toolGuard = createEntityGuard(options.access, 'tool');
  const promptGuard = createEntityGuard(options.access, 'prompt');
  const resourceGuard = createEntityGuard(options.access, 'resource');
  const announce = async (change: CatalogChange) => {
    try {
      await options.publish(change);
    } catch (error) {
      logger.warn({ err: describeError(error), change }, 'publishing a catalog change failed');
    }
  };

  const toolRoutes = createKindRoutes<ToolRecord, z.output<typeof toolPatchSchema>>(
    {
      kind: 'tool',
      guard: toolGuard,
      ownershipOf,
      store: tools,
      patchSchema: toolPatchSchema,
      nameOf: (record) => record.originalName,
      present: options.describeTool ?? presentTool,
      create: async (c, body) => {
        const parsed = toolCreateSchema.safeParse(body);
        if (!parsed.success) return invalidBody(c, parsed.error);
        const issues: Issues = [];
        for (const key of ['inputSchema', 'outputSchema'] as const) {
          const schema = parsed.data[key];
          if (schema === undefined) continue;
          const problem = jsonSchemaProblem(schema);
          if (problem !== undefined) issues.push({ path: key, message: problem });
          else if (key === 'inputSchema' && schema.type !== 'object') {
            issues.push({
              path: key,
              message: 'must have "type": "object" (MCP tool arguments are an object)',
            });
          }
        }
        if (issues.length > 0) {
          return unprocessable(
            c,
            issues.map((issue) => ({ ...issue, message: `not a valid JSON Schema: ${issue.message}` })),
          );
        }
        if (options.createTool === undefined) {
          return restError(c, 422, {
            code: 'invalid-input',
            message: `integration "${parsed.data.integration}" is not available yet`,
            details: [{ path: 'integration', message: 'is not available yet' }],
          });
        }
        const { owner, team, visibility, ...definition } = parsed.data;
        const ownership = toolGuard.ownershipForCreate(c.req.raw, { owner, team, visibility });
        const record = await options.createTool(definition, ownership);
        await announce({ kind: 'tool', id: record.id, version: record.version });
        return created(c, record, {
          collection: 'tools',
          body: (options.describeTool ?? presentTool)(record),
        });
      },
    },
    announce,
  );

  const promptRoutes = createKindRoutes<PromptRecord, z.output<typeof promptPatchSchema>>(
    {
      kind: 'prompt',
      guard: promptGuard,
      ownershipOf,
      store: prompts,
      patchSchema: promptPatchSchema,
      patchIssues: (patch) => (patch.template === undefined ? [] : templatePlaceholderIssues(patch.template)),
      nameOf: (record) => record.originalName,
      present: (record: PromptRecord) => record,
      create: async (c, body) => {
        const parsed = promptCreateSchema.safeParse(body);
        if (!parsed.success) return invalidBody(c, parsed.error);
        const { name, description, template, tags } = parsed.data;
        const issues = templatePlaceholderIssues(template);
        if (issues.length > 0) return unprocessable(c, issues);
        const ownership = promptGuard.ownershipForCreate(c.req.raw, parsed.data);
        // The store derives definition.arguments from the template (templateArguments), so clients list them.
        const record = await prompts.create({
          definition: { name, ...(description === undefined ? {} : { description }) },
          template,
          tags,
          ...ownership,
        });
        await announce({ kind: 'prompt', id: record.id, version: record.version });
        return created(c, record, { collection: 'prompts', body: record });
      },
    },
    announce,
  );

  const resourceRoutes = createKindRoutes<ResourceRecord, z.output<typeof resourcePatchSchema>>(
    {
      kind: 'resource',
      guard: resourceGuard,
      ownershipOf,
      store: resources,
      patchSchema: resourcePatchSchema,
      nameOf: (record) => record.uri,
      present: (record: ResourceRecord) => record,
      // A page of 500 base64 blobs would be huge: lists leave the content out; GET one item to read it.
      presentInList: ({ localContent: _content, ...record }: ResourceRecord) => record,
      create: async (c, body) => {
        const parsed = resourceCreateSchema.safeParse(body);
        if (!parsed.success) return invalidBody(c, parsed.error);
        const { uri, name, description, mimeType, text, blob, tags } = parsed.data;
        const ownership = resourceGuard.ownershipForCreate(c.req.raw, parsed.data);
        const record = await resources.create({
          definition: {
            uri,
            name,
            ...(description === undefined ? {} : { description }),
            ...(mimeType === undefined ? {} : { mimeType }),
          },
          localContent:
            blob !== undefined
              ? { blob, mimeType: mimeType ?? 'application/octet-stream' }
              : { text: text ?? '', ...(mimeType === undefined ? {} : { mimeType }) },
          tags,
          ...ownership,
        });
        await announce({ kind: 'resource', id: record.id, version: record.version });
        return created(c, record, { collection: 'resources', body: record });
      },
    },
    announce,
  );

  return { tools: toolRoutes, prompts: promptRoutes, resources: resourceRoutes };
}

function createKindRoutes<R extends CatalogRecord, P extends OwnershipBody>(
  spec: KindSpec<R, P>,
  announce: (change: CatalogChange) => Promise<void>,
): Hono {
  const app = new Hono();
  const notFound = (id: string): never => {
    throw new GatewayError('not-found', `no ${spec.kind} with id "${id}"`, { details: { id } });
  };

  app.get('/', async (c) => {
    const query = catalogListQuerySchema.safeParse(c.req.query());
    if (!query.success) return invalidQuery(c, query.error);
    const { tag, gateway, enabled, q, cursor, limit } = query.data;
    const page = await spec.store.list({
      tag,
      gatewayId: gateway === undefined ? undefined : gateway === 'local' ? null : gateway,
      enabled,
      search: q,
      cursor,
      limit,
      visibleTo: spec.guard.filter(c.req.raw),
    });
    const present = spec.presentInList ?? spec.present;
    return c.json({ items: page.items.map((record) => present(record)), nextCursor: page.nextCursor });
  });

  app.post('/', async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    return spec.create(c, body.value);
  });

  /** The record, or 404 when there is none or the caller may not see it (the two look the same). */
  const visible = async (request: Request, id: string): Promise<R> =>
    (await spec.store.get(id, { visibleTo: spec.guard.filter(request) })) ?? notFound(id);

  app.get('/:id', async (c) => {
    const record = await visible(c.req.raw, c.req.param('id'));
    setEtag(c, record);
    if (isNotModified(c, record)) return c.body(null, 304);
    return c.json(spec.present(record));
  });

  app.patch('/:id', async (c) => {
    const id = c.req.param('id');
    const ifVersion = ifMatchVersion(c, { id });
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const patch = spec.patchSchema.safeParse(body.value);
    if (!patch.success) return invalidBody(c, patch.error);
    const issues = spec.patchIssues?.(patch.data) ?? [];
    if (issues.length > 0) return unprocessable(c, issues);
    if (spec.guard.active) {
      const current = await visible(c.req.raw, id);
      spec.guard.authorize(c.req.raw, 'update', {
        current: await spec.ownershipOf(current),
        change: patch.data,
      });
    }
    const updated =
      (await withVersionCheck(spec.kind, () => spec.store.update(id, patch.data, { ifVersion }))) ??
      notFound(id);
    await announce({ kind: spec.kind, id, version: updated.version });
    setEtag(c, updated);
    return c.json(spec.present(updated));
  });

  app.delete('/:id', async (c) => {
    const id = c.req.param('id');
    const ifVersion = ifMatchVersion(c, { id });
    const record = await visible(c.req.raw, id);
    spec.guard.authorize(c.req.raw, 'delete', { current: await spec.ownershipOf(record) });
    if (record.gatewayId !== undefined) {
      throw new GatewayError(
        'conflict',
        `${spec.kind} "${spec.nameOf(record)}" comes from gateway "${record.gatewayId}", which would list it again; disable it instead (PATCH {"enabled": false})`,
        { details: { id, gatewayId: record.gatewayId } },
      );
    }
    const removed = await withVersionCheck(spec.kind, () => spec.store.remove(id, { ifVersion }));
    if (!removed) notFound(id);
    await announce({ kind: spec.kind, id, version: record.version + 1 });
    return c.body(null, 204);
  });

  return app;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers shared with servers-routes.ts.
// ---------------------------------------------------------------------------------------------------------------

/** The parsed JSON body, or the 400 response for a body that is not JSON. */
export async function readJson(c: Context): Promise<{ value: unknown } | Response> {
  try {
    return { value: await c.req.json() };
  } catch {
    return restError(c, 400, { code: 'invalid-input', message: 'the request body is not valid JSON' });
  }
}

/** 400 naming every bad field of a body. */
export function invalidBody(c: Context, error: z.core.$ZodError): Response {
  const formatted = formatZodIssues(error);
  return restError(c, 400, { code: 'invalid-input', message: formatted.message, details: formatted.details });
}

/** 400 naming every bad query parameter. */
export function invalidQuery(c: Context, error: z.core.$ZodError): Response {
  const formatted = formatZodIssues(error, 'invalid query');
  const details = formatted.details.map((detail) =>
    detail.message === 'unknown field' ? { ...detail, message: 'unknown query parameter' } : detail,
  );
  const message = formatted.message.replace(/: unknown field/g, ': unknown query parameter');
  return restError(c, 400, { code: 'invalid-input', message, details });
}

/** 422: the body is well-formed but says something that cannot be (an unknown placeholder, a bad schema). */
export function unprocessable(c: Context, issues: Issues): Response {
  const lines = issues.map((issue) => `${issue.path}: ${issue.message}`);
  return restError(c, 422, {
    code: 'invalid-input',
    message: `invalid request: ${lines.join('; ')}`,
    details: issues,
  });
}

/** 201 with `Location` (`/v1/<collection>/<id>`) and `ETag`. */
export function created(
  c: Context,
  record: { id: string; version: number },
  response: { collection: string; body: object },
): Response {
  c.header('location', `/v1/${response.collection}/${record.id}`);
  setEtag(c, record);
  return c.json(response.body, 201);
}
