/** Why configuration could not be loaded: a value failed validation, or a file could not be read. */
export type ConfigErrorCode = 'config-invalid' | 'config-unreadable';

/**
 * A local error raised while loading configuration (flags, environment, config file). It never goes on the wire:
 * the CLI prints its message and exits. The message names the source (flag, env variable or file) and the field.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;

  constructor(code: ConfigErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
