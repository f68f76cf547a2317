// Child processes of the catalog-scale and REST-tool benchmarks: each in its own process group, killed with
// everything it started when the benchmark ends, fails or is interrupted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root (bench/src/../..). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The bench package folder, where `tsx` resolves. */
export const BENCH_ROOT = join(REPO_ROOT, 'bench');
/** A spawned child in its own process group. */
export interface ScaleProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the first stdout or stderr line matching `pattern`; rejects on timeout or exit. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** The last few KB of stderr and stdout, for error messages. */
  tail(): string;
  /** Sends `signal` to the process, waits up to `timeoutMs`, then SIGKILLs its whole group. Idempotent. */
  stop(options?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<void>;
}

const running = new Set<ScaleProcess>();
const temporary = new Set<string>();

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function cleanupNow(): void {
  for (const managed of running) killGroup(managed.pid);
  running.clear();
  for (const path of temporary) rmSync(path, { recursive: true, force: true });
  temporary.clear();
}

process.once('exit', cleanupNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanupNow();
    process.exit(130);
  });
}

/** A temporary folder removed when the benchmark exits. */
export function temporaryDir(prefix: string): string {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  temporary.add(path);
  return path;
}

/** Spawns `command args` detached (a new process group) with piped output. */
export function spawnScale(
  name: string,
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ScaleProcess {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error(`${name}: empty command`);
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  const pid = child.pid;
  const lines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  let output = '';
  let partial = '';
  let exited = false;
  const whenExited = new Promise<void>((done) =>
    child.once('exit', () => {
      exited = true;
      done();
    }),
  );
  let partialErr = '';
  const feed = (chunk: string, rest: string): string => {
    output = (output + chunk).slice(-4096);
    let buffered = rest + chunk;
    for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline).trimEnd();
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      if (lines.length > 100) lines.shift();
      for (const waiter of [...waiters]) waiter(line);
    }
    return buffered;
  };
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => (partial = feed(chunk, partial)));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (partialErr = feed(chunk, partialErr)));
  const tail = () => (output.trim() === '' ? '' : `\n--- ${name} output ---\n${output.trim()}`);

  let stopping: Promise<void> | undefined;
  const managed: ScaleProcess = {
    name,
    pid,
    child,
    tail,
    waitForLine(pattern, timeoutMs) {
      for (const line of lines) {
        const match = line.match(pattern);
        if (match) return Promise.resolve(match);
      }
      return new Promise((resolveLine, reject) => {
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(onLine);
        };
        const onLine = (line: string) => {
          const match = line.match(pattern);
          if (!match) return;
          finish();
          resolveLine(match);
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms${tail()}`));
        }, timeoutMs);
        waiters.add(onLine);
        void whenExited.then(() => {
          if (!waiters.has(onLine)) return;
          finish();
          reject(new Error(`${name} exited (code ${child.exitCode ?? child.signalCode})${tail()}`));
        });
      });
    },
    stop({ signal = 'SIGTERM', timeoutMs = 5_000 } = {}) {
      stopping ??= (async () => {
        if (!exited) {
          try {
            process.kill(pid, signal);
          } catch {
            // already gone
          }
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([whenExited, new Promise((done) => (timer = setTimeout(done, timeoutMs)))]);
          clearTimeout(timer);
        }
        killGroup(pid);
        running.delete(managed);
      })();
      return stopping;
    },
  };
  running.add(managed);
  return managed;
}

/** Runs a TypeScript file of bench/src in a new Node process through tsx. */
export function spawnBenchScript(name: string, file: string, args: readonly string[] = []): ScaleProcess {
  return spawnScale(name, [process.execPath, '--import', 'tsx', join(BENCH_ROOT, 'src', file), ...args], {
    cwd: BENCH_ROOT,
  });
}

/** Resident set size now and its peak, in MB, from /proc/<pid>/status. */
export function readRss(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** CPU time (user + system) the process has used so far, in milliseconds, from /proc/<pid>/stat. */
export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") "; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Polls `probe` every `everyMs` until it returns a value other than `undefined`; throws after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs, everyMs = 50 }: { timeoutMs: number; everyMs?: number },
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  while (performance.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(everyMs);
  }
  const reason =
    lastError === undefined
      ? ''
      : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
}

/** Machine-wide busy CPU and the CPU of this process's tree, in clock ticks (USER_HZ = 100), at one moment. */
export interface CpuSnapshot {
  at: number;
  machineBusyTicks: number;
  ownTicks: number;
}

/** Reads /proc/stat and the utime+stime of this process and all its descendants. */
export function cpuSnapshot(): CpuSnapshot {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  const machineBusyTicks = [user, nice, system, irq, softirq, steal].reduce<number>(
    (sum, value) => sum + (value ?? 0),
    0,
  );
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // exited meanwhile
    }
  }
  let ownTicks = 0;
  for (const [pid, own] of ticks) {
    for (
      let cursor: number | undefined = pid, depth = 0;
      cursor !== undefined && cursor > 1 && depth < 64;
      depth += 1
    ) {
      if (cursor === process.pid) {
        ownTicks += own;
        break;
      }
      cursor = parents.get(cursor);
    }
  }
  return { at: performance.now(), machineBusyTicks, ownTicks };
}

/** CPU use between two snapshots, in cores: the whole machine, this benchmark's processes, and everything else. */
export interface CpuUse {
  machineCores: number;
  ownCores: number;
  otherCores: number;
}

/** CPU use between `from` and `to`. */
export function cpuBetween(from: CpuSnapshot, to: CpuSnapshot): CpuUse {
  const seconds = Math.max(0.001, (to.at - from.at) / 1000);
  const machineCores = (to.machineBusyTicks - from.machineBusyTicks) / 100 / seconds;
  const ownCores = (to.ownTicks - from.ownTicks) / 100 / seconds;
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    machineCores: round(machineCores),
    ownCores: round(ownCores),
    otherCores: round(Math.max(0, machineCores - ownCores)),
  };
}

/**
 * Waits until processes outside this benchmark use less than `maxOtherCores` over a 2-second sample, for up to
 * `budget.remainingMs` (shared across calls, decreased by the time spent). Returns the last sample.
 */
export async function waitForQuiet(budget: { remainingMs: number }, maxOtherCores = 0.25): Promise<CpuUse> {
  const started = performance.now();
  let use: CpuUse;
  for (;;) {
    const before = cpuSnapshot();
    await sleep(2_000);
    use = cpuBetween(before, cpuSnapshot());
    const spent = performance.now() - started;
    if (use.otherCores <= maxOtherCores || spent >= budget.remainingMs) break;
  }
  budget.remainingMs = Math.max(0, budget.remainingMs - (performance.now() - started));
  return use;
}
