import { describe, expect, it } from 'vitest';
import { checkHostAndOrigin, jsonNestingDepth, readJsonBody } from './http-edge.ts';

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request('http://127.0.0.1:1/mcp', {
    method: 'POST',
    body,
    headers: { host: '127.0.0.1:1', ...headers },
  });

async function errorOf(result: unknown): Promise<{ status: number; code: number; message: string }> {
  expect(result).toBeInstanceOf(Response);
  const response = result as Response;
  const body = (await response.json()) as { error: { code: number; message: string } };
  return { status: response.status, ...body.error };
}

describe('readJsonBody', () => {
  it('parses a body once and returns its text', async () => {
    const result = await readJsonBody(post('{"jsonrpc":"2.0","id":1,"method":"ping"}'), 1024);
    expect(result).toEqual({
      body: { jsonrpc: '2.0', id: 1, method: 'ping' },
      text: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
  });

  it('refuses a body over the limit with 413, by header and by streaming', async () => {
    expect(
      await errorOf(await readJsonBody(post('x'.repeat(10), { 'content-length': '999999' }), 100)),
    ).toMatchObject({
      status: 413,
    });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 100; i++) controller.enqueue(new Uint8Array(1024));
        controller.close();
      },
    });
    const streamed = new Request('http://127.0.0.1:1/mcp', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(await errorOf(await readJsonBody(streamed, 10 * 1024))).toMatchObject({ status: 413 });
  });

  it('answers truncated JSON and invalid UTF-8 with -32700', async () => {
    expect(await errorOf(await readJsonBody(post('{"jsonrpc":"2.0","id":'), 1024))).toMatchObject({
      status: 400,
      code: -32700,
    });
    const invalidUtf8 = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    expect(await errorOf(await readJsonBody(post(invalidUtf8), 1024))).toMatchObject({
      status: 400,
      code: -32700,
      message: 'Parse error: the body is not valid UTF-8',
    });
  });

  it('refuses 100k-deep nesting quickly with 400 and no crash', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const result = await errorOf(await readJsonBody(post(deep), 1024 * 1024));
    expect(result).toMatchObject({ status: 400, message: 'Bad Request: JSON nested deeper than 128 levels' });
  });
});

describe('jsonNestingDepth', () => {
  it('counts nesting and ignores brackets inside strings', () => {
    expect(jsonNestingDepth('{"a":[1,{"b":"[[[{{{"}]}')).toBe(3);
    expect(jsonNestingDepth('"\\\\"')).toBe(0);
    expect(jsonNestingDepth('{"a":"\\"[["}')).toBe(1);
  });
});

describe('checkHostAndOrigin', () => {
  const hosts = new Set(['127.0.0.1', 'localhost']);
  it('refuses a foreign Host and a foreign Origin with 403, and lets same-host origins through', () => {
    const foreignHost = new Request('http://evil.example/mcp', { headers: { host: 'evil.example' } });
    expect(checkHostAndOrigin(foreignHost, hosts, new Set())?.status).toBe(403);
    const foreignOrigin = new Request('http://127.0.0.1:4444/mcp', {
      headers: { host: '127.0.0.1:4444', origin: 'http://evil.example' },
    });
    expect(checkHostAndOrigin(foreignOrigin, hosts, new Set())?.status).toBe(403);
    const sameHost = new Request('http://127.0.0.1:4444/mcp', {
      headers: { host: '127.0.0.1:4444', origin: 'http://127.0.0.1:4444' },
    });
    expect(checkHostAndOrigin(sameHost, hosts, new Set())).toBeUndefined();
    const allowed = new Request('http://127.0.0.1:4444/mcp', {
      headers: { host: '127.0.0.1:4444', origin: 'https://app.example' },
    });
    expect(checkHostAndOrigin(allowed, hosts, new Set(['https://app.example']))).toBeUndefined();
  });
});
