import { compile as compileJmespath, TreeInterpreter, type JSONValue } from '@jmespath-community/jmespath';
import { describeError, type RpcResult, type Tool } from '@mcp-gateway/core';
import { abortableSleep, abortReason } from './abortable-sleep.ts';
import { parseRetryAfter } from './retry-after.ts';
import { readCappedBody, truncationMarker, type CappedBody } from './read-capped-body.ts';
import { RestAdapterError } from './rest-adapter-error.ts';
import type { SchemaCheck } from './schema-compiler.ts';
import { parseStringTemplate, renderStringTemplate, templateNames } from './string-template.ts';
import type { HttpMethod, RestAuth, RestToolDefinition, ValueSource } from './tool-definition.ts';
import { toolError, type CompiledTool, type ToolCall, type ToolRuntime } from './tool-runtime.ts';

const IDEMPOTENT_METHODS: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const DEFAULT_MAX_BYTES = 1_048_576;
const ERROR_BODY_BYTES = 4096;
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

type Mapping = ReadonlyArray<readonly [string, ValueSource]>;
type OAuth = Extract<RestAuth, { type: 'oauth2ClientCredentials' }>;

/** A request built from arguments, before auth and redirects. */
interface PreparedRequest {
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** What one attempt ended with. */
type AttemptOutcome =
  | { type: 'done'; result: RpcResult }
  | { type: 'retry'; reason: string; retryAfterMs?: number; result: RpcResult }
  | { type: 'unauthorized'; token: string; result: RpcResult };

/**
 * Compiles a REST tool definition once: URL template, mappings, input and output schema checks, the JMESPath
 * expression and the limits. Throws `RestAdapterError` (`config-invalid`) naming the tool when anything is wrong.
 */
export function compileRestTool(definition: RestToolDefinition, runtime: ToolRuntime): CompiledTool {
  const { name, method } = definition;
  const invalid = (message: string) => new RestAdapterError('config-invalid', `tool "${name}": ${message}`);

  // URL: placeholders only after the authority, so arguments can never choose the host.
  const urlTemplate = parseStringTemplate(definition.url);
  const firstPlaceholder = definition.url.search(/\{[A-Za-z0-9_.-]+\}/);
  const authorityEnd = definition.url.indexOf('/', definition.url.indexOf('//') + 2);
  if (firstPlaceholder >= 0 && (authorityEnd < 0 || firstPlaceholder < authorityEnd)) {
    throw invalid(`placeholders may not appear in the scheme or host of "${definition.url}"`);
  }
  let sampleUrl: URL;
  try {
    sampleUrl = new URL(renderStringTemplate(urlTemplate, () => 'x'));
  } catch {
    throw invalid(`"${definition.url}" is not an absolute URL template`);
  }
  if (sampleUrl.protocol !== 'http:' && sampleUrl.protocol !== 'https:') {
    throw invalid(`"${definition.url}" is not an http or https URL`);
  }
  const pathSources = new Map<string, ValueSource>(
    templateNames(urlTemplate).map((placeholder) => [
      placeholder,
      definition.path?.[placeholder] ?? { from: placeholder },
    ]),
  );
  const query: Mapping = Object.entries(definition.query ?? {});
  const headerMapping: Mapping = Object.entries(definition.headers ?? {});
  const bodyMapping = definition.body;
  if (bodyMapping && (method === 'GET' || method === 'HEAD'))
    throw invalid(`a ${method} request has no body`);
  const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH' || bodyMapping !== undefined;
  const mapped = new Set<string>();
  for (const [, source] of [...pathSources, ...query, ...headerMapping]) {
    if ('from' in source) mapped.add(source.from);
  }
  const bodyArguments = new Set<string>();
  if (bodyMapping?.from !== undefined) bodyArguments.add(bodyMapping.from);
  for (const source of Object.values(bodyMapping?.fields ?? {})) {
    if ('from' in source) bodyArguments.add(source.from);
  }

  // Input schema: the given one must declare every referenced argument; else one is derived.
  const referenced = new Set([...mapped, ...bodyArguments]);
  const inputSchema = definition.inputSchema ?? deriveInputSchema(pathSources, referenced);
  const declared = (inputSchema.properties ?? {}) as Record<string, unknown>;
  for (const argument of referenced) {
    if (!(argument in declared)) throw invalid(`argument "${argument}" is used but not in the input schema`);
  }
  const checkInput = runtime.compiler.compileOnFirstUse(inputSchema, `tool "${name}" input schema`, {
    checkNow: true,
  });

  // Output: the JMESPath expression is compiled now; the output schema on first use (it can be huge).
  const select = definition.response?.select;
  let selectAst: ReturnType<typeof compileJmespath> | undefined;
  if (select !== undefined) {
    try {
      selectAst = compileJmespath(select);
    } catch (error) {
      throw invalid(`response.select "${select}" is not a JMESPath expression: ${describeError(error)}`);
    }
  }
  const wrapOutput = definition.outputSchema !== undefined && definition.outputSchema.type !== 'object';
  const outputSchema = definition.outputSchema
    ? wrapOutput
      ? { type: 'object', properties: { result: definition.outputSchema }, required: ['result'] }
      : definition.outputSchema
    : undefined;
  const checkOutput: SchemaCheck | undefined =
    outputSchema && definition.response?.validate !== false
      ? runtime.compiler.compileOnFirstUse(outputSchema, `tool "${name}" output schema`, {
          onInvalid: (error) =>
            runtime.logger.warn({ tool: name, err: error.message }, 'output-schema-ignored'),
        })
      : undefined;
  const maxBytes = definition.response?.maxBytes ?? DEFAULT_MAX_BYTES;
  const readAs = definition.response?.as ?? 'auto';

  // Auth: static parts now; OAuth tokens per call from the shared cache.
  const auths =
    definition.auth === undefined ? [] : Array.isArray(definition.auth) ? definition.auth : [definition.auth];
  const authHeaders: Record<string, string> = {};
  const authQuery: Array<[string, string]> = [];
  let oauth: OAuth | undefined;
  for (const auth of auths) {
    if (auth.type === 'bearer') authHeaders.authorization = `Bearer ${auth.token}`;
    else if (auth.type === 'basic') {
      authHeaders.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    } else if (auth.type === 'apiKey') {
      if (auth.in === 'header') authHeaders[auth.name.toLowerCase()] = auth.value;
      else authQuery.push([auth.name, auth.value]);
    } else oauth = auth;
  }
  // Credentials never follow a redirect to another origin.
  const sensitiveHeaders = new Set([
    'authorization',
    'cookie',
    'proxy-authorization',
    ...Object.keys(authHeaders),
  ]);

  const timeoutMs = definition.timeoutMs ?? 30_000;
  const retry = {
    maxAttempts: IDEMPOTENT_METHODS.has(method) ? (definition.retry?.maxAttempts ?? 3) : 1,
    maxTotalMs: definition.retry?.maxTotalMs ?? 60_000,
    initialDelayMs: definition.retry?.initialDelayMs ?? 250,
    maxDelayMs: definition.retry?.maxDelayMs ?? 10_000,
    maxRetryAfterMs: definition.retry?.maxRetryAfterMs ?? 30_000,
  };
  const limiter = runtime.limiter({
    toolName: name,
    rateLimit: definition.rateLimit,
    maxConcurrent: definition.maxConcurrent,
    queueTimeoutMs: definition.queueTimeoutMs,
  });
  const readOnly = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
  const tool: Tool = {
    name,
    ...(definition.title === undefined ? {} : { title: definition.title }),
    ...(definition.description === undefined ? {} : { description: definition.description }),
    inputSchema: inputSchema as Tool['inputSchema'],
    ...(outputSchema === undefined ? {} : { outputSchema }),
    annotations: {
      readOnlyHint: readOnly,
      ...(readOnly
        ? {}
        : { destructiveHint: method === 'DELETE', idempotentHint: IDEMPOTENT_METHODS.has(method) }),
      openWorldHint: true,
      ...definition.annotations,
    },
  };

  const prepare = (args: Record<string, unknown>): PreparedRequest => {
    const url = new URL(
      renderStringTemplate(urlTemplate, (placeholder) => {
        const value = resolve(pathSources.get(placeholder) ?? { from: placeholder }, args);
        if (value === undefined || value === null) {
          throw new RestAdapterError('invalid-arguments', `missing required "${placeholder}"`);
        }
        const text = Array.isArray(value) ? value.map(textOf).join(',') : textOf(value);
        if (text === '.' || text === '..' || text === '') {
          throw new RestAdapterError('invalid-arguments', `"${placeholder}" may not be "${text}"`);
        }
        return encodeURIComponent(text);
      }),
    );
    for (const [key, source] of query) {
      const value = resolve(source, args);
      if (value === undefined || value === null) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, textOf(item));
    }
    for (const [key, value] of authQuery) url.searchParams.set(key, value);
    const headers: Record<string, string> = {
      accept: 'application/json, text/plain;q=0.9, */*;q=0.8',
      'user-agent': 'mcp-gateway-adapter-rest',
    };
    for (const [key, source] of headerMapping) {
      const value = resolve(source, args);
      if (value === undefined || value === null) continue;
      const text = Array.isArray(value) ? value.map(textOf).join(', ') : textOf(value);
      if (/[\r\n\0]/.test(text)) {
        throw new RestAdapterError('invalid-arguments', `header "${key}" may not contain line breaks`);
      }
      headers[key.toLowerCase()] = text;
    }
    Object.assign(headers, authHeaders);
    const prepared: PreparedRequest = { url, headers };
    if (hasBody) {
      const value = bodyValue(args);
      if (value !== undefined) {
        const encoding = bodyMapping?.encoding ?? 'json';
        if (encoding === 'json') {
          prepared.body = JSON.stringify(value);
          headers['content-type'] = 'application/json';
        } else if (encoding === 'form') {
          prepared.body = formOf(value).toString();
          headers['content-type'] = 'application/x-www-form-urlencoded';
        } else {
          prepared.body = textOf(value);
          headers['content-type'] = 'text/plain; charset=utf-8';
        }
        if (bodyMapping?.contentType) headers['content-type'] = bodyMapping.contentType;
      }
    }
    return prepared;
  };

