import {
  cellName,
  cleanResult,
  type CellSpec,
  type MemoryResult,
  type RowResult,
  type TargetCheck,
} from './report.ts';
import type { TargetId } from './targets.ts';

/** The targets of issue 7. */
export const GOALS = {
  /** Gateway req/s at least this share of direct at concurrency 32. */
  throughputShare: 0.6,
  /** At most this many ms added to p50 at concurrency 1. */
  addedP50Ms: 0.3,
  idleRssMb: 90,
  perSessionKb: 64,
} as const;

/**
 * The gateway rows, both measured against the direct HTTP row: the client speaks streamable HTTP in all three, so
 * the difference is the gateway. The in-process stdio row has no HTTP at all and is shown for reference only.
 */
const GATEWAY_ROWS = [
  { gateway: 'gateway-http', direct: 'direct-http', scope: 'gateway → HTTP echo vs direct HTTP' },
  { gateway: 'gateway-stdio', direct: 'direct-http', scope: 'gateway → stdio echo vs direct HTTP' },
] as const;

/**
 * Checks every target against the figures. Cells with errors or failures do not count as evidence either way: a
 * check with no usable cell is reported as missed ("no clean run").
 */
export function checkTargets(
  rows: readonly RowResult[],
  cells: readonly CellSpec[],
  memory?: MemoryResult,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const fullLoad = cells.filter((cell) => cell.concurrency === 32);
  const sequential = cells.filter((cell) => cell.concurrency === 1);

  for (const { gateway, direct, scope } of GATEWAY_ROWS) {
    const ratios = pairs(rows, fullLoad, [gateway, direct]).map(({ cell, mine, theirs }) => ({
      cell,
      value: mine.requestsPerSecond / theirs.requestsPerSecond,
    }));
    const worst = minBy(ratios, (entry) => entry.value);
    const goal = `Throughput ≥ ${GOALS.throughputShare}× direct at concurrency 32`;
    if (worst === undefined) checks.push(noData(goal, scope));
    else {
      const met = worst.value >= GOALS.throughputShare;
      checks.push({
        goal,
        scope,
        measured: ratios.map((entry) => `${cellName(entry.cell)} ${entry.value.toFixed(2)}×`).join(', '),
        met,
        margin: met
          ? `worst cell ${(worst.value - GOALS.throughputShare).toFixed(2)}× above the line`
          : `worst cell (${cellName(worst.cell)}) short by ${(GOALS.throughputShare - worst.value).toFixed(2)}×; it needs ${percent(GOALS.throughputShare / worst.value - 1)} more req/s`,
      });
    }
  }

  for (const { gateway, direct, scope } of GATEWAY_ROWS) {
    const added = pairs(rows, sequential, [gateway, direct]).map(({ cell, mine, theirs }) => ({
      cell,
      value: mine.latencyMs.p50 - theirs.latencyMs.p50,
    }));
    const worst = maxBy(added, (entry) => entry.value);
    const goal = `≤ ${GOALS.addedP50Ms} ms added p50 at concurrency 1`;
    if (worst === undefined) checks.push(noData(goal, scope));
    else {
      const met = worst.value <= GOALS.addedP50Ms;
      checks.push({
        goal,
        scope,
        measured: added.map((entry) => `${cellName(entry.cell)} +${entry.value.toFixed(2)} ms`).join(', '),
        met,
        margin: met
          ? `worst cell ${(GOALS.addedP50Ms - worst.value).toFixed(2)} ms under`
          : `worst cell (${cellName(worst.cell)}) over by ${(worst.value - GOALS.addedP50Ms).toFixed(2)} ms`,
      });
    }
  }

  // The peers only front stdio servers, so the row that does the same job is the gateway in front of the stdio echo;
  // the HTTP-upstream row is checked too, for information.
  for (const gateway of ['gateway-stdio', 'gateway-http'] as const) {
    const scope = `${gateway === 'gateway-stdio' ? 'gateway → stdio echo' : 'gateway → HTTP echo'} vs supergateway and mcp-proxy, every cell`;
    const ratios = (['supergateway', 'mcp-proxy'] as const).flatMap((peer) =>
      pairs(rows, cells, [gateway, peer]).map(({ cell, mine, theirs }) => ({
        cell,
        peer,
        value: mine.requestsPerSecond / theirs.requestsPerSecond,
      })),
    );
    const worst = minBy(ratios, (entry) => entry.value);
    const goal = 'Throughput at or above both peers in every cell';
    if (worst === undefined) {
      checks.push(noData(goal, scope));
      continue;
    }
    const expected = cells.length * 2;
    const below = ratios.filter((entry) => entry.value < 1);
    const met = below.length === 0 && ratios.length === expected;
    checks.push({
      goal,
      scope,
      measured: `${ratios.length - below.length}/${ratios.length} comparisons at or above; lowest ${worst.value.toFixed(2)}× ${worst.peer} at ${cellName(worst.cell)}`,
      met,
      margin: met
        ? `lowest cell ${percent(worst.value - 1)} ahead`
        : below.length === 0
          ? `only ${ratios.length} of ${expected} comparisons had clean runs`
          : `behind in ${below.map((entry) => `${cellName(entry.cell)} vs ${entry.peer} (${percent(1 - entry.value)} slower)`).join(', ')}`,
    });
  }

  if (memory === undefined || memory.error !== undefined) {
    checks.push(noData(`Idle RSS ≤ ${GOALS.idleRssMb} MB`, 'gateway process'));
    checks.push(noData(`≤ ${GOALS.perSessionKb} KB per idle session`, 'gateway process'));
  } else {
    const idleMb = memory.idleRssKb / 1024;
    checks.push({
      goal: `Idle RSS ≤ ${GOALS.idleRssMb} MB`,
      scope: 'gateway process',
      measured: `${idleMb.toFixed(1)} MB`,
      met: idleMb <= GOALS.idleRssMb,
      margin:
        idleMb <= GOALS.idleRssMb
          ? `${(GOALS.idleRssMb - idleMb).toFixed(1)} MB under`
          : `${(idleMb - GOALS.idleRssMb).toFixed(1)} MB over`,
    });
    checks.push({
      goal: `≤ ${GOALS.perSessionKb} KB per idle session`,
      scope: `gateway process, ${memory.sessionsRequested} sessions`,
      measured: `${memory.perSessionKb.toFixed(1)} KB`,
      met:
        memory.perSessionKb >= 0 &&
        memory.perSessionKb <= GOALS.perSessionKb &&
        memory.sessionsOpened === memory.sessionsRequested,
      margin:
        memory.sessionsOpened !== memory.sessionsRequested
          ? `only ${memory.sessionsOpened} of ${memory.sessionsRequested} sessions opened`
          : memory.perSessionKb < 0
            ? 'no valid reading: RSS fell while the sessions were open (a GC freed earlier garbage)'
            : memory.perSessionKb <= GOALS.perSessionKb
              ? `${(GOALS.perSessionKb - memory.perSessionKb).toFixed(1)} KB under`
              : `${(memory.perSessionKb - GOALS.perSessionKb).toFixed(1)} KB over (${percent(memory.perSessionKb / GOALS.perSessionKb - 1)})`,
    });
  }
  return checks;
}

function pairs(
  rows: readonly RowResult[],
  cells: readonly CellSpec[],
  ids: [mine: TargetId, theirs: TargetId],
) {
  const [mineId, theirsId] = ids;
  return cells.flatMap((cell) => {
    const mine = cleanResult(rows, mineId, cell);
    const theirs = cleanResult(rows, theirsId, cell);
    return mine && theirs ? [{ cell, mine, theirs }] : [];
  });
}

function noData(goal: string, scope: string): TargetCheck {
  return {
    goal,
    scope,
    measured: 'no clean run',
    met: false,
    margin: 'cannot tell: the runs failed or had errors',
  };
}

function minBy<T>(items: readonly T[], value: (item: T) => number): T | undefined {
  return items.reduce<T | undefined>(
    (best, item) => (best === undefined || value(item) < value(best) ? item : best),
    undefined,
  );
}

function maxBy<T>(items: readonly T[], value: (item: T) => number): T | undefined {
  return items.reduce<T | undefined>(
    (best, item) => (best === undefined || value(item) > value(best) ? item : best),
    undefined,
  );
}

function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}
