// `pnpm bench`: measures tools/call echo direct, through MCP Gateway and through its peers, and writes
// docs/benchmarks.md and bench/results/*.json. Flags: see USAGE.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { summarizeCpuProfile } from './cpu-profile.ts';
import { measureSessionMemory, runLoadProcess, settledRssKb } from './load-runner.ts';
import {
  foreignCpuShare,
  installCleanupHandlers,
  killAllManaged,
  removeOnExit,
  sleep,
  snapshotCpu,
} from './processes.ts';
import {
  cellName,
  renderMarkdown,
  type BenchReport,
  type CellResult,
  type CellSpec,
  type MemoryResult,
  type ProfileResult,
  type RowResult,
} from './report.ts';
import { checkTargets } from './target-checks.ts';
import {
  echoStdioTarget,
  startEchoHttp,
  startGatewayProcess,
  startMcpProxy,
  startSupergateway,
  TARGETS,
  type BenchPaths,
  type RunningTarget,
  type TargetId,
} from './targets.ts';

const USAGE = `Usage: pnpm bench [options]

  --quick           smoke run (~2 min): 1 s warm-up + 3 s per cell, no c1/s32 cell, 200 sessions for memory,
                    no profile unless --profile; writes bench/results/quick.json only
  --warmup S        warm-up seconds per cell [2]
  --duration S      measured seconds per cell [10]
  --only IDS        comma-separated rows: ${TARGETS.map((t) => t.id).join(',')}
  --profile         take a CPU profile of the gateway even if every target is met
  --no-profile      never take a CPU profile
  --skip-build      use the gateway's existing apps/gateway/dist build
  --gateway-dist D  run the gateway build in folder D (its cli.js) instead of building apps/gateway/dist: a frozen
                    before/after build, so runs of both can alternate under the same machine load
  --gateway-source  run the gateway from apps/gateway/src under tsx instead of its build
  --database-url U  run every gateway on this Postgres instead of the embedded database (PGlite)
  --no-write        print the report, write no file
  --help
`;

interface Flags {
  quick: boolean;
  warmupSeconds: number;
  durationSeconds: number;
  only?: Set<TargetId>;
  profile: 'auto' | 'always' | 'never';
  skipBuild: boolean;
  gatewayDist?: string;
  gatewayFromSource: boolean;
  databaseUrl?: string;
  write: boolean;
}

/** The full matrix; the quick run leaves out c1/s32, the least telling cell. */
const FULL_CELLS: CellSpec[] = [
  { concurrency: 1, sessions: 1 },
  { concurrency: 1, sessions: 32 },
  { concurrency: 32, sessions: 1 },
  { concurrency: 32, sessions: 32 },
];
const QUICK_CELLS = FULL_CELLS.filter((cell) => !(cell.concurrency === 1 && cell.sessions === 32));
const MEMORY_SESSIONS = 1_000;

