import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { describeError, GatewayError, httpStatusOfErrorCode } from '@mcp-gateway/core';
import { RegistryError } from '@mcp-gateway/registry';

/** The one error body of the REST API: `{"error": {"code", "message", "details"}}`. */
export interface RestErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const registryStatus: Record<RegistryError['code'], number> = {
  conflict: 409,
  'not-found': 404,
  'database-unreachable': 503,
  'migration-failed': 500,
  'invalid-input': 400,
  'precondition-failed': 412,
};

/** Sends a REST error with the status the shared table gives its code. */
export function restError(c: Context, status: number, body: RestErrorBody['error']): Response {
  return c.json({ error: body } satisfies RestErrorBody, status as ContentfulStatusCode);
}

/** Renders anything thrown by a REST handler; unexpected errors are logged and never leak details. */
export function renderRestError(
  c: Context,
  error: unknown,
  log: (fields: Record<string, unknown>) => void,
): Response {
  if (error instanceof GatewayError) {
    return restError(c, httpStatusOfErrorCode[error.code], {
      code: error.code,
      message: error.message,
      details: error.details,
    });
  }
  if (error instanceof RegistryError) {
    return restError(c, registryStatus[error.code], {
      code: error.code,
      message: error.message,
      details: error.details,
    });
  }
  log({ err: describeError(error) });
  return restError(c, 500, { code: 'internal', message: 'internal error; see the gateway log for details' });
}

/** The REST error body as a plain Response, for handlers outside Hono's context. */
export function restErrorResponse(status: number, body: RestErrorBody['error']): Response {
  return Response.json({ error: body } satisfies RestErrorBody, { status });
}
