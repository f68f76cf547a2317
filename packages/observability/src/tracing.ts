import { describeError, silentLogger, type CallInfo, type Logger, type RouterHooks } from '@mcp-gateway/core';
import {
  createContextKey,
  isSpanContextValid,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import {
  batchConfigFromEnv,
  otlpConfigFromEnv,
  resourceAttributesFromEnv,
  samplerFromEnv,
  traceExportersFromEnv,
  type Environment,
} from './tracing-config.ts';
import type { TransportName } from './transport-name.ts';

/** Options of {@link createTracing}. */
export interface TracingOptions {
  /** Where the standard `OTEL_*` variables are read (pass `process.env`). */
  env: Environment;
  /** `service.name` unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` set one. Default `mcp-gateway`. */
  serviceName?: string;
  logger?: Logger;
  /**
   * Span processors to use instead of the exporters the environment names (tests, custom pipelines); giving any
   * turns tracing on unless `OTEL_SDK_DISABLED=true`.
   */
  spanProcessors?: SpanProcessor[];
}

/** What a transport knows about a request when it starts its span. */
export interface RequestSpanInfo {
  transport: TransportName;
  /** The JSON-RPC method (`tools/call`) or the HTTP method of a REST route. */
  method: string;
  /** The tool or prompt name, or the resource URI. */
  name?: string;
  sessionId?: string;
  requestId?: string | number;
  /** The incoming `traceparent` header: the span continues that trace. */
  traceparent?: string;
  /** The incoming `tracestate` header. */
  tracestate?: string;
}

/** How a request ended, for {@link RequestSpan.end}. */
export interface RequestSpanOutcome {
  ok: boolean;
  /** The JSON-RPC error code (or HTTP status) when `ok` is false. */
  errorCode?: number;
  /** A tool result with `isError: true`. */
  isError?: boolean;
}

/** The span of one downstream MCP request. */
export interface RequestSpan {
  /**
   * Runs `fn` with this span active: router calls made inside (across awaits) get their upstream spans as children,
   * and fetches through {@link Tracing.injectFetch} carry this trace.
   */
  run<T>(fn: () => T): T;
  /** Ends the span with the request's outcome; later calls do nothing. */
  end(outcome: RequestSpanOutcome): void;
  /** The span's W3C `traceparent`, or undefined when tracing is off. */
  traceparent(): string | undefined;
}

/**
 * OpenTelemetry tracing of the gateway: a SERVER span per MCP request, a CLIENT span per upstream call under it,
 * W3C trace context on outgoing fetches. Off by default (see {@link traceExportersFromEnv}); when off, every method
 * is a cheap no-op and `injectFetch` returns the fetch it was given.
 */
export interface Tracing {
  readonly enabled: boolean;
  /**
   * Router hooks that open a child span per upstream call. Put them last in the router's hooks: a call refused by
   * a later hook never reaches `afterCall`, so its span would never end.
   */
  readonly hooks: RouterHooks;
  startRequestSpan(info: RequestSpanInfo): RequestSpan;
  /**
   * Wraps a fetch so that each request carries `traceparent`/`tracestate` of the active trace: the upstream call's
   * span while exactly one call of the request is in flight, else the request's span. A request that already has a
   * `traceparent` header is left alone.
   */
  injectFetch(fetch: typeof globalThis.fetch): typeof globalThis.fetch;
  /** Ends tracing: exports the spans still buffered. Never rejects. */
  shutdown(): Promise<void>;
}

/** The upstream call spans in flight under a request span, kept in the request's context. */
const CALLS_IN_FLIGHT = createContextKey('mcp-gateway upstream calls in flight');

const recordGetter: TextMapGetter<Record<string, string | undefined>> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
};
const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
const headersSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

const noopRequestSpan: RequestSpan = {
  run: (fn) => fn(),
  end() {},
  traceparent: () => undefined,
};

