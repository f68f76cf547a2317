/**
 * JSON-RPC error codes the gateway puts on the wire. The standard ones come from JSON-RPC 2.0; -32001 is the SDK's
 * request-timeout code. An unknown resource is -32602 (Invalid Params) with the URI in `data`, as the 2026-07-28
 * spec requires and the official SDK sends on every revision.
 */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  RequestTimeout: -32001,
  ResourceNotFound: -32602,
} as const;

/**
 * A protocol error: it carries a JSON-RPC code and a message a person can act on, and it goes on the wire as the
 * `error` member of a response. Transports turn it into their SDK's error type.
 */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** String codes of local errors. They are logged and mapped to HTTP statuses, never sent as they are. */
export type GatewayErrorCode =
  | 'config-invalid'
  | 'not-found'
  | 'conflict'
  | 'invalid-input'
  | 'forbidden'
  | 'rate-limited'
  | 'upstream-connect-failed'
  | 'upstream-unavailable'
  | 'internal';

/** A local error: a string code, a message for the log, and the `cause` that produced it. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: GatewayErrorCode;
  readonly details: unknown;

  constructor(code: GatewayErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }
}

/** The one table from local error codes to HTTP statuses, shared by every REST route. */
export const httpStatusOfErrorCode: Record<GatewayErrorCode, number> = {
  'config-invalid': 400,
  'invalid-input': 400,
  'not-found': 404,
  conflict: 409,
  forbidden: 403,
  'rate-limited': 429,
  'upstream-connect-failed': 502,
  'upstream-unavailable': 503,
  internal: 500,
};

/** A short, single-line description of any thrown value, for logs and error messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const prefix = typeof code === 'string' && !error.message.includes(code) ? `${code}: ` : '';
    return `${prefix}${error.message}`.split('\n')[0] ?? error.name;
  }
  return String(error);
}
