import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a {@link FaultApi} received. */
export interface FaultApiRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** Path and query string as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `performance.now()` when the request arrived. */
  at: number;
}

/** Options of {@link startFaultApi}. */
export interface FaultApiOptions {
  /** Client credentials `POST /oauth/token` accepts (HTTP Basic) [fault-client / fault-secret]. */
  oauthClient?: { id: string; secret: string };
  /** `expires_in` of the tokens it issues, in seconds [3600]. */
  tokenLifetimeSeconds?: number;
}

/**
 * A REST API on loopback with fault modes, standing in for the APIs REST tools call. Routes:
 *
 * - `GET /json`: {@link FAULT_API_USERS}; `ANY /echo`: the request as JSON.
 * - `ANY /status/:code[?retryAfter=s]`: always that status (with `Retry-After` when given).
 * - `ANY /flaky/:code?failures=n[&retryAfter=s][&key=k]`: the first `n` requests (per `key`) answer `code`, then
 *   `200 {"ok": true, "attempt": i}`.
 * - `GET /hang`: never answers (until the client hangs up).
 * - `GET /held`: answers once the gate is open (see {@link FaultApi.releaseHeld}).
 * - `GET /drip?chunks=n&intervalMs=ms`: a text body of `n` lines, one every `ms`.
 * - `GET /huge?mib=n`: `n` MiB of `a`, with Content-Length, produced only as fast as the client reads.
 * - `ANY /redirect?to=url[&status=302]`: a redirect.
 * - `GET /binary/png|wav|pdf`: {@link FAULT_API_BINARIES}.
 * - `POST /oauth/token`: OAuth 2 client credentials (tokens `token-1`, `token-2`, …); `GET /oauth/me`: `200
 *   {"token"}` for a valid bearer token, else `401`.
 *
 * Requests and TCP connections are counted, so a test can show that a refused call reached nothing.
 */
export interface FaultApi extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  port: number;
  /** Every request so far, in arrival order. */
  requests: FaultApiRequest[];
  /** The requests to `path` (no query string). */
  requestsTo(path: string): FaultApiRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** `/held` and `/hang` requests being answered now, and the most there ever were at once. */
  inFlight(): { now: number; max: number };
  /** Opens the `/held` gate (it stays open until {@link hold}): waiting and later requests are answered. */
  releaseHeld(): void;
  /** Closes the `/held` gate again [closed at start]. */
  hold(): void;
  /** Bytes of `/huge` bodies written so far. */
  hugeBytesProduced(): number;
  /** Tokens issued by `/oauth/token`. */
  tokensIssued(): number;
  /** Makes every issued token invalid (`/oauth/me` answers 401 to them). */
  revokeTokens(): void;
  close(): Promise<void>;
}

/** The document `GET /json` answers. */
export const FAULT_API_USERS = {
  total: 3,
  items: [
    { id: 1, name: 'Ada', email: 'ada@example.com' },
    { id: 2, name: 'Grace', email: 'grace@example.com' },
    { id: 3, name: 'Linus', email: 'linus@example.com' },
  ],
} as const;

/** The bodies `GET /binary/:kind` answers. */
export const FAULT_API_BINARIES = {
  png: {
    mimeType: 'image/png',
    bytes: Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'),
  },
  wav: { mimeType: 'audio/wav', bytes: Buffer.from('RIFF') },
  pdf: { mimeType: 'application/pdf', bytes: Buffer.from('%PDF-1.7') },
} as const;

const MiB = 1024 * 1024;
/** A request the client never ends is dropped after this long, so nothing outlives a test by much. */
const HANG_LIMIT_MS = 30_000;

