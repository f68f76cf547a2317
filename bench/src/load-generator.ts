import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { build as buildHistogram } from 'hdr-histogram-js';

/** What the load generator talks to: an MCP endpoint over streamable HTTP, or a stdio server it spawns. */
export type LoadTarget =
  { transport: 'http'; url: string } | { transport: 'stdio'; command: string; args: string[] };

/** Options of {@link runLoad}. Durations in milliseconds. */
export interface LoadOptions {
  target: LoadTarget;
  /** Calls in flight at once (workers). */
  concurrency: number;
  /** MCP sessions opened before the run; workers take them round-robin, one per call. */
  sessions: number;
  /** Calls made but not recorded, to warm JITs, sockets and caches. */
  warmupMs: number;
  /** Measured window after the warm-up. */
  durationMs: number;
  /** One call slower than this counts as an error [10000]. */
  callTimeoutMs?: number;
  /** Called when the measured window opens and when it closes (to line up a CPU profile with it). */
  onPhase?: (phase: 'measure' | 'done') => void;
}

/** A job for the load-generator process (`bin/load-generator.ts`), passed to it as one JSON argument. */
export type LoadJob =
  ({ mode: 'run' } & LoadOptions) | { mode: 'hold'; target: LoadTarget; sessions: number; holdMs: number };

/** Latency percentiles in milliseconds, from an HDR histogram recorded in microseconds. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The outcome of one bounded run. A run with `errors > 0` must be reported as such. */
export interface LoadResult {
  /** Successful calls started inside the measured window. */
  requests: number;
  /** Failed calls (thrown, timed out, `isError` or a wrong echo) inside the measured window. */
  errors: number;
  /** Failed calls during the warm-up, not part of the figures but worth a look. */
  warmupErrors: number;
  requestsPerSecond: number;
  latencyMs: LatencySummary;
  /** A few distinct error messages, to say what went wrong. */
  errorSamples: string[];
  /** Time it took to open every session, in ms. */
  sessionSetupMs: number;
}

/** One open MCP session of the load generator. */
export interface LoadSession {
  client: Client;
  close(): Promise<void>;
}

const CLIENT_INFO = { name: 'mcp-gateway-bench', version: '1.0.0' };
const EXPECTED_TEXT = 'Echo: hi';

/**
 * Opens one initialized MCP session. Over HTTP, closing it sends DELETE (`terminateSession`) so the server under
 * test can free it; over stdio, closing it ends the child process.
 */
export async function openSession(target: LoadTarget, timeoutMs = 20_000): Promise<LoadSession> {
  // No client capabilities: a gateway then serves every call on its shared upstream session.
  const client = new Client(CLIENT_INFO, { capabilities: {} });
  if (target.transport === 'http') {
    const transport = new StreamableHTTPClientTransport(new URL(target.url));
    await client.connect(transport, { timeout: timeoutMs });
    return {
      client,
      async close() {
        await transport.terminateSession().catch(() => undefined);
        await client.close().catch(() => undefined);
      },
    };
  }
  const transport = new StdioClientTransport({
    command: target.command,
    args: target.args,
    stderr: 'ignore',
  });
  await client.connect(transport, { timeout: timeoutMs });
  return {
    client,
    async close() {
      await client.close().catch(() => undefined);
    },
  };
}

/**
 * Opens `count` sessions, at most `parallel` at a time (servers that spawn a process per session would otherwise
 * see a stampede). Errors are collected, not thrown, so a partial open can still be closed.
 */
