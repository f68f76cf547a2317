import { GatewayError } from '@mcp-gateway/core';
import { parse as parseYaml } from 'yaml';
import { createOpenApiSchemaConverter, type OpenApiSchemaConverter } from './openapi-schema-converter.ts';
import type {
  BodyMapping,
  HttpMethod,
  RestAuth,
  RestToolDefinition,
  ValueSource,
} from './tool-definition.ts';

type Json = Record<string, unknown>;

/** Which operations to take: an operation matches when any listed tag, path or operation matches. */
export interface OpenApiSelector {
  /** Operation tags. */
  tags?: readonly string[];
  /** Path templates as written in the spec (`/pets/{petId}`); `*` matches any run of characters. */
  paths?: readonly string[];
  /** operationIds, generated tool names, or `"METHOD /path"`. */
  operations?: readonly string[];
}

/**
 * Credentials for one security scheme, by the scheme's kind: `token` (http bearer), `username` + `password` (http
 * basic), `value` (apiKey), `clientId` + `clientSecret` [+ `scopes`] (oauth2 client credentials).
 */
export interface OpenApiCredentials {
  token?: string;
  username?: string;
  password?: string;
  value?: string;
  clientId?: string;
  clientSecret?: string;
  scopes?: readonly string[];
}

/** Options of {@link importOpenApi}. */
export interface OpenApiImportOptions {
  /** Only operations matching this (all when omitted). */
  include?: OpenApiSelector;
  /** Minus operations matching this. */
  exclude?: OpenApiSelector;
  /** Replaces the spec's servers (`http://127.0.0.1:8080/api/v3`). Required when the spec's server URL is relative. */
  baseUrl?: string;
  /** Credentials per securityScheme name; operations whose schemes have none are imported without auth. */
  auth?: Readonly<Record<string, OpenApiCredentials>>;
  /** Settings copied into every tool (timeouts, retries, limits, response caps). */
  defaults?: Pick<
    RestToolDefinition,
    'timeoutMs' | 'retry' | 'rateLimit' | 'maxConcurrent' | 'queueTimeoutMs' | 'response'
  >;
}