function parseFlags(argv: string[]): Flags {
  const flags: Flags = {
    quick: false,
    warmupSeconds: 2,
    durationSeconds: 10,
    profile: 'auto',
    skipBuild: false,
    gatewayFromSource: false,
    write: true,
  };
  const number = (name: string, value: string | undefined) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0 || parsed > 120)
      throw new Error(`${name} takes seconds in (0, 120], got ${value}`);
    return parsed;
  };
  let warmup: number | undefined;
  let duration: number | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    switch (arg) {
      case '--':
        break;
      case '--quick':
        flags.quick = true;
        break;
      case '--warmup':
        warmup = number(arg, argv[++index]);
        break;
      case '--duration':
        duration = number(arg, argv[++index]);
        break;
      case '--only': {
        const ids = (argv[++index] ?? '').split(',').filter(Boolean);
        const known = new Set(TARGETS.map((target) => target.id));
        for (const id of ids) if (!known.has(id as TargetId)) throw new Error(`unknown row in --only: ${id}`);
        flags.only = new Set(ids as TargetId[]);
        break;
      }
      case '--profile':
        flags.profile = 'always';
        break;
      case '--no-profile':
        flags.profile = 'never';
        break;
      case '--skip-build':
        flags.skipBuild = true;
        break;
      case '--database-url': {
        const url = argv[++index];
        if (url === undefined || !/^postgres(ql)?:\/\//.test(url))
          throw new Error('--database-url takes a postgres:// URL');
        flags.databaseUrl = url;
        break;
      }
      case '--gateway-dist': {
        const dir = argv[++index];
        if (dir === undefined || !existsSync(join(dir, 'cli.js')))
          throw new Error('--gateway-dist takes a folder that holds a built cli.js');
        flags.gatewayDist = resolve(dir);
        break;
      }
      case '--gateway-source':
        flags.gatewayFromSource = true;
        break;
      case '--no-write':
        flags.write = false;
        break;
      case '--help':
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  flags.warmupSeconds = warmup ?? (flags.quick ? 1 : 2);
  flags.durationSeconds = duration ?? (flags.quick ? 3 : 10);
  return flags;
}

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

function benchPaths(): Omit<BenchPaths, 'gatewayEntry' | 'gatewayOptions'> {
  // This file runs as bench/dist/run-bench.js, next to the other built entry points.
  const dist = fileURLToPath(new URL('.', import.meta.url));
  const bench = resolve(dist, '..');
  const root = resolve(bench, '..');
  return {
    root,
    bench,
    echoBin: join(dist, 'echo-server.js'),
    loadGeneratorBin: join(dist, 'load-generator.js'),
  };
}

/** Whether `node <entry> --help` exits 0: the cheapest proof that every module of the gateway loads. */
function gatewayStarts(entry: readonly string[], cwd: string): { ok: boolean; output: string } {
  const run = spawnSync(process.execPath, [...entry, '--help'], { cwd, encoding: 'utf8', timeout: 60_000 });
  const lines = `${run.stderr ?? ''}`.trim().split('\n');
  // Prefer the `SomeError: message` line of a stack trace over the source line printed above it.
  const output =
    lines.find((line) => /^\w*Error\b/.test(line)) ??
    lines.find((line) => /error/i.test(line)) ??
    lines[0] ??
    '';
  return {
    ok: run.status === 0,
    output: output
      .trim()
      .replace(/[.;]+$/, '')
      .slice(0, 300),
  };
}

/**
 * Builds the gateway and picks how to run it. The build is what the benchmark measures; if it fails, the existing
 * build is used; if that does not start because of a dynamic `require` in the ESM bundle, it runs with a preload
 * that defines one; failing that (others may be mid-change), the gateway runs from its TypeScript source under tsx.
 * The report says which. tsx only transpiles at load, so the hot path is the same code, but it adds RSS.
 */
function prepareGateway(
  paths: Omit<BenchPaths, 'gatewayEntry' | 'gatewayOptions'>,
  flags: Flags,
): { entry: string[]; description: string; note?: string } {
  const cli = join(flags.gatewayDist ?? join(paths.root, 'apps', 'gateway', 'dist'), 'cli.js');
  const source = join(paths.root, 'apps', 'gateway', 'src', 'cli.ts');
  const tsx = createRequire(join(paths.bench, 'package.json')).resolve('tsx/esm');
  const fromSource = (problem: string) => {
    const entry = ['--import', pathToFileURL(tsx).href, source];
    const check = gatewayStarts(entry, paths.root);
    if (!check.ok)
      throw new Error(`${problem}; the gateway does not start from source either: ${check.output}`);
    log(`warning: ${problem}; running the gateway from apps/gateway/src/cli.ts under tsx`);
    return {
      entry,
      description: `apps/gateway/src/cli.ts under tsx (${problem})`,
      note: `The gateway ran from its TypeScript source under tsx because ${problem}. tsx transpiles at load only, so the hot path is the same code, but its loader adds start-up time and RSS: the memory figures are high by that much.`,
    };
  };
  if (flags.gatewayFromSource) return fromSource('--gateway-source');

  let built = 'existing apps/gateway/dist';
  if (flags.gatewayDist !== undefined) built = `the build in ${flags.gatewayDist} (--gateway-dist)`;
  else if (flags.skipBuild) built += ' (--skip-build)';
  else {
    log('building the gateway (pnpm --filter @mcp-gateway/gateway build)…');
    const build = spawnSync('pnpm', ['--filter', '@mcp-gateway/gateway', 'build'], {
      cwd: paths.root,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (build.status === 0) built = '`pnpm --filter @mcp-gateway/gateway build`';
    else {
      const output = `${build.stdout ?? ''}${build.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n');
      log(`warning: the gateway build failed; trying the existing build.\n${output}`);
      built = 'existing apps/gateway/dist (the fresh build failed)';
    }
  }
  if (!existsSync(cli)) return fromSource(`${built}: apps/gateway/dist/cli.js is missing`);
  const builtAt = `built ${statSync(cli).mtime.toISOString()}`;
  const check = gatewayStarts([cli], paths.root);
  if (check.ok) return { entry: [cli], description: `${built}, ${builtAt}` };
  if (/Dynamic require of/.test(check.output)) {
    // An ESM bundle with CommonJS code inlined calls `require` for Node built-ins; esbuild's shim throws when there
    // is none. A preload that defines a global `require` (resolving from the bundle's folder) lets the very same
    // build run, which measures it better than the source would.
    const preload = `import { createRequire } from "node:module"; globalThis.require = createRequire(${JSON.stringify(cli)});`;
    const entry = ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, cli];
    if (gatewayStarts(entry, paths.root).ok) {
      const problem = `the built apps/gateway/dist/cli.js does not start on its own (${check.output})`;
      log(`warning: ${problem}; running it with a preload that defines a global \`require\``);
      return {
        entry,
        description: `${built}, ${builtAt}, run with a \`globalThis.require\` preload`,
        note: `The gateway build does not start on its own (${check.output}): an ESM bundle with inlined CommonJS code. It ran unchanged with a preload that defines \`globalThis.require\`, which costs nothing after start-up.`,
      };
    }
  }
  return fromSource(`the built apps/gateway/dist/cli.js does not start: ${check.output}`);
}

function gitState(root: string): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

/** Starts a row's server(s). The HTTP echo is shared by the direct-HTTP and gateway-HTTP rows. */
async function startTarget(
  id: TargetId,
  context: { paths: BenchPaths; echoUrl: string; cpuProfileDir?: string },
): Promise<RunningTarget> {
  const { paths, echoUrl, cpuProfileDir } = context;
  switch (id) {
    case 'direct-http':
      return { load: { transport: 'http', url: echoUrl }, stop: async () => undefined };
    case 'direct-stdio':
      return echoStdioTarget(paths);
    case 'gateway-http':
      return startGatewayProcess({
        paths,
        upstream: { transport: 'streamable-http', url: echoUrl },
        cpuProfileDir,
      });
    case 'gateway-stdio':
      return startGatewayProcess({ paths, upstream: { transport: 'stdio' }, cpuProfileDir });
    case 'supergateway':
      return startSupergateway(paths);
    case 'mcp-proxy':
      return startMcpProxy(paths);
  }
}

/**
 * Measures every row in every cell. All rows' servers are started first and the cells are interleaved (each cell
 * runs every row, in alternating order), so that a burst of other work on a shared machine hits rows alike instead
 * of one row's whole block.
 */
async function measureMatrix(
  ids: readonly TargetId[],
  context: { paths: BenchPaths; echoUrl: string; cells: CellSpec[]; flags: Flags },
): Promise<RowResult[]> {
  const rows: RowResult[] = [];
  const running = new Map<TargetId, RunningTarget>();
  try {
    for (const id of ids) {
      const info = TARGETS.find((target) => target.id === id);
      if (info === undefined) throw new Error(`unknown target ${id}`);
      const row: RowResult = { id, label: info.label, path: info.path, cells: [] };
      rows.push(row);
      try {
        running.set(id, await startTarget(id, context));
      } catch (error) {
        row.setupError = error instanceof Error ? error.message : String(error);
        log(`[${id}] could not start: ${row.setupError}`);
      }
    }
    for (const [cellIndex, cell] of context.cells.entries()) {
      const order = cellIndex % 2 === 0 ? rows : [...rows].reverse();
      for (const row of order) {
        const target = running.get(row.id);
        if (target === undefined) continue;
        row.cells.push(await measureCell({ id: row.id, running: target, cell }, context));
        await sleep(500);
      }
    }
  } finally {
    for (const target of running.values()) await target.stop();
  }
  return rows;
}

/** Runs one row in one cell; a failure is recorded in the cell, never thrown. */
async function measureCell(
  run: { id: TargetId; running: RunningTarget; cell: CellSpec },
  context: { paths: BenchPaths; flags: Flags },
): Promise<CellResult> {
  const { id, running, cell } = run;
  try {
    const before = snapshotCpu();
    const { result, serverCpuMs } = await runLoadProcess({
      paths: context.paths,
      target: running.load,
      serverPid: running.process?.pid,
      concurrency: cell.concurrency,
      sessions: cell.sessions,
      warmupMs: context.flags.warmupSeconds * 1000,
      durationMs: context.flags.durationSeconds * 1000,
    });
    const foreignCpu = Math.round(foreignCpuShare(before, snapshotCpu(), cpus().length) * 100) / 100;
    const calls = result.requests + result.errors;
    const serverCpuPerCallMs =
      serverCpuMs === undefined || calls === 0 ? undefined : Math.round((serverCpuMs / calls) * 1000) / 1000;
    log(
      `[${cellName(cell).padEnd(7)}] ${id.padEnd(13)} ${String(Math.round(result.requestsPerSecond)).padStart(6)} req/s  ` +
        `p50 ${result.latencyMs.p50.toFixed(2)}  p90 ${result.latencyMs.p90.toFixed(2)}  p99 ${result.latencyMs.p99.toFixed(2)} ms` +
        `  other CPU ${Math.round(foreignCpu * 100)} %` +
        (serverCpuPerCallMs === undefined ? '' : `  server CPU ${serverCpuPerCallMs.toFixed(2)} ms/call`) +
        (result.errors > 0 ? `  ${result.errors} ERRORS: ${result.errorSamples[0] ?? ''}` : ''),
    );
    return { ...cell, result, foreignCpu, serverCpuPerCallMs };
  } catch (error) {
    const failure = error instanceof Error ? error.message : String(error);
    log(`[${cellName(cell)}] ${id} failed: ${failure}`);
    return { ...cell, failure };
  }
}

/**
 * Gateway memory: a first start on an empty data dir (read once settled), then a restart on that data dir, the
 * normal case, for the idle and per-session readings.
 */
async function measureMemory(
  paths: BenchPaths,
  echoUrl: string,
  plan: { sessions: number; firstStart: boolean },
): Promise<MemoryResult> {
  const { sessions } = plan;
  const upstream = 'streamable HTTP';
  const folder = mkdtempSync(join(tmpdir(), 'mcp-gateway-bench-memory-'));
  removeOnExit(folder);
  const dataDir = join(folder, 'data');
  const options = { paths, upstream: { transport: 'streamable-http', url: echoUrl } as const, dataDir };
  let gateway: RunningTarget | undefined;
  try {
    // The first start initializes the embedded database, whose garbage would otherwise blur every reading; the
    // measured gateway is a restart on that data dir, the normal case.
    gateway = await startGatewayProcess(options);
    const firstStartRssKb = plan.firstStart ? await settledRssKb(gateway.process?.pid ?? 0) : undefined;
    await gateway.stop();
    gateway = await startGatewayProcess(options);
    const memory = await measureSessionMemory(paths, gateway, sessions);
    log(
      `[memory] ${firstStartRssKb === undefined ? '' : `first start ${(firstStartRssKb / 1024).toFixed(1)} MB, `}` +
        `idle ${(memory.idleRssKb / 1024).toFixed(1)} MB, with ${memory.sessionsOpened} sessions ` +
        `${(memory.rssWithSessionsKb / 1024).toFixed(1)} MB, ${memory.perSessionKb} KB/session`,
    );
    return { upstream, ...(firstStartRssKb === undefined ? {} : { firstStartRssKb }), ...memory };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`[memory] failed: ${message}`);
    return {
      upstream,
      idleRssKb: 0,
      sessionsRequested: sessions,
      sessionsOpened: 0,
      rssWithSessionsKb: 0,
      perSessionKb: 0,
      error: message,
    };
  } finally {
    await gateway?.stop();
  }
}

/** Runs the gateway under `node --cpu-prof` for one cell, stops it with SIGINT and summarizes the profile. */
async function profileGateway(
  id: 'gateway-http' | 'gateway-stdio',
  cell: CellSpec,
  context: { paths: BenchPaths; echoUrl: string; flags: Flags; stamp: string },
): Promise<ProfileResult> {
  const folder = mkdtempSync(join(tmpdir(), 'mcp-gateway-bench-profile-'));
  removeOnExit(folder);
  let running: RunningTarget | undefined;
  try {
    running = await startTarget(id, { ...context, cpuProfileDir: folder });
    const spawnedAt = running.process?.spawnedAt ?? 0;
    const run = await runLoadProcess({
      paths: context.paths,
      target: running.load,
      concurrency: cell.concurrency,
      sessions: cell.sessions,
      warmupMs: context.flags.warmupSeconds * 1000,
      durationMs: context.flags.durationSeconds * 1000,
    });
    await running.stop();
    running = undefined;
    const written = readdirSync(folder).find((name) => name.endsWith('.cpuprofile'));
    if (written === undefined)
      throw new Error('the gateway wrote no .cpuprofile (did it exit cleanly on SIGINT?)');
    const keptFolder = join(context.paths.bench, 'results', 'profiles');
    mkdirSync(keptFolder, { recursive: true });
    const kept = join(keptFolder, `${context.stamp}-${id}-${cellName(cell).replace('/', '-')}.cpuprofile`);
    copyFileSync(join(folder, written), kept);
    // Only the samples of the measured window count: start-up (database init, module loading) and teardown would
    // otherwise crowd the top of a short run.
    const window =
      run.measuredFrom !== undefined && run.measuredUntil !== undefined
        ? { fromMs: run.measuredFrom - spawnedAt, toMs: run.measuredUntil - spawnedAt }
        : undefined;
    const summary = summarizeCpuProfile(kept, { root: context.paths.root, top: 15, window });
    log(`[profile ${id} ${cellName(cell)}] top self time:`);
    for (const spot of summary.functions) {
      log(
        `  ${String(spot.percent).padStart(5)}%  ${spot.functionName}  ${spot.location}${spot.via === undefined ? '' : `  via ${spot.via}`}`,
      );
    }
    return { target: id, cell, file: relative(context.paths.root, kept), summary };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`[profile ${id}] failed: ${message}`);
    return { target: id, cell, error: message };
  } finally {
    await running?.stop();
  }
}

