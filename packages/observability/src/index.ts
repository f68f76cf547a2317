// Public API of @mcp-gateway/observability: Prometheus metrics, per-tool call statistics, OpenTelemetry tracing
// and the audit log, each fed by core's router hooks. Anything exported here is public; named exports only.
export {
  createAuditLog,
  type AuditAction,
  type AuditChange,
  type AuditEntry,
  type AuditLog,
  type AuditLogOptions,
  type AuditLogStats,
} from './audit-log.ts';
export {
  createCallStats,
  type CallStats,
  type CallStatsOptions,
  type CallStatsSummary,
} from './call-stats.ts';
export { canonicalJson, canonicalJsonSha256 } from './canonical-json.ts';
export { OTHER_LABEL } from './label-cap.ts';
export {
  createMetrics,
  DURATION_BUCKETS_SECONDS,
  type CatalogSize,
  type HttpRequestObservation,
  type Metrics,
  type MetricsOptions,
  type MetricsSource,
  type UpstreamHealth,
} from './metrics.ts';
export { REDACTED, redactSecrets, SECRET_KEY_PATTERN } from './redact-secrets.ts';
export {
  createTracing,
  type RequestSpan,
  type RequestSpanInfo,
  type RequestSpanOutcome,
  type Tracing,
  type TracingOptions,
} from './tracing.ts';
export { traceExportersFromEnv, type Environment, type TraceExporterName } from './tracing-config.ts';
export type { TransportName } from './transport-name.ts';
