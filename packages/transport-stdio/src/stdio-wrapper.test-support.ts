// Helpers for the stdio wrapper's tests (not exported from index.ts): the wrapper bin as a real child process,
// and a recording HTTP proxy standing in front of a fixture gateway.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from './test-helpers.ts';

const binPath = fileURLToPath(new URL('./bin/mcp-gateway-wrapper.ts', import.meta.url));
const tsxLoaderPath = createRequire(import.meta.url).resolve('tsx/esm');

/** Retry fast, so outage tests finish in about a second: 50, 100, 200, 200 ms between five attempts. */
export const FAST_RECONNECT_ARGS = [
  '--reconnect-initial-ms',
  '50',
  '--reconnect-max-ms',
  '200',
  '--reconnect-attempts',
  '5',
];

/** `node` arguments that run the wrapper bin from source (through tsx) with `args`. */
export function wrapperNodeArgs(args: string[]): string[] {
  return ['--import', tsxLoaderPath, binPath, ...args];
}

/** The wrapper as a raw child process: lines in, parsed lines out. */
export interface WrapperProcess {
  child: ChildProcessWithoutNullStreams;
  /** Writes one line (a string as it is, anything else as JSON). */
  send(message: unknown): void;
  /** Every stdout line so far, parsed (a line that is not JSON is kept as the string). */
  messages: unknown[];
  /** Waits for a stdout message matching `match`. */
  next(
    what: string,
    match: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the wrapper bin with `args`. */
export function spawnWrapper(args: string[]): WrapperProcess {
  const child = spawn(process.execPath, wrapperNodeArgs(args), { stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: unknown[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line));
    } catch {
      messages.push(line);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    messages,
    send: (message) => {
      child.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
    },
    next: (what, match, timeoutMs = 10_000) =>
      waitFor(
        what,
        () =>
          messages.find(
            (message): message is Record<string, unknown> =>
              typeof message === 'object' && message !== null && match(message as Record<string, unknown>),
          ),
        timeoutMs,
      ),
    stderr: () => stderr,
    exited,
  };
}

/** An `initialize` request as a stdio client sends it. */
export function initializeRequest(id: number | string): Record<string, unknown> {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'raw-client', version: '1.0.0' },
    },
  };
}

/** One request the proxy saw. */
export interface ProxiedRequest {
  method: string;
  headers: IncomingHttpHeaders;
}

/** A recording reverse proxy on 127.0.0.1; dispose it to stop it. */
export interface RecordingProxy {
  /** The proxy's URL for the target's path. */
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A plain node:http reverse proxy in front of `target` that records every request's method and headers and
 * streams bodies both ways unbuffered (SSE included): the test's window on what the wrapper sends.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const targetUrl = new URL(target);
  const requests: ProxiedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    requests.push({ method: incoming.method ?? '', headers: incoming.headers });
    const upstream = httpRequest(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        path: incoming.url,
        method: incoming.method,
        headers: { ...incoming.headers, host: targetUrl.host },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        outgoing.flushHeaders();
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    outgoing.on('close', () => upstream.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  return {
    url: `http://127.0.0.1:${port}${targetUrl.pathname}`,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}