/** Creates {@link Tracing} from the standard `OTEL_*` variables; nothing is registered globally. */
export function createTracing(options: TracingOptions): Tracing {
  const env = options.env;
  const logger = options.logger ?? silentLogger;
  const sdkDisabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const processors = sdkDisabled
    ? []
    : (options.spanProcessors ??
      traceExportersFromEnv(env, logger).map((name) =>
        name === 'otlp'
          ? new BatchSpanProcessor(
              new OTLPTraceExporter(otlpConfigFromEnv(env, logger)),
              batchConfigFromEnv(env, logger),
            )
          : new SimpleSpanProcessor(new ConsoleSpanExporter()),
      ));
  if (processors.length === 0) {
    return {
      enabled: false,
      hooks: {},
      startRequestSpan: () => noopRequestSpan,
      injectFetch: (fetch) => fetch,
      shutdown: async () => undefined,
    };
  }

  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes(resourceAttributesFromEnv(env, options.serviceName ?? 'mcp-gateway')),
    ),
    sampler: samplerFromEnv(env, logger),
    spanProcessors: processors,
  });
  const tracer = provider.getTracer('@mcp-gateway/observability');
  const contexts = new AsyncLocalStorageContextManager().enable();
  const propagator = new W3CTraceContextPropagator();
  const callSpans = new WeakMap<CallInfo, { span: Span; inFlight?: Set<Span> }>();

  /** The context whose span an outgoing request continues: the one upstream call in flight, else the request. */
  const injectionContext = (): Context => {
    const active = contexts.active();
    const inFlight = active.getValue(CALLS_IN_FLIGHT) as Set<Span> | undefined;
    if (inFlight?.size === 1) {
      const [only] = inFlight;
      if (only) return trace.setSpan(active, only);
    }
    return active;
  };

  const hooks: RouterHooks = {
    beforeCall(call) {
      const parent = contexts.active();
      const attributes = callAttributes(call.method, call.name);
      attributes['mcp_gateway.upstream.id'] = call.upstreamId;
      attributes['mcp_gateway.upstream.name'] = call.upstreamName;
      if (call.sessionId !== undefined) attributes['mcp.session.id'] = call.sessionId;
      const span = tracer.startSpan(
        spanName(call.method, call.name),
        { kind: SpanKind.CLIENT, attributes },
        parent,
      );
      const inFlight = parent.getValue(CALLS_IN_FLIGHT) as Set<Span> | undefined;
      inFlight?.add(span);
      callSpans.set(call, { span, inFlight });
    },
    afterCall(call, outcome) {
      const entry = callSpans.get(call);
      if (!entry) return;
      callSpans.delete(call);
      entry.inFlight?.delete(entry.span);
      setOutcome(entry.span, outcome);
      entry.span.end();
    },
  };

  return {
    enabled: true,
    hooks,
    startRequestSpan(info) {
      const base = contexts.active();
      const parent =
        info.traceparent === undefined
          ? base
          : propagator.extract(
              base,
              { traceparent: info.traceparent, tracestate: info.tracestate },
              recordGetter,
            );
      const attributes = callAttributes(info.method, info.name);
      attributes['mcp_gateway.transport'] = info.transport;
      if (info.sessionId !== undefined) attributes['mcp.session.id'] = info.sessionId;
      if (info.requestId !== undefined) attributes['jsonrpc.request.id'] = String(info.requestId);
      const span = tracer.startSpan(
        spanName(info.method, info.name),
        { kind: SpanKind.SERVER, attributes },
        parent,
      );
      const active = trace.setSpan(parent, span).setValue(CALLS_IN_FLIGHT, new Set<Span>());
      let ended = false;
      return {
        run: (fn) => contexts.with(active, fn),
        end(outcome) {
          if (ended) return;
          ended = true;
          setOutcome(span, outcome);
          span.end();
        },
        traceparent() {
          const carrier: Record<string, string> = {};
          propagator.inject(active, carrier, recordSetter);
          return carrier.traceparent;
        },
      };
    },
    injectFetch(fetch) {
      return (input, init) => {
        const context = injectionContext();
        const span = trace.getSpan(context);
        if (!span || !isSpanContextValid(span.spanContext())) return fetch(input, init);
        const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
        if (headers.has('traceparent')) return fetch(input, init);
        propagator.inject(context, headers, headersSetter);
        return fetch(input, { ...init, headers });
      };
    },
    async shutdown() {
      try {
        await provider.shutdown();
      } catch (error) {
        logger.warn({ err: describeError(error) }, 'exporting the last spans failed');
      } finally {
        contexts.disable();
      }
    },
  };
}

/** `tools/call get_weather`: the MCP semantic conventions' `{mcp.method.name} {target}` for tools and prompts. */
function spanName(method: string, name: string | undefined): string {
  return name !== undefined && (method === 'tools/call' || method === 'prompts/get')
    ? `${method} ${name}`
    : method;
}

/** Attributes after the (incubating) MCP semantic conventions, copied here as OpenTelemetry advises. */
function callAttributes(method: string, name: string | undefined): Attributes {
  const attributes: Attributes = { 'mcp.method.name': method };
  if (name === undefined) return attributes;
  if (method === 'tools/call') attributes['gen_ai.tool.name'] = name;
  else if (method === 'prompts/get') attributes['gen_ai.prompt.name'] = name;
  else if (method.startsWith('resources/')) attributes['mcp.resource.uri'] = name;
  return attributes;
}

function setOutcome(
  span: Span,
  outcome: { ok: boolean; isError?: boolean; errorCode?: number; errorMessage?: string },
): void {
  if (!outcome.ok) {
    const code = outcome.errorCode === undefined ? '_OTHER' : String(outcome.errorCode);
    span.setAttribute(ATTR_ERROR_TYPE, code);
    if (outcome.errorCode !== undefined) span.setAttribute('rpc.response.status_code', code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.errorMessage });
  } else if (outcome.isError === true) {
    span.setAttribute(ATTR_ERROR_TYPE, 'tool_error');
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
}
