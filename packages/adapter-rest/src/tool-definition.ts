import { z } from 'zod';

// The stored shapes of REST and command tools: plain JSON a registry row, a config file or a REST request can hold.
// The schemas are the contract; `createRestUpstream` checks more (templates against input schemas, JMESPath,
// schemas compiling) when it compiles them.

/** Tool names as the gateway publishes them (core's public-name rule). */
const toolNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'tool names are 1–64 characters of A–Z, a–z, 0–9, _ and -');

/** A JSON Schema object (any dialect keyword is accepted; 2020-12 is what clients expect). */
export const jsonSchemaSchema = z.record(z.string(), z.unknown());
/** A JSON Schema object. */
export type JsonSchema = Record<string, unknown>;

const objectSchemaSchema = jsonSchemaSchema.refine((schema) => schema.type === 'object', {
  message: 'must be a JSON Schema with "type": "object"',
});

/**
 * Where a request value comes from: `{ from: "argName" }` takes a tool argument (skipped when the argument is
 * absent, unless `default` is set); `{ value: … }` is a static value.
 */
export const valueSourceSchema = z.union([
  z.strictObject({ from: z.string().min(1), default: z.unknown().optional() }),
  z.strictObject({ value: z.unknown() }),
]);
/** Where a request value comes from: a tool argument or a static value. */
export type ValueSource = z.infer<typeof valueSourceSchema>;

/**
 * The request body. `from` sends one argument as the whole body; `fields` builds an object from arguments and static
 * values; `value` is a static body. Encoded as JSON [default], `form` (application/x-www-form-urlencoded) or `text`.
 * When `body` is omitted, POST, PUT and PATCH send the arguments that no path, query or header mapping used, as a
 * JSON object (nothing when none are left); other methods send no body.
 */
export const bodyMappingSchema = z
  .strictObject({
    from: z.string().min(1).optional(),
    fields: z.record(z.string(), valueSourceSchema).optional(),
    value: z.unknown().optional(),
    encoding: z.enum(['json', 'form', 'text']).optional(),
    /** Overrides the Content-Type header the encoding implies. */
    contentType: z.string().optional(),
  })
  .refine((body) => [body.from, body.fields, body.value].filter((part) => part !== undefined).length === 1, {
    message: 'a body mapping has exactly one of "from", "fields" or "value"',
  });
/** How the request body is built from arguments. */
export type BodyMapping = z.infer<typeof bodyMappingSchema>;

/**
 * Credentials the adapter presents to the API. Secrets are stored as they are here; the registry encrypts them at
 * rest. `oauth2ClientCredentials` fetches a token from `tokenUrl` (client authentication by HTTP Basic [default] or
 * in the form body), caches it until shortly before it expires, and retries a call once with a fresh token on 401.
 */
export const restAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('bearer'), token: z.string().min(1) }),
  z.strictObject({ type: z.literal('basic'), username: z.string(), password: z.string() }),
  z.strictObject({
    type: z.literal('apiKey'),
    in: z.enum(['header', 'query']),
    name: z.string().min(1),
    value: z.string().min(1),
  }),
  z.strictObject({
    type: z.literal('oauth2ClientCredentials'),
    tokenUrl: z.url({ protocol: /^https?$/ }),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    scopes: z.array(z.string()).optional(),
    audience: z.string().optional(),
    clientAuthentication: z.enum(['basic', 'body']).optional(),
  }),
]);
/** Credentials for the API. */
export type RestAuth = z.infer<typeof restAuthSchema>;

/** Retries of idempotent calls. Durations in milliseconds; defaults in brackets. */
export const retryPolicySchema = z.strictObject({
  /** Attempts in all, the first included [3]; 1 turns retries off. */
  maxAttempts: z.number().int().min(1).max(10).optional(),
  /** The whole call, attempts and waits, fits in this [60000]. */
  maxTotalMs: z.number().int().positive().optional(),
  /** First backoff delay; it doubles per retry, with full jitter [250]. */
  initialDelayMs: z.number().int().positive().optional(),
  /** Largest backoff delay [10000]. */
  maxDelayMs: z.number().int().positive().optional(),
  /** A longer Retry-After ends the retries (the API's answer is returned) [30000]. */
  maxRetryAfterMs: z.number().int().nonnegative().optional(),
});
/** Retry budget of a tool. */
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

/** MCP tool annotations (hints for clients). */
export const toolAnnotationsSchema = z.looseObject({
  title: z.string().optional(),
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});

/** A token bucket: `limit` calls per `intervalMs`, bursting up to `burst` [limit]. */
export const rateLimitSchema = z.strictObject({
  limit: z.number().int().positive(),
  intervalMs: z.number().int().positive(),
  burst: z.number().int().positive().optional(),
});
/** A per-tool rate limit. */
export type RateLimit = z.infer<typeof rateLimitSchema>;

const limitsShape = {
  /** Calls over the rate wait for a token, up to `queueTimeoutMs`, then fail with a tool error. */
  rateLimit: rateLimitSchema.optional(),
  /** Calls beyond this many in flight wait for a slot, up to `queueTimeoutMs`, then fail with a tool error. */
  maxConcurrent: z.number().int().positive().optional(),
  /** How long a call over a limit waits [1000]; 0 fails at once. */
  queueTimeoutMs: z.number().int().nonnegative().optional(),
};

