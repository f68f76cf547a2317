import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch, Pool } from 'undici';
import type { OutboundGuard } from './outbound-guard.ts';

/** The init a {@link RestFetch} receives: redirects are always handled by the caller (`redirect: 'manual'`). */
export interface RestFetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  signal: AbortSignal;
  redirect: 'manual';
}

/** The fetch the adapter calls for every outbound request (one hop; it follows no redirects itself). */
export type RestFetch = (url: string, init: RestFetchInit) => Promise<Response>;

/** A DNS lookup with the signature of `dns.lookup` (what `net.connect` accepts as `lookup`). */
export type DnsLookup = LookupFunction;

/** Options of {@link createGuardedFetch}. */
export interface GuardedFetchOptions {
  guard: OutboundGuard;
  /** Resolves host names [dns.lookup]. Tests inject one to map names to loopback or to play DNS rebinding. */
  lookup?: DnsLookup;
  /** Time allowed to open a connection [10000]. */
  connectTimeoutMs?: number;
}

/** A fetch that refuses blocked destinations when it connects, and the agent it owns. */
export interface GuardedFetch {
  fetch: RestFetch;
  /** Closes every pooled connection. */
  close(): Promise<void>;
}

/**
 * Creates a fetch (undici's) whose connections are checked at connect time: the agent's per-origin connector
 * resolves the host with a lookup that refuses any blocked address, so the address checked is the address
 * connected to and DNS rebinding between a check and the connection cannot happen. IP-literal hosts, which
 * `net.connect` does not resolve, are checked by the connector before it opens the socket. A refused connection
 * fails the fetch with a `RestAdapterError` (`outbound-blocked`) as its cause.
 */
export function createGuardedFetch(options: GuardedFetchOptions): GuardedFetch {
  const { guard } = options;
  const lookup = options.lookup ?? dnsLookup;
  const timeout = options.connectTimeoutMs ?? 10_000;
  const agent = new Agent({
    factory(origin, poolOptions) {
      const url = typeof origin === 'string' ? new URL(origin) : origin;
      const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
      const base = buildConnector({ timeout, lookup: guardedLookup({ lookup, guard, hostname, port }) });
      const connect: buildConnector.connector = (connectOptions, callback) => {
        const host = connectOptions.hostname.replace(/^\[|\]$/g, '');
        if (isIP(host) !== 0) {
          try {
            guard.checkAddress({ hostname: host, port, address: host });
          } catch (error) {
            callback(error as Error, null);
            return;
          }
        }
        base(connectOptions, callback);
      };
      return new Pool(url, { ...poolOptions, connect });
    },
  });
  return {
    fetch: (url, init) => undiciFetch(url, { ...init, dispatcher: agent }) as unknown as Promise<Response>,
    close: () => agent.close(),
  };
}

function guardedLookup(context: {
  lookup: DnsLookup;
  guard: OutboundGuard;
  hostname: string;
  port: number;
}): LookupFunction {
  const { lookup, guard, hostname, port } = context;
  return (name, lookupOptions, callback) => {
    lookup(name, lookupOptions, (error, address, family) => {
      if (error) {
        callback(error, address, family);
        return;
      }
      const addresses = typeof address === 'string' ? [address] : address.map((entry) => entry.address);
      try {
        // Any blocked answer refuses the whole name: a mixed answer is how rebinding attacks look.
        for (const resolved of addresses) guard.checkAddress({ hostname, port, address: resolved });
      } catch (refusal) {
        callback(refusal as NodeJS.ErrnoException, address, family);
        return;
      }
      callback(null, address, family);
    });
  };
}
