// Catalog scale: a gateway process federating 100 upstreams of 100 tools each (10,000 tools), all hosted by one
// fake-upstream process (scale-upstreams.ts). Measures start-up (spawn → listening → /ready 200 → every tool listed),
// tools/list latency on /mcp (first page, and the full walk of every page) and on a virtual server of 50 tools, with
// the SDK client and with raw JSON-RPC over fetch, and the gateway's RSS — next to a baseline gateway with no
// upstreams, so the catalog's own cost can be told from the process's fixed cost.
//
//   pnpm --filter @mcp-gateway/gateway build
//   pnpm --filter @mcp-gateway/bench exec tsx src/catalog-scale.ts [--upstreams 100] [--tools 100]
//       [--iterations 200] [--warmup 20] [--virtual 50] [--database embedded|postgres] [--skip-baseline]
//       [--profile DIR] [--json FILE] [--gateway auto|dist|source] [--gateway-dist DIR]
//
// --gateway-dist DIR runs another build of the gateway (a copy of apps/gateway/dist taken earlier) instead of
// apps/gateway/dist, so a before and an after build can be run alternately under the same machine load.
//
// --database postgres runs the gateway on a throwaway PostgreSQL server (@mcp-gateway/testing) instead of the
// embedded database. --profile DIR runs the measured gateway under `node --cpu-prof --cpu-prof-dir DIR`, stops it with
// SIGINT after the runs and prints its hot spots during start-up and during the tools/list runs.
// Targets (issue "Registries, virtual servers"): tools/list p50 ≤ 20 ms at 10k tools, RSS ≤ 200 MB.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@modelcontextprotocol/client';
import { createTestDatabase, startPostgres, type PostgresServer } from '@mcp-gateway/testing';
import {
  describeLaunch,
  forceGc,
  resolveGatewayLaunch,
  spawnGateway,
  waitForReady,
  type GatewayLaunch,
  type GatewaySpawn,
  type SpawnedGateway,
} from './scale-gateway.ts';
import {
  cpuBetween,
  cpuSnapshot,
  pollUntil,
  readCpuMs,
  readRss,
  sleep,
  spawnBenchScript,
  temporaryDir,
  waitForQuiet,
  type CpuUse,
  type ScaleProcess,
} from './scale-process.ts';
import {
  connectSdk,
  listAllTools,
  listToolsPage,
  openRawSession,
  rawListAllTools,
  type RawSession,
} from './scale-mcp.ts';
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
import { upstreamName } from './scale-tools.ts';

const TARGET_LIST_P50_MS = 20;
const TARGET_RSS_MB = 200;
const WATCHDOG_MS = 7 * 60_000;
/** Idle time after the runs before the settled memory reading. */
const SETTLE_MS = 10_000;

const { values: args } = parseArgs({
  options: {
    upstreams: { type: 'string', default: '100' },
    tools: { type: 'string', default: '100' },
    iterations: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    virtual: { type: 'string', default: '50' },
    database: { type: 'string', default: 'embedded' },
    'skip-baseline': { type: 'boolean', default: false },
    profile: { type: 'string' },
    json: { type: 'string' },
    gateway: { type: 'string', default: 'auto' },
    'gateway-dist': { type: 'string' },
    'quiet-wait': { type: 'string', default: '60' },
  },
});
const UPSTREAMS = Number(args.upstreams);
const TOOLS_PER_UPSTREAM = Number(args.tools);
const TOTAL_TOOLS = UPSTREAMS * TOOLS_PER_UPSTREAM;
const ITERATIONS = Number(args.iterations);
const WARMUP = Number(args.warmup);
const VIRTUAL_TOOLS = Math.min(Number(args.virtual), TOTAL_TOOLS);
const DATABASE = args.database;
const PROFILE_DIR = args.profile === undefined ? undefined : resolve(args.profile);
/** Seconds, over the whole run, to wait for other processes to go quiet before the measurements. */
const quietBudget = { remainingMs: Number(args['quiet-wait']) * 1000 };

/** One tools/list scenario's figures. */
interface ListRun {
  endpoint: string;
  what: string;
  client: 'SDK' | 'raw fetch';
  tools: number;
  pages: number;
  latency: Percentiles;
}

