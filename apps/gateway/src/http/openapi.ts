import { z } from 'zod';
import { gatewayInputSchema, gatewayPatchSchema } from '../config/index.ts';
import {
  catalogListQuerySchema,
  promptCreateSchema,
  promptPatchSchema,
  resourceCreateSchema,
  resourcePatchSchema,
  toolCreateSchema,
  toolPatchSchema,
} from './catalog-routes.ts';
import {
  serverListQuerySchema,
  virtualServerCreateSchema,
  virtualServerPatchSchema,
} from './servers-routes.ts';
import { accessOpenApi } from './access-openapi.ts';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = Record<string, unknown>;

/** An OpenAPI parameter, inline or a `$ref` to `components.parameters`. */
export type OpenApiParameter =
  | { $ref: string }
  | {
      name: string;
      in: 'path' | 'query' | 'header';
      required?: boolean;
      description?: string;
      schema: JsonSchema;
    };

/** One response of an operation, inline or a `$ref` to `components.responses`. */
export type OpenApiResponse =
  | { $ref: string }
  | {
      description: string;
      headers?: Record<string, { $ref: string } | { description: string; schema: JsonSchema }>;
      content?: Record<string, { schema: JsonSchema }>;
    };

/** One operation (a method on a path). */
export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, OpenApiResponse>;
}

/** The methods this API uses. */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The subset of OpenAPI 3.1 this gateway's document uses. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers?: Array<{ url: string }>;
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    parameters: Record<string, OpenApiParameter>;
    headers: Record<string, { description: string; schema: JsonSchema }>;
    responses: Record<string, OpenApiResponse>;
  };
}

/** Options of {@link buildOpenApiDocument}. */
export interface OpenApiOptions {
  title: string;
  version: string;
  /** Where the API is served, such as `http://localhost:4444`; omitted, clients resolve paths against the document. */
  serverUrl?: string;
}

/** The JSON Schema of what a route accepts: the input side of its zod schema (defaults make fields optional). */
function inputSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

