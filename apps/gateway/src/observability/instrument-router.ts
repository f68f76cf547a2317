import { currentAuthContext } from '@mcp-gateway/auth';
import { RpcError, RpcErrorCode, type Logger, type Router } from '@mcp-gateway/core';
import type { Metrics, Tracing } from '@mcp-gateway/observability';

/** Options of {@link instrumentRouter}. */
export interface InstrumentRouterOptions {
  logger: Logger;
  metrics: Metrics;
  tracing: Tracing;
}

/**
 * Wraps a router so every MCP request, whatever its transport, gets a span (with child spans per upstream call from
 * the tracing hooks), a request metric and one log line: transport, session, method, tool or URI, upstream,
 * duration, outcome. Everything stays in memory; nothing here touches the database.
 */
export function instrumentRouter(router: Router, options: InstrumentRouterOptions): Router {
  const { logger, metrics, tracing } = options;
  return {
    ...router,
    async handle(method, params, context) {
      const transport = context?.transport ?? 'rpc';
      const target =
        typeof params?.name === 'string'
          ? params.name
          : typeof params?.uri === 'string'
            ? params.uri
            : undefined;
      const span = tracing.startRequestSpan({
        transport: transport as 'rpc',
        method,
        name: target,
        sessionId: context?.session?.id,
      });
      const started = performance.now();
      const finish = (outcome: { ok: boolean; isError?: boolean; errorCode?: number; error?: string }) => {
        const durationMs = Math.round((performance.now() - started) * 100) / 100;
        span.end(outcome);
        metrics.observeHttpRequest({
          transport: transport as 'rpc',
          method,
          status: outcome.ok ? (outcome.isError ? 'tool-error' : 'ok') : String(outcome.errorCode),
          durationMs,
        });
        const upstream =
          method === 'tools/call' && target !== undefined
            ? router.snapshot().toolRoutes.get(target)?.upstream.name
            : method === 'prompts/get' && target !== undefined
              ? router.snapshot().promptRoutes.get(target)?.upstream.name
              : undefined;
        const fields = {
          transport,
          principal: currentAuthContext()?.principal.id,
          sessionId: context?.session?.id,
          method,
          target,
          upstream,
          durationMs,
          outcome: outcome.ok ? (outcome.isError ? 'tool-error' : 'ok') : 'error',
          errorCode: outcome.errorCode,
          error: outcome.error,
        };
        if (outcome.ok) logger.info(fields, 'mcp request');
        else logger.warn(fields, 'mcp request failed');
      };
      try {
        const result = await span.run(() => router.handle(method, params, context));
        finish({ ok: true, isError: result.isError === true });
        return result;
      } catch (error) {
        const code = error instanceof RpcError ? error.code : RpcErrorCode.InternalError;
        finish({ ok: false, errorCode: code, error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    },
  };
}
