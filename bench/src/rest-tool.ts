// REST tool call through the gateway vs the API called directly. A tiny node:http JSON API (scale-rest-api.ts, its
// own process) answers `GET /echo?m=…` with `{"echo":"…"}`; the gateway (its own process) publishes it as the REST
// tool `echo_rest` (POST /v1/tools). Measured, closed loop, at each concurrency: (a) the API with fetch, (b) the tool
// with the SDK client's callTool (one session per worker), (c) the tool with raw JSON-RPC over fetch (no SDK client
// cost). Warm-up, then a measured window; req/s, p50/p90/p99, the latency the gateway adds and its CPU per call.
//
//   pnpm --filter @mcp-gateway/gateway build
//   pnpm --filter @mcp-gateway/bench exec tsx src/rest-tool.ts [--concurrency 1,16] [--warmup-ms 2000]
//       [--duration-ms 8000] [--database embedded|postgres] [--profile DIR] [--json FILE] [--gateway auto|dist|source]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@modelcontextprotocol/client';
import { createTestDatabase, startPostgres, type PostgresServer } from '@mcp-gateway/testing';
import { describeLaunch, resolveGatewayLaunch, spawnGateway, waitForReady } from './scale-gateway.ts';
import { connectSdk, openRawSession, type RawSession } from './scale-mcp.ts';
import {
  cpuBetween,
  cpuSnapshot,
  pollUntil,
  readCpuMs,
  spawnBenchScript,
  temporaryDir,
  waitForQuiet,
  type CpuSnapshot,
  type CpuUse,
} from './scale-process.ts';
import { newestProfile, profileMarkdown, summariseProfile } from './scale-profile.ts';
import {
  fmtMs,
  machineInfo,
  markdownTable,
  microsecondHistogram,
  percentiles,
  recordMs,
  type Percentiles,
} from './scale-stats.ts';

const TOOL_NAME = 'echo_rest';
const CALL_TIMEOUT_MS = 10_000;
const WATCHDOG_MS = 6 * 60_000;

const { values: args } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1,16' },
    'warmup-ms': { type: 'string', default: '2000' },
    'duration-ms': { type: 'string', default: '8000' },
    database: { type: 'string', default: 'embedded' },
    profile: { type: 'string' },
    json: { type: 'string' },
    gateway: { type: 'string', default: 'auto' },
    'quiet-wait': { type: 'string', default: '60' },
  },
});
const CONCURRENCIES = args.concurrency.split(',').map(Number);
const WARMUP_MS = Number(args['warmup-ms']);
const DURATION_MS = Number(args['duration-ms']);
const PROFILE_DIR = args.profile === undefined ? undefined : resolve(args.profile);
/** Seconds, over the whole run, to wait for other processes to go quiet before measured runs. */
const quietBudget = { remainingMs: Number(args['quiet-wait']) * 1000 };

/** One measured run. */
interface LoadRun {
  path: 'direct (fetch)' | 'gateway (SDK callTool)' | 'gateway (raw JSON-RPC fetch)';
  concurrency: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  requestsPerSecond: number;
  latency: Percentiles;
  /** CPU time of the gateway process per measured call (ms), when the gateway is in the path. */
  gatewayCpuPerCallMs?: number;
  /** CPU use during the measured window: the machine, this benchmark's processes, everything else (cores). */
  cpu?: CpuUse;
  /** Connections the API accepted during the run (warm-up included), and echo requests it served. */
  api?: { connections: number; echoes: number };
  /** The window, as `performance.now()` values, to line a CPU profile up with. */
  window: { from: number; to: number };
}