/** A list query schema as OpenAPI query parameters, one per property, its description moved up. */
function queryParameters(schema: z.ZodType): OpenApiParameter[] {
  const json = inputSchemaOf(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: 'query' as const,
      required: required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const dateTime = { type: 'string', format: 'date-time' };
const tags = { type: 'array', items: { type: 'string' } };
const common = {
  version: {
    type: 'integer',
    minimum: 1,
    description: 'Starts at 1; every change adds 1. The ETag names it.',
  },
  createdAt: dateTime,
  updatedAt: dateTime,
  createdBy: { type: 'string' },
  updatedBy: { type: 'string' },
  owner: { type: 'string', description: 'The owning user id.' },
  team: { type: 'string', description: 'The owning team id.' },
  visibility: {
    type: 'string',
    enum: ['private', 'team', 'public'],
    description:
      'Who may see it: its owner, its owner and team, or everyone. Items discovered under a gateway follow the ' +
      "gateway's unless their own is more restrictive.",
  },
};
const catalogItem = {
  id: { type: 'string' },
  gatewayId: { type: 'string', description: 'The upstream that lists it; absent for local items.' },
  enabled: { type: 'boolean' },
  tags,
};

/** Response bodies, written by hand: they document what the stores return. */
function responseSchemas(): Record<string, JsonSchema> {
  return {
    Error: {
      type: 'object',
      description: 'The one error body of the REST API.',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: {
              type: 'string',
              examples: ['invalid-input', 'not-found', 'conflict', 'precondition-failed'],
            },
            message: { type: 'string', description: 'One line a person can act on.' },
            details: {
              description:
                'For invalid input, one entry per problem; otherwise facts such as the conflicting field.',
              oneOf: [
                {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['path', 'message'],
                    properties: {
                      path: { type: 'string', examples: ['template.messages.0.text'] },
                      message: { type: 'string' },
                    },
                  },
                },
                { type: 'object' },
              ],
            },
          },
        },
      },
    },
    Gateway: {
      type: 'object',
      description:
        'An upstream MCP server. Header and env values are masked as `********` (and encrypted at rest when ' +
        'MCP_GATEWAY_SECRET_KEY is set).',
      properties: {
        id: { type: 'string' },
        ...(inputSchemaOf(gatewayInputSchema).properties as JsonSchema),
        ...common,
        runtime: {
          type: 'object',
          description: 'Connection status, effective namespace, conflicts, counts.',
        },
        stats: { type: 'object', description: 'Call figures of this upstream since start.' },
      },
    },
    Tool: {
      type: 'object',
      properties: {
        ...catalogItem,
        originalName: { type: 'string' },
        integration: { type: 'string', examples: ['mcp', 'rest', 'command'] },
        integrationConfig: { type: 'object', description: 'Adapter settings; credentials are masked.' },
        definition: { type: 'object', description: 'The MCP tool as its source lists it.' },
        alias: { type: 'string' },
        descriptionOverride: { type: 'string' },
        annotationsOverride: { type: 'object' },
        ...common,
      },
    },
    Prompt: {
      type: 'object',
      properties: {
        ...catalogItem,
        originalName: { type: 'string' },
        definition: { type: 'object', description: 'The MCP prompt as listed to clients.' },
        template: inputSchemaOf(promptCreateSchema.shape.template),
        alias: { type: 'string' },
        descriptionOverride: { type: 'string' },
        ...common,
      },
    },
    Resource: {
      type: 'object',
      properties: {
        ...catalogItem,
        uri: { type: 'string', description: 'The `uri`, or the `uriTemplate` of a template.' },
        kind: { type: 'string', enum: ['resource', 'template'] },
        definition: { type: 'object', description: 'The MCP resource or resource template as listed.' },
        localContent: {
          ...inputSchemaOf(resourcePatchSchema.shape.localContent),
          description: 'Local static resources only; left out of lists.',
        },
        ...common,
      },
    },
    VirtualServer: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        description: { type: 'string' },
        icon: { type: 'string' },
        enabled: { type: 'boolean' },
        tags,
        members: { type: 'array', items: ref('VirtualServerMember') },
        missingMembers: {
          type: 'array',
          items: ref('VirtualServerMember'),
          description: 'Members whose item no longer exists; the server serves the rest.',
        },
        endpoints: {
          type: 'object',
          properties: { mcp: { type: 'string' }, sse: { type: 'string' }, ws: { type: 'string' } },
        },
        ...common,
      },
    },
    VirtualServerMember: {
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['tool', 'prompt', 'resource'] },
        id: { type: 'string' },
        alias: { type: 'string' },
        position: { type: 'integer', minimum: 0 },
      },
    },
    TagCount: {
      type: 'object',
      properties: {
        tag: { type: 'string' },
        count: { type: 'integer' },
        byKind: {
          type: 'object',
          properties: Object.fromEntries(
            ['gateway', 'tool', 'resource', 'prompt', 'virtual-server'].map((kind) => [
              kind,
              { type: 'integer' },
            ]),
          ),
        },
      },
    },
    ToolInvoke: {
      type: 'object',
      properties: { arguments: { type: 'object', description: 'The tool arguments, per its inputSchema.' } },
    },
    ToolResult: {
      type: 'object',
      description: 'An MCP CallToolResult.',
      properties: {
        content: { type: 'array', items: { type: 'object' } },
        structuredContent: { type: 'object' },
        isError: { type: 'boolean' },
      },
    },
    RegistryDocument: {
      type: 'object',
      description:
        'The whole registry as portable data: no ids, items keyed by gateway name and original name.',
      required: ['version'],
      properties: {
        version: { const: 1 },
        gateways: { type: 'array', items: { type: 'object' } },
        tools: { type: 'array', items: { type: 'object' } },
        resources: { type: 'array', items: { type: 'object' } },
        prompts: { type: 'array', items: { type: 'object' } },
        virtualServers: { type: 'array', items: { type: 'object' } },
      },
    },
    ImportResult: {
      type: 'object',
      properties: Object.fromEntries(
        ['created', 'updated', 'deleted', 'unchanged'].map((count) => [count, { type: 'integer' }]),
      ),
    },
    CallStatsSummary: {
      type: 'object',
      properties: {
        count: { type: 'integer' },
        errors: { type: 'integer' },
        failureRate: { type: 'number' },
        p50Ms: { type: 'number' },
        p95Ms: { type: 'number' },
        p99Ms: { type: 'number' },
        lastCallAt: dateTime,
        lastError: { type: 'string' },
        lastErrorAt: dateTime,
      },
    },
  };
}

