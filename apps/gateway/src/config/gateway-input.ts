import { passthroughHeaderProblem } from '@mcp-gateway/registry';
import { z } from 'zod';
import { ownershipInputFields, ownershipPatchFields, visibilitySchema } from './ownership-input.ts';

/** The transports an upstream MCP server can be reached over. */
export const gatewayTransports = ['stdio', 'streamable-http', 'sse', 'websocket'] as const;

/** One of {@link gatewayTransports}. */
export type GatewayTransport = (typeof gatewayTransports)[number];

const namePattern = /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/;
const namespacePattern = /^[A-Za-z0-9_-]{1,32}$/;
// RFC 9110 token characters; anything else would make `new Headers()` throw at connect time.
const headerNamePattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const controlCharacters = /[\r\n\0]/;

/** Error map for a field's type check: "x is required" when absent, "x must be …" otherwise. */
function typeError(field: string, expected: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? `${field} is required` : `${field} must be ${expected}`;
}

// Per-field rules, shared by the full schema (with defaults and the transport rules) and the patch schema.
const fields = {
  name: z
    .string({ error: typeError('name', 'a string') })
    .trim()
    .min(1, { error: 'name must not be empty', abort: true })
    .max(100, 'name must be at most 100 characters')
    .regex(
      namePattern,
      'name must start with a letter or digit and contain only letters, digits, spaces, ".", "_" and "-"',
    ),
  transport: z.enum(gatewayTransports, {
    error: typeError('transport', `one of ${gatewayTransports.map((t) => `"${t}"`).join(', ')}`),
  }),
  command: z.string({ error: typeError('command', 'a string') }).min(1, 'command must not be empty'),
  args: z.array(z.string({ error: 'args must be a list of strings' }), {
    error: 'args must be a list of strings',
  }),
  env: z.record(
    z.string().regex(/^[^=\0]+$/, 'env variable names must not be empty or contain "="'),
    z
      .string({ error: 'env values must be strings' })
      .refine((value) => !value.includes('\0'), 'env values must not contain NUL characters'),
    { error: 'env must be an object of string values' },
  ),
  cwd: z.string({ error: typeError('cwd', 'a string') }).min(1, 'cwd must not be empty'),
  url: z.url({
    protocol: /^(https?|wss?)$/,
    error: 'url must be an http(s):// URL (ws(s):// for websocket)',
  }),
  headers: z.record(
    z.string().regex(headerNamePattern, 'header names must be valid HTTP header names'),
    z
      .string({ error: 'header values must be strings' })
      .refine(
        (value) => !controlCharacters.test(value),
        'header values must not contain line breaks or NUL characters',
      ),
    { error: 'headers must be an object of string values' },
  ),
  passthroughHeaders: z
    .array(z.string({ error: 'passthroughHeaders must be a list of header names' }), {
      error: 'passthroughHeaders must be a list of header names',
    })
    .superRefine((names, context) => {
      names.forEach((name, index) => {
        const problem = passthroughHeaderProblem(name);
        if (problem !== undefined) context.addIssue({ code: 'custom', path: [index], message: problem });
      });
    })
    .meta({
      description:
        'Inbound request headers forwarded to this upstream on each call (streamable-http and sse only), by name or by ' +
        'prefix ending in "*" ("x-tenant-*"). Authorization, Cookie, Proxy-Authorization and Mcp-Session-Id are never ' +
        'forwarded and refused here.',
      examples: [['x-tenant', 'x-request-*']],
    }),
  namespace: z
    .string({ error: typeError('namespace', 'a string') })
    .refine(
      (value) => value === '' || namespacePattern.test(value),
      'namespace must be empty (no prefix) or 1 to 32 letters, digits, "_" or "-"',
    )
    // `__` separates the namespace from the tool name, so a namespace containing it (or ending in `_`, which
    // would form `___`) could not be split back unambiguously.
    .refine(
      (value) => !value.includes('__') && !value.endsWith('_'),
      'namespace must not contain "__" (the separator) or end with "_"',
    ),
  enabled: z.boolean({ error: 'enabled must be true or false' }),
  timeoutMs: z
    .number({ error: typeError('timeoutMs', 'a number') })
    .int('timeoutMs must be a whole number of milliseconds from 100 to 600000')
    .min(100, 'timeoutMs must be a whole number of milliseconds from 100 to 600000')
    .max(600_000, 'timeoutMs must be a whole number of milliseconds from 100 to 600000'),
  protocolEra: z.enum(['auto', 'legacy', 'modern'], {
    error: 'protocolEra must be "auto" (2026-07-28 first, then initialize), "legacy" or "modern"',
  }),
  tags: z.array(
    z
      .string({ error: 'tags must be a list of strings' })
      .trim()
      .min(1, 'tags must not be empty strings')
      .max(64, 'tags must be at most 64 characters'),
    { error: 'tags must be a list of strings' },
  ),
};

interface TransportFields {
  transport: GatewayTransport;
  command?: string | undefined;
  args: string[];
  env: Record<string, string>;
  cwd?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string>;
  passthroughHeaders?: string[];
}

// Empty lists and objects count as absent: they are the defaults, so a parsed stdio gateway always has `headers: {}`.
function isPresent(value: unknown): boolean {
  if (value === undefined) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return true;
}