/** Times `iterations` runs of `once` after `warmup` unrecorded ones; `once` returns what it listed. */
async function timeList(
  label: { endpoint: string; what: string; client: ListRun['client'] },
  once: () => Promise<{ tools: number; pages: number }>,
  expected: number,
): Promise<ListRun> {
  const histogram = microsecondHistogram();
  let last = { tools: 0, pages: 0 };
  for (let index = 0; index < WARMUP + ITERATIONS; index += 1) {
    const started = performance.now();
    last = await once();
    const elapsed = performance.now() - started;
    if (last.tools !== expected) {
      throw new Error(`${label.endpoint} ${label.what}: listed ${last.tools} tools, expected ${expected}`);
    }
    if (index >= WARMUP) recordMs(histogram, elapsed);
  }
  const run = { ...label, tools: last.tools, pages: last.pages, latency: percentiles(histogram) };
  process.stderr.write(
    `  ${run.endpoint} ${run.what} (${run.client}): p50 ${fmtMs(run.latency.p50)} ms, p99 ${fmtMs(run.latency.p99)} ms\n`,
  );
  return run;
}

/** The four runs on one endpoint: first page and full walk, SDK and raw. */
async function measureEndpoint(
  endpoint: string,
  sessions: { sdk: Client; raw: RawSession },
  total: number,
): Promise<ListRun[]> {
  const firstPage = Math.min(total, 1000);
  const runs: ListRun[] = [];
  const walks = total > firstPage;
  runs.push(
    await timeList(
      { endpoint, what: walks ? 'first page' : 'full list (1 page)', client: 'SDK' },
      async () => ({ tools: (await listToolsPage(sessions.sdk)).tools, pages: 1 }),
      firstPage,
    ),
  );
  runs.push(
    await timeList(
      { endpoint, what: walks ? 'first page' : 'full list (1 page)', client: 'raw fetch' },
      async () => {
        const page = await sessions.raw.request('tools/list');
        return { tools: Array.isArray(page.tools) ? page.tools.length : 0, pages: 1 };
      },
      firstPage,
    ),
  );
  if (walks) {
    runs.push(
      await timeList({ endpoint, what: 'full walk', client: 'SDK' }, () => listAllTools(sessions.sdk), total),
    );
    runs.push(
      await timeList(
        { endpoint, what: 'full walk', client: 'raw fetch' },
        () => rawListAllTools(sessions.raw),
        total,
      ),
    );
  }
  return runs;
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body };
}

