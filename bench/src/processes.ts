import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';

/** Options of {@link spawnManaged}. */
export interface SpawnManagedOptions {
  /** Shown in errors and logs. */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** A child process in its own process group, killed (with everything it started) when the harness exits. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** `performance.now()` when it was spawned, to line a CPU profile up with the harness's clock. */
  readonly spawnedAt: number;
  /** Resolves with the first stdout line matching `pattern`; rejects on timeout or exit. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** The last few KB of stderr, for error messages. */
  stderrTail(): string;
  /** Writes a line to the child's stdin. */
  writeLine(line: string): void;
  /** Whether the process has exited. */
  exited(): boolean;
  /** Resolves when the process has exited. */
  whenExited(): Promise<void>;
  /**
   * Sends `signal` to the process (not its group: a gateway must get the chance to close its own children),
   * waits up to `timeoutMs` for it to exit, then SIGKILLs its group and every process it had started. Idempotent.
   */
  stop(options?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<void>;
}

const running = new Set<ManagedProcess>();
const temporaryPaths = new Set<string>();

/**
 * Spawns a child in a new process group (`detached`), with stdout and stderr piped and kept. Every managed process
 * is SIGKILLed with its group and descendants if the harness exits, fails or is interrupted.
 */
export function spawnManaged(options: SpawnManagedOptions): ManagedProcess {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const spawnedAt = performance.now();
  if (child.pid === undefined) throw new Error(`${options.name}: could not spawn ${options.command}`);
  const pid = child.pid;
  const lines: string[] = [];
  const lineWaiters = new Set<(line: string) => void>();
  let stderr = '';
  let partial = '';
  let hasExited = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      hasExited = true;
      resolve();
    });
  });

  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    partial += chunk;
    let newline = partial.indexOf('\n');
    while (newline !== -1) {
      const line = partial.slice(0, newline).trimEnd();
      partial = partial.slice(newline + 1);
      lines.push(line);
      if (lines.length > 200) lines.shift();
      for (const waiter of [...lineWaiters]) waiter(line);
      newline = partial.indexOf('\n');
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  child.stdin?.on('error', () => undefined);

  let stopping: Promise<void> | undefined;
  const managed: ManagedProcess = {
    name: options.name,
    pid,
    child,
    spawnedAt,
    waitForLine(pattern, timeoutMs) {
      for (const line of lines) {
        const match = line.match(pattern);
        if (match) return Promise.resolve(match);
      }
      return new Promise((resolve, reject) => {
        const cleanup = () => {
          clearTimeout(timer);
          lineWaiters.delete(onLine);
        };
        const onLine = (line: string) => {
          const match = line.match(pattern);
          if (!match) return;
          cleanup();
          resolve(match);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${options.name}: no line matching ${pattern} within ${timeoutMs} ms${tail()}`));
        }, timeoutMs);
        lineWaiters.add(onLine);
        void exited.then(() => {
          if (!lineWaiters.has(onLine)) return;
          cleanup();
          reject(new Error(`${options.name} exited (code ${child.exitCode ?? child.signalCode})${tail()}`));
        });
      });
    },
    stderrTail: () => stderr,
    writeLine(line) {
      child.stdin?.write(`${line}\n`);
    },
    exited: () => hasExited,
    whenExited: () => exited,
    stop(stopOptions = {}) {
      stopping ??= (async () => {
        const family = descendantsOf(pid);
        if (!hasExited) {
          signalProcess(pid, stopOptions.signal ?? 'SIGTERM');
          await Promise.race([exited, sleep(stopOptions.timeoutMs ?? 5_000)]);
        }
        signalGroup(pid, 'SIGKILL');
        // Children that moved to groups of their own (a gateway's stdio upstreams) get a moment to follow their
        // parent, then the same treatment.
        const deadline = Date.now() + 2_000;
        while (family.some(isAlive) && Date.now() < deadline) await sleep(50);
        for (const descendant of family.filter(isAlive)) {
          signalGroup(descendant, 'SIGKILL');
          signalProcess(descendant, 'SIGKILL');
        }
        await Promise.race([exited, sleep(2_000)]);
        running.delete(managed);
      })();
      return stopping;
    },
  };
  const tail = () => (stderr.trim() === '' ? '' : `\n--- ${options.name} stderr ---\n${stderr.trim()}`);
  running.add(managed);
  return managed;
}

/** Registers a temporary file or folder to remove when the harness exits. */
export function removeOnExit(path: string): void {
  temporaryPaths.add(path);
}

/** SIGKILLs every managed process, its group and its descendants, synchronously; removes temporary paths. */
export function killAllManaged(): void {
  for (const managed of running) {
    const family = descendantsOf(managed.pid);
    signalGroup(managed.pid, 'SIGKILL');
    signalProcess(managed.pid, 'SIGKILL');
    for (const descendant of family) {
      signalGroup(descendant, 'SIGKILL');
      signalProcess(descendant, 'SIGKILL');
    }
  }
  running.clear();
  for (const path of temporaryPaths) rmSync(path, { recursive: true, force: true });
  temporaryPaths.clear();
}

/** Kills every managed process on exit, on SIGINT/SIGTERM/SIGHUP and on an uncaught error. Call once. */
export function installCleanupHandlers(): void {
  process.once('exit', killAllManaged);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping every child process\n`);
      killAllManaged();
      process.exit(130);
    });
  }
  process.once('uncaughtException', (error) => {
    process.stderr.write(`bench: uncaught ${error.stack ?? String(error)}\n`);
    killAllManaged();
    process.exit(1);
  });
}

/** A free TCP port on 127.0.0.1, found by binding port 0 and closing again. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** Resident set size of a process in KB, from `/proc/<pid>/status` (VmRSS). */
export function readRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CPU ticks (utime + stime) of every process, with the set of this harness's own processes at that moment. */
export interface CpuSnapshot {
  at: number;
  ticks: Map<number, number>;
  own: Set<number>;
}

/** Reads every process's CPU ticks from /proc, and which of them are this harness or its descendants. */
export function snapshotCpu(): CpuSnapshot {
  const ticks = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    // Not Linux: no snapshot.
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields after the command: state(0) ppid(1) … utime(11) stime(12).
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // The process ended while we looked.
    }
  }
  return { at: performance.now(), ticks, own: new Set([process.pid, ...descendantsOf(process.pid)]) };
}