export async function openSessions(
  target: LoadTarget,
  count: number,
  parallel = 8,
): Promise<{ sessions: LoadSession[]; errors: string[] }> {
  const sessions: LoadSession[] = [];
  const errors: string[] = [];
  let next = 0;
  const opener = async () => {
    while (next < count) {
      next += 1;
      try {
        sessions.push(await openSession(target));
      } catch (error) {
        errors.push(describe(error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, opener));
  return { sessions, errors };
}

/** Closes sessions, a few at a time, each bounded so a stuck server cannot hold the run. */
export async function closeSessions(sessions: readonly LoadSession[], parallel = 16): Promise<void> {
  let next = 0;
  const closer = async () => {
    while (next < sessions.length) {
      const session = sessions[next];
      next += 1;
      if (session !== undefined) await withTimeout(session.close(), 5_000).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, sessions.length) }, closer));
}

/**
 * Runs one cell: opens the sessions, then `concurrency` workers call `echo {message: "hi"}` back-to-back, each
 * call on the next session round-robin. Calls that start in the warm-up are not recorded; calls that start in the
 * measured window are (latency of the successes in an HDR histogram, failures counted). Sessions are closed at the
 * end. Throughput is the successful calls started in the window divided by its length.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const setupStarted = performance.now();
  const opened = await openSessions(options.target, options.sessions);
  const sessionSetupMs = performance.now() - setupStarted;
  if (opened.errors.length > 0 || opened.sessions.length === 0) {
    await closeSessions(opened.sessions);
    throw new Error(
      `opened ${opened.sessions.length}/${options.sessions} sessions; first error: ${opened.errors[0] ?? 'none'}`,
    );
  }
  const sessions = opened.sessions;
  const histogram = buildHistogram({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
  const errorSamples = new Set<string>();
  let requests = 0;
  let errors = 0;
  let warmupErrors = 0;
  let turn = 0;

  const started = performance.now();
  const measureFrom = started + options.warmupMs;
  const measureUntil = measureFrom + options.durationMs;

  const measureTimer = setTimeout(() => options.onPhase?.('measure'), options.warmupMs);
  const doneTimer = setTimeout(() => options.onPhase?.('done'), options.warmupMs + options.durationMs);

  const worker = async () => {
    for (;;) {
      const callStarted = performance.now();
      if (callStarted >= measureUntil) return;
      const session = sessions[turn % sessions.length] as LoadSession;
      turn += 1;
      let failure: string | undefined;
      try {
        const result = await session.client.callTool(
          { name: 'echo', arguments: { message: 'hi' } },
          { timeout: callTimeoutMs },
        );
        const first = result.content[0];
        if (result.isError === true) failure = `isError result: ${JSON.stringify(result.content)}`;
        else if (first?.type !== 'text' || first.text !== EXPECTED_TEXT)
          failure = `unexpected result: ${JSON.stringify(result.content).slice(0, 200)}`;
      } catch (error) {
        failure = describe(error);
      }
      const elapsedMs = performance.now() - callStarted;
      const measured = callStarted >= measureFrom;
      if (failure !== undefined) {
        if (measured) errors += 1;
        else warmupErrors += 1;
        if (errorSamples.size < 5) errorSamples.add(failure);
        // A failing target answers fast; do not spin on it.
        await new Promise((resolve) => setTimeout(resolve, 10));
      } else if (measured) {
        requests += 1;
        histogram.recordValue(Math.max(1, Math.round(elapsedMs * 1000)));
      }
    }
  };

  try {
    // Bounded: a worker exits at the end of the window, and each call times out after callTimeoutMs.
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    clearTimeout(measureTimer);
    clearTimeout(doneTimer);
    await closeSessions(sessions);
  }

  const ms = (microseconds: number) => Math.round(microseconds) / 1000;
  return {
    requests,
    errors,
    warmupErrors,
    requestsPerSecond: Math.round((requests / options.durationMs) * 1000 * 10) / 10,
    latencyMs: {
      p50: ms(histogram.getValueAtPercentile(50)),
      p90: ms(histogram.getValueAtPercentile(90)),
      p99: ms(histogram.getValueAtPercentile(99)),
      max: ms(histogram.maxValue),
      mean: ms(histogram.mean),
    },
    errorSamples: [...errorSamples],
    sessionSetupMs: Math.round(sessionSetupMs),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