/** Closed-loop load: `concurrency` workers each call `call(worker, seq)` back to back until the window closes. */
async function runLoad(
  label: Pick<LoadRun, 'path' | 'concurrency'>,
  call: (worker: number, seq: number) => Promise<void>,
  cpu?: () => number,
): Promise<LoadRun> {
  await waitForQuiet(quietBudget);
  const histogram = microsecondHistogram();
  const startedAt = performance.now();
  let machineAtFrom: CpuSnapshot | undefined;
  const machineTimer = setTimeout(() => (machineAtFrom = cpuSnapshot()), WARMUP_MS);
  const from = startedAt + WARMUP_MS;
  const to = from + DURATION_MS;
  let requests = 0;
  let errors = 0;
  const errorSamples = new Set<string>();
  // Gateway CPU: sampled when the first call of the window starts and when the last call ends; divided by the calls
  // that completed in between (those finishing after the window included).
  let cpuAtFrom: number | undefined;
  let completedSinceCpuSample = 0;
  const worker = async (index: number) => {
    for (let seq = 0; performance.now() < to; seq += 1) {
      const begin = performance.now();
      if (cpu && cpuAtFrom === undefined && begin >= from) cpuAtFrom = cpu();
      let failed: string | undefined;
      try {
        await call(index, seq);
      } catch (error) {
        failed = error instanceof Error ? error.message : String(error);
      }
      const end = performance.now();
      if (begin < from) continue;
      if (failed === undefined) completedSinceCpuSample += 1;
      if (end > to) continue;
      if (failed === undefined) {
        requests += 1;
        recordMs(histogram, end - begin);
      } else {
        errors += 1;
        if (errorSamples.size < 5) errorSamples.add(failed.slice(0, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: label.concurrency }, (_, index) => worker(index)));
  const cpuAtTo = cpu?.();
  clearTimeout(machineTimer);
  const machineUse = machineAtFrom === undefined ? undefined : cpuBetween(machineAtFrom, cpuSnapshot());
  const run: LoadRun = {
    ...label,
    requests,
    errors,
    errorSamples: [...errorSamples],
    requestsPerSecond: Math.round((requests / DURATION_MS) * 1000),
    latency: percentiles(histogram),
    cpu: machineUse,
    window: { from, to },
  };
  if (cpuAtFrom !== undefined && cpuAtTo !== undefined && completedSinceCpuSample > 0) {
    run.gatewayCpuPerCallMs = (cpuAtTo - cpuAtFrom) / completedSinceCpuSample;
  }
  process.stderr.write(
    `  ${run.path} c=${run.concurrency}: ${run.requestsPerSecond} req/s, p50 ${fmtMs(run.latency.p50)} ms, p99 ${fmtMs(run.latency.p99)} ms, ${run.errors} errors, other processes ${run.cpu?.otherCores ?? '?'} cores\n`,
  );
  return run;
}

/** Calls the API directly; throws unless it echoes the message. */
async function callDirect(origin: string, message: string): Promise<void> {
  const response = await fetch(`${origin}/echo?m=${encodeURIComponent(message)}`, {
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const body = (await response.json()) as { echo?: string };
  if (response.status !== 200 || body.echo !== message)
    throw new Error(`direct: HTTP ${response.status} ${JSON.stringify(body)}`);
}

type ToolResult = {
  isError?: boolean;
  structuredContent?: unknown;
  content?: Array<{ type: string; text?: string }>;
};

/** Calls the REST tool over a raw JSON-RPC session (no SDK client); throws unless it echoes the message. */
async function callToolRaw(session: RawSession, message: string): Promise<void> {
  const result = (await session.request('tools/call', {
    name: TOOL_NAME,
    arguments: { message },
  })) as ToolResult;
  const echoed = (result.structuredContent as { echo?: unknown } | undefined)?.echo;
  if (result.isError === true || echoed !== message)
    throw new Error(`raw: ${JSON.stringify(result).slice(0, 200)}`);
}

/** Calls the REST tool through the gateway; throws unless it echoes the message. */
async function callTool(client: Client, message: string): Promise<void> {
  const result = (await client.callTool(
    { name: TOOL_NAME, arguments: { message } },
    { timeout: CALL_TIMEOUT_MS },
  )) as ToolResult;
  const echoed = (result.structuredContent as { echo?: unknown } | undefined)?.echo;
  if (result.isError === true || echoed !== message) {
    throw new Error(`tool: ${JSON.stringify(result).slice(0, 200)}`);
  }
}

async function apiStats(origin: string): Promise<{ connections: number; echoes: number }> {
  // A fresh connection (not the pooled ones under test), so this probe is visible as exactly one connection.
  const response = await fetch(`${origin}/stats`, {
    headers: { connection: 'close' },
    signal: AbortSignal.timeout(5_000),
  });
  return (await response.json()) as { connections: number; echoes: number };
}

/** Runs `load`, noting how many connections and requests the API saw meanwhile. */
async function withApiStats(origin: string, load: () => Promise<LoadRun>): Promise<LoadRun> {
  const before = await apiStats(origin);
  const run = await load();
  const after = await apiStats(origin);
  // The `after` probe's own connection is counted in `after.connections`.
  run.api = { connections: after.connections - before.connections - 1, echoes: after.echoes - before.echoes };
  return run;
}

async function defineTool(base: string, apiOrigin: string): Promise<void> {
  const response = await fetch(`${base}/v1/tools`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(30_000),
    body: JSON.stringify({
      integration: 'rest',
      name: TOOL_NAME,
      description: 'Echoes a message back (a GET on a loopback JSON API).',
      method: 'GET',
      url: `${apiOrigin}/echo`,
      query: { m: { from: 'message' } },
      inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
    }),
  });
  if (response.status !== 201)
    throw new Error(`POST /v1/tools: HTTP ${response.status} ${await response.text()}`);
  await response.arrayBuffer().catch(() => undefined);
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    process.stderr.write(`rest-tool: watchdog fired after ${WATCHDOG_MS / 1000} s\n`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  const prefer = args.gateway;
  if (prefer !== 'auto' && prefer !== 'dist' && prefer !== 'source')
    throw new Error('--gateway is auto, dist or source');
  if (args.database !== 'embedded' && args.database !== 'postgres')
    throw new Error('--database is embedded or postgres');
  if (CONCURRENCIES.some((c) => !Number.isInteger(c) || c < 1 || c > 256))
    throw new Error('--concurrency: 1–256, comma-separated');
  const launch = await resolveGatewayLaunch(prefer);
  if (launch.note !== undefined) process.stderr.write(`warning: ${launch.note}\n`);
  if (PROFILE_DIR !== undefined) mkdirSync(PROFILE_DIR, { recursive: true });
  const machine = machineInfo();
  const dir = temporaryDir('mcpgw-rest-tool');
  let postgres: PostgresServer | undefined;
  try {
    const api = spawnBenchScript('rest-api', 'scale-rest-api.ts');
    const [, apiOrigin] = await api.waitForLine(/^listening (http:\/\/\S+)$/, 60_000);
    if (apiOrigin === undefined) throw new Error('the API printed no URL');
    const apiPort = new URL(apiOrigin).port;

    if (args.database === 'postgres') {
      process.stderr.write('starting PostgreSQL…\n');
      postgres = await startPostgres();
    }
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify({ gateways: [] }));
    process.stderr.write('starting the gateway…\n');
    const spawned = await spawnGateway({
      launch,
      configPath,
      dataDir: join(dir, 'data'),
      databaseUrl: postgres === undefined ? undefined : await createTestDatabase(postgres.url),
      // Only the API's port is allowed past the SSRF guard; every other loopback destination stays blocked.
      env: { MCP_GATEWAY_OUTBOUND_ALLOW: `127.0.0.1:${apiPort}` },
      profileDir: PROFILE_DIR,
    });
    await waitForReady(spawned);
    const { base, gateway } = spawned;
    await defineTool(base, apiOrigin);
    const probe = await connectSdk(`${base}/mcp`);
    await pollUntil(
      `${TOOL_NAME} callable through the gateway`,
      async () => {
        await callTool(probe, 'probe');
        return true;
      },
      { timeoutMs: 60_000, everyMs: 100 },
    );
    await probe.close();
    await callDirect(apiOrigin, 'probe');

    const runs: LoadRun[] = [];
    for (const concurrency of CONCURRENCIES) {
      runs.push(
        await withApiStats(apiOrigin, () =>
          runLoad({ path: 'direct (fetch)', concurrency }, (worker, seq) =>
            callDirect(apiOrigin, `w${worker}-${seq}`),
          ),
        ),
      );
      const clients = await Promise.all(Array.from({ length: concurrency }, () => connectSdk(`${base}/mcp`)));
      runs.push(
        await withApiStats(apiOrigin, () =>
          runLoad(
            { path: 'gateway (SDK callTool)', concurrency },
            (worker, seq) => callTool(clients[worker] as Client, `w${worker}-${seq}`),
            () => readCpuMs(gateway.pid),
          ),
        ),
      );
      await Promise.all(clients.map((client) => client.close()));
      const sessions = await Promise.all(
        Array.from({ length: concurrency }, () => openRawSession(`${base}/mcp`)),
      );
      runs.push(
        await withApiStats(apiOrigin, () =>
          runLoad(
            { path: 'gateway (raw JSON-RPC fetch)', concurrency },
            (worker, seq) => callToolRaw(sessions[worker] as RawSession, `w${worker}-${seq}`),
            () => readCpuMs(gateway.pid),
          ),
        ),
      );
      await Promise.all(sessions.map((session) => session.close()));
    }

    let profile: string | undefined;
    if (PROFILE_DIR !== undefined) {
      await gateway.stop({ signal: 'SIGINT', timeoutMs: 30_000 });
      const file = newestProfile(PROFILE_DIR);
      const sections = runs
        .filter((run) => run.path.startsWith('gateway'))
        .map((run) =>
          [
            `#### ${run.path}, concurrency ${run.concurrency} (measured window)`,
            '',
            file === undefined
              ? 'no .cpuprofile was written'
              : profileMarkdown(
                  summariseProfile(file, {
                    top: 20,
                    fromMs: run.window.from - spawned.spawnedAt,
                    toMs: run.window.to - spawned.spawnedAt,
                  }),
                ),
          ].join('\n'),
        );
      profile = [`Profile: ${file ?? 'none'}.`, '', ...sections].join('\n\n');
    } else {
      await gateway.stop();
    }
    await api.stop();

    const markdown = render({
      machine,
      launchText: describeLaunch(launch),
      note: launch.note,
      runs,
      profile,
    });
    if (args.json !== undefined) {
      writeFileSync(
        resolve(args.json),
        `${JSON.stringify({ machine, launch, database: args.database, runs }, null, 2)}\n`,
      );
    }
    process.stdout.write(`${markdown}\n`);
  } finally {
    await postgres?.stop();
  }
}

function render(report: {
  machine: ReturnType<typeof machineInfo>;
  launchText: string;
  note: string | undefined;
  runs: LoadRun[];
  profile: string | undefined;
}): string {
  const { machine, runs } = report;
  const database = args.database === 'postgres' ? 'PostgreSQL' : 'the embedded database';
  const lines = [
    '## REST tool: through the gateway vs the API directly',
    '',
    `${machine.date}; ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB; Node ${machine.node}. ` +
      `Gateway: ${report.launchText}, on ${database}. Closed loop, ${WARMUP_MS / 1000} s warm-up then ` +
      `${DURATION_MS / 1000} s measured per row; load generator, gateway and API are three processes on the same cores. ` +
      `"Other processes" is machine-wide busy CPU minus this benchmark's process tree: anything above ~0.1 core ` +
      `means the row shared the machine.`,
    ...(report.note === undefined ? [] : ['', `Note: ${report.note}.`]),
    '',
    markdownTable(
      [
        'Path',
        'Concurrency',
        'req/s',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'max ms',
        'errors',
        'gateway CPU per call',
        'API connections / requests',
        'CPU, cores: bench / other processes',
      ],
      runs.map((run) => [
        run.path,
        String(run.concurrency),
        String(run.requestsPerSecond),
        fmtMs(run.latency.p50),
        fmtMs(run.latency.p90),
        fmtMs(run.latency.p99),
        fmtMs(run.latency.max),
        String(run.errors),
        run.gatewayCpuPerCallMs === undefined ? '' : `${fmtMs(run.gatewayCpuPerCallMs)} ms`,
        run.api === undefined ? '' : `${run.api.connections} / ${run.api.echoes}`,
        run.cpu === undefined ? '' : `${run.cpu.ownCores} / ${run.cpu.otherCores}`,
      ]),
    ),
    '',
    markdownTable(
      ['Concurrency', 'Gateway path', 'added p50 ms', 'added p90 ms', 'added p99 ms', 'throughput vs direct'],
      runs
        .filter((run) => run.path !== 'direct (fetch)')
        .map((viaGateway) => {
          const direct = runs.find(
            (run) => run.concurrency === viaGateway.concurrency && run.path === 'direct (fetch)',
          );
          const cells = [String(viaGateway.concurrency), viaGateway.path];
          if (!direct) return [...cells, 'n/a', 'n/a', 'n/a', 'n/a'];
          return [
            ...cells,
            fmtMs(viaGateway.latency.p50 - direct.latency.p50),
            fmtMs(viaGateway.latency.p90 - direct.latency.p90),
            fmtMs(viaGateway.latency.p99 - direct.latency.p99),
            `${((viaGateway.requestsPerSecond / direct.requestsPerSecond) * 100).toFixed(1)} %`,
          ];
        }),
    ),
  ];
  const failed = runs.filter((run) => run.errors > 0);
  for (const run of failed)
    lines.push('', `Errors in ${run.path} c=${run.concurrency}: ${run.errorSamples.join(' | ')}`);
  if (report.profile !== undefined) lines.push('', '### Gateway CPU profile', '', report.profile);
  return lines.join('\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `rest-tool failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
