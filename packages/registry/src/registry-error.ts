/** What went wrong, as a stable string a caller can branch on (the REST layer maps these to HTTP statuses). */
export type RegistryErrorCode = 'conflict' | 'not-found' | 'database-unreachable' | 'migration-failed';

/** Options for {@link RegistryError}. */
export interface RegistryErrorOptions {
  /** Structured facts for the caller, e.g. `{ field: 'name' }` for a conflict. */
  details?: Record<string, unknown>;
  /** The underlying driver or database error. */
  cause?: unknown;
}

/**
 * A local error from the registry: it carries a string code and the underlying `cause`, is logged, and never goes on
 * the wire as it is. Messages never contain credentials.
 */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: RegistryErrorCode, message: string, options: RegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}
