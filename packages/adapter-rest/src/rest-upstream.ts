import {
  emptyUpstreamCatalog,
  GatewayError,
  RpcError,
  RpcErrorCode,
  silentLogger,
  type Logger,
  type RpcParams,
  type RpcResult,
  type Upstream,
  type UpstreamCatalog,
  type UpstreamChange,
  type UpstreamRequestOptions,
  type UpstreamState,
} from '@mcp-gateway/core';
import { createCallLimiter, type CallLimiter } from './call-limiter.ts';
import { createCircuitBreakers, type CircuitBreakerOptions } from './circuit-breakers.ts';
import { compileCommandTool } from './command-tool.ts';
import { createGuardedFetch, type DnsLookup, type RestFetch } from './guarded-fetch.ts';
import { createOAuthTokenCache } from './oauth-token-cache.ts';
import { createOutboundGuard, parseOutboundAllowEntries, type OutboundAllowEntry } from './outbound-guard.ts';
import { RestAdapterError } from './rest-adapter-error.ts';
import { compileRestTool } from './rest-tool.ts';
import { createSchemaCompiler } from './schema-compiler.ts';
import {
  commandToolDefinitionSchema,
  restToolDefinitionSchema,
  type CommandToolDefinition,
  type RestToolDefinition,
  type ToolDefinition,
} from './tool-definition.ts';
import type { CompiledTool, ToolRuntime } from './tool-runtime.ts';

/** Options of {@link createRestUpstream}. Durations in milliseconds; defaults in brackets. */
export interface RestUpstreamOptions {
  /** Stable id (the registry row's id). */
  id: string;
  /** Human name, used in error messages and logs. */
  name: string;
  tools: ReadonlyArray<RestToolDefinition | CommandToolDefinition>;
  /**
   * The fetch used for every outbound request [undici's, through an agent that checks each resolved address at
   * connect time]. An injected fetch keeps the URL and redirect checks but not the connect-time check, unless it
   * was made by `createGuardedFetch`.
   */
  fetch?: RestFetch;
  /** DNS lookup of the default fetch [dns.lookup]. */
  lookup?: DnsLookup;
  /**
   * Destinations reopened despite the SSRF guard: hosts, host:port pairs, addresses, CIDR ranges (strings as in
   * `MCP_GATEWAY_OUTBOUND_ALLOW`, or parsed entries) [none; pass `parseOutboundAllowList(process.env)`].
   */
  outboundAllow?: ReadonlyArray<string | OutboundAllowEntry>;
  /** Circuit breaker per API host [5 consecutive failures, 30 s cool-down]. */
  circuitBreaker?: CircuitBreakerOptions;
  logger?: Logger;
  /** Wall clock: OAuth token expiry, breaker cool-downs, rate-limit refills [() => new Date()]. */
  clock?: () => Date;
  /** Jitter source for retry backoff [Math.random]. */
  random?: () => number;
  /** Environment that command tools' `envAllow` reads [process.env]. */
  environment?: Record<string, string | undefined>;
}

/** Options of {@link RestUpstream.replaceTools}. */
export interface ReplaceToolsOptions {
  /**
   * Leaves an invalid definition out and reports it here (with its index in `tools`), so one bad tool does not
   * keep every other from loading [unset: any invalid definition refuses the whole set].
   */
  onInvalid?: (error: GatewayError, index: number) => void;
}

/** A core `Upstream` serving REST and command tools, whose tools can be replaced in place. */
export interface RestUpstream extends Upstream {
  /**
   * Compiles `tools` and swaps them in atomically, then tells subscribers the tool list changed. Throws a
   * `GatewayError` (`config-invalid`) and keeps the old tools when any definition is invalid, unless
   * `onInvalid` is given. Calls in flight finish on the tools they started with. A tool whose rate limit,
   * concurrency limit and queue timeout are unchanged keeps its limiter state (tokens spent, slots taken).
   */
  replaceTools(
    tools: ReadonlyArray<RestToolDefinition | CommandToolDefinition>,
    options?: ReplaceToolsOptions,
  ): void;
}

/**
 * Creates an {@link RestUpstream}: REST endpoints, OpenAPI operations and commands as one MCP upstream. It is
 * always `ready` (there is no session to open); `tools/call` runs a tool, `tools/list` and `ping` answer from the
 * catalog, anything else is Method Not Found. Every definition is validated and compiled here (schemas, JMESPath,
 * templates), so a call does no compiling; an invalid definition throws a `GatewayError` (`config-invalid`).
 */
