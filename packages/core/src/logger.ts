/**
 * The logging surface every package accepts through its options. It is the subset of pino's API that we use, so a
 * pino logger passes as it is; tests pass {@link silentLogger} or a recording logger.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
  /** A logger that adds `fields` to every line it writes. */
  child(fields: Record<string, unknown>): Logger;
}

/** A logger that writes nothing: the default when none is injected. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
