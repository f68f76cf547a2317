/** What went wrong, as a stable string a caller can branch on (the REST layer maps these to HTTP statuses). */
export type RegistryErrorCode =
  | 'conflict'
  | 'not-found'
  | 'invalid-input'
  | 'precondition-failed'
  | 'database-unreachable'
  | 'migration-failed';

/** One problem with an input, located by a dotted path such as `gateways.2.name` or `members.0.alias`. */
export interface RegistryIssue {
  path: string;
  message: string;
}

/**
 * Structured facts for the caller: an object such as `{ field: 'name' }` for a conflict, or the list of every
 * {@link RegistryIssue} for `'invalid-input'`.
 */
export type RegistryErrorDetails = Record<string, unknown> | RegistryIssue[];

/** Options for {@link RegistryError}. */
export interface RegistryErrorOptions {
  details?: RegistryErrorDetails;
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
  readonly details: RegistryErrorDetails | undefined;

  constructor(code: RegistryErrorCode, message: string, options: RegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}