function checkTransportFields(value: TransportFields, context: z.RefinementCtx): void {
  const { transport } = value;
  const required: Array<keyof TransportFields> = transport === 'stdio' ? ['command'] : ['url'];
  // Inbound headers are forwarded per request, which only HTTP transports have (a WebSocket sends headers once).
  const forbidden: Array<keyof TransportFields> =
    transport === 'stdio'
      ? ['url', 'headers', 'passthroughHeaders']
      : transport === 'websocket'
        ? ['command', 'args', 'env', 'cwd', 'passthroughHeaders']
        : ['command', 'args', 'env', 'cwd'];
  if (typeof value.url === 'string' && transport !== 'stdio') {
    const websocketUrl = /^wss?:/i.test(value.url);
    if (websocketUrl !== (transport === 'websocket')) {
      context.addIssue({
        code: 'custom',
        path: ['url'],
        message:
          transport === 'websocket'
            ? 'url must be a ws:// or wss:// URL when transport is "websocket"'
            : `url must be an http:// or https:// URL when transport is "${transport}"`,
      });
    }
  }
  for (const field of required) {
    if (!isPresent(value[field])) {
      context.addIssue({
        code: 'custom',
        path: [field],
        message: `${field} is required when transport is "${transport}"`,
      });
    }
  }
  for (const field of forbidden) {
    if (isPresent(value[field])) {
      context.addIssue({
        code: 'custom',
        path: [field],
        message: `${field} is not allowed when transport is "${transport}"`,
      });
    }
  }
}

/**
 * One upstream MCP server as registered through `POST /v1/gateways` or listed in a config file. Unknown keys are
 * rejected; stdio needs `command` (no `url`/`headers`), the HTTP transports need `url` (no `command`/`args`/`env`/
 * `cwd`). `namespace: ''` means tools are exposed unprefixed; leaving it out lets the gateway derive one.
 */
export const gatewayInputSchema = z
  .strictObject({
    name: fields.name,
    transport: fields.transport,
    command: fields.command.optional(),
    args: fields.args.default(() => []),
    env: fields.env.default(() => ({})),
    cwd: fields.cwd.optional(),
    url: fields.url.optional(),
    headers: fields.headers.default(() => ({})),
    passthroughHeaders: fields.passthroughHeaders.optional(),
    namespace: fields.namespace.optional(),
    enabled: fields.enabled.default(true),
    timeoutMs: fields.timeoutMs.optional(),
    protocolEra: fields.protocolEra.optional(),
    tags: fields.tags.default(() => []),
    ...ownershipInputFields,
  })
  .superRefine(checkTransportFields);

/** A validated upstream registration, defaults applied. */
export type GatewayInput = z.output<typeof gatewayInputSchema>;

/**
 * The body of `PATCH /v1/gateways/:id`: every field optional, same per-field rules, no defaults. Following JSON
 * Merge Patch, `null` clears a field back to its default (so `{ transport: "sse", url, command: null }` switches a
 * stdio gateway to SSE); `name` and `transport` cannot be cleared. The transport rules are checked on the merged
 * result by {@link applyGatewayPatch}.
 */
export const gatewayPatchSchema = z.strictObject({
  name: fields.name.optional(),
  transport: fields.transport.optional(),
  command: fields.command.nullable().optional(),
  args: fields.args.nullable().optional(),
  env: fields.env.nullable().optional(),
  cwd: fields.cwd.nullable().optional(),
  url: fields.url.nullable().optional(),
  headers: fields.headers.nullable().optional(),
  passthroughHeaders: fields.passthroughHeaders.nullable().optional(),
  namespace: fields.namespace.nullable().optional(),
  enabled: fields.enabled.nullable().optional(),
  timeoutMs: fields.timeoutMs.nullable().optional(),
  protocolEra: fields.protocolEra.nullable().optional(),
  tags: fields.tags.nullable().optional(),
  ...ownershipPatchFields,
  // `null` makes the gateway public again, like every other field's default.
  visibility: visibilitySchema.nullable().optional(),
});

/** A validated PATCH body: absent fields stay as they are, `null` fields are cleared. */
export type GatewayPatch = z.output<typeof gatewayPatchSchema>;

/**
 * Merges a validated patch into the current registration and validates the result with {@link gatewayInputSchema},
 * so a patch that breaks the transport rules (say, `transport: "stdio"` with no `command`) fails here.
 */
export function applyGatewayPatch(
  current: GatewayInput,
  patch: GatewayPatch,
): z.ZodSafeParseResult<GatewayInput> {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return gatewayInputSchema.safeParse(merged);
}

/** A validation failure as one line for people and a list for programs. */
export interface FormattedZodIssues {
  /** For example `invalid request: command: command is required when transport is "stdio"`. */
  message: string;
  /** One entry per problem; `path` joins the field path with `.` (`gateways.1.url`) and is `''` for the root. */
  details: Array<{ path: string; message: string }>;
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map((segment) => String(segment)).join('.');
}

/**
 * Turns a zod error into `{ message, details }` for REST 400 bodies and start-up errors. Unknown keys get one
 * detail each, on their own path. `prefix` starts the message (default `invalid request`).
 */
export function formatZodIssues(error: z.core.$ZodError, prefix = 'invalid request'): FormattedZodIssues {
  const details: FormattedZodIssues['details'] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        details.push({ path: joinPath([...issue.path, key]), message: 'unknown field' });
    } else if (issue.code === 'invalid_key') {
      details.push({ path: joinPath(issue.path), message: issue.issues[0]?.message ?? issue.message });
    } else {
      details.push({ path: joinPath(issue.path), message: issue.message });
    }
  }
  const lines = details.map((detail) =>
    detail.path === '' ? detail.message : `${detail.path}: ${detail.message}`,
  );
  return { message: `${prefix}: ${lines.join('; ')}`, details };
}
