import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { silentLogger } from '@mcp-gateway/core';
import type { Logger } from '@mcp-gateway/core';
import { parseJSONRPCMessage } from '@modelcontextprotocol/client';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import { createLineSplitter } from './line-splitter.ts';
import { isErrnoException, processGroupHasLiveMembers, signalProcessGroup } from './process-group.ts';
import { registerProcessGroup } from './process-registry.ts';
import { createStdioError } from './stdio-error.ts';
import type { StdioErrorReason } from './stdio-error.ts';

/**
 * The parent's environment variables a child gets unless `inheritEnv` says otherwise: what a command needs to
 * find its tools, home, locale and temp dir. Everything else (API keys, database URLs, the gateway's own secrets)
 * stays out. Deliberately missing: `NODE_OPTIONS` (the gateway's `--inspect` or preloaded instrumentation would
 * follow every Node child and clash), proxy variables (they often embed credentials) and the `LC_*` family beyond
 * `LC_ALL`/`LC_CTYPE`. Values starting with `()` (exported shell functions) are never inherited.
 */
export const DEFAULT_INHERITED_ENV: readonly string[] = Object.freeze([
  'HOME',
  'LOGNAME',
  'PATH',
  'SHELL',
  'TERM',
  'USER',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TMPDIR',
  'TZ',
]);

/** Options of {@link createStdioClientTransport}. */
export interface StdioClientTransportOptions {
  /** The executable, found on the child's `PATH` when it has no slash. Never run through a shell. */
  command: string;
  /** Arguments, passed verbatim (no shell, so `$(…)`, `;` and `|` are plain characters). Default `[]`. */
  args?: string[];
  /** Variables set for the child, on top of the inherited ones. */
  env?: Record<string, string>;
  /** Names of the gateway's own environment variables passed through. Default {@link DEFAULT_INHERITED_ENV}. */
  inheritEnv?: readonly string[];
  /** Working directory of the child. Default: the gateway's. */
  cwd?: string;
  /** Receives lifecycle events and the child's stderr. Default: silent. */
  logger?: Logger;
  /** The `upstream` field of every log line and the name in error messages. Default: the command's base name. */
  name?: string;
  /** Longest stdout line (one JSON-RPC message) accepted, in bytes; longer ones are dropped. Default 32 MiB. */
  maxMessageBytes?: number;
  /** How long `close()` waits after SIGTERM before it sends SIGKILL to the process group. Default 2000 ms. */
  killGraceMs?: number;
}

/** How the child ended: an exit code, or the signal that killed it. Both null when it never started. */
export interface StdioProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The SDK `Transport` over a child process's stdin/stdout (newline-delimited JSON-RPC), plus what a supervisor
 * needs: the pid and a promise of the exit. `sessionId` stays undefined: the SDK `Client` takes a defined one as
 * "already initialized" and skips the handshake.
 */
export interface StdioClientTransport extends Transport {
  /** The child's pid (also its process group id); undefined before `start()` or when spawning failed. */
  readonly pid: number | undefined;
  /** Resolves once the child has exited (or failed to start, or was closed before starting); never rejects. */
  readonly exited: Promise<StdioProcessExit>;
  /**
   * Why the child is gone, for error messages and status pages: how it exited plus its last stderr lines
   * (`exited with code 3; stderr: missing API key`); undefined while it runs.
   */
  describeClose(): string | undefined;
}

const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
const DEFAULT_KILL_GRACE_MS = 2000;
const STDERR_MAX_LINE_BYTES = 8 * 1024;
/** How many of the child's last stderr lines `describeClose()` quotes. */
const STDERR_TAIL_LINES = 3;
const STDERR_TAIL_LINE_CHARS = 300;
/** After the child exits, how long stdout may take to deliver what is still in the pipe. */
const EXIT_DRAIN_MS = 200;
const GROUP_POLL_MS = 25;
const PREVIEW_CHARS = 200;

