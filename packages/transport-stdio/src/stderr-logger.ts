import type { Logger } from '@mcp-gateway/core';

/** Levels accepted by {@link createStderrLogger}; pino's `fatal` and `trace` are accepted as `error` and `debug`. */
export type StderrLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Every level name `--log-level` accepts, mapped to the level it means. */
export const STDERR_LOG_LEVELS: Readonly<Record<string, StderrLogLevel>> = Object.freeze({
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'error',
  silent: 'silent',
});

const RANK: Record<StderrLogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Options of {@link createStderrLogger}. */
export interface StderrLoggerOptions {
  /** Lowest level written. Default `'info'`. */
  level?: StderrLogLevel;
  /** Where the JSON lines go. Default `process.stderr`: for the wrapper, stdout is the protocol. */
  stream?: NodeJS.WritableStream;
  /** Fields on every line. */
  fields?: Record<string, unknown>;
}

/**
 * A {@link Logger} writing one JSON object per line (`time`, `level`, `msg`, fields). Errors in fields are written
 * as their message. Used by the wrapper CLI, whose stdout carries JSON-RPC and must never see a log line.
 */
export function createStderrLogger(options: StderrLoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const stream = options.stream ?? process.stderr;
  const make = (bound: Record<string, unknown>): Logger => {
    const write =
      (level: Exclude<StderrLogLevel, 'silent'>) =>
      (fields: Record<string, unknown>, message?: string): void => {
        if (RANK[level] < threshold) return;
        const line = { time: new Date().toISOString(), level, msg: message, ...bound, ...fields };
        stream.write(`${JSON.stringify(line, replaceErrors)}\n`);
      };
    return {
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

function replaceErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}
