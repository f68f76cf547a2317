import { describeError, silentLogger, type CallInfo, type Logger, type RouterHooks } from '@mcp-gateway/core';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createLabelCap } from './label-cap.ts';
import type { TransportName } from './transport-name.ts';

/** One request a transport answered, for {@link Metrics.observeHttpRequest}. */
export interface HttpRequestObservation {
  transport: TransportName;
  /** The JSON-RPC method (`tools/call`) or, for plain HTTP routes, the HTTP method. */
  method: string;
  /** The HTTP status, or a JSON-RPC outcome such as `ok` or an error code. */
  status: number | string;
  durationMs: number;
}

/** One upstream's health as {@link MetricsSource.upstreams} reports it. */
export interface UpstreamHealth {
  name: string;
  /** Core's `UpstreamStatus` (`ready`, `reconnecting`, …). */
  status: string;
  /** How many times the connection was reopened after a failure (core's `UpstreamState.reconnects`). */
  reconnects: number;
}

/** Catalog sizes for {@link MetricsSource.catalogSize}. */
export interface CatalogSize {
  tools: number;
  prompts: number;
  resources: number;
}

/**
 * Live figures read at scrape time (never on a timer). Each function runs once per scrape; one that throws is
 * logged and skipped. Several tracked sources add up (one per transport, say).
 */
export interface MetricsSource {
  sessions(): number;
  openStreams?(): number;
  stdioProcesses?(): number;
  catalogSize?(): CatalogSize;
  upstreams?(): readonly UpstreamHealth[];
}

/** Options of {@link createMetrics}; every field has a default. */
export interface MetricsOptions {
  /** Where the metrics are registered. Default: a new `Registry`; metric names must be unique in it. */
  registry?: Registry;
  /** Prefix of every gateway metric. Default `mcp_gateway_`. */
  prefix?: string;
  /**
   * Registers prom-client's default metrics (memory, CPU, event-loop lag, GC, handles) under their standard,
   * unprefixed names (`process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, …). Default true.
   */
  collectDefault?: boolean;
  /** Distinct `tool` label values kept; later tools are counted as `tool="_other"`. Default 2000. */
  maxToolLabels?: number;
  logger?: Logger;
}

/**
 * Prometheus metrics of a gateway. Label cardinality is bounded: at most `maxToolLabels` (2000) distinct tools and
 * 500 distinct upstreams, methods, statuses and error codes per label; values beyond are counted under `_other`.
 */
export interface Metrics {
  readonly registry: Registry;
  /**
   * Router hooks: per tool (tools/call) and per upstream (every forwarded method) call counts by outcome
   * (`ok`, `tool_error`, `error`), errors by code, and duration histograms (0.5 ms to 60 s).
   */
  readonly hooks: RouterHooks;
  /** Counts one downstream request and its duration, per transport, method and status. */
  observeHttpRequest(observation: HttpRequestObservation): void;
  /** Reads `source` at every scrape until the returned function is called. */
  track(source: MetricsSource): () => void;
  /** Serves the text exposition (`GET`/`HEAD`) with prom-client's content type. */
  handler(request: Request): Promise<Response>;
}

/** Duration buckets in seconds, from 0.5 ms to 60 s. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Every status core's `UpstreamStatus` can take: each is exported as 0 or 1, so alerts can test for a state. */
const UPSTREAM_STATUSES = ['connecting', 'ready', 'reconnecting', 'unhealthy', 'closed'];

const LABEL_LIMIT = 500;

type Outcome = 'ok' | 'tool_error' | 'error';

