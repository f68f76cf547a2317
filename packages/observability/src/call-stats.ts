import type { CallInfo, CallOutcome, RouterHooks } from '@mcp-gateway/core';
import { createLatencyHistogram, type LatencyHistogram } from './latency-histogram.ts';

/** Call figures of one tool or upstream since the process started (or since the key was last evicted). */
export interface CallStatsSummary {
  count: number;
  /** Calls that failed: a JSON-RPC error, or a tool result with `isError: true`. */
  errors: number;
  /** `errors / count`, from 0 to 1. */
  failureRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** ISO 8601 time of the last call's end. */
  lastCallAt?: string;
  lastError?: string;
  lastErrorAt?: string;
}

/** Options of {@link createCallStats}; every field has a default. */
export interface CallStatsOptions {
  /** Current time in epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  /**
   * Tools, and separately upstreams, kept in memory; beyond, the least recently called is forgotten. Default 2000
   * (about 2 KB each).
   */
  maxKeys?: number;
}

/**
 * Per-tool and per-upstream call figures for the REST API, from in-memory histograms: O(1) per call, bounded
 * memory, no database row per call.
 */
export interface CallStats {
  /** Router hooks that feed the figures (tools from tools/call, upstreams from every forwarded method). */
  readonly hooks: RouterHooks;
  /** Figures of a tool by its public name, or undefined when it was not called. */
  tool(publicName: string): CallStatsSummary | undefined;
  /** Figures of an upstream by its id, or undefined when nothing was forwarded to it. */
  upstream(upstreamId: string): CallStatsSummary | undefined;
  all(): { tools: Record<string, CallStatsSummary>; upstreams: Record<string, CallStatsSummary> };
}

interface Figures {
  count: number;
  errors: number;
  readonly latency: LatencyHistogram;
  lastCallAt: number;
  lastError?: string;
  lastErrorAt?: number;
}

/** Creates {@link CallStats}. */
export function createCallStats(options: CallStatsOptions = {}): CallStats {
  const clock = options.clock ?? Date.now;
  const maxKeys = options.maxKeys ?? 2000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1)
    throw new TypeError('maxKeys must be a positive whole number');
  const tools = new Map<string, Figures>();
  const upstreams = new Map<string, Figures>();

  /** The figures of `key`, moved to the end of the map so that the first key is the least recently used. */
  const touch = (map: Map<string, Figures>, key: string, now: number): Figures => {
    let figures = map.get(key);
    if (figures) map.delete(key);
    else {
      figures = { count: 0, errors: 0, latency: createLatencyHistogram(), lastCallAt: now };
      if (map.size >= maxKeys) {
        const oldest = map.keys().next();
        if (oldest.done !== true) map.delete(oldest.value);
      }
    }
    map.set(key, figures);
    return figures;
  };

  const update = (figures: Figures, outcome: CallOutcome, now: number) => {
    figures.count += 1;
    figures.latency.record(outcome.durationMs);
    figures.lastCallAt = now;
    if (outcome.ok && outcome.isError !== true) return;
    figures.errors += 1;
    figures.lastError = outcome.ok
      ? 'the tool returned a result with isError: true'
      : (outcome.errorMessage ?? `error ${outcome.errorCode ?? 'without a code'}`);
    figures.lastErrorAt = now;
  };

  const hooks: RouterHooks = {
    afterCall(call: CallInfo, outcome) {
      const now = clock();
      update(touch(upstreams, call.upstreamId, now), outcome, now);
      if (call.method === 'tools/call' && call.name !== undefined)
        update(touch(tools, call.name, now), outcome, now);
    },
  };

  const summarize = (figures: Figures | undefined): CallStatsSummary | undefined => {
    if (!figures) return undefined;
    const ms = (p: number) => round(figures.latency.percentile(p) ?? 0);
    return {
      count: figures.count,
      errors: figures.errors,
      failureRate: figures.count === 0 ? 0 : figures.errors / figures.count,
      p50Ms: ms(50),
      p95Ms: ms(95),
      p99Ms: ms(99),
      lastCallAt: new Date(figures.lastCallAt).toISOString(),
      ...(figures.lastError !== undefined && { lastError: figures.lastError }),
      ...(figures.lastErrorAt !== undefined && { lastErrorAt: new Date(figures.lastErrorAt).toISOString() }),
    };
  };
  const summarizeAll = (map: Map<string, Figures>) => {
    const result: Record<string, CallStatsSummary> = {};
    for (const [key, figures] of map) result[key] = summarize(figures) as CallStatsSummary;
    return result;
  };

  return {
    hooks,
    tool: (publicName) => summarize(tools.get(publicName)),
    upstream: (upstreamId) => summarize(upstreams.get(upstreamId)),
    all: () => ({ tools: summarizeAll(tools), upstreams: summarizeAll(upstreams) }),
  };
}

/** Milliseconds to the microsecond: finer is noise. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