/** Creates a virtual server of `count` tools spread over the upstreams; returns its MCP endpoint. */
async function createVirtualServer(base: string, count: number): Promise<string> {
  const members = Array.from({ length: count }, (_, index) => ({
    kind: 'tool',
    gateway: upstreamName(index % UPSTREAMS),
    name: `tool_${(index * 7) % TOOLS_PER_UPSTREAM}`,
  }));
  const document = {
    version: 1,
    gateways: [],
    tools: [],
    prompts: [],
    resources: [],
    virtualServers: [
      {
        name: 'scale-virtual',
        enabled: true,
        description: `${count} tools of ${UPSTREAMS} upstreams`,
        members,
      },
    ],
  };
  const put = await getJson(`${base}/v1/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(document),
  });
  if (put.status !== 200)
    throw new Error(`PUT /v1/config: HTTP ${put.status} ${JSON.stringify(put.body).slice(0, 500)}`);
  const servers = await getJson(`${base}/v1/servers`);
  const items = (servers.body as { items?: Array<{ id: string; name: string }> }).items ?? [];
  const server = items.find((item) => item.name === 'scale-virtual');
  if (!server)
    throw new Error(`GET /v1/servers: no "scale-virtual" in ${JSON.stringify(servers.body).slice(0, 500)}`);
  return `${base}/servers/${server.id}/mcp`;
}

/** The gateway's memory: VmRSS and VmHWM from /proc, V8 heap and external memory from its /metrics. */
interface Memory {
  rssMb: number;
  peakMb: number;
  heapUsedMb: number;
  externalMb: number;
}

async function memoryOf(pid: number, base: string): Promise<Memory> {
  const { rssMb, peakMb } = readRss(pid);
  let text = '';
  try {
    const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
    text = await response.text();
  } catch {
    // no metrics: heap figures stay NaN
  }
  const metric = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 1024 ** 2;
  return {
    rssMb,
    peakMb,
    heapUsedMb: metric('nodejs_heap_size_used_bytes'),
    externalMb: metric('nodejs_external_memory_bytes'),
  };
}

interface StartUp {
  listeningMs: number;
  readyMs: number;
  allToolsMs: number;
  readyCatalogTools: number;
}

interface LaunchedGateway {
  spawned: SpawnedGateway;
  gateway: ScaleProcess;
  base: string;
  startUp: StartUp;
  /** `performance.now()` at spawn, to line a CPU profile up with this process's clock. */
  spawnedAt: number;
}

/** Spawns the gateway and waits until it listens, answers /ready 200 and lists `expectTools` tools. */
async function launchGateway(run: GatewaySpawn & { expectTools: number }): Promise<LaunchedGateway> {
  const spawned = await spawnGateway(run);
  const { gateway, base, spawnedAt, listeningMs } = spawned;
  const ready = await waitForReady(spawned);
  const readyMs = performance.now() - spawnedAt;
  const client = await connectSdk(`${base}/mcp`);
  try {
    await pollUntil(
      `${run.expectTools} tools in tools/list`,
      async () => ((await listAllTools(client)).tools === run.expectTools ? true : undefined),
      { timeoutMs: 120_000, everyMs: 100 },
    );
  } finally {
    await client.close();
  }
  const allToolsMs = performance.now() - spawnedAt;
  return {
    spawned,
    gateway,
    base,
    spawnedAt,
    startUp: { listeningMs, readyMs, allToolsMs, readyCatalogTools: ready.catalog?.tools ?? NaN },
  };
}

function verdict(measured: number, target: number, unit: string): string {
  const delta = measured - target;
  return delta <= 0
    ? `met: ${fmtMs(measured)} ${unit} ≤ ${target} ${unit} (${fmtMs(-delta)} ${unit} to spare)`
    : `missed by ${fmtMs(delta)} ${unit}: ${fmtMs(measured)} ${unit} > ${target} ${unit} (×${(measured / target).toFixed(2)})`;
}

/** Measures tools/list on /mcp, then on a new virtual server; returns the runs and the list window's times. */
async function measureLists(base: string): Promise<{ runs: ListRun[]; fromMs: number; toMs: number }> {
  const fromMs = performance.now();
  const runs: ListRun[] = [];
  const mainSessions = { sdk: await connectSdk(`${base}/mcp`), raw: await openRawSession(`${base}/mcp`) };
  runs.push(...(await measureEndpoint('/mcp', mainSessions, TOTAL_TOOLS)));
  await mainSessions.sdk.close();
  await mainSessions.raw.close();

  const virtualUrl = await createVirtualServer(base, VIRTUAL_TOOLS);
  await pollUntil(
    `${VIRTUAL_TOOLS} tools on ${new URL(virtualUrl).pathname}`,
    async () => {
      const probe = await connectSdk(virtualUrl);
      try {
        return (await listAllTools(probe)).tools === VIRTUAL_TOOLS ? true : undefined;
      } finally {
        await probe.close();
      }
    },
    { timeoutMs: 60_000, everyMs: 200 },
  );
  const virtualSessions = { sdk: await connectSdk(virtualUrl), raw: await openRawSession(virtualUrl) };
  runs.push(
    ...(await measureEndpoint(`virtual server (${VIRTUAL_TOOLS} tools)`, virtualSessions, VIRTUAL_TOOLS)),
  );
  await virtualSessions.sdk.close();
  await virtualSessions.raw.close();
  return { runs, fromMs, toMs: performance.now() };
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    process.stderr.write(`catalog-scale: watchdog fired after ${WATCHDOG_MS / 1000} s\n`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  const prefer = args.gateway;
  if (prefer !== 'auto' && prefer !== 'dist' && prefer !== 'source')
    throw new Error('--gateway is auto, dist or source');
  if (DATABASE !== 'embedded' && DATABASE !== 'postgres')
    throw new Error('--database is embedded or postgres');
  const distDir = args['gateway-dist'];
  const launch = await resolveGatewayLaunch(prefer, distDir === undefined ? undefined : resolve(distDir));
  if (distDir !== undefined) process.stderr.write(`gateway build: ${resolve(distDir)}\n`);
  if (launch.note !== undefined) process.stderr.write(`warning: ${launch.note}\n`);
  if (PROFILE_DIR !== undefined) mkdirSync(PROFILE_DIR, { recursive: true });
  const machine = machineInfo();
  const dir = temporaryDir('mcpgw-catalog-scale');
  let postgres: PostgresServer | undefined;
  try {
    if (DATABASE === 'postgres') {
      process.stderr.write('starting PostgreSQL…\n');
      postgres = await startPostgres();
    }
    const databaseUrl = async () => (postgres === undefined ? undefined : createTestDatabase(postgres.url));

    let baseline: { startUp: StartUp; rss: Memory } | undefined;
    if (!args['skip-baseline']) {
      process.stderr.write('baseline: a gateway with no upstreams…\n');
      const configPath = join(dir, 'baseline.json');
      writeFileSync(configPath, JSON.stringify({ gateways: [] }));
      const empty = await launchGateway({
        launch,
        configPath,
        dataDir: join(dir, 'baseline-data'),
        databaseUrl: await databaseUrl(),
        expectTools: 0,
      });
      baseline = { startUp: empty.startUp, rss: await memoryOf(empty.gateway.pid, empty.base) };
      await empty.gateway.stop();
      process.stderr.write(
        `  listening ${fmtMs(baseline.startUp.listeningMs)} ms, ready ${fmtMs(baseline.startUp.readyMs)} ms, RSS ${baseline.rss.rssMb.toFixed(0)} MB\n`,
      );
    }

    process.stderr.write(`starting ${UPSTREAMS} fake upstreams × ${TOOLS_PER_UPSTREAM} tools…\n`);
    const upstreams = spawnBenchScript('upstreams', 'scale-upstreams.ts', [
      '--upstreams',
      String(UPSTREAMS),
      '--tools',
      String(TOOLS_PER_UPSTREAM),
    ]);
    const [, upstreamOrigin] = await upstreams.waitForLine(/^listening (http:\/\/\S+)$/, 60_000);
    const configPath = join(dir, 'config.json');
    const gateways = Array.from({ length: UPSTREAMS }, (_, index) => ({
      name: upstreamName(index),
      transport: 'streamable-http',
      url: `${upstreamOrigin}/${upstreamName(index)}/mcp`,
    }));
    writeFileSync(configPath, JSON.stringify({ gateways }, null, 2));

    process.stderr.write('starting the gateway…\n');
    await waitForQuiet(quietBudget);
    const startCpu = cpuSnapshot();
    const { spawned, gateway, base, startUp, spawnedAt } = await launchGateway({
      launch,
      configPath,
      dataDir: join(dir, 'data'),
      databaseUrl: await databaseUrl(),
      expectTools: TOTAL_TOOLS,
      profileDir: PROFILE_DIR,
    });
    const startUpCpu = cpuBetween(startCpu, cpuSnapshot());
    const rssAtReady = await memoryOf(gateway.pid, base);
    process.stderr.write(
      `  listening ${fmtMs(startUp.listeningMs)} ms, ready ${fmtMs(startUp.readyMs)} ms, all tools ${fmtMs(startUp.allToolsMs)} ms, RSS ${rssAtReady.rssMb.toFixed(0)} MB\n`,
    );

    await waitForQuiet(quietBudget);
    const cpuBefore = readCpuMs(gateway.pid);
    const listCpuBefore = cpuSnapshot();
    const { runs, fromMs, toMs } = await measureLists(base);
    const listCpu = cpuBetween(listCpuBefore, cpuSnapshot());
    const gatewayCpuMs = readCpuMs(gateway.pid) - cpuBefore;
    process.stderr.write(
      `  other processes: ${startUpCpu.otherCores} cores at start-up, ${listCpu.otherCores} during the lists\n`,
    );
    const rssAfter = await memoryOf(gateway.pid, base);
    const upstreamRss = readRss(upstreams.pid);
    // V8 shrinks the heap once allocation stops (its memory reducer); what is left after a quiet spell is the catalog.
    await sleep(SETTLE_MS);
    const rssSettled = await memoryOf(gateway.pid, base);
    const collected = await forceGc(spawned);
    const rssAfterGc = collected ? await memoryOf(gateway.pid, base) : undefined;

    let profile: string | undefined;
    if (PROFILE_DIR !== undefined) {
      await gateway.stop({ signal: 'SIGINT', timeoutMs: 30_000 });
      const file = newestProfile(PROFILE_DIR);
      profile =
        file === undefined
          ? 'no .cpuprofile was written'
          : [
              `Profile: ${file}. Windows are measured from the gateway's spawn (the profile starts a few ms later).`,
              '',
              `#### Start-up (0 – ${fmtMs(startUp.allToolsMs)} ms)`,
              '',
              profileMarkdown(summariseProfile(file, { top: 20, toMs: startUp.allToolsMs })),
              '',
              `#### tools/list runs (${fmtMs(fromMs - spawnedAt)} – ${fmtMs(toMs - spawnedAt)} ms)`,
              '',
              profileMarkdown(
                summariseProfile(file, { top: 20, fromMs: fromMs - spawnedAt, toMs: toMs - spawnedAt }),
              ),
            ].join('\n');
    } else {
      await gateway.stop();
    }
    await upstreams.stop();

    const report = {
      machine,
      launch,
      baseline,
      startUp,
      rssAtReady,
      rssAfter,
      rssSettled,
      rssAfterGc,
      upstreamRss,
      gatewayCpuMs,
      runs,
      profile,
      cpu: { startUp: startUpCpu, lists: listCpu },
    };
    const { markdown, targets } = render(report);
    if (args.json !== undefined) {
      writeFileSync(
        resolve(args.json),
        `${JSON.stringify({ ...report, database: DATABASE, targets }, null, 2)}\n`,
      );
    }
    process.stdout.write(`${markdown}\n`);
  } finally {
    await postgres?.stop();
  }
}

