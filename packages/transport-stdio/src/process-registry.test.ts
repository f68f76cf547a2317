import { afterEach, describe, expect, it } from 'vitest';
import { closeAllStdioProcesses, createStdioClientTransport, killAllStdioProcesses } from './index.ts';
import type { StdioClientTransport } from './index.ts';
import {
  createRecordingLogger,
  fixturePath,
  isProcessAlive,
  killQuietly,
  waitFor,
  within,
} from './test-helpers.ts';

const opened: StdioClientTransport[] = [];
const strayPids: number[] = [];

afterEach(async () => {
  await within('cleanup', Promise.all(opened.splice(0).map((transport) => transport.close())), 10_000);
  for (const pid of strayPids.splice(0)) killQuietly(pid);
});

/** Starts the MCP fixture with a grandchild; resolves with the transport, both pids and a close counter. */
async function startFixture(name: string) {
  const logger = createRecordingLogger();
  const transport = createStdioClientTransport({
    command: process.execPath,
    args: [fixturePath('mcp-server.mjs')],
    env: { MCP_FIXTURE_GRANDCHILD: '1' },
    logger,
    name,
  });
  opened.push(transport);
  let closes = 0;
  transport.onclose = () => {
    closes += 1;
  };
  await within('start', transport.start());
  const grandchild = await waitFor('the grandchild pid', () => {
    const line = logger.records.find((record) => record.message?.startsWith('grandchild-pid='));
    return line === undefined ? undefined : Number(line.message?.slice('grandchild-pid='.length));
  });
  strayPids.push(grandchild);
  return { transport, pids: [transport.pid!, grandchild], closes: () => closes };
}

describe('the process registry', () => {
  it('killAllStdioProcesses kills every registered group at once, grandchildren included', async () => {
    const first = await startFixture('first');
    const second = await startFixture('second');
    const pids = [...first.pids, ...second.pids];
    expect(pids.every(isProcessAlive)).toBe(true);

    expect(killAllStdioProcesses()).toBe(2);

    await waitFor('every process to be gone', () => pids.every((pid) => !isProcessAlive(pid)), 3000);
    expect(await first.transport.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await second.transport.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await waitFor('both onclose handlers', () => first.closes() === 1 && second.closes() === 1);
  });

  it('closeAllStdioProcesses closes every transport gracefully and empties the registry', async () => {
    const first = await startFixture('first');
    const second = await startFixture('second');

    await within('closeAll', closeAllStdioProcesses());

    for (const pid of [...first.pids, ...second.pids]) expect(isProcessAlive(pid)).toBe(false);
    expect(await first.transport.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(first.closes()).toBe(1);
    expect(second.closes()).toBe(1);
    expect(killAllStdioProcesses()).toBe(0);
  });

  it('forgets a transport once its process group is gone', async () => {
    const { transport } = await startFixture('short-lived');
    expect(killAllStdioProcesses('SIGCONT')).toBe(1); // a harmless signal: the group is registered

    await within('close', transport.close());

    expect(killAllStdioProcesses('SIGCONT')).toBe(0);
  });
});