/** Request bodies, generated from the zod schemas the routes validate with. */
function requestSchemas(): Record<string, JsonSchema> {
  return {
    GatewayInput: inputSchemaOf(gatewayInputSchema),
    GatewayPatch: inputSchemaOf(gatewayPatchSchema),
    ToolCreate: inputSchemaOf(toolCreateSchema),
    ToolPatch: inputSchemaOf(toolPatchSchema),
    PromptCreate: inputSchemaOf(promptCreateSchema),
    PromptPatch: inputSchemaOf(promptPatchSchema),
    ResourceCreate: inputSchemaOf(resourceCreateSchema),
    ResourcePatch: inputSchemaOf(resourcePatchSchema),
    VirtualServerCreate: inputSchemaOf(virtualServerCreateSchema),
    VirtualServerPatch: inputSchemaOf(virtualServerPatchSchema),
  };
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const body = (schema: string) => ({ required: true, content: json(ref(schema)) });
const response = (r: string) => ({ $ref: `#/components/responses/${r}` });
const idParameter = { $ref: '#/components/parameters/Id' };
const ifMatch = { $ref: '#/components/parameters/IfMatch' };
const ifNoneMatch = { $ref: '#/components/parameters/IfNoneMatch' };
const etag = { ETag: { $ref: '#/components/headers/ETag' } };
const located = { ...etag, Location: { $ref: '#/components/headers/Location' } };
type HeaderRefs = Record<string, { $ref: string }>;
const ok = (description: string, schema: JsonSchema, headers?: HeaderRefs): OpenApiResponse => ({
  description,
  ...(headers === undefined ? {} : { headers }),
  content: json(schema),
});
const page = (schema: string) => ({
  type: 'object',
  required: ['items'],
  properties: {
    items: { type: 'array', items: ref(schema) },
    nextCursor: { type: 'string', description: 'Absent on the last page; pass it as `cursor` for the next.' },
  },
});

/** The CRUD paths of one catalog collection (tools, prompts, resources, servers). */
function collectionPaths(spec: {
  path: string;
  tag: string;
  noun: string;
  schema: string;
  query: OpenApiParameter[];
  create: { summary: string; description: string; schema: string; extra?: Record<string, OpenApiResponse> };
  patch: { schema: string; description: string; extra?: Record<string, OpenApiResponse> };
  deleteDescription: string;
}): OpenApiDocument['paths'] {
  const { path, tag, noun, schema } = spec;
  return {
    [path]: {
      get: {
        operationId: `list${schema}s`,
        summary: `List ${noun}s`,
        description: 'Oldest first, filtered and searched, one page at a time.',
        tags: [tag],
        parameters: spec.query,
        responses: { 200: ok(`A page of ${noun}s.`, page(schema)), 400: response('BadRequest') },
      },
      post: {
        operationId: `create${schema}`,
        summary: spec.create.summary,
        description: spec.create.description,
        tags: [tag],
        requestBody: body(spec.create.schema),
        responses: {
          201: ok(`The new ${noun}.`, ref(schema), located),
          400: response('BadRequest'),
          409: response('Conflict'),
          ...spec.create.extra,
          415: response('UnsupportedMediaType'),
        },
      },
    },
    [`${path}/{id}`]: {
      get: {
        operationId: `get${schema}`,
        summary: `Read a ${noun}`,
        tags: [tag],
        parameters: [idParameter, ifNoneMatch],
        responses: {
          200: ok(`The ${noun}.`, ref(schema), etag),
          304: { description: 'Not modified: `If-None-Match` named the current ETag.' },
          404: response('NotFound'),
        },
      },
      patch: {
        operationId: `update${schema}`,
        summary: `Change a ${noun}`,
        description: `${spec.patch.description} Send \`If-Match\` with the ETag you read to refuse overwriting a change made since.`,
        tags: [tag],
        parameters: [idParameter, ifMatch],
        requestBody: body(spec.patch.schema),
        responses: {
          200: ok(`The changed ${noun}.`, ref(schema), etag),
          400: response('BadRequest'),
          404: response('NotFound'),
          409: response('Conflict'),
          412: response('PreconditionFailed'),
          ...spec.patch.extra,
          415: response('UnsupportedMediaType'),
        },
      },
      delete: {
        operationId: `delete${schema}`,
        summary: `Delete a ${noun}`,
        description: spec.deleteDescription,
        tags: [tag],
        parameters: [idParameter, ifMatch],
        responses: {
          204: { description: 'Deleted.' },
          400: response('BadRequest'),
          404: response('NotFound'),
          409: response('Conflict'),
          412: response('PreconditionFailed'),
        },
      },
    },
  };
}

/**
 * The OpenAPI 3.1 description of the gateway's REST API. Request bodies and list parameters are generated from the
 * zod schemas the routes validate with, so the document cannot drift from what the API accepts.
 */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const catalogQuery = queryParameters(catalogListQuerySchema);
  const serverQuery = queryParameters(serverListQuerySchema);
  const local =
    'Discovered items cannot be deleted (409): their upstream would list them again; disable them.';

  const access = accessOpenApi();
  const paths: OpenApiDocument['paths'] = {
    '/v1/gateways': {
      get: {
        operationId: 'listGateways',
        summary: 'List gateways',
        description: 'Every registered upstream MCP server with its connection status.',
        tags: ['gateways'],
        responses: {
          200: ok('Every gateway.', {
            type: 'object',
            properties: { items: { type: 'array', items: ref('Gateway') } },
          }),
        },
      },
      post: {
        operationId: 'createGateway',
        summary: 'Register a gateway',
        description: 'Connects at once; its tools, prompts and resources join the catalog when it is ready.',
        tags: ['gateways'],
        requestBody: body('GatewayInput'),
        responses: {
          201: ok('The new gateway.', ref('Gateway'), {
            Location: { $ref: '#/components/headers/Location' },
          }),
          400: response('BadRequest'),
          409: response('Conflict'),
          415: response('UnsupportedMediaType'),
        },
      },
    },
    '/v1/gateways/{id}': {
      get: {
        operationId: 'getGateway',
        summary: 'Read a gateway',
        tags: ['gateways'],
        parameters: [idParameter],
        responses: { 200: ok('The gateway.', ref('Gateway')), 404: response('NotFound') },
      },
      patch: {
        operationId: 'updateGateway',
        summary: 'Change a gateway',
        description:
          'JSON Merge Patch: absent fields stay, `null` clears. A changed connection reconnects; masked values sent back keep the stored secret.',
        tags: ['gateways'],
        parameters: [idParameter],
        requestBody: body('GatewayPatch'),
        responses: {
          200: ok('The changed gateway.', ref('Gateway')),
          400: response('BadRequest'),
          404: response('NotFound'),
          409: response('Conflict'),
          415: response('UnsupportedMediaType'),
        },
      },
      delete: {
        operationId: 'deleteGateway',
        summary: 'Remove a gateway',
        description: 'Disconnects it; its discovered items leave the catalog.',
        tags: ['gateways'],
        parameters: [idParameter],
        responses: { 204: { description: 'Removed.' }, 404: response('NotFound') },
      },
    },
    '/v1/gateways/{id}/refresh': {
      post: {
        operationId: 'refreshGateway',
        summary: 'Refresh a gateway',
        description: "Lists the upstream's tools, prompts and resources again now.",
        tags: ['gateways'],
        parameters: [idParameter],
        responses: { 200: ok('The gateway after the refresh.', ref('Gateway')), 404: response('NotFound') },
      },
    },
    ...collectionPaths({
      path: '/v1/tools',
      tag: 'tools',
      noun: 'tool',
      schema: 'Tool',
      query: catalogQuery,
      create: {
        summary: 'Create an adapter tool',
        description:
          'A tool served by an adapter (`rest` or `command`). `inputSchema` must compile as a JSON Schema (422 otherwise).',
        schema: 'ToolCreate',
        extra: { 422: response('UnprocessableEntity') },
      },
      patch: {
        schema: 'ToolPatch',
        description:
          'Enable or disable it, rename it (`alias`), override its description or annotations, tag it.',
      },
      deleteDescription: `Deletes a local or adapter tool. ${local}`,
    }),
    '/v1/tools/{id}/invoke': {
      post: {
        operationId: 'invokeTool',
        summary: 'Call a tool',
        description: 'Calls the tool through the gateway, as an MCP client would, and returns its result.',
        tags: ['tools'],
        parameters: [idParameter],
        requestBody: body('ToolInvoke'),
        responses: {
          200: ok('The tool result (`isError: true` for a failure the tool reported).', ref('ToolResult')),
          400: response('BadRequest'),
          404: response('NotFound'),
          415: response('UnsupportedMediaType'),
        },
      },
    },
    ...collectionPaths({
      path: '/v1/prompts',
      tag: 'prompts',
      noun: 'prompt',
      schema: 'Prompt',
      query: catalogQuery,
      create: {
        summary: 'Create a local prompt',
        description:
          'Messages whose `text` may use `{{argName}}` placeholders for declared arguments, and nothing else. A placeholder naming no argument is 422.',
        schema: 'PromptCreate',
        extra: { 422: response('UnprocessableEntity') },
      },
      patch: {
        schema: 'PromptPatch',
        description: 'Enable, rename, describe or tag it; local prompts may also replace their template.',
        extra: { 422: response('UnprocessableEntity') },
      },
      deleteDescription: `Deletes a local prompt. ${local}`,
    }),
    ...collectionPaths({
      path: '/v1/resources',
      tag: 'resources',
      noun: 'resource',
      schema: 'Resource',
      query: catalogQuery,
      create: {
        summary: 'Create a local static resource',
        description: 'A resource whose content (`text`, or `blob` in base64) the gateway serves itself.',
        schema: 'ResourceCreate',
      },
      patch: {
        schema: 'ResourcePatch',
        description: 'Enable or tag it; local resources may also replace their content.',
      },
      deleteDescription: `Deletes a local resource. ${local}`,
    }),
    ...collectionPaths({
      path: '/v1/servers',
      tag: 'servers',
      noun: 'virtual server',
      schema: 'VirtualServer',
      query: serverQuery,
      create: {
        summary: 'Create a virtual server',
        description:
          'A named bundle of tools, prompts and resources with its own endpoints. A member id that does not exist is 422 (`members.N.id`); an alias used twice per kind is 409.',
        schema: 'VirtualServerCreate',
        extra: { 422: response('UnprocessableEntity') },
      },
      patch: {
        schema: 'VirtualServerPatch',
        description: '`members`, when given, replaces every member.',
        extra: { 422: response('UnprocessableEntity') },
      },
      deleteDescription: 'Deletes the server; its items stay in the catalog.',
    }),
    '/v1/tags': {
      get: {
        operationId: 'listTags',
        summary: 'List tags',
        description: 'Every tag in use, with how many entities of each kind carry it.',
        tags: ['catalog'],
        responses: {
          200: ok('Every tag, sorted.', {
            type: 'object',
            properties: { items: { type: 'array', items: ref('TagCount') } },
          }),
        },
      },
    },
    '/v1/config': {
      get: {
        operationId: 'exportConfig',
        summary: 'Export the registry',
        description: 'The whole registry as one document, secrets included: treat it as a credential.',
        tags: ['config'],
        responses: { 200: ok('The registry document.', ref('RegistryDocument')) },
      },
      put: {
        operationId: 'importConfig',
        summary: 'Import the registry',
        description:
          'Makes the registry match the document in one transaction; nothing changes when any entry is wrong.',
        tags: ['config'],
        parameters: [
          {
            name: 'mode',
            in: 'query',
            description: '`merge` keeps what the document does not list; `replace` deletes it.',
            schema: { type: 'string', enum: ['merge', 'replace'], default: 'merge' },
          },
        ],
        requestBody: body('RegistryDocument'),
        responses: {
          200: ok('What the import changed.', ref('ImportResult')),
          400: response('BadRequest'),
          415: response('UnsupportedMediaType'),
        },
      },
    },
    '/v1/stats': {
      get: {
        operationId: 'getStats',
        summary: 'Call statistics',
        description:
          'Call counts, failure rates and latency percentiles by tool and by upstream since start.',
        tags: ['operations'],
        responses: {
          200: ok('Figures by tool public name and by upstream id.', {
            type: 'object',
            properties: {
              tools: { type: 'object', additionalProperties: ref('CallStatsSummary') },
              upstreams: { type: 'object', additionalProperties: ref('CallStatsSummary') },
            },
          }),
        },
      },
    },
    '/health': {
      get: {
        operationId: 'health',
        summary: 'Liveness',
        description: 'Answers while the process runs.',
        tags: ['operations'],
        responses: {
          200: ok('Alive.', { type: 'object', properties: { status: { const: 'ok' } } }),
        },
      },
    },
    '/ready': {
      get: {
        operationId: 'ready',
        summary: 'Readiness',
        description:
          'Ready when the database answers and every enabled upstream had its first connection attempt.',
        tags: ['operations'],
        responses: {
          200: ok('Ready.', ref('Readiness')),
          503: ok('Not ready; `checks` says why.', ref('Readiness')),
        },
      },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: options.title,
      version: options.version,
      description:
        'Administration API of the MCP gateway: upstream gateways, the catalog of tools, prompts and resources, virtual servers, tags and the registry document. Errors share one body (`Error`); writes to catalog items and servers take `If-Match`.',
    },
    ...(options.serverUrl === undefined ? {} : { servers: [{ url: options.serverUrl }] }),
    tags: [
      { name: 'gateways', description: 'Upstream MCP servers.' },
      { name: 'tools', description: 'Tools: discovered from gateways, or served by adapters.' },
      { name: 'prompts', description: 'Prompts: discovered, or local templates.' },
      {
        name: 'resources',
        description: 'Resources and resource templates: discovered, or local static content.',
      },
      { name: 'servers', description: 'Virtual servers: bundles of catalog items with their own endpoints.' },
      { name: 'catalog', description: 'Across the catalog.' },
      { name: 'config', description: 'The whole registry as one document.' },
      { name: 'operations', description: 'Health, readiness and statistics.' },
      ...access.tags,
    ],
    paths: { ...paths, ...access.paths },
    components: {
      schemas: {
        ...requestSchemas(),
        ...responseSchemas(),
        ...access.schemas,
        Readiness: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['ready', 'not-ready'] },
            checks: {
              type: 'object',
              additionalProperties: {
                type: 'object',
                properties: { ok: { type: 'boolean' }, error: { type: 'string' } },
              },
            },
            catalog: {
              type: 'object',
              properties: Object.fromEntries(
                ['tools', 'prompts', 'resources'].map((kind) => [kind, { type: 'integer' }]),
              ),
            },
          },
        },
      },
      parameters: {
        Id: { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          description:
            'The ETag of your last read (`W/"<id>-<version>"`) or `*`. When the item changed since, the write is refused with 412.',
          schema: { type: 'string' },
        },
        IfNoneMatch: {
          name: 'If-None-Match',
          in: 'header',
          description: 'An ETag you hold; when it is still current the answer is 304 with no body.',
          schema: { type: 'string' },
        },
      },
      headers: {
        ETag: {
          description:
            'Weak ETag naming the id and version: `W/"<id>-<version>"`. Send it back in `If-Match`.',
          schema: { type: 'string' },
        },
        Location: { description: 'The path of the new item.', schema: { type: 'string' } },
      },
      responses: {
        BadRequest: errorResponse(
          'Malformed: not JSON, an unknown field or query parameter, a wrong type, a bad If-Match. `details` names each field.',
        ),
        NotFound: errorResponse('No item with this id.'),
        Conflict: errorResponse(
          'Taken (a name or alias), or not allowed in its state (deleting a discovered item).',
        ),
        PreconditionFailed: errorResponse(
          'The item changed since the ETag in If-Match: GET it again and retry.',
        ),
        UnprocessableEntity: errorResponse(
          'Well-formed but meaningless: an unknown placeholder, an invalid JSON Schema, a member that does not exist. `details` points at the field.',
        ),
        UnsupportedMediaType: errorResponse('The body must be sent with Content-Type: application/json.'),
      },
    },
  };
}

function errorResponse(description: string): OpenApiResponse {
  return { description, content: json(ref('Error')) };
}
