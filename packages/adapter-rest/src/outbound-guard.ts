import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { RestAdapterError } from './rest-adapter-error.ts';

// Which destinations an outbound request may reach. Only global unicast addresses pass by default: every special
// purpose range ipaddr.js knows (private, loopback, link-local, CGNAT, unique-local, unspecified, multicast,
// broadcast, reserved, documentation, 6to4, Teredo, NAT64, …) is refused, IPv4-mapped and IPv4-compatible IPv6
// addresses are judged by the IPv4 address inside them, and the cloud metadata names are refused by name. The
// allowlist (`MCP_GATEWAY_OUTBOUND_ALLOW`) reopens single hosts, host:port pairs, addresses and CIDR ranges.

/** The environment variable read by {@link parseOutboundAllowList}. */
export const OUTBOUND_ALLOW_ENV = 'MCP_GATEWAY_OUTBOUND_ALLOW';

/** Host names refused whatever they resolve to (cloud instance metadata services). */
const BLOCKED_HOST_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * One allowlist entry: a host name (exact, case-insensitive; `*.example.com` matches subdomains), an IP address,
 * or a CIDR range, each but the range optionally with a port (`127.0.0.1:8080`, `[::1]:8080`, `api.local:8443`).
 */
export type OutboundAllowEntry =
  | { kind: 'host'; host: string; port?: number }
  | { kind: 'address'; range: [Address, number]; port?: number };

/** A parsed allowlist. An empty list allows only global unicast destinations. */
export type OutboundAllowList = readonly OutboundAllowEntry[];

/**
 * Parses `MCP_GATEWAY_OUTBOUND_ALLOW` (comma-separated hosts, host:port pairs, addresses and CIDR ranges) from an
 * environment object. Throws a `RestAdapterError` (`config-invalid`) naming the entry it cannot read.
 */
export function parseOutboundAllowList(env: Record<string, string | undefined>): OutboundAllowList {
  return parseOutboundAllowEntries((env[OUTBOUND_ALLOW_ENV] ?? '').split(','));
}

/** Parses allowlist entries one by one (the `outboundAllow` option accepts strings or parsed entries). */
export function parseOutboundAllowEntries(
  entries: ReadonlyArray<string | OutboundAllowEntry>,
): OutboundAllowList {
  const parsed: OutboundAllowEntry[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      parsed.push(entry);
      continue;
    }
    const text = entry.trim();
    if (text === '') continue;
    parsed.push(parseEntry(text));
  }
  return parsed;
}

function parseEntry(text: string): OutboundAllowEntry {
  const invalid = () =>
    new RestAdapterError(
      'config-invalid',
      `outbound allowlist entry "${text}" is not a host, address or CIDR`,
    );
  if (text.includes('/')) {
    if (!ipaddr.isValidCIDR(text)) throw invalid();
    const [address, bits] = ipaddr.parseCIDR(text);
    return { kind: 'address', range: normalizeRange(address, bits) };
  }
  let host = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if (isIP(text) !== 6) {
    const withPort = /^(.*):(\d+)$/.exec(text);
    if (withPort) {
      host = withPort[1] ?? '';
      port = Number(withPort[2]);
    }
  }
  if (port !== undefined && !(port > 0 && port < 65_536)) throw invalid();
  if (isIP(host) !== 0) {
    const address = ipaddr.parse(host);
    const bits = address.kind() === 'ipv4' ? 32 : 128;
    return { kind: 'address', range: normalizeRange(address, bits), ...(port === undefined ? {} : { port }) };
  }
  if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(host))
    throw invalid();
  return { kind: 'host', host: normalizeHost(host), ...(port === undefined ? {} : { port }) };
}

/** IPv4-mapped ranges are stored as IPv4 so that `::ffff:10.0.0.0/104` and `10.0.0.0/8` mean the same. */
function normalizeRange(address: Address, bits: number): [Address, number] {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [address, bits];
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/** The IPv4 address an IPv6 address stands for (IPv4-mapped `::ffff:a.b.c.d` or IPv4-compatible `::a.b.c.d`). */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  const parts = address.parts;
  if (parts.slice(0, 6).every((part) => part === 0) && ((parts[6] ?? 0) !== 0 || (parts[7] ?? 0) > 1)) {
    return ipaddr.IPv4.parse(
      `${(parts[6] ?? 0) >> 8}.${(parts[6] ?? 0) & 255}.${(parts[7] ?? 0) >> 8}.${(parts[7] ?? 0) & 255}`,
    );
  }
  return undefined;
}