  const bodyValue = (args: Record<string, unknown>): unknown => {
    if (bodyMapping?.from !== undefined) return args[bodyMapping.from];
    if (bodyMapping?.value !== undefined) return bodyMapping.value;
    if (bodyMapping?.fields !== undefined) {
      const object: Record<string, unknown> = {};
      for (const [key, source] of Object.entries(bodyMapping.fields)) {
        const value = resolve(source, args);
        if (value !== undefined) object[key] = value;
      }
      return object;
    }
    // No mapping: the arguments no other mapping used.
    const rest = Object.fromEntries(Object.entries(args).filter(([key]) => !mapped.has(key)));
    return Object.keys(rest).length > 0 ? rest : undefined;
  };

  const shape = (response: Response, url: URL, body: CappedBody): RpcResult => {
    const mime = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const kind = readAs === 'auto' ? classify(mime) : readAs;
    if (body.bytes.byteLength === 0 && !body.truncated) {
      const headers =
        method === 'HEAD' ? `\n${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}` : '';
      return { content: [{ type: 'text', text: `HTTP ${response.status} (empty body)${headers}` }] };
    }
    if (kind === 'text' || (kind === 'json' && body.truncated)) {
      const text = decode(body.bytes, response) + (body.truncated ? truncationMarker(body) : '');
      if (body.truncated && outputSchema) {
        return toolError(`the response exceeds the ${maxBytes}-byte cap; its start follows`, [
          { type: 'text', text },
        ]);
      }
      return { content: [{ type: 'text', text }] };
    }
    if (kind === 'json') {
      let data: unknown;
      const text = decode(body.bytes, response);
      try {
        data = JSON.parse(text);
      } catch {
        if (outputSchema) return toolError('the response is not valid JSON', [{ type: 'text', text }]);
        return { content: [{ type: 'text', text }] };
      }
      if (selectAst) {
        try {
          data = TreeInterpreter.search(selectAst, data as JSONValue);
        } catch (error) {
          return toolError(`response.select "${select}" failed: ${describeError(error)}`);
        }
      }
      const shapedText = JSON.stringify(data) ?? 'null';
      if (Buffer.byteLength(shapedText) > maxBytes) {
        const cut: CappedBody = {
          bytes: Buffer.from(shapedText).subarray(0, maxBytes),
          truncated: true,
          declaredBytes: Buffer.byteLength(shapedText),
        };
        return { content: [{ type: 'text', text: decode(cut.bytes, response) + truncationMarker(cut) }] };
      }
      const structuredContent = !wrapOutput && isPlainObject(data) ? data : { result: data };
      const problem = checkOutput?.(structuredContent);
      if (problem !== undefined) {
        return toolError(`the response does not match the tool's output schema: ${problem}`, [
          { type: 'text', text: shapedText },
        ]);
      }
      return { content: [{ type: 'text', text: shapedText }], structuredContent };
    }
    if (body.truncated) {
      return toolError(
        `the ${mime || 'binary'} response exceeds the ${maxBytes}-byte cap and was not returned ${truncationMarker(body)}`,
      );
    }
    const data = Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength).toString(
      'base64',
    );
    const mimeType = mime || 'application/octet-stream';
    if (mimeType.startsWith('image/')) return { content: [{ type: 'image', data, mimeType }] };
    if (mimeType.startsWith('audio/')) return { content: [{ type: 'audio', data, mimeType }] };
    return {
      content: [
        { type: 'resource', resource: { uri: `${url.origin}${url.pathname}`, mimeType, blob: data } },
      ],
    };
  };

  /** Sends the request, following up to five redirects, each re-checked by the guard. */
  const send = async (prepared: PreparedRequest, token: string | undefined, signal: AbortSignal) => {
    let url = prepared.url;
    let currentMethod: string = method;
    let body = prepared.body;
    const headers = { ...prepared.headers };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    for (let hop = 0; ; hop++) {
      runtime.guard.checkUrl(url);
      const response = await runtime.fetch(url.href, {
        method: currentMethod,
        headers,
        ...(body === undefined ? {} : { body }),
        signal,
        redirect: 'manual',
      });
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || location === null) return { response, url };
      await response.body?.cancel().catch(() => undefined);
      if (hop === MAX_REDIRECTS) {
        throw new RestAdapterError(
          'http-status',
          `more than ${MAX_REDIRECTS} redirects from ${show(prepared.url)}`,
        );
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new RestAdapterError('http-status', `redirect to an invalid URL from ${show(url)}`);
      }
      if (next.origin !== url.origin) for (const header of sensitiveHeaders) delete headers[header];
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && currentMethod === 'POST')
      ) {
        if (currentMethod !== 'HEAD') currentMethod = 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      url = next;
    }
  };

  /** One attempt: breaker, request, body. Throws only for a caller's abort and refused destinations. */
  const attempt = async (
    prepared: PreparedRequest,
    call: ToolCall,
    budgetMs: number,
  ): Promise<AttemptOutcome> => {
    const host = prepared.url.host;
    runtime.breakers.admit(host);
    const attemptTimeoutMs = Math.max(1, Math.min(timeoutMs, budgetMs));
    const timeout = AbortSignal.timeout(attemptTimeoutMs);
    const signal = AbortSignal.any([call.signal, timeout]);
    let token: string | undefined;
    let outcome: 'success' | 'failure' | 'cancelled' = 'cancelled';
    try {
      if (oauth) token = await runtime.tokens.token(oauth, signal);
      const { response, url } = await send(prepared, token, signal);
      outcome = response.status >= 500 ? 'failure' : 'success';
      if (response.status >= 200 && response.status < 300) {
        const body = await readCappedBody(response, maxBytes);
        return { type: 'done', result: shape(response, url, body) };
      }
      const retryable = RETRYABLE_STATUSES.has(response.status);
      const error = retryable
        ? undefined
        : await readCappedBody(response, Math.min(maxBytes, ERROR_BODY_BYTES));
      if (retryable) await response.body?.cancel().catch(() => undefined);
      const detail = error
        ? `: ${decode(error.bytes, response)}${error.truncated ? truncationMarker(error) : ''}`
        : '';
      const result = toolError(
        `HTTP ${response.status} ${response.statusText} from ${method} ${show(url)}${detail}`,
      );
      if (response.status === 401 && token !== undefined) return { type: 'unauthorized', token, result };
      if (!retryable) return { type: 'done', result };
      return {
        type: 'retry',
        reason: `HTTP ${response.status}`,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), runtime.now()),
        result,
      };
    } catch (error) {
      if (call.signal.aborted) throw abortReason(call.signal);
      const cause = (error as { cause?: unknown }).cause;
      const local =
        error instanceof RestAdapterError ? error : cause instanceof RestAdapterError ? cause : undefined;
      if (local) {
        if (local.code === 'outbound-blocked' || local.code === 'auth-failed') outcome = 'cancelled';
        if (local.code === 'auth-failed') return { type: 'done', result: toolError(local.message) };
        throw local;
      }
      outcome = 'failure';
      if (timeout.aborted) {
        const reason = `no complete answer within ${attemptTimeoutMs} ms`;
        return {
          type: 'retry',
          reason,
          result: toolError(`${method} ${show(prepared.url)} timed out: ${reason}`),
        };
      }
      const reason = describeError(cause ?? error);
      return {
        type: 'retry',
        reason,
        result: toolError(`${method} ${show(prepared.url)} failed: ${reason}`),
      };
    } finally {
      runtime.breakers.record(host, outcome);
    }
  };

  const execute = async (prepared: PreparedRequest, call: ToolCall): Promise<RpcResult> => {
    const deadline = performance.now() + retry.maxTotalMs;
    let refreshedToken = false;
    for (let attemptNumber = 1; ; attemptNumber++) {
      const outcome = await attempt(prepared, call, deadline - performance.now());
      if (outcome.type === 'done') return outcome.result;
      if (outcome.type === 'unauthorized') {
        if (refreshedToken || !oauth) return outcome.result;
        // The API refused our token: forget it and try once more with a fresh one (not counted as a retry).
        refreshedToken = true;
        runtime.tokens.invalidate(oauth, outcome.token);
        attemptNumber -= 1;
        continue;
      }
      const giveUp = (why: string) => appendNote(outcome.result, why);
      if (attemptNumber >= retry.maxAttempts) {
        return retry.maxAttempts > 1 ? giveUp(`gave up after ${attemptNumber} attempts`) : outcome.result;
      }
      const backoff = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attemptNumber - 1));
      const delayMs = outcome.retryAfterMs ?? runtime.random() * backoff;
      if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > retry.maxRetryAfterMs) {
        return giveUp(
          `Retry-After of ${Math.ceil(outcome.retryAfterMs / 1000)} s exceeds the ${retry.maxRetryAfterMs / 1000} s cap`,
        );
      }
      if (performance.now() + delayMs >= deadline) {
        return giveUp(`the retry budget of ${retry.maxTotalMs} ms is spent after ${attemptNumber} attempts`);
      }
      call.onProgress?.({
        progress: attemptNumber,
        total: retry.maxAttempts,
        message: `retrying after ${outcome.reason} (attempt ${attemptNumber + 1} of ${retry.maxAttempts})`,
      });
      runtime.logger.debug(
        { tool: name, attempt: attemptNumber, reason: outcome.reason, delayMs },
        'rest-retry',
      );
      await abortableSleep(delayMs, call.signal);
    }
  };

  return {
    tool,
    async run(args, call) {
      const problem = checkInput(args);
      if (problem !== undefined) return toolError(`Invalid arguments for tool "${name}": ${problem}`);
      let prepared: PreparedRequest;
      try {
        prepared = prepare(args);
        runtime.guard.checkUrl(prepared.url);
      } catch (error) {
        if (error instanceof RestAdapterError) {
          const prefix = error.code === 'invalid-arguments' ? `Invalid arguments for tool "${name}": ` : '';
          return toolError(prefix + error.message);
        }
        throw error;
      }
      const traceparent = call.meta?.traceparent;
      if (typeof traceparent === 'string' && TRACEPARENT.test(traceparent)) {
        prepared.headers.traceparent = traceparent;
        const tracestate = call.meta?.tracestate;
        if (typeof tracestate === 'string' && !/[\r\n]/.test(tracestate))
          prepared.headers.tracestate = tracestate;
      }
      let release: () => void;
      try {
        release = await limiter.acquire(call.signal);
      } catch (error) {
        if (error instanceof RestAdapterError) return toolError(error.message);
        throw error;
      }
      try {
        return await execute(prepared, call);
      } catch (error) {
        if (error instanceof RestAdapterError) return toolError(error.message);
        throw error;
      } finally {
        release();
      }
    },
  };
}