/** Creates {@link Metrics}: register once per registry (a second call on the same registry throws). */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'mcp_gateway_';
  const logger = options.logger ?? silentLogger;
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix) && prefix !== '') {
    throw new TypeError(`metric prefix "${prefix}" is not a valid Prometheus metric name prefix`);
  }
  const capTool = createLabelCap(options.maxToolLabels ?? 2000);
  const capUpstream = createLabelCap(LABEL_LIMIT);
  const capMethod = createLabelCap(LABEL_LIMIT);
  const capStatus = createLabelCap(LABEL_LIMIT);
  const capCode = createLabelCap(LABEL_LIMIT);
  const capTransport = createLabelCap(LABEL_LIMIT);
  const registers = [registry];
  const buckets = [...DURATION_BUCKETS_SECONDS];

  if (options.collectDefault ?? true) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: `${prefix}requests_total`,
    help: 'Downstream requests answered, by transport, method and status.',
    labelNames: ['transport', 'method', 'status'] as const,
    registers,
  });
  const requestDuration = new Histogram({
    name: `${prefix}request_duration_seconds`,
    help: 'Time to answer a downstream request, by transport and method.',
    labelNames: ['transport', 'method'] as const,
    buckets,
    registers,
  });
  const toolCalls = new Counter({
    name: `${prefix}tool_calls_total`,
    help: 'Tool calls forwarded, by public tool name, upstream and outcome (ok, tool_error, error).',
    labelNames: ['tool', 'upstream', 'outcome'] as const,
    registers,
  });
  const toolErrors = new Counter({
    name: `${prefix}tool_call_errors_total`,
    help: 'Failed tool calls, by tool, upstream and code (a JSON-RPC error code, or tool_error for isError).',
    labelNames: ['tool', 'upstream', 'code'] as const,
    registers,
  });
  const toolDuration = new Histogram({
    name: `${prefix}tool_call_duration_seconds`,
    help: 'Duration of tool calls at the upstream, by tool and upstream.',
    labelNames: ['tool', 'upstream'] as const,
    buckets,
    registers,
  });
  const upstreamCalls = new Counter({
    name: `${prefix}upstream_calls_total`,
    help: 'Calls forwarded to upstreams, by upstream, method and outcome (ok, tool_error, error).',
    labelNames: ['upstream', 'method', 'outcome'] as const,
    registers,
  });
  const upstreamErrors = new Counter({
    name: `${prefix}upstream_call_errors_total`,
    help: 'Failed upstream calls, by upstream, method and code (JSON-RPC error code, or tool_error).',
    labelNames: ['upstream', 'method', 'code'] as const,
    registers,
  });
  const upstreamDuration = new Histogram({
    name: `${prefix}upstream_call_duration_seconds`,
    help: 'Duration of calls forwarded to upstreams, by upstream and method.',
    labelNames: ['upstream', 'method'] as const,
    buckets,
    registers,
  });

  const sources = new Set<MetricsSource>();
  /** Calls `read` on every source that answers, logging and skipping one that throws. */
  const readAll = <T>(read: (source: MetricsSource) => T | undefined): T[] => {
    const values: T[] = [];
    for (const source of sources) {
      try {
        const value = read(source);
        if (value !== undefined) values.push(value);
      } catch (error) {
        logger.warn({ err: describeError(error) }, 'a metrics source threw at scrape time');
      }
    }
    return values;
  };
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

  new Gauge({
    name: `${prefix}sessions`,
    help: 'Open downstream MCP sessions.',
    registers,
    collect(this: Gauge) {
      this.set(sum(readAll((source) => source.sessions())));
    },
  });
  new Gauge({
    name: `${prefix}open_streams`,
    help: 'Open downstream streams (SSE, GET streams, WebSockets).',
    registers,
    collect(this: Gauge) {
      this.set(sum(readAll((source) => source.openStreams?.())));
    },
  });
  new Gauge({
    name: `${prefix}stdio_processes`,
    help: 'Running stdio upstream child processes.',
    registers,
    collect(this: Gauge) {
      this.set(sum(readAll((source) => source.stdioProcesses?.())));
    },
  });
  new Gauge({
    name: `${prefix}catalog_items`,
    help: 'Items in the merged catalog, by kind (tools, prompts, resources).',
    labelNames: ['kind'] as const,
    registers,
    collect(this: Gauge<'kind'>) {
      const sizes = readAll((source) => source.catalogSize?.());
      this.set({ kind: 'tools' }, sum(sizes.map((size) => size.tools)));
      this.set({ kind: 'prompts' }, sum(sizes.map((size) => size.prompts)));
      this.set({ kind: 'resources' }, sum(sizes.map((size) => size.resources)));
    },
  });
  const upstreamHealth = () => readAll((source) => source.upstreams?.()).flat();
  new Gauge({
    name: `${prefix}upstream_status`,
    help: 'Upstream state: 1 for the status it is in, 0 for the others.',
    labelNames: ['upstream', 'status'] as const,
    registers,
    collect(this: Gauge<'upstream' | 'status'>) {
      this.reset();
      for (const upstream of upstreamHealth()) {
        const name = capUpstream(upstream.name);
        const statuses = UPSTREAM_STATUSES.includes(upstream.status)
          ? UPSTREAM_STATUSES
          : [...UPSTREAM_STATUSES, capStatus(upstream.status)];
        for (const status of statuses) {
          this.set({ upstream: name, status }, status === upstream.status ? 1 : 0);
        }
      }
    },
  });
  new Counter({
    name: `${prefix}upstream_reconnects_total`,
    help: 'Times an upstream connection was reopened after a failure.',
    labelNames: ['upstream'] as const,
    registers,
    collect(this: Counter<'upstream'>) {
      this.reset();
      for (const upstream of upstreamHealth()) {
        this.inc({ upstream: capUpstream(upstream.name) }, Math.max(0, upstream.reconnects));
      }
    },
  });

  const outcomeOf = (ok: boolean, isError: boolean | undefined): Outcome =>
    !ok ? 'error' : isError === true ? 'tool_error' : 'ok';

  const hooks: RouterHooks = {
    afterCall(call: CallInfo, outcome) {
      const upstream = capUpstream(call.upstreamName);
      const method = capMethod(call.method);
      const result = outcomeOf(outcome.ok, outcome.isError);
      const seconds = outcome.durationMs / 1000;
      const code = result === 'error' ? capCode(String(outcome.errorCode ?? 'unknown')) : 'tool_error';
      upstreamCalls.inc({ upstream, method, outcome: result });
      upstreamDuration.observe({ upstream, method }, seconds);
      if (result !== 'ok') upstreamErrors.inc({ upstream, method, code });
      if (call.method !== 'tools/call' || call.name === undefined) return;
      const tool = capTool(call.name);
      toolCalls.inc({ tool, upstream, outcome: result });
      toolDuration.observe({ tool, upstream }, seconds);
      if (result !== 'ok') toolErrors.inc({ tool, upstream, code });
    },
  };

  return {
    registry,
    hooks,
    observeHttpRequest(observation) {
      const transport = capTransport(observation.transport);
      const method = capMethod(observation.method);
      requests.inc({ transport, method, status: capStatus(String(observation.status)) });
      requestDuration.observe({ transport, method }, observation.durationMs / 1000);
    },
    track(source) {
      sources.add(source);
      return () => {
        sources.delete(source);
      };
    },
    async handler(request) {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return new Response('Method Not Allowed\n', {
          status: 405,
          headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' },
        });
      }
      let body: string;
      try {
        body = await registry.metrics();
      } catch (error) {
        logger.error({ err: describeError(error) }, 'collecting metrics failed');
        return new Response('Collecting metrics failed\n', {
          status: 500,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        });
      }
      return new Response(request.method === 'HEAD' ? null : body, {
        status: 200,
        headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
      });
    },
  };
}