/** The HTTP methods a REST tool may use. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** An HTTP method a REST tool may use. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

/**
 * A REST endpoint as an MCP tool. `url` is an absolute http(s) URL template whose `{name}` placeholders are filled
 * from the same-named arguments (or from `path`), percent-encoded. Arguments are validated against `inputSchema`
 * before any request; when it is omitted, one is derived (path placeholders are required strings, every other
 * referenced argument is optional and untyped).
 */
export const restToolDefinitionSchema = z.strictObject({
  kind: z.literal('rest').optional(),
  name: toolNameSchema,
  title: z.string().optional(),
  description: z.string().optional(),
  method: z.enum(HTTP_METHODS),
  url: z.string().min(1),
  /** Placeholder → value source, for placeholders whose argument has another name. */
  path: z.record(z.string(), valueSourceSchema).optional(),
  /** Query parameter → value source; an array argument repeats the parameter (`a=1&a=2`). */
  query: z.record(z.string(), valueSourceSchema).optional(),
  /** Header → value source. */
  headers: z.record(z.string(), valueSourceSchema).optional(),
  body: bodyMappingSchema.optional(),
  inputSchema: objectSchemaSchema.optional(),
  /**
   * The schema of `structuredContent`. A response whose (shaped) JSON is not an object, or an output schema that is
   * not an object schema, is wrapped as `{ "result": … }`.
   */
  outputSchema: jsonSchemaSchema.optional(),
  response: z
    .strictObject({
      /** A JMESPath expression applied to a JSON response; its result is what the model sees. */
      select: z.string().min(1).optional(),
      /** The body is read up to this many bytes, then cut with a truncation marker [1048576]. */
      maxBytes: z.number().int().positive().optional(),
      /** How to read the body [auto: by Content-Type]. */
      as: z.enum(['auto', 'json', 'text', 'binary']).optional(),
      /** Check `structuredContent` against `outputSchema`; a mismatch is a tool error [true]. */
      validate: z.boolean().optional(),
    })
    .optional(),
  auth: z.union([restAuthSchema, z.array(restAuthSchema)]).optional(),
  /** Time allowed for one attempt, the body included [30000]. */
  timeoutMs: z.number().int().positive().optional(),
  retry: retryPolicySchema.optional(),
  ...limitsShape,
  annotations: toolAnnotationsSchema.optional(),
});
/** A REST endpoint as an MCP tool (see {@link restToolDefinitionSchema}). */
export type RestToolDefinition = z.infer<typeof restToolDefinitionSchema>;

/**
 * A fixed executable as an MCP tool. `command[0]` is the executable (no placeholders; an absolute path, or a name
 * found on the `PATH` passed in `envAllow`/`env`); every later element is a template that becomes exactly one argv
 * element, `{name}` replaced by the argument's text (`{{` and `}}` are literal braces). No shell is involved, so
 * shell metacharacters in arguments arrive verbatim. A string argument starting with "-" is refused in an element
 * that is a single placeholder (option injection) unless `allowOptionLikeArguments` is set.
 */
export const commandToolDefinitionSchema = z.strictObject({
  kind: z.literal('command'),
  name: toolNameSchema,
  title: z.string().optional(),
  description: z.string().optional(),
  command: z
    .array(z.string())
    .min(1)
    .refine((argv) => !/\{[^{}]+\}/.test(argv[0] ?? ''), 'the executable (command[0]) is fixed'),
  cwd: z.string().optional(),
  /** Names of the gateway's environment variables passed through (nothing else is inherited). */
  envAllow: z.array(z.string()).optional(),
  /** Static environment variables. */
  env: z.record(z.string(), z.string()).optional(),
  /** The argument whose text is written to stdin; without it stdin is empty. */
  stdinFrom: z.string().optional(),
  /** The process group is killed after this long [30000]. */
  timeoutMs: z.number().int().positive().optional(),
  /** stdout is kept up to this many bytes, then the process is stopped and the output cut with a marker [1048576]. */
  maxOutputBytes: z.number().int().positive().optional(),
  /** `json` parses stdout into `structuredContent` [text]. */
  output: z.enum(['text', 'json']).optional(),
  allowOptionLikeArguments: z.boolean().optional(),
  inputSchema: objectSchemaSchema.optional(),
  outputSchema: jsonSchemaSchema.optional(),
  ...limitsShape,
  annotations: toolAnnotationsSchema.optional(),
});
/** A command as an MCP tool (see {@link commandToolDefinitionSchema}). */
export type CommandToolDefinition = z.infer<typeof commandToolDefinitionSchema>;

/** Either kind of tool; a definition without `kind` is a REST tool. */
export const toolDefinitionSchema = z.union([commandToolDefinitionSchema, restToolDefinitionSchema]);
/** Either kind of tool. */
export type ToolDefinition = RestToolDefinition | CommandToolDefinition;