/**
 * Creates a transport that starts `command` as a child process on `start()` and speaks MCP over its stdio.
 * The child gets its own process group (`detached: true`), so `close()` (SIGTERM, then SIGKILL after
 * `killGraceMs`) also reaps whatever it started; the group is registered for {@link killAllStdioProcesses} until
 * it is gone. Invalid options throw a `GatewayError` (code `config-invalid`) right here.
 *
 * @example
 * const transport = createStdioClientTransport({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'] });
 * await new Client({ name: 'gateway', version: '1.0.0' }).connect(transport);
 */
export function createStdioClientTransport(options: StdioClientTransportOptions): StdioClientTransport {
  const { command, args, cwd, name, maxMessageBytes, killGraceMs, inheritEnv } = validateOptions(options);
  const env = buildEnvironment(inheritEnv, options.env);
  const logger = options.logger ?? silentLogger;

  let phase: 'idle' | 'starting' | 'running' | 'exited' | 'closed' = 'idle';
  let child: ChildProcessWithoutNullStreams | undefined;
  let closeRequested = false;
  /** stdin holds this turn's messages until it ends; see send(). */
  let stdinCorked = false;
  let terminating = false;
  let closeFired = false;
  let stdoutEnded = false;
  let exit: StdioProcessExit | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let abandonTimer: NodeJS.Timeout | undefined;
  let unregister: (() => void) | undefined;

  const exited = createDeferred<StdioProcessExit>();
  const closed = createDeferred<void>();
  const groupSettled = createDeferred<void>();
  const settled = Promise.all([closed.promise, groupSettled.promise]).then(() => undefined);

  const fields = (extra?: Record<string, unknown>): Record<string, unknown> => ({
    upstream: name,
    pid: child?.pid,
    ...extra,
  });
  const stdioError = (reason: StdioErrorReason, message: string, cause?: unknown) =>
    createStdioError(
      { reason, upstream: name, ...(child?.pid !== undefined && { pid: child.pid }) },
      message,
      cause,
    );
  const label = (): string => (child?.pid === undefined ? `"${name}"` : `"${name}" (pid ${child.pid})`);

  const callHandler = (handler: string, call: () => void): void => {
    try {
      call();
    } catch (error) {
      logger.error(
        fields({ event: 'handler-throw', handler, err: error }),
        `the transport's ${handler} handler threw`,
      );
    }
  };
  const report = (error: Error): void => callHandler('onerror', () => transport.onerror?.(error));

  const fireClose = (): void => {
    if (closeFired) return;
    closeFired = true;
    phase = 'closed';
    if (child !== undefined) {
      const rest = stderrLines.end();
      if (rest.length > 0) logStderr(rest, false);
      child.stdin.destroy();
      child.stdout.destroy();
      child.stderr.destroy();
    }
    callHandler('onclose', () => transport.onclose?.());
    closed.resolve();
  };

  const finishGroup = (): void => {
    clearTimeout(killTimer);
    clearTimeout(abandonTimer);
    killTimer = undefined;
    abandonTimer = undefined;
    unregister?.();
    unregister = undefined;
    groupSettled.resolve();
  };

  const trySignal = (pid: number, signal: NodeJS.Signals): void => {
    try {
      signalProcessGroup(pid, signal);
    } catch (error) {
      logger.error(
        fields({ event: 'process-signal-fail', signal, err: error }),
        `could not send ${signal} to ${label()}`,
      );
    }
  };

  /** SIGKILL for the group once the grace is over, unless everything in it is gone by then. */
  const armKillTimer = (pid: number): void => {
    if (killTimer !== undefined) return;
    killTimer = setTimeout(() => {
      killTimer = undefined;
      if (exit === undefined || processGroupHasLiveMembers(pid)) {
        logger.warn(
          fields({ event: 'process-kill', killGraceMs }),
          `stdio upstream ${label()} outlived the ${killGraceMs} ms grace; sending SIGKILL to its process group`,
        );
        trySignal(pid, 'SIGKILL');
      }
      if (exit !== undefined) return;
      // Even SIGKILL can leave a process hanging (uninterruptible I/O); never let close() wait forever.
      abandonTimer = setTimeout(() => {
        if (exit !== undefined) return;
        logger.error(
          fields({ event: 'process-kill-fail' }),
          `stdio upstream ${label()} did not exit after SIGKILL; giving up on it`,
        );
        finishGroup();
        fireClose();
      }, killGraceMs);
    }, killGraceMs);
  };

  const terminate = (pid: number): void => {
    if (terminating) return;
    terminating = true;
    trySignal(pid, 'SIGTERM');
    armKillTimer(pid);
  };

  /** After the child exited: wait until the rest of its group is gone or was sent SIGKILL, then unregister it. */
  const settleGroup = async (pid: number): Promise<void> => {
    if (!terminating && processGroupHasLiveMembers(pid)) terminate(pid); // helpers a crashed child left behind
    while (killTimer !== undefined && processGroupHasLiveMembers(pid)) await delay(GROUP_POLL_MS);
    finishGroup();
  };

  const waitForStdoutEnd = async (): Promise<void> => {
    const stdout = child?.stdout;
    if (stdout === undefined || stdoutEnded) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stdout.off('end', done);
        stdout.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, EXIT_DRAIN_MS);
      stdout.once('end', done);
      stdout.once('close', done);
    });
  };

  const onExit = (pid: number, result: StdioProcessExit): void => {
    exit = result;
    phase = 'exited';
    const description = describeExit(result);
    if (closeRequested)
      logger.info(
        fields({ event: 'process-exit', ...result, expected: true }),
        `stdio upstream ${label()} ${description}`,
      );
    else
      logger.warn(
        fields({ event: 'process-exit', ...result, expected: false }),
        `stdio upstream ${label()} ${description} unexpectedly`,
      );
    exited.resolve(result);
    void settleGroup(pid);
    void waitForStdoutEnd().then(fireClose);
  };

  const rejectLine = (text: string, problem: string, cause: unknown): void => {
    const preview = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
    const error = stdioError(
      'invalid-message',
      `stdio upstream ${label()} wrote a line that ${problem}: ${JSON.stringify(preview)}`,
      cause,
    );
    logger.warn(fields({ event: 'message-reject', preview }), error.message);
    report(error);
  };

  const onStdoutLine = (line: Buffer): void => {
    if (closeFired) return;
    let text = line.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      rejectLine(text, 'is not valid JSON', error);
      return;
    }
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(value);
    } catch (error) {
      rejectLine(text, 'is not a JSON-RPC message', error);
      return;
    }
    callHandler('onmessage', () => transport.onmessage?.(message));
  };

  const stdoutLines = createLineSplitter({
    maxLineBytes: maxMessageBytes,
    onLine: onStdoutLine,
    onOverflow: () => {
      const error = stdioError(
        'message-too-large',
        `stdio upstream ${label()} wrote a line longer than maxMessageBytes (${maxMessageBytes} bytes); it was dropped`,
      );
      logger.warn(fields({ event: 'message-drop', maxMessageBytes }), error.message);
      report(error);
    },
  });

  const stderrTail: string[] = [];
  const logStderr = (line: Buffer, truncated: boolean): void => {
    let text = line.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text === '') return;
    stderrTail.push(
      text.length > STDERR_TAIL_LINE_CHARS ? `${text.slice(0, STDERR_TAIL_LINE_CHARS)}…` : text,
    );
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    logger.info({ upstream: name, stream: 'stderr', pid: child?.pid, ...(truncated && { truncated }) }, text);
  };

  const stderrLines = createLineSplitter({
    maxLineBytes: STDERR_MAX_LINE_BYTES,
    keepHead: true,
    onLine: (line) => logStderr(line, false),
    onOverflow: (head) => logStderr(head, true),
  });

  const start = (): Promise<void> => {
    if (phase !== 'idle') {
      const state = phase === 'closed' || closeRequested ? 'closed' : 'started';
      return Promise.reject(
        stdioError(
          'not-connected',
          `stdio transport ${label()} was already ${state}; Client.connect() starts it`,
        ),
      );
    }
    phase = 'starting';
    return new Promise<void>((resolve, reject) => {
      let didSpawn = false;
      const failStart = (cause: unknown): void => {
        const error = stdioError('spawn-failed', describeSpawnFailure(command, cwd, cause), cause);
        logger.error(fields({ event: 'process-spawn-fail', command, err: cause }), error.message);
        exit = { code: null, signal: null };
        exited.resolve(exit);
        finishGroup();
        reject(error);
        report(error);
        fireClose();
      };

      let spawnedChild: ChildProcessWithoutNullStreams;
      try {
        spawnedChild = spawn(command, args, {
          cwd,
          env,
          shell: false,
          detached: true,
          stdio: ['pipe', 'pipe', 'pipe'],
          windowsHide: true,
        });
      } catch (error) {
        failStart(error); // e.g. a NUL byte in an argument
        return;
      }
      child = spawnedChild;
      const pid = spawnedChild.pid;
      if (pid !== undefined) unregister = registerProcessGroup({ pid, close: () => transport.close() });

      spawnedChild.once('spawn', () => {
        didSpawn = true;
        if (phase === 'starting') phase = 'running';
        logger.info(fields({ event: 'process-spawn', command }), `started stdio upstream ${label()}`);
        resolve();
      });
      spawnedChild.on('error', (error) => {
        if (!didSpawn) {
          failStart(error);
          return;
        }
        logger.error(
          fields({ event: 'process-error', err: error }),
          `stdio upstream ${label()}: ${error.message}`,
        );
        report(error);
      });
      if (pid !== undefined) spawnedChild.once('exit', (code, signal) => onExit(pid, { code, signal }));

      spawnedChild.stdout.on('data', (chunk: Buffer) => stdoutLines.push(chunk));
      spawnedChild.stdout.on('end', () => {
        stdoutEnded = true;
        const rest = stdoutLines.end();
        if (rest.length > 0)
          logger.debug(
            fields({ event: 'message-drop', bytes: rest.length }),
            `ignored an unterminated last stdout line`,
          );
      });
      spawnedChild.stdout.on('error', (error) => {
        logger.error(fields({ event: 'stdout-error', err: error }), `reading stdout of ${label()} failed`);
        report(error);
      });
      spawnedChild.stderr.on('data', (chunk: Buffer) => stderrLines.push(chunk));
      spawnedChild.stderr.on('error', (error) =>
        logger.debug(fields({ event: 'stderr-error', err: error }), error.message),
      );
      // EPIPE once the child closed its stdin: send() rejects with it; without this listener it would crash us.
      spawnedChild.stdin.on('error', (error) =>
        logger.debug(fields({ event: 'stdin-error', err: error }), error.message),
      );
    });
  };

  const send = async (message: JSONRPCMessage): Promise<void> => {
    const stdin = child?.stdin;
    if (phase !== 'running' || closeRequested || stdin === undefined || !stdin.writable) {
      const why = exit === undefined ? '' : ` (it ${describeExit(exit)})`;
      const state =
        phase === 'idle' || phase === 'starting'
          ? 'is not started'
          : phase === 'running' && !closeRequested
            ? 'closed its stdin'
            : 'is not running';
      throw stdioError('not-connected', `stdio upstream ${label()} ${state}${why}`);
    }
    const line = `${JSON.stringify(message)}\n`;
    // Messages sent in the same turn of the event loop (32 calls in flight, say) go out in one write: a pipe write
    // is a system call each, and it was the gateway's largest single cost under load. The child reads them as it
    // would have, line by line.
    if (!stdinCorked) {
      stdinCorked = true;
      stdin.cork();
      setImmediate(() => {
        stdinCorked = false;
        stdin.uncork();
      });
    }
    await new Promise<void>((resolve, reject) => {
      stdin.write(line, (error) => {
        if (error == null) resolve();
        else
          reject(
            stdioError(
              'write-failed',
              `writing to stdio upstream ${label()} failed: ${error.message}`,
              error,
            ),
          );
      });
    });
  };

  const close = async (): Promise<void> => {
    closeRequested = true;
    if (phase === 'idle') {
      exit = { code: null, signal: null };
      exited.resolve(exit);
      finishGroup();
      fireClose();
    } else if (child?.pid !== undefined && exit === undefined) {
      // MCP's stdio shutdown: close the child's stdin, then signal; here the signal goes to the whole group.
      child.stdin.end();
      terminate(child.pid);
    }
    await settled;
  };

  const transport: StdioClientTransport = {
    get pid() {
      return child?.pid;
    },
    exited: exited.promise,
    describeClose() {
      if (exit === undefined) return undefined;
      const tail = stderrTail.length > 0 ? `; stderr: ${stderrTail.join(' | ')}` : '';
      return `process ${describeExit(exit)}${tail}`;
    },
    start,
    send,
    close,
  };
  return transport;
}

