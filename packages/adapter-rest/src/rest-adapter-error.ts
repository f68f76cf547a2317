/**
 * String codes of the adapter's local errors. Those raised while a tool runs become `isError: true` tool results
 * (the model reads the message); `config-invalid` is thrown by factories and importers at creation.
 */
export type RestAdapterErrorCode =
  | 'config-invalid'
  | 'invalid-arguments'
  | 'outbound-blocked'
  | 'circuit-open'
  | 'rate-limited'
  | 'concurrency-limited'
  | 'timeout'
  | 'network'
  | 'http-status'
  | 'response-invalid'
  | 'auth-failed'
  | 'command-failed'
  | 'cancelled';

/** A local error of the REST adapter: a string code, a message a person can act on, and the `cause`. */
export class RestAdapterError extends Error {
  override readonly name = 'RestAdapterError';
  readonly code: RestAdapterErrorCode;

  constructor(code: RestAdapterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