/** What {@link importOpenApi} produced: tool definitions ready for `createRestUpstream`, and what it skipped. */
export interface OpenApiImportResult {
  tools: RestToolDefinition[];
  warnings: string[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

/**
 * Turns an OpenAPI 3.0/3.1 (or Swagger 2.0) document, as an object or JSON/YAML text, into REST tool definitions:
 * - name: the operationId with characters outside `[A-Za-z0-9_-]` replaced by `_` (≤ 64, made unique with `_2`,
 *   `_3`, …), else `method_path` (`get_pets_petId`);
 * - description: summary and description; title: summary;
 * - input schema: path, query and header parameters as top-level properties (names outside `[A-Za-z0-9_.-]`
 *   sanitized and mapped back); a JSON or form body whose schema is a plain object (properties, no composition,
 *   no additionalProperties) is flattened into top-level properties when no name collides, else it is the `body`
 *   property; every `$ref` inlined;
 * - output schema: the first 2xx JSON response;
 * - auth from the security schemes that `options.auth` has credentials for.
 * Operations that cannot be called as JSON/form/text (multipart uploads, binary bodies) are skipped with a warning.
 * Throws a `GatewayError` (`invalid-input`) when the document cannot be read or has no absolute base URL.
 */
export function importOpenApi(
  spec: object | string,
  options: OpenApiImportOptions = {},
): OpenApiImportResult {
  const document = readDocument(spec);
  const warnings: string[] = [];
  const warn = (message: string) => {
    if (!warnings.includes(message)) warnings.push(message);
  };
  const swagger2 = document.swagger === '2.0';
  const rawVersion = document.openapi ?? document.swagger;
  const version = typeof rawVersion === 'string' ? rawVersion : '';
  if (!swagger2 && !/^3\.[01]\./.test(version)) {
    throw new GatewayError(
      'invalid-input',
      `not an OpenAPI 3.0/3.1 or Swagger 2.0 document (version "${version}")`,
    );
  }
  const converter = createOpenApiSchemaConverter({
    document,
    dialect: version.startsWith('3.1') ? '3.1' : '3.0',
    warn,
  });
  const securitySchemes = ((swagger2
    ? document.securityDefinitions
    : (document.components as Json | undefined)?.securitySchemes) ?? {}) as Record<string, Json>;
  const rootServer = swagger2 ? swaggerBaseUrl(document) : serverUrl(document.servers);
  const usedNames = new Set<string>();
  const tools: RestToolDefinition[] = [];

  for (const [path, rawPathItem] of Object.entries((document.paths ?? {}) as Json)) {
    const pathItem = converter.resolve<Json>(rawPathItem);
    if (!pathItem) continue;
    for (const lowerMethod of METHODS) {
      const operation = pathItem[lowerMethod] as Json | undefined;
      if (!operation || typeof operation !== 'object') continue;
      const method = lowerMethod.toUpperCase() as HttpMethod;
      const operationId = typeof operation.operationId === 'string' ? operation.operationId : undefined;
      const label = `${method} ${path}`;
      const tags = Array.isArray(operation.tags) ? (operation.tags as string[]) : [];
      const candidateName = toolNameOf(operationId, lowerMethod, path);
      const matches = (selector: OpenApiSelector) =>
        (selector.tags ?? []).some((tag) => tags.includes(tag)) ||
        (selector.paths ?? []).some((pattern) => globMatch(pattern, path)) ||
        (selector.operations ?? []).some(
          (entry) =>
            entry === operationId || entry === candidateName || entry.toUpperCase() === label.toUpperCase(),
        );
      if (options.include && !matches(options.include)) continue;
      if (options.exclude && matches(options.exclude)) continue;

      const base =
        options.baseUrl ??
        (swagger2 ? rootServer : (serverUrl(operation.servers) ?? serverUrl(pathItem.servers) ?? rootServer));
      if (base === undefined || !/^https?:\/\//i.test(base)) {
        throw new GatewayError(
          'invalid-input',
          base === undefined
            ? 'the document names no server; pass baseUrl'
            : `the document's server URL "${base}" is not absolute; pass baseUrl`,
        );
      }
      const built = buildOperation({
        converter,
        operation,
        pathItem,
        path,
        method,
        swagger2,
        document,
        warn: (message) => warn(`${label}: ${message}`),
      });
      if (!built) continue;

      const name = uniqueName(candidateName, usedNames);
      const summary = typeof operation.summary === 'string' ? operation.summary.trim() : '';
      const details = typeof operation.description === 'string' ? operation.description.trim() : '';
      const description = [
        summary,
        details !== summary ? details : '',
        operation.deprecated === true ? '(deprecated)' : '',
      ]
        .filter((part) => part !== '')
        .join('\n\n');
      const auth = authOf({
        requirements: (operation.security ?? document.security) as
          Array<Record<string, string[]>> | undefined,
        securitySchemes,
        credentials: options.auth ?? {},
        baseUrl: base,
        warn,
      });
      tools.push({
        name,
        ...(summary ? { title: summary } : {}),
        ...(description ? { description } : {}),
        method,
        url: `${base.replace(/\/+$/, '')}${built.urlPath}`,
        ...(Object.keys(built.query).length > 0 ? { query: built.query } : {}),
        ...(Object.keys(built.headers).length > 0 ? { headers: built.headers } : {}),
        ...(built.body ? { body: built.body } : {}),
        inputSchema: built.inputSchema,
        ...(built.outputSchema ? { outputSchema: built.outputSchema } : {}),
        ...(auth ? { auth } : {}),
        ...options.defaults,
      });
    }
  }
  return { tools, warnings };
}

/**
 * Compares two tool sets by name, for a re-import that updates tools in place: `updated` are names in both whose
 * definitions differ, `unchanged` those that are equal (key order does not matter). Each list is sorted.
 */
export function diffToolSets(
  previous: ReadonlyArray<{ name: string }>,
  next: ReadonlyArray<{ name: string }>,
): { added: string[]; updated: string[]; removed: string[]; unchanged: string[] } {
  const before = new Map(previous.map((tool) => [tool.name, stableJson(tool)]));
  const after = new Map(next.map((tool) => [tool.name, stableJson(tool)]));
  const added: string[] = [];
  const updated: string[] = [];
  const unchanged: string[] = [];
  for (const [name, json] of after) {
    const old = before.get(name);
    if (old === undefined) added.push(name);
    else if (old === json) unchanged.push(name);
    else updated.push(name);
  }
  const removed = [...before.keys()].filter((name) => !after.has(name));
  return {
    added: added.sort(),
    updated: updated.sort(),
    removed: removed.sort(),
    unchanged: unchanged.sort(),
  };
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

function readDocument(spec: object | string): Json {
  let document: unknown = spec;
  if (typeof spec === 'string') {
    try {
      document = spec.trimStart().startsWith('{') ? JSON.parse(spec) : parseYaml(spec);
    } catch (error) {
      throw new GatewayError(
        'invalid-input',
        `the OpenAPI document is neither JSON nor YAML: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new GatewayError('invalid-input', 'the OpenAPI document is not an object');
  }
  return document as Json;
}

function serverUrl(servers: unknown): string | undefined {
  if (!Array.isArray(servers) || servers.length === 0) return undefined;
  const server = servers[0] as Json;
  if (typeof server.url !== 'string') return undefined;
  const variables = (server.variables ?? {}) as Record<string, Json>;
  return server.url.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const fallback = variables[name]?.default;
    return typeof fallback === 'string' || typeof fallback === 'number' ? String(fallback) : whole;
  });
}

function swaggerBaseUrl(document: Json): string | undefined {
  if (typeof document.host !== 'string') return undefined;
  const schemes = Array.isArray(document.schemes) ? (document.schemes as string[]) : [];
  const scheme = schemes.includes('https') ? 'https' : (schemes[0] ?? 'https');
  const basePath = typeof document.basePath === 'string' ? document.basePath : '';
  return `${scheme}://${document.host}${basePath}`;
}

function toolNameOf(operationId: string | undefined, method: string, path: string): string {
  const sanitize = (text: string) => text.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  const fromId = operationId ? sanitize(operationId) : '';
  const segments = path.split('/').filter((segment) => segment !== '');
  const name = fromId !== '' ? fromId : sanitize([method, ...segments].join('_').replace(/[{}]/g, ''));
  return name.slice(0, 64);
}

function uniqueName(candidate: string, used: Set<string>): string {
  let name = candidate;
  for (let suffix = 2; used.has(name); suffix++)
    name = `${candidate.slice(0, 64 - String(suffix).length - 1)}_${suffix}`;
  used.add(name);
  return name;
}

function globMatch(pattern: string, text: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(text);
}

interface BuiltOperation {
  urlPath: string;
  query: Record<string, ValueSource>;
  headers: Record<string, ValueSource>;
  body?: BodyMapping;
  inputSchema: Json;
  outputSchema?: Json;
}

function buildOperation(context: {
  converter: OpenApiSchemaConverter;
  operation: Json;
  pathItem: Json;
  path: string;
  method: HttpMethod;
  swagger2: boolean;
  document: Json;
  warn: (message: string) => void;
}): BuiltOperation | undefined {
  const { converter, operation, pathItem, swagger2, warn } = context;
  // Operation parameters override path-level ones with the same name and location.
  const parameters = new Map<string, Json>();
  for (const raw of [
    ...((pathItem.parameters as unknown[]) ?? []),
    ...((operation.parameters as unknown[]) ?? []),
  ]) {
    const parameter = converter.resolve<Json>(raw);
    if (!parameter || typeof parameter.name !== 'string') continue;
    parameters.set(`${String(parameter.in)}:${parameter.name}`, parameter);
  }

  const properties: Record<string, Json> = {};
  const required: string[] = [];
  const argumentOf = new Map<string, string>(); // "in:name" → argument
  const taken = new Set<string>();
  const claim = (name: string, location: string) => {
    const base = name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 64) || 'param';
    let argument = base;
    if (taken.has(argument)) argument = `${base}_${location}`;
    for (let suffix = 2; taken.has(argument); suffix++) argument = `${base}_${suffix}`;
    taken.add(argument);
    return argument;
  };
  const query: Record<string, ValueSource> = {};
  const headers: Record<string, ValueSource> = {};
  const formFields: Record<string, ValueSource> = {};
  let bodyParameter: Json | undefined;

  // Path parameters first so that they keep their own names.
  const ordered = [...parameters.values()].sort((a, b) => Number(b.in === 'path') - Number(a.in === 'path'));
  for (const parameter of ordered) {
    const name = parameter.name as string;
    const location = String(parameter.in);
    if (location === 'body') {
      bodyParameter = parameter;
      continue;
    }
    if (location === 'cookie') {
      warn(`cookie parameter "${name}" is not supported and was left out`);
      continue;
    }
    if (location === 'header' && IGNORED_HEADERS.has(name.toLowerCase())) continue;
    if (location === 'formData' && parameter.type === 'file') {
      warn('file uploads (multipart/form-data) are not supported; operation skipped');
      return undefined;
    }
    const argument = claim(name, location);
    argumentOf.set(`${location}:${name}`, argument);
    let schema = parameterSchema(parameter, converter, swagger2);
    if (typeof parameter.description === 'string' && schema.description === undefined) {
      schema = { ...schema, description: parameter.description };
    }
    properties[argument] = schema;
    if (parameter.required === true || location === 'path') required.push(argument);
    const source: ValueSource = { from: argument };
    if (location === 'query') query[name] = source;
    else if (location === 'header') headers[name] = source;
    else if (location === 'formData') formFields[name] = source;
  }

  // The path template, its placeholders renamed to their arguments.
  let missingPathParameter: string | undefined;
  const urlPath = context.path.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
    let argument = argumentOf.get(`path:${name}`);
    if (argument === undefined) {
      missingPathParameter ??= name;
      argument = claim(name, 'path');
      argumentOf.set(`path:${name}`, argument);
      properties[argument] = { type: 'string' };
      required.push(argument);
    }
    return `{${argument}}`;
  });
  if (missingPathParameter !== undefined)
    warn(`path parameter "${missingPathParameter}" is not declared; taken as a string`);

  // The body.
  let body: BodyMapping | undefined;
  let bodySchema: Json | undefined;
  let bodyRequired = false;
  let encoding: 'json' | 'form' | 'text' = 'json';
  let contentType: string | undefined;
  if (swagger2) {
    if (bodyParameter) {
      bodySchema = converter.convert(bodyParameter.schema, 'request');
      bodyRequired = bodyParameter.required === true;
      if (typeof bodyParameter.description === 'string' && bodySchema.description === undefined) {
        bodySchema = { ...bodySchema, description: bodyParameter.description };
      }
      const consumes = (context.operation.consumes ?? context.document.consumes) as string[] | undefined;
      if (consumes && consumes.length > 0 && !consumes.some(isJsonMediaType)) {
        warn(`request body type ${consumes.join(', ')} is not supported; operation skipped`);
        return undefined;
      }
    } else if (Object.keys(formFields).length > 0) {
      body = { fields: formFields, encoding: 'form' };
    }
  } else {
    const requestBody = converter.resolve<Json>(context.operation.requestBody);
    if (requestBody) {
      const content = (requestBody.content ?? {}) as Record<string, Json>;
      const types = Object.keys(content);
      const json = types.find(isJsonMediaType);
      const picked =
        json ??
        types.find((type) => type === 'application/x-www-form-urlencoded') ??
        types.find((type) => type.startsWith('text/'));
      if (picked === undefined) {
        if (types.length > 0) {
          warn(`request body type ${types.join(', ')} is not supported; operation skipped`);
          return undefined;
        }
      } else {
        encoding = picked === json ? 'json' : picked.startsWith('text/') ? 'text' : 'form';
        if (picked !== 'application/json' && encoding !== 'form') contentType = picked;
        bodySchema = converter.convert(content[picked]?.schema ?? {}, 'request');
        bodyRequired = requestBody.required === true;
        if (typeof requestBody.description === 'string' && bodySchema.description === undefined) {
          bodySchema = { ...bodySchema, description: requestBody.description };
        }
      }
    }
  }
  if (bodySchema) {
    const bodyProperties = bodySchema.properties as Record<string, Json> | undefined;
    const flat =
      encoding !== 'text' &&
      bodyProperties !== undefined &&
      Object.keys(bodyProperties).length > 0 &&
      (bodySchema.type === 'object' || bodySchema.type === undefined) &&
      !['allOf', 'anyOf', 'oneOf', 'not', 'if', 'patternProperties'].some((key) => key in bodySchema) &&
      (bodySchema.additionalProperties === undefined || bodySchema.additionalProperties === false) &&
      Object.keys(bodyProperties).every((name) => /^[A-Za-z0-9_.-]{1,64}$/.test(name) && !taken.has(name));
    const extra = contentType ? { contentType } : {};
    if (flat) {
      const fields: Record<string, ValueSource> = {};
      const bodyRequiredNames = new Set(
        Array.isArray(bodySchema.required) ? (bodySchema.required as string[]) : [],
      );
      for (const [name, schema] of Object.entries(bodyProperties)) {
        taken.add(name);
        properties[name] = schema;
        fields[name] = { from: name };
        if (bodyRequired && bodyRequiredNames.has(name)) required.push(name);
      }
      body = { fields, encoding, ...extra };
    } else {
      const argument = claim('body', 'body');
      properties[argument] = bodySchema;
      if (bodyRequired) required.push(argument);
      body = { from: argument, encoding, ...extra };
    }
  }

  const inputSchema: Json = {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
  const outputSchema = responseSchema(context.operation, converter, { swagger2, document: context.document });
  return {
    urlPath,
    query,
    headers,
    ...(body ? { body } : {}),
    inputSchema,
    ...(outputSchema ? { outputSchema } : {}),
  };
}

function parameterSchema(parameter: Json, converter: OpenApiSchemaConverter, swagger2: boolean): Json {
  if (swagger2) {
    // Swagger 2 puts the schema keywords on the parameter itself.
    const {
      name: _n,
      in: _i,
      required: _r,
      description: _d,
      collectionFormat: _c,
      allowEmptyValue: _a,
      ...schema
    } = parameter;
    return converter.convert(schema, 'request');
  }
  if (parameter.schema !== undefined) return converter.convert(parameter.schema, 'request');
  const content = parameter.content as Record<string, Json> | undefined;
  const first = content ? Object.values(content)[0] : undefined;
  return first?.schema !== undefined ? converter.convert(first.schema, 'request') : { type: 'string' };
}

function responseSchema(
  operation: Json,
  converter: OpenApiSchemaConverter,
  { swagger2, document }: { swagger2: boolean; document: Json },
): Json | undefined {
  const responses = (operation.responses ?? {}) as Json;
  const code = Object.keys(responses)
    .filter((key) => /^2(\d\d|XX)$/i.test(key))
    .sort()[0];
  if (code === undefined) return undefined;
  const response = converter.resolve<Json>(responses[code]);
  if (!response) return undefined;
  if (swagger2) {
    const produces = (operation.produces ?? document.produces) as string[] | undefined;
    if (
      response.schema === undefined ||
      (produces && produces.length > 0 && !produces.some(isJsonMediaType))
    ) {
      return undefined;
    }
    return converter.convert(response.schema, 'response');
  }
  const content = (response.content ?? {}) as Record<string, Json>;
  const json = Object.keys(content).find(isJsonMediaType);
  if (json === undefined || content[json]?.schema === undefined) return undefined;
  return converter.convert(content[json].schema, 'response');
}

function isJsonMediaType(type: string): boolean {
  const mime = type.split(';')[0]?.trim().toLowerCase() ?? '';
  return mime === 'application/json' || mime.endsWith('+json') || mime === '*/*';
}

function authOf(context: {
  requirements: Array<Record<string, string[]>> | undefined;
  securitySchemes: Record<string, Json>;
  credentials: Readonly<Record<string, OpenApiCredentials>>;
  baseUrl: string;
  warn: (message: string) => void;
}): RestAuth | RestAuth[] | undefined {
  const { requirements, securitySchemes, credentials, warn } = context;
  if (!requirements || requirements.length === 0) return undefined;
  for (const requirement of requirements) {
    const names = Object.keys(requirement);
    if (names.length === 0) return undefined; // `{}`: auth is optional
    const auths: RestAuth[] = [];
    for (const name of names) {
      const auth = schemeAuth(name, requirement[name] ?? [], context);
      if (!auth) break;
      auths.push(auth);
    }
    if (auths.length === names.length) return auths.length === 1 ? auths[0] : auths;
  }
  const wanted = requirements.flatMap((requirement) => Object.keys(requirement));
  for (const name of wanted) {
    if (!securitySchemes[name]) warn(`security scheme "${name}" is not defined`);
    else if (!credentials[name])
      warn(`no credentials for security scheme "${name}"; its operations are imported without auth`);
  }
  return undefined;
}

function schemeAuth(
  name: string,
  scopes: string[],
  context: {
    securitySchemes: Record<string, Json>;
    credentials: Readonly<Record<string, OpenApiCredentials>>;
    baseUrl: string;
    warn: (message: string) => void;
  },
): RestAuth | undefined {
  const scheme = context.securitySchemes[name];
  const credentials = context.credentials[name];
  if (!scheme || !credentials) return undefined;
  const unsupported = (what: string) => {
    context.warn(`security scheme "${name}" (${what}) is not supported`);
    return undefined;
  };
  const incomplete = (fields: string) => {
    context.warn(`credentials for security scheme "${name}" need ${fields}`);
    return undefined;
  };
  const type = String(scheme.type);
  if (type === 'basic' || (type === 'http' && String(scheme.scheme).toLowerCase() === 'basic')) {
    if (credentials.username === undefined || credentials.password === undefined)
      return incomplete('username and password');
    return { type: 'basic', username: credentials.username, password: credentials.password };
  }
  if (type === 'http' && String(scheme.scheme).toLowerCase() === 'bearer') {
    if (!credentials.token) return incomplete('token');
    return { type: 'bearer', token: credentials.token };
  }
  if (type === 'http') return unsupported(`http ${String(scheme.scheme)}`);
  if (type === 'apiKey') {
    if (scheme.in !== 'header' && scheme.in !== 'query') return unsupported(`apiKey in ${String(scheme.in)}`);
    if (!credentials.value) return incomplete('value');
    return { type: 'apiKey', in: scheme.in, name: String(scheme.name), value: credentials.value };
  }
  if (type === 'oauth2') {
    const tokenUrl =
      ((scheme.flows as Json | undefined)?.clientCredentials as Json | undefined)?.tokenUrl ??
      (scheme.flow === 'application' ? scheme.tokenUrl : undefined);
    if (typeof tokenUrl !== 'string') return unsupported('oauth2 without a client credentials flow');
    if (!credentials.clientId || !credentials.clientSecret) return incomplete('clientId and clientSecret');
    const wantedScopes = credentials.scopes ?? scopes;
    return {
      type: 'oauth2ClientCredentials',
      tokenUrl: new URL(tokenUrl, context.baseUrl).href,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      ...(wantedScopes.length > 0 ? { scopes: [...wantedScopes] } : {}),
    };
  }
  return unsupported(type);
}