/**
 * The share of the machine's CPU (0–1, all cores) that processes other than this harness and its children used
 * between two snapshots: a measure of how noisy a cell was on a shared machine. Processes that both started and
 * ended between the snapshots are missed, so it is a lower bound.
 */
export function foreignCpuShare(before: CpuSnapshot, after: CpuSnapshot, cores: number): number {
  const ticksPerSecond = 100; // USER_HZ on Linux
  let foreign = 0;
  for (const [pid, ticks] of after.ticks) {
    if (after.own.has(pid) || before.own.has(pid)) continue;
    foreign += Math.max(0, ticks - (before.ticks.get(pid) ?? 0));
  }
  const seconds = (after.at - before.at) / 1000;
  return seconds <= 0 ? 0 : Math.min(1, foreign / ticksPerSecond / seconds / cores);
}

/** CPU time (user + system, ms) used so far by a process and every process below it that is still running. */
export function processTreeCpuMs(pid: number): number {
  let ticks = 0;
  for (const member of [pid, ...descendantsOf(pid)]) {
    try {
      const stat = readFileSync(`/proc/${member}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended while we looked.
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** Every process below `pid` in the process tree, read from /proc (children first found, then theirs). */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const parent = Number(fields[1]);
      const siblings = parents.get(parent) ?? [];
      siblings.push(Number(entry));
      parents.set(parent, siblings);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    for (const child of parents.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Alive and not a zombie (a container's PID 1 may never reap orphans). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // No such group any more.
  }
}
