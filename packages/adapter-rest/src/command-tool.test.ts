import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callTool, disposableUpstream, textOf } from './api-server.test-support.ts';
import type { CommandToolDefinition } from './tool-definition.ts';

const node = process.execPath;
const printArgv = 'process.stdout.write(JSON.stringify(process.argv.slice(1)))';
const scratch = mkdtempSync(join(tmpdir(), 'adapter-rest-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const command = (
  name: string,
  extra: Omit<CommandToolDefinition, 'kind' | 'name'>,
): CommandToolDefinition => ({
  kind: 'command',
  name,
  ...extra,
});

/** True while `pid` runs; a zombie (exited, not yet reaped by init) counts as gone. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
  } catch {
    return false;
  }
}

describe('command tools', () => {
  it('passes each template element as exactly one argv element, shell metacharacters verbatim', async () => {
    await using upstream = disposableUpstream({
      id: 'cmd',
      name: 'cmd',
      tools: [
        command('argv', {
          command: [node, '-e', printArgv, '{text}', '--label={label}', '{n}', '{{literal}}'],
        }),
      ],
    });
    const text = `; rm -rf / && echo $(whoami) | cat > /tmp/x "double" 'single' \`tick\` * ~ \n newline`;
    const result = await callTool(upstream, 'argv', { text, label: 'a b', n: 5 });
    expect(result.isError).toBeUndefined();
    expect(JSON.parse(textOf(result))).toEqual([text, '--label=a b', '5', '{literal}']);
  });

  it('derives an input schema from the template and refuses option-like values', async () => {
    await using upstream = disposableUpstream({
      id: 'cmd',
      name: 'cmd',
      tools: [
        command('log', {
          command: [node, '-e', printArgv, '--', '-n', '{count}'],
          inputSchema: {
            type: 'object',
            properties: { count: { type: 'integer', minimum: 1, maximum: 100 } },
            required: ['count'],
          },
        }),
        command('grep', { command: [node, '-e', printArgv, '{pattern}'] }),
      ],
    });
    expect(upstream.getCatalog().tools[1]?.inputSchema).toMatchObject({ required: ['pattern'] });
    expect(JSON.parse(textOf(await callTool(upstream, 'log', { count: 3 })))).toEqual(['-n', '3']);
    expect(textOf(await callTool(upstream, 'log', { count: 'all' }))).toBe(
      'Invalid arguments for tool "log": count must be integer',
    );
    const optionLike = await callTool(upstream, 'grep', { pattern: '--output=/etc/passwd' });
    expect(optionLike.isError).toBe(true);
    expect(textOf(optionLike)).toContain('"pattern" may not start with "-"');
  });

  it('writes stdin from an argument and passes only allowlisted environment variables', async () => {
    await using upstream = disposableUpstream({
      id: 'cmd',
      name: 'cmd',
      environment: { VISIBLE: 'yes', SECRET: 'do-not-leak' },
      tools: [
        command('upper', {
          command: [
            node,
            '-e',
            'process.stdin.on("data", (d) => process.stdout.write(d.toString().toUpperCase()))',
          ],
          stdinFrom: 'input',
          inputSchema: { type: 'object', properties: { input: { type: 'string' } }, required: ['input'] },
        }),
        command('env', {
          command: [node, '-e', 'process.stdout.write(JSON.stringify(process.env))'],
          envAllow: ['VISIBLE', 'ABSENT'],
          env: { STATIC: 'set' },
          output: 'json',
        }),
      ],
    });
    expect(textOf(await callTool(upstream, 'upper', { input: 'hello; $(id)' }))).toBe('HELLO; $(ID)');
    const env = await callTool(upstream, 'env');
    expect(env.structuredContent).toEqual({ VISIBLE: 'yes', STATIC: 'set' });
  });

  it('reports a non-zero exit as a tool error with the stderr tail', async () => {
    await using upstream = disposableUpstream({
      id: 'cmd',
      name: 'cmd',
      tools: [command('fail', { command: ['/bin/sh', '-c', 'echo working; echo "disk full" >&2; exit 3'] })],
    });
    const result = await callTool(upstream, 'fail');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('command "fail" exited with code 3\nstderr (last 4096 bytes):\ndisk full\n');
  });

  it('kills the whole process group on timeout', async () => {
    const pidFile = join(scratch, 'grandchild.pid');
    await using upstream = disposableUpstream({
      id: 'cmd',
      name: 'cmd',
      tools: [
        command('hang', {
          command: ['/bin/sh', '-c', 'sleep 30 & echo $! > "$1"; wait', 'sh', '{pidFile}'],
          timeoutMs: 300,
        }),
      ],
    });
    const started = performance.now();
    const result = await callTool(upstream, 'hang', { pidFile });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('command "hang" timed out after 300 ms; its process group was killed');
    expect(performance.now() - started).toBeLessThan(3000);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    expect(running(grandchild)).toBe(false);
  });

  it('caps the output, stops the process, and marks the cut', async () => {
    await using upstream = disposableUpstream({
      id: 'cmd',
      name: 'cmd',
      tools: [
        command('endless', {
          command: [node, '-e', 'const line = "y\\n".repeat(4096); for (;;) process.stdout.write(line)'],
          maxOutputBytes: 10_000,
          timeoutMs: 10_000,
        }),
      ],
    });
    const started = performance.now();
    const result = await callTool(upstream, 'endless');
    expect(result.isError).toBeUndefined();
    const text = textOf(result);
    expect(text.startsWith('y\ny\n')).toBe(true);
    expect(text.endsWith('…[truncated: 10000 of more than 10000 bytes; process stopped]')).toBe(true);
    expect(text.length).toBe(10_000 + '…[truncated: 10000 of more than 10000 bytes; process stopped]'.length);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('reports an executable that cannot start', async () => {
    await using upstream = disposableUpstream({
      id: 'cmd',
      name: 'cmd',
      tools: [command('missing', { command: ['/nonexistent/tool'] })],
    });
    const result = await callTool(upstream, 'missing');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(
      'could not start "/nonexistent/tool" for tool "missing": spawn /nonexistent/tool ENOENT',
    );
  });

  it('refuses a placeholder in the executable at creation', () => {
    expect(() =>
      disposableUpstream({
        id: 'cmd',
        name: 'cmd',
        tools: [command('bad', { command: ['{program}', 'x'] })],
      }),
    ).toThrow(/the executable \(command\[0\]\) is fixed/);
  });
});
