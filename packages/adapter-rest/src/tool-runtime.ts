import type { Logger, RpcResult, Tool, UpstreamProgress } from '@mcp-gateway/core';
import type { CallLimiter, CallLimiterOptions } from './call-limiter.ts';
import type { CircuitBreakers } from './circuit-breakers.ts';
import type { RestFetch } from './guarded-fetch.ts';
import type { OAuthTokenCache } from './oauth-token-cache.ts';
import type { OutboundGuard } from './outbound-guard.ts';
import type { SchemaCompiler } from './schema-compiler.ts';

// What compiled tools share inside one upstream, and what one call hands them. Internal to the package.

/** Everything a compiled tool needs from its upstream, created once. */
export interface ToolRuntime {
  upstreamName: string;
  guard: OutboundGuard;
  fetch: RestFetch;
  breakers: CircuitBreakers;
  tokens: OAuthTokenCache;
  compiler: SchemaCompiler;
  logger: Logger;
  /** Milliseconds since the epoch (token expiry, breaker cool-down, rate-limit refill). */
  now: () => number;
  /** Jitter source in [0, 1). */
  random: () => number;
  /** Environment the command tools' `envAllow` reads from. */
  environment: Record<string, string | undefined>;
  /**
   * The rate and concurrency limiter of a tool. The same tool name with the same limits gets the same limiter on
   * every compile, so replacing the tool set (a registry reload) neither refills its bucket nor frees its slots.
   */
  limiter(options: Omit<CallLimiterOptions, 'now'>): CallLimiter;
  /** Registers a running child process so `close()` can kill it; returns the unregister function. */
  trackProcess(kill: () => void): () => void;
}

/** One tools/call as a compiled tool sees it. */
export interface ToolCall {
  /** Aborts when the caller cancels or the call's deadline passes. */
  signal: AbortSignal;
  /** The request's `_meta` (W3C trace context is forwarded from it). */
  meta?: Record<string, unknown>;
  onProgress?: (progress: UpstreamProgress) => void;
}

/** A tool ready to run: its catalog entry and its implementation. */
export interface CompiledTool {
  tool: Tool;
  /** Runs the tool. Expected failures come back as `isError: true` results; only a caller's abort rejects. */
  run(args: Record<string, unknown>, call: ToolCall): Promise<RpcResult>;
}

/** An `isError: true` tool result carrying one text message. */
export function toolError(message: string, extra: Array<Record<string, unknown>> = []): RpcResult {
  return { content: [{ type: 'text', text: message }, ...extra], isError: true };
}
