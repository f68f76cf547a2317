import { describeError } from '@mcp-gateway/core';
import { createStderrLogger, STDERR_LOG_LEVELS } from './stderr-logger.ts';
import type { StderrLogLevel } from './stderr-logger.ts';
import { createStdioWrapper } from './stdio-wrapper.ts';
import type { StdioWrapperOptions } from './stdio-wrapper.ts';

/** The help text of `mcp-gateway wrapper` (and of the `mcp-gateway-wrapper` bin). */
export const WRAPPER_USAGE = `Usage: mcp-gateway wrapper --url URL [options]

Lets a stdio-only MCP client (Claude Desktop, …) use a remote gateway: reads JSON-RPC lines on stdin, relays
them to the gateway over streamable HTTP and writes the gateway's messages to stdout. Logs go to stderr.

Options:
  --url URL                  The gateway's MCP endpoint, e.g. http://127.0.0.1:4444/mcp (required)
  --header "NAME: VALUE"     Sent with every request, e.g. "Authorization: Bearer TOKEN"; repeatable
                             (also -H, and NAME:VALUE without the space)
  --log-level LEVEL          debug|info|warn|error|silent (default info)
  --reconnect-initial-ms N   First retry delay, doubled per attempt (default 500)
  --reconnect-max-ms N       Longest retry delay (default 10000)
  --reconnect-attempts N     Attempts before waiting requests fail with an error (default 6)
  --help                     Show this help
`;

/** Streams of {@link runWrapperCli}; the defaults are the process's own. */
export interface WrapperCliOptions {
  /** Default `process.stdin`. */
  input?: NodeJS.ReadableStream;
  /** The protocol stream (and `--help`). Default `process.stdout`. */
  output?: NodeJS.WritableStream;
  /** Logs and usage errors. Default `process.stderr`. */
  errorOutput?: NodeJS.WritableStream;
}

type ParsedArgs =
  | {
      kind: 'run';
      options: Pick<StdioWrapperOptions, 'url' | 'headers' | 'reconnect'>;
      logLevel: StderrLogLevel;
    }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

/**
 * Runs `mcp-gateway wrapper` with `argv` (the arguments after `wrapper`) until stdin ends or SIGINT/SIGTERM/SIGHUP
 * arrives. Resolves with the exit code: 0 after a normal end, 2 for bad arguments (usage on stderr), 1 if the
 * wrapper failed.
 *
 * @example
 * process.exitCode = await runWrapperCli(['--url', 'http://127.0.0.1:4444/mcp', '--header', 'Authorization: Bearer x']);
 */
export async function runWrapperCli(argv: string[], io: WrapperCliOptions = {}): Promise<number> {
  const errorOutput = io.errorOutput ?? process.stderr;
  const parsed = parseWrapperArgs(argv);
  if (parsed.kind === 'help') {
    (io.output ?? process.stdout).write(WRAPPER_USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    errorOutput.write(`mcp-gateway wrapper: ${parsed.message}\n\n${WRAPPER_USAGE}`);
    return 2;
  }

  const logger = createStderrLogger({
    level: parsed.logLevel,
    stream: errorOutput,
    fields: { name: 'mcp-gateway-wrapper' },
  });
  let wrapper: ReturnType<typeof createStdioWrapper>;
  try {
    wrapper = createStdioWrapper({ ...parsed.options, input: io.input, output: io.output, logger });
  } catch (error) {
    errorOutput.write(`mcp-gateway wrapper: ${describeError(error)}\n\n${WRAPPER_USAGE}`);
    return 2;
  }

  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ event: 'signal-receive', signal }, `received ${signal}; closing`);
    void wrapper.close();
  };
  for (const signal of signals) process.once(signal, onSignal);
  try {
    await wrapper.run();
    return 0;
  } catch (error) {
    logger.error({ event: 'wrapper-fail', err: describeError(error) }, 'the wrapper failed');
    return 1;
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}

function parseWrapperArgs(argv: string[]): ParsedArgs {
  let url: string | undefined;
  let logLevel: StderrLogLevel = 'info';
  const headers: Record<string, string> = {};
  const reconnect: NonNullable<StdioWrapperOptions['reconnect']> = {};

  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = equals === -1 ? arg : arg.slice(0, equals);
    const takeValue = (): string | undefined => {
      if (equals !== -1) return arg.slice(equals + 1);
      index += 1;
      return argv[index];
    };

    switch (flag) {
      case '--url': {
        const value = takeValue();
        if (value === undefined || value === '') return { kind: 'error', message: '--url needs a value' };
        url = value;
        break;
      }
      case '--header':
      case '-H': {
        const value = takeValue();
        const colon = value?.indexOf(':') ?? -1;
        const name = value?.slice(0, colon).trim() ?? '';
        if (value === undefined || colon === -1 || name === '') {
          return {
            kind: 'error',
            message: `${flag} needs "NAME: VALUE", got ${JSON.stringify(value ?? '')}`,
          };
        }
        headers[name] = value.slice(colon + 1).trim();
        break;
      }
      case '--log-level': {
        const value = takeValue() ?? '';
        const level = STDERR_LOG_LEVELS[value.toLowerCase()];
        if (level === undefined) {
          return {
            kind: 'error',
            message: `--log-level must be one of debug|info|warn|error|silent, got "${value}"`,
          };
        }
        logLevel = level;
        break;
      }
      case '--reconnect-initial-ms':
      case '--reconnect-max-ms':
      case '--reconnect-attempts': {
        const value = takeValue() ?? '';
        const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
        if (!Number.isSafeInteger(number) || number < 1) {
          return { kind: 'error', message: `${flag} needs a positive integer, got "${value}"` };
        }
        if (flag === '--reconnect-initial-ms') reconnect.initialMs = number;
        else if (flag === '--reconnect-max-ms') reconnect.maxMs = number;
        else reconnect.maxAttempts = number;
        break;
      }
      default:
        return { kind: 'error', message: `unknown argument "${arg}"` };
    }
  }

  if (url === undefined) return { kind: 'error', message: '--url is required' };
  return { kind: 'run', options: { url, headers, reconnect }, logLevel };
}