/**
 * Formats written files with the repo's Prettier (a root dev dependency), so `pnpm format:check` stays green.
 * Best effort: a failure leaves the files as written and says so.
 */
function formatWithPrettier(root: string, files: string[]): void {
  const run = spawnSync('pnpm', ['exec', 'prettier', '--write', '--log-level', 'warn', ...files], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0)
    log(`warning: prettier did not format the results: ${(run.stderr ?? '').trim().slice(0, 300)}`);
}

/** Keeps the hand-written analysis between these markers when the doc is regenerated. */
const ANALYSIS_START = '<!-- analysis:start -->';
const ANALYSIS_END = '<!-- analysis:end -->';

function preservedAnalysis(docPath: string): string {
  if (!existsSync(docPath)) return '';
  const text = readFileSync(docPath, 'utf8');
  const start = text.indexOf(ANALYSIS_START);
  const end = text.indexOf(ANALYSIS_END);
  return start === -1 || end <= start ? '' : text.slice(start, end + ANALYSIS_END.length);
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  installCleanupHandlers();
  const started = Date.now();
  const basePaths = benchPaths();
  for (const bin of [basePaths.echoBin, basePaths.loadGeneratorBin]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run through \`pnpm bench\`, which builds it`);
  }
  const cells = flags.quick ? QUICK_CELLS : FULL_CELLS;
  const memorySessions = flags.quick ? 200 : MEMORY_SESSIONS;
  const loadAverageBefore = loadavg();
  const gateway = prepareGateway(basePaths, flags);
  const paths: BenchPaths = {
    ...basePaths,
    gatewayEntry: gateway.entry,
    gatewayOptions: flags.databaseUrl === undefined ? [] : ['--database-url', flags.databaseUrl],
  };
  const gatewayBuild = gateway.description;
  const date = new Date();
  const stamp = date.toISOString().replace(/[:]/g, '-').replace(/\..*/, '');
  const notes: string[] = [];
  if (flags.databaseUrl !== undefined)
    notes.push(
      'Every gateway ran on an external Postgres (`--database-url`), not the embedded PGlite database.',
    );
  if (gateway.note !== undefined) notes.push(gateway.note);

  const echo = await startEchoHttp(paths);
  log(
    `echo upstream at ${echo.url}; ${cells.length} cells × ${flags.warmupSeconds}+${flags.durationSeconds} s per row`,
  );
  const rows: RowResult[] = [];
  const ids = TARGETS.map((target) => target.id).filter(
    (id) => flags.only === undefined || flags.only.has(id),
  );
  rows.push(...(await measureMatrix(ids, { paths, echoUrl: echo.url, cells, flags })));

  const wantsGateway = flags.only === undefined || flags.only.has('gateway-http');
  const memory = wantsGateway
    ? await measureMemory(paths, echo.url, { sessions: memorySessions, firstStart: !flags.quick })
    : undefined;
  const checks = checkTargets(rows, cells, memory);

  const profiles: ProfileResult[] = [];
  const missed = checks.filter((check) => !check.met);
  // A quick run is a smoke test: it profiles only when asked to.
  const autoProfile = flags.profile === 'auto' && !flags.quick && missed.length > 0;
  if (flags.profile === 'always' || autoProfile) {
    // Profile each gateway row that some throughput or latency check names, under the heaviest load.
    const named = (id: string) =>
      missed.some((check) =>
        check.scope.startsWith(id === 'gateway-http' ? 'gateway → HTTP' : 'gateway → stdio'),
      );
    const ids = (['gateway-stdio', 'gateway-http'] as const).filter(
      (id) => (flags.only === undefined || flags.only.has(id)) && (flags.profile === 'always' || named(id)),
    );
    if (ids.length === 0 && missed.length > 0 && (flags.only === undefined || flags.only.has('gateway-http')))
      ids.push('gateway-http');
    for (const id of ids) {
      profiles.push(
        await profileGateway(
          id,
          { concurrency: 32, sessions: 32 },
          { paths, echoUrl: echo.url, flags, stamp },
        ),
      );
    }
  }
  await echo.stop();

  const erroredCells = rows.flatMap((row) =>
    row.cells
      .filter((cell) => cell.failure !== undefined || (cell.result?.errors ?? 0) > 0)
      .map((cell) => `${row.id} ${cellName(cell)}`),
  );
  if (erroredCells.length > 0)
    notes.push(`Runs with errors or failures (left out of ratios and targets): ${erroredCells.join(', ')}.`);
  if (flags.quick)
    notes.push(
      'Quick run: c1/s32 left out, 1 s + 3 s per cell, memory with 200 sessions; figures are for smoke testing only.',
    );
  notes.push(
    'Load generator, gateway, peers and upstream share the same cores, so c=32 figures are machine totals, CPU-bound (protocol.md §6).',
    'supergateway listens on every interface (it has no host option); all traffic in this benchmark is on loopback.',
    'The stdio direct row runs the echo server as a child of the load generator, one per session, with no HTTP at all: a floor for the stdio rows, not a like-for-like HTTP comparison.',
  );

  // The command as typed, minus credentials a database URL may carry.
  const argv = process.argv
    .slice(2)
    .filter((arg) => arg !== '--')
    .map((arg, index, all) => (all[index - 1] === '--database-url' ? '<database-url>' : arg));
  const report: BenchReport = {
    schemaVersion: 1,
    date: date.toISOString(),
    command: ['pnpm bench', ...argv].join(' '),
    machine: {
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      memoryMb: Math.round(totalmem() / 1024 / 1024),
      node: process.version,
      os: `${osType()} ${release()}`,
      loadAverageBefore: loadAverageBefore.map((value) => Math.round(value * 100) / 100),
      loadAverageAfter: loadavg().map((value) => Math.round(value * 100) / 100),
    },
    git: gitState(paths.root),
    settings: {
      warmupSeconds: flags.warmupSeconds,
      durationSeconds: flags.durationSeconds,
      quick: flags.quick,
      cells,
    },
    gatewayBuild,
    rows,
    ...(memory === undefined ? {} : { memory }),
    checks,
    profiles,
    notes,
    elapsedSeconds: Math.round((Date.now() - started) / 1000),
  };

  log('');
  for (const check of checks)
    log(
      `${check.met ? 'MET   ' : 'MISSED'} ${check.goal} (${check.scope}): ${check.measured}; ${check.margin}`,
    );
  if (!flags.write) {
    log(renderMarkdown(report));
    return;
  }
  const resultsFolder = join(paths.bench, 'results');
  mkdirSync(resultsFolder, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (flags.quick) {
    // A smoke run never replaces the real figures.
    writeFileSync(join(resultsFolder, 'quick.json'), json);
    formatWithPrettier(paths.root, [join(resultsFolder, 'quick.json')]);
    log(
      `\nquick run: wrote bench/results/quick.json in ${report.elapsedSeconds} s (docs/benchmarks.md untouched)`,
    );
    return;
  }
  writeFileSync(join(resultsFolder, 'latest.json'), json);
  writeFileSync(join(resultsFolder, `${stamp}.json`), json);
  const docPath = join(paths.root, 'docs', 'benchmarks.md');
  const analysis = preservedAnalysis(docPath);
  const markdown = renderMarkdown(report);
  const document =
    analysis === ''
      ? `${markdown}\n## Analysis\n\n${ANALYSIS_START}\n_Not written yet._\n${ANALYSIS_END}\n`
      : `${markdown}\n## Analysis\n\n${analysis}\n`;
  writeFileSync(docPath, document);
  formatWithPrettier(paths.root, [
    docPath,
    join(resultsFolder, 'latest.json'),
    join(resultsFolder, `${stamp}.json`),
  ]);
  log(
    `\nwrote ${relative(paths.root, docPath)}, bench/results/latest.json and bench/results/${stamp}.json in ${report.elapsedSeconds} s`,
  );
}

main().then(
  () => {
    killAllManaged();
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    killAllManaged();
    process.exit(1);
  },
);