interface ValidatedOptions {
  command: string;
  args: string[];
  cwd: string | undefined;
  name: string;
  maxMessageBytes: number;
  killGraceMs: number;
  inheritEnv: readonly string[];
}

function validateOptions(options: StdioClientTransportOptions): ValidatedOptions {
  const fail = (message: string): never => {
    throw createStdioError({ reason: 'invalid-options' }, `createStdioClientTransport: ${message}`);
  };
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  const { command, args = [], env = {}, cwd, name, inheritEnv = DEFAULT_INHERITED_ENV } = options;
  const { maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES, killGraceMs = DEFAULT_KILL_GRACE_MS } = options;
  if (typeof command !== 'string' || command.trim() === '') fail('command must be a non-empty string');
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string'))
    fail('args must be an array of strings');
  if (
    typeof env !== 'object' ||
    env === null ||
    !Object.values(env).every((value) => typeof value === 'string')
  ) {
    fail('env must map names to string values');
  }
  if (!Array.isArray(inheritEnv) || !inheritEnv.every((key) => typeof key === 'string')) {
    fail('inheritEnv must be an array of variable names');
  }
  if (cwd !== undefined && (typeof cwd !== 'string' || cwd === '')) fail('cwd must be a non-empty string');
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    fail('name must be a non-empty string');
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0)
    fail('maxMessageBytes must be a positive integer');
  if (typeof killGraceMs !== 'number' || !Number.isFinite(killGraceMs) || killGraceMs < 0) {
    fail('killGraceMs must be a non-negative number of milliseconds');
  }
  return {
    command,
    args: [...args],
    cwd,
    name: name ?? basename(command),
    maxMessageBytes,
    killGraceMs,
    inheritEnv,
  };
}

function buildEnvironment(
  inheritEnv: readonly string[],
  env: Record<string, string> = {},
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const key of inheritEnv) {
    const value = process.env[key];
    if (value === undefined || value.startsWith('()')) continue;
    result[key] = value;
  }
  return { ...result, ...env };
}

function describeSpawnFailure(command: string, cwd: string | undefined, cause: unknown): string {
  const reason = cause instanceof Error ? cause.message : String(cause);
  // Node reports a missing working directory as "spawn <command> ENOENT", as if the command were missing.
  const hint =
    isErrnoException(cause) && cause.code === 'ENOENT' && cwd !== undefined && !existsSync(cwd)
      ? ` (the working directory "${cwd}" does not exist)`
      : '';
  return `failed to start "${command}": ${reason}${hint}`;
}

function describeExit(exit: StdioProcessExit): string {
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  if (exit.code !== null) return `exited with code ${exit.code}`;
  return 'never started';
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function createDeferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
