import { pino, type Logger as PinoLogger } from 'pino';
import type { Logger } from '@mcp-gateway/core';
import { LOG_REDACT_PATHS } from '@mcp-gateway/auth';

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Where JSON lines go [stdout]. Tests pass a stream to capture them. */
  destination?: NodeJS.WritableStream;
}

/** Field paths whose values never reach a log line: the auth package's list plus the gateway's own. */
export const REDACTED_PATHS = [
  ...new Set([
    ...LOG_REDACT_PATHS,
    'headers.authorization',
    'headers.cookie',
    'env',
    'password',
    'databaseUrl',
  ]),
];

/** The gateway's pino logger: JSON lines (or pino-pretty for people), secrets redacted. */
export function createLogger(options: CreateLoggerOptions): Logger & PinoLogger {
  const base = { level: options.level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (options.format === 'pretty') {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, destination: 2 } },
    });
  }
  return options.destination ? pino(base, options.destination as pino.DestinationStream) : pino(base);
}