interface Report {
  machine: ReturnType<typeof machineInfo>;
  launch: GatewayLaunch;
  baseline: { startUp: StartUp; rss: Memory } | undefined;
  startUp: StartUp;
  rssAtReady: Memory;
  rssAfter: Memory;
  rssSettled: Memory;
  /** After two forced full GCs (live objects only in the V8 heap); undefined if the inspector could not be reached. */
  rssAfterGc: Memory | undefined;
  upstreamRss: { rssMb: number; peakMb: number };
  gatewayCpuMs: number;
  runs: ListRun[];
  profile: string | undefined;
  /** Machine CPU during start-up and during the list runs, split into this benchmark's processes and the rest. */
  cpu: { startUp: CpuUse; lists: CpuUse };
}

function render(report: Report): { markdown: string; targets: Record<string, string> } {
  const { machine, baseline, startUp, runs } = report;
  const find = (what: string, client: ListRun['client']) =>
    runs.find((run) => run.endpoint === '/mcp' && run.what === what && run.client === client);
  const status = (run: ListRun | undefined) =>
    run === undefined ? 'n/a' : verdict(run.latency.p50, TARGET_LIST_P50_MS, 'ms');
  const target = `tools/list p50 ≤ ${TARGET_LIST_P50_MS} ms at ${TOTAL_TOOLS} tools`;
  const targets: Record<string, string> = {
    [`${target}: first page of 1000, SDK client`]: status(find('first page', 'SDK')),
    [`${target}: full walk (${Math.ceil(TOTAL_TOOLS / 1000)} pages), SDK client`]: status(
      find('full walk', 'SDK'),
    ),
    [`${target}: first page of 1000, raw fetch (less client-side cost)`]: status(
      find('first page', 'raw fetch'),
    ),
    [`${target}: full walk, raw fetch`]: status(find('full walk', 'raw fetch')),
    [`RSS ≤ ${TARGET_RSS_MB} MB (VmRSS ${SETTLE_MS / 1000} s after the runs)`]: verdict(
      report.rssSettled.rssMb,
      TARGET_RSS_MB,
      'MB',
    ),
    [`RSS ≤ ${TARGET_RSS_MB} MB (VmRSS after a forced full GC: the floor)`]:
      report.rssAfterGc === undefined ? 'n/a' : verdict(report.rssAfterGc.rssMb, TARGET_RSS_MB, 'MB'),
  };
  const database =
    DATABASE === 'postgres'
      ? 'PostgreSQL (--database-url, throwaway server)'
      : 'the embedded database (--data-dir)';
  const startRows = (label: string, s: StartUp, tools: number) => [
    [`${label}: HTTP listening (URL printed)`, fmtMs(s.listeningMs)],
    [`${label}: /ready 200 (catalog: ${s.readyCatalogTools} tools)`, fmtMs(s.readyMs)],
    [`${label}: all ${tools} tools in tools/list`, fmtMs(s.allToolsMs)],
  ];
  const mb = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : 'n/a');
  const memoryRow = (label: string, m: Memory) => [
    label,
    mb(m.rssMb),
    mb(m.peakMb),
    mb(m.heapUsedMb),
    mb(m.externalMb),
  ];
  const lines = [
    `## Catalog scale: ${UPSTREAMS} upstreams × ${TOOLS_PER_UPSTREAM} tools = ${TOTAL_TOOLS} tools`,
    '',
    `${machine.date}; ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB; Node ${machine.node}. ` +
      `Gateway: ${describeLaunch(report.launch)}, on ${database}. ` +
      `tools/list: ${ITERATIONS} iterations after ${WARMUP} warm-up, one session, one request at a time.`,
    ...(report.launch.note === undefined ? [] : ['', `Note: ${report.launch.note}.`]),
    '',
    markdownTable(
      ['Start-up (from spawn)', 'ms'],
      [
        ...(baseline === undefined ? [] : startRows('no upstreams', baseline.startUp, 0)),
        ...startRows(`${UPSTREAMS} upstreams`, startUp, TOTAL_TOOLS),
      ],
    ),
    '',
    markdownTable(
      ['Endpoint', 'tools/list', 'Client', 'Tools', 'Pages', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      runs.map((run) => [
        run.endpoint,
        run.what,
        run.client,
        String(run.tools),
        String(run.pages),
        fmtMs(run.latency.p50),
        fmtMs(run.latency.p90),
        fmtMs(run.latency.p99),
        fmtMs(run.latency.max),
      ]),
    ),
    '',
    markdownTable(
      ['Memory, MB', 'VmRSS', 'VmHWM (peak)', 'V8 heap used', 'external (ArrayBuffers, WASM)'],
      [
        ...(baseline === undefined ? [] : [memoryRow('gateway with no upstreams, at /ready', baseline.rss)]),
        memoryRow(`gateway with ${TOTAL_TOOLS} tools, at /ready`, report.rssAtReady),
        memoryRow(`gateway with ${TOTAL_TOOLS} tools, right after the runs`, report.rssAfter),
        memoryRow(`gateway with ${TOTAL_TOOLS} tools, ${SETTLE_MS / 1000} s later (idle)`, report.rssSettled),
        ...(report.rssAfterGc === undefined
          ? []
          : [memoryRow(`gateway with ${TOTAL_TOOLS} tools, then after a forced full GC`, report.rssAfterGc)]),
        [
          `fake-upstream host (${UPSTREAMS} servers; not the gateway)`,
          mb(report.upstreamRss.rssMb),
          mb(report.upstreamRss.peakMb),
          '',
          '',
        ],
      ],
    ),
    '',
    `Gateway CPU time during the tools/list runs: ${Math.round(report.gatewayCpuMs)} ms. ` +
      `CPU of processes outside this benchmark (machine-wide busy minus this benchmark's process tree): ` +
      `${report.cpu.startUp.otherCores} cores during start-up, ${report.cpu.lists.otherCores} during the tools/list runs ` +
      `(this benchmark: ${report.cpu.startUp.ownCores} and ${report.cpu.lists.ownCores}).`,
    '',
    markdownTable(['Target', 'Status'], Object.entries(targets)),
  ];
  if (report.profile !== undefined) lines.push('', '### Gateway CPU profile', '', report.profile);
  return { markdown: lines.join('\n'), targets };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `catalog-scale failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
