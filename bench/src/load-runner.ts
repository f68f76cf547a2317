import type { LoadJob, LoadResult, LoadTarget } from './load-generator.ts';
import { processTreeCpuMs, readRssKb, sleep, spawnManaged } from './processes.ts';
import type { MemoryResult } from './report.ts';
import type { BenchPaths, RunningTarget } from './targets.ts';

/** Options of {@link runLoadProcess}. Durations in milliseconds. */
export interface LoadProcessOptions {
  paths: BenchPaths;
  target: LoadTarget;
  concurrency: number;
  sessions: number;
  warmupMs: number;
  durationMs: number;
  /** The server under test: its CPU time (and its children's) over the measured window is reported. */
  serverPid?: number;
}

/** A cell's result and when its measured window opened and closed, in this process's `performance.now()`. */
export interface LoadRun {
  result: LoadResult;
  measuredFrom?: number;
  measuredUntil?: number;
  /** CPU time the server process tree used in the measured window (ms), when `serverPid` was given. */
  serverCpuMs?: number;
}

/**
 * Runs one cell in a fresh load-generator process and returns its result. Bounded: the process is killed if it
 * has not answered within warm-up + duration + 90 s (session setup and teardown included).
 */
export async function runLoadProcess(options: LoadProcessOptions): Promise<LoadRun> {
  const job: LoadJob = {
    mode: 'run',
    target: options.target,
    concurrency: options.concurrency,
    sessions: options.sessions,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
  };
  const generator = spawnManaged({
    name: 'load-generator',
    command: process.execPath,
    // Undici warns about abort listeners on long-lived transports under load; that is noise (see protocol.md §2).
    args: ['--no-warnings', options.paths.loadGeneratorBin, JSON.stringify(job)],
  });
  const bound = options.warmupMs + options.durationMs + 90_000;
  const serverPid = options.serverPid;
  const cpuAt: Partial<Record<'measure' | 'done', number>> = {};
  const when = (phase: 'measure' | 'done') =>
    generator.waitForLine(new RegExp(`^PHASE ${phase}$`), bound).then(
      () => {
        if (serverPid !== undefined) cpuAt[phase] = processTreeCpuMs(serverPid);
        return performance.now();
      },
      () => undefined,
    );
  const measuredFrom = when('measure');
  const measuredUntil = when('done');
  try {
    const match = await generator.waitForLine(/^(RESULT|ERROR) (.*)$/, bound);
    if (match[1] === 'ERROR') throw new Error(match[2] ?? 'load generator failed');
    // The generator may print its result before its `PHASE done` timer fires (and then exit without it): the
    // window is over either way, so read the server's CPU now.
    if (serverPid !== undefined && cpuAt.done === undefined) cpuAt.done = processTreeCpuMs(serverPid);
    await Promise.race([generator.whenExited(), sleep(5_000)]);
    return {
      result: JSON.parse(match[2] ?? '') as LoadResult,
      measuredFrom: await measuredFrom,
      measuredUntil: await measuredUntil,
      serverCpuMs:
        cpuAt.measure === undefined || cpuAt.done === undefined ? undefined : cpuAt.done - cpuAt.measure,
    };
  } finally {
    await generator.stop({ signal: 'SIGTERM', timeoutMs: 2_000 });
  }
}

/**
 * Waits until a process's RSS stops moving (four readings 500 ms apart within 1 %), at most `timeoutMs`, and
 * returns the last reading in KB.
 */
export async function settledRssKb(pid: number, timeoutMs = 15_000): Promise<number> {
  const readings: number[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    readings.push(readRssKb(pid));
    const last = readings.slice(-4);
    if (last.length === 4 && Math.max(...last) - Math.min(...last) <= Math.max(...last) * 0.01) break;
    if (Date.now() >= deadline) break;
    await sleep(500);
  }
  return readings.at(-1) ?? 0;
}

/** Holds `sessions` initialized sessions open from a separate process while `whileOpen` runs. */
export async function withOpenSessions<T>(
  paths: BenchPaths,
  hold: { target: RunningTarget; sessions: number },
  whileOpen: (opened: number) => Promise<T>,
): Promise<T> {
  const { target, sessions } = hold;
  const job: LoadJob = { mode: 'hold', target: target.load, sessions, holdMs: 120_000 };
  const holder = spawnManaged({
    name: 'session-holder',
    command: process.execPath,
    args: ['--no-warnings', paths.loadGeneratorBin, JSON.stringify(job)],
  });
  try {
    const match = await holder.waitForLine(/^(READY|ERROR) (.*)$/, 120_000);
    if (match[1] === 'ERROR') throw new Error(match[2] ?? 'session holder failed');
    const ready = JSON.parse(match[2] ?? '{}') as { opened: number; errors: string[] };
    if (ready.errors.length > 0)
      throw new Error(`opened ${ready.opened}/${sessions} sessions: ${ready.errors[0]}`);
    const value = await whileOpen(ready.opened);
    holder.writeLine('release');
    await holder.waitForLine(/^DONE$/, 60_000).catch(() => undefined);
    return value;
  } finally {
    await holder.stop({ signal: 'SIGTERM', timeoutMs: 5_000 });
  }
}

/**
 * Reads a gateway's VmRSS idle, then while a separate client process holds `sessions` initialized sessions open,
 * and derives the cost per session. A handful of sessions is opened and closed first, so that lazily loaded code
 * and first-use allocations are not counted as per-session cost; every reading waits for RSS to settle.
 */
export async function measureSessionMemory(
  paths: BenchPaths,
  gateway: RunningTarget,
  sessions: number,
): Promise<
  Pick<
    MemoryResult,
    'idleRssKb' | 'sessionsRequested' | 'sessionsOpened' | 'rssWithSessionsKb' | 'perSessionKb'
  >
> {
  const pid = gateway.process?.pid;
  if (pid === undefined) throw new Error('no gateway process to read');
  await withOpenSessions(paths, { target: gateway, sessions: 10 }, async () => undefined);
  const idleRssKb = await settledRssKb(pid);
  const { opened, rssWithSessionsKb } = await withOpenSessions(
    paths,
    { target: gateway, sessions },
    async (count) => ({
      opened: count,
      rssWithSessionsKb: await settledRssKb(pid),
    }),
  );
  return {
    idleRssKb,
    sessionsRequested: sessions,
    sessionsOpened: opened,
    rssWithSessionsKb,
    perSessionKb: Math.round(((rssWithSessionsKb - idleRssKb) / sessions) * 10) / 10,
  };
}