/** Starts a {@link FaultApi} on 127.0.0.1 with an ephemeral port. */
export async function startFaultApi(options: FaultApiOptions = {}): Promise<FaultApi> {
  const client = options.oauthClient ?? { id: 'fault-client', secret: 'fault-secret' };
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const requests: FaultApiRequest[] = [];
  const flakyCounts = new Map<string, number>();
  const validTokens = new Set<string>();
  let issued = 0;
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let hugeBytes = 0;
  let gateOpen = false;
  let gateWaiters: Array<() => void> = [];

  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };

  /** Resolves when the client hangs up, or after `limitMs`. */
  const untilClosed = (req: IncomingMessage, res: ServerResponse, limitMs: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, limitMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      res.once('close', done);
      req.once('aborted', done);
    });

  const tracked = async (work: () => Promise<void>) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await work();
    } finally {
      inFlight -= 1;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://fault-api');
    const path = url.pathname;
    const query = url.searchParams;
    const method = req.method ?? 'GET';
    let match: RegExpExecArray | null;

    if (path === '/json') return json(res, 200, FAULT_API_USERS);
    if (path === '/echo') {
      return json(res, 200, { method, path, query: Object.fromEntries(query), headers: req.headers, body });
    }
    if ((match = /^\/status\/(\d{3})$/.exec(path))) {
      const retryAfter = query.get('retryAfter');
      res.writeHead(Number(match[1]), {
        'content-type': 'text/plain',
        ...(retryAfter === null ? {} : { 'retry-after': retryAfter }),
      });
      res.end(`status ${match[1]}`);
      return;
    }
    if ((match = /^\/flaky\/(\d{3})$/.exec(path))) {
      const key = `${method} ${query.get('key') ?? url.search}`;
      const attempt = (flakyCounts.get(key) ?? 0) + 1;
      flakyCounts.set(key, attempt);
      if (attempt <= Number(query.get('failures') ?? '1')) {
        const retryAfter = query.get('retryAfter');
        res.writeHead(Number(match[1]), {
          'content-type': 'text/plain',
          ...(retryAfter === null ? {} : { 'retry-after': retryAfter }),
        });
        res.end(`failure ${attempt}`);
        return;
      }
      return json(res, 200, { ok: true, attempt });
    }
    if (path === '/hang') {
      await tracked(() => untilClosed(req, res, HANG_LIMIT_MS));
      if (!res.destroyed) res.destroy();
      return;
    }
    if (path === '/held') {
      await tracked(async () => {
        if (!gateOpen) {
          await Promise.race([
            new Promise<void>((resolve) => gateWaiters.push(resolve)),
            untilClosed(req, res, HANG_LIMIT_MS),
          ]);
        }
      });
      if (!res.destroyed) json(res, 200, { ok: true });
      return;
    }
    if (path === '/drip') {
      const chunks = Number(query.get('chunks') ?? '10');
      const intervalMs = Number(query.get('intervalMs') ?? '50');
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let index = 0; index < chunks && !res.destroyed; index++) {
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
        res.write(`chunk ${index}\n`);
      }
      res.end();
      return;
    }
    if (path === '/huge') {
      const total = Number(query.get('mib') ?? '50') * MiB;
      const chunk = Buffer.alloc(64 * 1024, 'a');
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(total) });
      let sent = 0;
      while (sent < total && !res.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.byteLength, total - sent));
        sent += piece.byteLength;
        hugeBytes += piece.byteLength;
        if (!res.write(piece)) {
          // Wait for the client to read (or hang up): nothing is produced faster than it is consumed.
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.once('drain', done);
            res.once('close', done);
          });
        }
      }
      if (!res.destroyed) res.end();
      return;
    }
    if (path === '/redirect') {
      res.writeHead(Number(query.get('status') ?? '302'), { location: query.get('to') ?? '/json' });
      res.end();
      return;
    }
    if ((match = /^\/binary\/(png|wav|pdf)$/.exec(path))) {
      const binary = FAULT_API_BINARIES[match[1] as keyof typeof FAULT_API_BINARIES];
      res.writeHead(200, { 'content-type': binary.mimeType, 'content-length': binary.bytes.byteLength });
      res.end(binary.bytes);
      return;
    }
    if (path === '/oauth/token' && method === 'POST') {
      const form = new URLSearchParams(body);
      const expected = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
      if (req.headers.authorization !== expected || form.get('grant_type') !== 'client_credentials') {
        return json(res, 401, { error: 'invalid_client' });
      }
      const token = `token-${++issued}`;
      validTokens.add(token);
      return json(res, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: lifetime,
        ...(form.has('scope') ? { scope: form.get('scope') } : {}),
      });
    }
    if (path === '/oauth/me') {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (validTokens.has(token)) return json(res, 200, { token });
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      return json(res, 401, { error: 'invalid_token' });
    }
    json(res, 404, { message: `no fault mode at ${path}` });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const url = req.url ?? '/';
      requests.push({
        method: req.method ?? 'GET',
        path: new URL(url, 'http://fault-api').pathname,
        url,
        headers: req.headers,
        body,
        at: performance.now(),
      });
      handle(req, res, body).catch(() => res.destroy());
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    requestsTo: (path) => requests.filter((request) => request.path === path),
    connections: () => connections,
    inFlight: () => ({ now: inFlight, max: maxInFlight }),
    releaseHeld() {
      gateOpen = true;
      const waiters = gateWaiters;
      gateWaiters = [];
      for (const wake of waiters) wake();
    },
    hold() {
      gateOpen = false;
    },
    hugeBytesProduced: () => hugeBytes,
    tokensIssued: () => issued,
    revokeTokens: () => validTokens.clear(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