/**
 * Why an address is not a public destination (`"loopback"`, `"private"`, `"linkLocal"`, …), or undefined when it
 * is global unicast. Unparseable input counts as blocked.
 */
export function blockedAddressReason(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let parsed: Address = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const inner = embeddedIpv4(parsed as ipaddr.IPv6);
    if (inner !== undefined) parsed = inner;
  }
  const range = parsed.range();
  return range === 'unicast' ? undefined : range;
}

/** The parts of a destination the guard judges. */
export interface OutboundDestination {
  /** The URL's host name, lower case, without brackets. */
  hostname: string;
  port: number;
  /** The address about to be connected to; absent for a check made before resolution. */
  address?: string;
}

/** Decides whether a destination may be reached. Built once per upstream from the allowlist. */
export interface OutboundGuard {
  /**
   * Checks a URL before any connection: the scheme (http and https only), blocked names, and, when the host is an
   * IP literal (any spelling the URL parser accepts: `2130706433`, `0x7f000001`, `0177.0.0.1`, `[::ffff:7f00:1]`),
   * the address itself. Throws `RestAdapterError` (`outbound-blocked`).
   */
  checkUrl(url: URL): void;
  /** Checks a resolved address at connect time. Throws `RestAdapterError` (`outbound-blocked`). */
  checkAddress(destination: Required<OutboundDestination>): void;
}

/** Creates an {@link OutboundGuard} over an allowlist. */
export function createOutboundGuard(allow: OutboundAllowList = []): OutboundGuard {
  const hostAllowed = (hostname: string, port: number) =>
    allow.some(
      (entry) =>
        entry.kind === 'host' &&
        (entry.port === undefined || entry.port === port) &&
        (entry.host === hostname || (entry.host.startsWith('*.') && hostname.endsWith(entry.host.slice(1)))),
    );
  const addressAllowed = (address: string, port: number) => {
    let parsed: Address = ipaddr.parse(address);
    if (parsed.kind() === 'ipv6') parsed = embeddedIpv4(parsed as ipaddr.IPv6) ?? parsed;
    return allow.some(
      (entry) =>
        entry.kind === 'address' &&
        (entry.port === undefined || entry.port === port) &&
        entry.range[0].kind() === parsed.kind() &&
        parsed.match(entry.range),
    );
  };
  const blocked = (message: string) => new RestAdapterError('outbound-blocked', message);

  const checkAddress = ({ hostname, port, address }: Required<OutboundDestination>) => {
    const reason = blockedAddressReason(address);
    if (reason === undefined) return;
    if (hostAllowed(hostname, port) || (ipaddr.isValid(address) && addressAllowed(address, port))) return;
    const bracket = (text: string) => (isIP(text) === 6 ? `[${text}]` : text);
    const shown = hostname === address ? bracket(address) : `${hostname} (${address})`;
    throw blocked(
      `outbound request to ${shown}:${port} refused: ${reason} address; allow it with ${OUTBOUND_ALLOW_ENV}`,
    );
  };

  return {
    checkUrl(url) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw blocked(`outbound request refused: scheme "${url.protocol}" is not http or https`);
      }
      if (url.username !== '' || url.password !== '') {
        throw blocked('outbound request refused: credentials in the URL are not allowed');
      }
      const hostname = normalizeHost(url.hostname.replace(/^\[|\]$/g, ''));
      const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
      if (isIP(hostname) !== 0) {
        checkAddress({ hostname, port, address: hostname });
        return;
      }
      if (BLOCKED_HOST_NAMES.has(hostname) && !hostAllowed(hostname, port)) {
        throw blocked(`outbound request to ${hostname} refused: cloud metadata service`);
      }
    },
    checkAddress,
  };
}