function deriveInputSchema(pathSources: Map<string, ValueSource>, referenced: Set<string>) {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const source of pathSources.values()) {
    if (!('from' in source)) continue;
    properties[source.from] = { type: ['string', 'number', 'integer'] };
    if (source.default === undefined) required.push(source.from);
  }
  for (const argument of referenced) properties[argument] ??= {};
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}) } as Record<
    string,
    unknown
  >;
}

function resolve(source: ValueSource, args: Record<string, unknown>): unknown {
  if ('value' in source) return source.value;
  return args[source.from] ?? source.default;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? '';
}

function formOf(value: unknown): URLSearchParams {
  const form = new URLSearchParams();
  if (!isPlainObject(value)) return new URLSearchParams(textOf(value));
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || item === null) continue;
    for (const entry of Array.isArray(item) ? item : [item]) form.append(key, textOf(entry));
  }
  return form;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a response body is read when `response.as` is `auto`. */
function classify(mime: string): 'json' | 'text' | 'binary' {
  if (mime === 'application/json' || mime.endsWith('+json') || mime === 'application/problem+json')
    return 'json';
  if (
    mime === '' ||
    mime.startsWith('text/') ||
    mime.endsWith('+xml') ||
    [
      'application/xml',
      'application/javascript',
      'application/yaml',
      'application/x-yaml',
      'application/x-ndjson',
    ].includes(mime)
  ) {
    return 'text';
  }
  return 'binary';
}

function decode(bytes: Uint8Array, response: Response): string {
  const charset = /charset=([^;]+)/i.exec(response.headers.get('content-type') ?? '')?.[1]?.trim();
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder().decode(bytes);
  }
}

/** A URL as shown in messages: no query string (it may carry an API key). */
function show(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function appendNote(result: RpcResult, note: string): RpcResult {
  const content = result.content as Array<{ type: string; text?: string }>;
  const [first, ...rest] = content;
  if (first?.type !== 'text') return result;
  return { ...result, content: [{ ...first, text: `${first.text ?? ''} (${note})` }, ...rest] };
}