export function createRestUpstream(options: RestUpstreamOptions): RestUpstream {
  const logger = (options.logger ?? silentLogger).child({ upstream: options.name });
  const clock = options.clock ?? (() => new Date());
  const now = () => clock().getTime();
  let allow;
  try {
    allow = parseOutboundAllowEntries(options.outboundAllow ?? []);
  } catch (error) {
    throw new GatewayError('config-invalid', `upstream "${options.name}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  const guard = createOutboundGuard(allow);
  const guarded = options.fetch ? undefined : createGuardedFetch({ guard, lookup: options.lookup });
  const fetch = options.fetch ?? (guarded as NonNullable<typeof guarded>).fetch;
  const processes = new Set<() => void>();
  /** Aborts every call in flight when the upstream closes. */
  const closing = new AbortController();
  /** Limiters by tool name, with the limits they were made for; they outlive a `replaceTools`. */
  let limiters = new Map<string, { limits: string; limiter: CallLimiter }>();
  const runtime: Omit<ToolRuntime, 'compiler' | 'limiter'> = {
    upstreamName: options.name,
    guard,
    fetch,
    breakers: createCircuitBreakers(options.circuitBreaker, now),
    tokens: createOAuthTokenCache({ fetch, guard, now }),
    logger,
    now,
    random: options.random ?? Math.random,
    environment: options.environment ?? process.env,
    trackProcess(kill) {
      processes.add(kill);
      return () => processes.delete(kill);
    },
  };

  /** Compiles a tool set; `limiters` is what the upstream keeps once the set is swapped in. */
  const compile = (
    definitions: ReadonlyArray<ToolDefinition>,
    onInvalid?: ReplaceToolsOptions['onInvalid'],
  ) => {
    const compiler = createSchemaCompiler();
    const compiled = new Map<string, CompiledTool>();
    const nextLimiters: typeof limiters = new Map();
    const limiter: ToolRuntime['limiter'] = (limiterOptions) => {
      const limits = JSON.stringify([
        limiterOptions.rateLimit ?? null,
        limiterOptions.maxConcurrent ?? null,
        limiterOptions.queueTimeoutMs ?? null,
      ]);
      const kept = limiters.get(limiterOptions.toolName);
      const entry =
        kept?.limits === limits ? kept : { limits, limiter: createCallLimiter({ ...limiterOptions, now }) };
      nextLimiters.set(limiterOptions.toolName, entry);
      return entry.limiter;
    };
    const compileOne = (raw: ToolDefinition, index: number) => {
      const schema =
        (raw as { kind?: unknown }).kind === 'command'
          ? commandToolDefinitionSchema
          : restToolDefinitionSchema;
      const parsed = schema.safeParse(raw);
      const label = `upstream "${options.name}" tool ${JSON.stringify((raw as { name?: unknown }).name ?? index)}`;
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
        throw new GatewayError(
          'config-invalid',
          `${label} is invalid${where}: ${issue?.message ?? 'unknown'}`,
          {
            details: parsed.error.issues,
          },
        );
      }
      const definition = parsed.data;
      if (compiled.has(definition.name)) {
        throw new GatewayError('config-invalid', `${label}: two tools are named "${definition.name}"`);
      }
      try {
        compiled.set(
          definition.name,
          definition.kind === 'command'
            ? compileCommandTool(definition, { ...runtime, compiler, limiter })
            : compileRestTool(definition, { ...runtime, compiler, limiter }),
        );
      } catch (error) {
        if (error instanceof RestAdapterError) {
          throw new GatewayError('config-invalid', `upstream "${options.name}": ${error.message}`, {
            cause: error,
          });
        }
        throw error;
      }
    };
    for (const [index, raw] of definitions.entries()) {
      try {
        compileOne(raw, index);
      } catch (error) {
        if (!onInvalid || !(error instanceof GatewayError)) throw error;
        onInvalid(error, index);
      }
    }
    return { compiled, limiters: nextLimiters };
  };

  let tools: Map<string, CompiledTool>;
  ({ compiled: tools, limiters } = compile(options.tools));
  const catalogOf = (compiled: Map<string, CompiledTool>): UpstreamCatalog => ({
    ...emptyUpstreamCatalog,
    tools: [...compiled.values()].map((entry) => entry.tool),
  });
  let catalog = catalogOf(tools);
  let state: UpstreamState = {
    status: 'ready',
    reconnects: 0,
    connectedAt: clock(),
    serverInfo: { name: options.name, version: '1.0.0' },
  };
  const listeners = new Set<(change: UpstreamChange) => void>();
  const emit = (change: UpstreamChange) => {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'a change listener threw');
      }
    }
  };

  const callTool = async (params: RpcParams | undefined, requestOptions: UpstreamRequestOptions) => {
    const toolName = params?.name;
    const entry = typeof toolName === 'string' ? tools.get(toolName) : undefined;
    if (!entry) {
      throw new RpcError(RpcErrorCode.InvalidParams, `Unknown tool: ${String(toolName)}`, {
        upstream: options.name,
      });
    }
    const rawArgs = params?.arguments ?? {};
    if (typeof rawArgs !== 'object' || rawArgs === null || Array.isArray(rawArgs)) {
      throw new RpcError(RpcErrorCode.InvalidParams, 'tools/call arguments must be an object');
    }
    const signals: AbortSignal[] = [closing.signal];
    if (requestOptions.signal) signals.push(requestOptions.signal);
    const deadline =
      requestOptions.timeoutMs === undefined ? undefined : AbortSignal.timeout(requestOptions.timeoutMs);
    if (deadline) signals.push(deadline);
    const signal = signals.length === 1 ? closing.signal : AbortSignal.any(signals);
    const meta = params?._meta;
    try {
      return await entry.run(rawArgs as Record<string, unknown>, {
        signal,
        ...(typeof meta === 'object' && meta !== null ? { meta: meta as Record<string, unknown> } : {}),
        ...(requestOptions.onProgress ? { onProgress: requestOptions.onProgress } : {}),
      });
    } catch (error) {
      if (closing.signal.aborted) {
        throw new RpcError(
          RpcErrorCode.InternalError,
          `upstream "${options.name}" closed during tools/call`,
          {
            upstream: options.name,
          },
        );
      }
      if (deadline?.aborted && !requestOptions.signal?.aborted) {
        throw new RpcError(
          RpcErrorCode.RequestTimeout,
          `upstream "${options.name}" did not answer tools/call within ${requestOptions.timeoutMs} ms`,
          { upstream: options.name },
        );
      }
      if (requestOptions.signal?.aborted) {
        throw new RpcError(
          RpcErrorCode.InternalError,
          `tools/call to upstream "${options.name}" was cancelled`,
          {
            upstream: options.name,
          },
        );
      }
      logger.error({ tool: toolName, err: (error as Error).message }, 'tool-call-failed');
      throw new RpcError(
        RpcErrorCode.InternalError,
        `upstream "${options.name}" failed tools/call: ${(error as Error).message}`,
        { upstream: options.name },
      );
    }
  };

  return {
    id: options.id,
    name: options.name,
    start() {},
    async close() {
      if (state.status === 'closed') return;
      state = { ...state, status: 'closed' };
      closing.abort(new Error(`upstream "${options.name}" closed`));
      for (const kill of processes) kill();
      emit({ type: 'state', state });
      listeners.clear();
      await guarded?.close();
    },
    getState: () => state,
    getCatalog: () => catalog,
    getCapabilities: () => ({ tools: { listChanged: true } }),
    async request(method, params, requestOptions = {}): Promise<RpcResult> {
      if (state.status === 'closed') {
        throw new RpcError(RpcErrorCode.InternalError, `upstream "${options.name}" is closed`, {
          upstream: options.name,
        });
      }
      switch (method) {
        case 'tools/call':
          return callTool(params, requestOptions);
        case 'tools/list':
          return { tools: catalog.tools };
        case 'ping':
          return {};
        default:
          throw new RpcError(RpcErrorCode.MethodNotFound, `Method not found: ${method}`, {
            upstream: options.name,
          });
      }
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onNotification() {
      return () => undefined;
    },
    async notify() {},
    async releaseSession() {},
    replaceTools(next, replaceOptions) {
      ({ compiled: tools, limiters } = compile(next, replaceOptions?.onInvalid));
      catalog = catalogOf(tools);
      emit({ type: 'catalog', kinds: ['tools'] });
    },
  };
}
