import type { Logger } from '@mcp-gateway/core';
import type { Attributes } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';

/** Environment variables, as `process.env` holds them. */
export type Environment = Record<string, string | undefined>;

/** The span exporters tracing can be configured with through `OTEL_TRACES_EXPORTER`. */
export type TraceExporterName = 'otlp' | 'console';

const read = (env: Environment, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
};

/**
 * Which exporters the standard `OTEL_*` variables ask for; empty means tracing is off. Tracing is off by default:
 * it is on when `OTEL_TRACES_EXPORTER` names `otlp` (or `console`), or, with `OTEL_TRACES_EXPORTER` unset, when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set; `OTEL_SDK_DISABLED=true` and
 * `OTEL_TRACES_EXPORTER=none` turn it off.
 */
export function traceExportersFromEnv(env: Environment, logger?: Logger): TraceExporterName[] {
  if (read(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return [];
  const listed = read(env, 'OTEL_TRACES_EXPORTER');
  if (listed === undefined) {
    const endpoint =
      read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    return endpoint === undefined ? [] : ['otlp'];
  }
  const names = listed
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (names.includes('none')) return [];
  const exporters: TraceExporterName[] = [];
  for (const name of names) {
    if (name === 'otlp' || name === 'console') {
      if (!exporters.includes(name)) exporters.push(name);
    } else {
      logger?.warn(
        { exporter: name },
        'OTEL_TRACES_EXPORTER names an exporter this gateway does not ship; ignored',
      );
    }
  }
  return exporters;
}

/** OTLP/HTTP exporter settings from `OTEL_EXPORTER_OTLP_[TRACES_]{ENDPOINT,HEADERS,TIMEOUT,PROTOCOL}`. */
export function otlpConfigFromEnv(
  env: Environment,
  logger?: Logger,
): { url: string; headers: Record<string, string>; timeoutMillis?: number } {
  const signalEndpoint = read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseEndpoint = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  // The signal-specific endpoint is used as it is; the base endpoint gets the signal's path appended (OTLP spec).
  const url =
    signalEndpoint ??
    (baseEndpoint === undefined
      ? 'http://localhost:4318/v1/traces'
      : `${baseEndpoint.replace(/\/+$/, '')}/v1/traces`);
  const headers = {
    ...parseHeaders(read(env, 'OTEL_EXPORTER_OTLP_HEADERS')),
    ...parseHeaders(read(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS')),
  };
  const timeoutMillis = positiveInteger(
    env,
    read(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') === undefined
      ? 'OTEL_EXPORTER_OTLP_TIMEOUT'
      : 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
    logger,
  );
  const protocol =
    read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? read(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol !== undefined && protocol !== 'http/json') {
    logger?.warn(
      { protocol },
      'traces are exported as OTLP http/json whatever OTEL_EXPORTER_OTLP_PROTOCOL says; point the endpoint at an OTLP/HTTP receiver (port 4318)',
    );
  }
  return timeoutMillis === undefined ? { url, headers } : { url, headers, timeoutMillis };
}

/** Batch span processor settings from `OTEL_BSP_*`. */
export function batchConfigFromEnv(
  env: Environment,
  logger?: Logger,
): {
  scheduledDelayMillis?: number;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
  exportTimeoutMillis?: number;
} {
  const config = {
    scheduledDelayMillis: positiveInteger(env, 'OTEL_BSP_SCHEDULE_DELAY', logger),
    maxQueueSize: positiveInteger(env, 'OTEL_BSP_MAX_QUEUE_SIZE', logger),
    maxExportBatchSize: positiveInteger(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', logger),
    exportTimeoutMillis: positiveInteger(env, 'OTEL_BSP_EXPORT_TIMEOUT', logger),
  };
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
}

/** The sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` ask for; default `parentbased_always_on`. */
export function samplerFromEnv(env: Environment, logger?: Logger): Sampler {
  const name = read(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on';
  const ratio = () => {
    const arg = read(env, 'OTEL_TRACES_SAMPLER_ARG');
    const value = arg === undefined ? 1 : Number(arg);
    if (Number.isFinite(value) && value >= 0 && value <= 1) return value;
    logger?.warn(
      { OTEL_TRACES_SAMPLER_ARG: arg },
      'OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1; using 1',
    );
    return 1;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      logger?.warn({ sampler: name }, 'unknown OTEL_TRACES_SAMPLER; using parentbased_always_on');
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * Resource attributes: `OTEL_RESOURCE_ATTRIBUTES`, then the service name (`OTEL_SERVICE_NAME`, else one from
 * `OTEL_RESOURCE_ATTRIBUTES`, else `fallbackServiceName`).
 */
export function resourceAttributesFromEnv(env: Environment, fallbackServiceName: string): Attributes {
  const attributes: Attributes = parseHeaders(read(env, 'OTEL_RESOURCE_ATTRIBUTES'));
  attributes['service.name'] =
    read(env, 'OTEL_SERVICE_NAME') ?? attributes['service.name'] ?? fallbackServiceName;
  return attributes;
}

/** Parses the `key1=value1,key2=value2` lists of OTLP headers and resource attributes (values URL-encoded). */
function parseHeaders(list: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (list === undefined) return result;
  for (const pair of list.split(',')) {
    const separator = pair.indexOf('=');
    if (separator <= 0) continue;
    const key = pair.slice(0, separator).trim();
    const raw = pair.slice(separator + 1).trim();
    if (key === '') continue;
    try {
      result[key] = decodeURIComponent(raw);
    } catch {
      result[key] = raw;
    }
  }
  return result;
}

function positiveInteger(env: Environment, name: string, logger?: Logger): number | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (Number.isInteger(value) && value > 0) return value;
  logger?.warn({ [name]: raw }, `${name} must be a positive whole number; using the default`);
  return undefined;
}
