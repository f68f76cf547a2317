import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';

/** pino's levels, plus `silent`. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** How log lines are written: one JSON object per line, or pino-pretty for people. */
export const logFormats = ['json', 'pretty'] as const;

/** How the gateway process runs. Each field names its flag and environment variable; flags win over env. */
export interface RuntimeConfig {
  /** `--port`, `MCP_GATEWAY_PORT`; default 4444; 0 picks a free port. */
  port: number;
  /** `--host`, `MCP_GATEWAY_HOST`; default `127.0.0.1` (loopback only). */
  host: string;
  /** `--config`, `MCP_GATEWAY_CONFIG`: a config file listing upstreams, resolved to an absolute path. */
  configPath?: string;
  /** `--data-dir`, `MCP_GATEWAY_DATA_DIR`; default `./data`, resolved to an absolute path. */
  dataDir: string;
  /** `--database-url`, `DATABASE_URL`: a Postgres URL; without it the gateway uses embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  /** `--log-level`, `LOG_LEVEL`; default `info`. */
  logLevel: (typeof logLevels)[number];
  /** `--log-format`, `MCP_GATEWAY_LOG_FORMAT`; default `json`. */
  logFormat: (typeof logFormats)[number];
  /** `--upstream-timeout-ms`, `MCP_GATEWAY_UPSTREAM_TIMEOUT_MS`; default 30000; from 100 to 600000. */
  upstreamTimeoutMs: number;
  /** `--allowed-origins`, `MCP_GATEWAY_ALLOWED_ORIGINS`: comma-separated browser origins allowed to call; default none. */
  allowedOrigins: string[];
  /**
   * `--auth`, `MCP_GATEWAY_AUTH`: the credential methods accepted, comma-separated from `token`, `jwt`, `basic`, or
   * `none`. Default: `jwt,token` when a JWT secret or JWKS URL is configured, else `none` (single-user local mode:
   * the gateway must then bind a loopback address).
   */
  auth?: AuthMethod[];
  /** `--public-url`, `MCP_GATEWAY_PUBLIC_URL`: the gateway's external base URL (OAuth resource URLs, metadata). */
  publicUrl?: string;
  /** `--allow-unauthenticated`, `MCP_GATEWAY_ALLOW_UNAUTHENTICATED`: bind beyond loopback without auth (a proxy in front authenticates). */
  allowUnauthenticated?: boolean;
  /** `--mcp-scopes`, `MCP_GATEWAY_MCP_SCOPES`: scopes every MCP request's token needs (comma-separated); default none. */
  mcpScopes?: string[];
  /**
   * `--rate-limits`, `MCP_GATEWAY_RATE_LIMITS`: token buckets for calls, e.g. `principal=60/min,tool=600/min`
   * (scopes `principal`, `tool`, `virtual-server`; periods `s`, `min`, `h`); default none.
   */
  rateLimits?: RateLimitSetting[];
  /** `--rate-limit-store`, `MCP_GATEWAY_RATE_LIMIT_STORE`: `memory` (per replica, default) or `database` (shared). */
  rateLimitStore?: (typeof rateLimitStores)[number];
  /**
   * `--tool-pinning`, `MCP_GATEWAY_TOOL_PINNING`: `off` (default), `quarantine` (new and changed upstream tools wait
   * for an admin's approval) or `trust-first` (new tools are approved on first sight; changes wait).
   */
  toolPinning?: (typeof toolPinningModes)[number];
}

/** Credential methods of `--auth`. */
export const authMethods = ['token', 'jwt', 'basic'] as const;
export type AuthMethod = (typeof authMethods)[number];

/** Where rate-limit buckets live. */
export const rateLimitStores = ['memory', 'database'] as const;

/** Tool pinning modes. */
export const toolPinningModes = ['off', 'quarantine', 'trust-first'] as const;

/** One `--rate-limits` entry: `capacity` calls, refilled evenly over `periodSeconds`. */
export interface RateLimitSetting {
  scope: 'principal' | 'tool' | 'virtual-server';
  capacity: number;
  periodSeconds: number;
}

/** Where {@link loadRuntimeConfig} reads from; `argv` holds only the flags (no node, script or subcommand). */
export interface LoadRuntimeConfigOptions {
  argv: string[];
  env: Record<string, string | undefined>;
  /** Base for relative paths; default `process.cwd()`. */
  cwd?: string;
}

type RawConfig = Partial<Record<keyof RuntimeConfig, string>>;

const sources = {
  port: { flag: 'port', env: 'MCP_GATEWAY_PORT' },
  host: { flag: 'host', env: 'MCP_GATEWAY_HOST' },
  configPath: { flag: 'config', env: 'MCP_GATEWAY_CONFIG' },
  dataDir: { flag: 'data-dir', env: 'MCP_GATEWAY_DATA_DIR' },
  databaseUrl: { flag: 'database-url', env: 'DATABASE_URL' },
  logLevel: { flag: 'log-level', env: 'LOG_LEVEL' },
  logFormat: { flag: 'log-format', env: 'MCP_GATEWAY_LOG_FORMAT' },
  upstreamTimeoutMs: { flag: 'upstream-timeout-ms', env: 'MCP_GATEWAY_UPSTREAM_TIMEOUT_MS' },
  allowedOrigins: { flag: 'allowed-origins', env: 'MCP_GATEWAY_ALLOWED_ORIGINS' },
  auth: { flag: 'auth', env: 'MCP_GATEWAY_AUTH' },
  publicUrl: { flag: 'public-url', env: 'MCP_GATEWAY_PUBLIC_URL' },
  allowUnauthenticated: { flag: 'allow-unauthenticated', env: 'MCP_GATEWAY_ALLOW_UNAUTHENTICATED' },
  mcpScopes: { flag: 'mcp-scopes', env: 'MCP_GATEWAY_MCP_SCOPES' },
  rateLimits: { flag: 'rate-limits', env: 'MCP_GATEWAY_RATE_LIMITS' },
  rateLimitStore: { flag: 'rate-limit-store', env: 'MCP_GATEWAY_RATE_LIMIT_STORE' },
  toolPinning: { flag: 'tool-pinning', env: 'MCP_GATEWAY_TOOL_PINNING' },
} as const satisfies Record<keyof RuntimeConfig, { flag: string; env: string }>;

const settingNames = Object.keys(sources) as Array<keyof RuntimeConfig>;
const flagOptions = Object.fromEntries(
  settingNames.map((key) => [sources[key].flag, { type: 'string' as const }]),
);
const knownFlags = settingNames.map((key) => `--${sources[key].flag}`).join(', ');

function got(input: unknown): string {
  return `got ${JSON.stringify(input)}`;
}

function wholeNumber(min: number, max: number) {
  return z
    .string()
    .trim()
    .refine((value) => /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max, {
      error: (issue) => `expected a whole number from ${min} to ${max}, ${got(issue.input)}`,
    })
    .transform(Number);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z
    .string()
    .refine((value) => (values as readonly string[]).includes(value.trim().toLowerCase()), {
      error: (issue) => `expected one of ${values.join(', ')}, ${got(issue.input)}`,
    })
    .transform((value) => value.trim().toLowerCase() as T[number]);
}

function absolutePath(cwd: string) {
  return z
    .string()
    .trim()
    .min(1, 'expected a path, got ""')
    .transform((value) => resolve(cwd, value));
}

// Host names, IPv4 and IPv6 addresses (with a zone id); rejects empty values, spaces and URLs.
const hostSchema = z
  .string()
  .trim()
  .refine((value) => /^[A-Za-z0-9._:%-]+$/.test(value), {
    error: (issue) => `expected a host name or IP address such as 127.0.0.1 or 0.0.0.0, ${got(issue.input)}`,
  });

const databaseUrlSchema = z
  .string()
  .trim()
  .refine((value) => /^postgres(?:ql)?:\/\/./i.test(value), {
    // The value may hold a password, so it is masked before it is echoed.
    error: (issue) =>
      `expected a URL starting with postgres:// or postgresql://, got "${maskDatabaseUrl(String(issue.input))}"`,
  });

function toOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const bare =
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '' &&
    url.username === '' &&
    !value.endsWith('?');
  return (url.protocol === 'http:' || url.protocol === 'https:') && bare ? url.origin : undefined;
}

const originListSchema = z.string().transform((value, context) => {
  const origins: string[] = [];
  for (const item of value.split(',').map((part) => part.trim())) {
    if (item === '') continue;
    const origin = toOrigin(item);
    if (origin === undefined) {
      context.addIssue({
        code: 'custom',
        message: `expected comma-separated origins such as https://app.example.com, ${got(item)}`,
      });
      return z.NEVER;
    }
    if (!origins.includes(origin)) origins.push(origin);
  }
  return origins;
});

const authSchema = z.string().transform((value, context): AuthMethod[] | undefined => {
  const items = value
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
  if (items.length === 1 && items[0] === 'none') return [];
  const methods: AuthMethod[] = [];
  for (const item of items) {
    if (!(authMethods as readonly string[]).includes(item)) {
      context.addIssue({
        code: 'custom',
        message: `expected "none" or a comma-separated list of ${authMethods.join(', ')}, ${got(item)}`,
      });
      return z.NEVER;
    }
    if (!methods.includes(item as AuthMethod)) methods.push(item as AuthMethod);
  }
  return methods.length === 0 ? undefined : methods;
});

const publicUrlSchema = z
  .string()
  .trim()
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (
          (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === ''
        );
      } catch {
        return false;
      }
    },
    {
      error: (issue) =>
        `expected the gateway's external base URL such as https://gw.example.com, ${got(issue.input)}`,
    },
  )
  .transform((value) => value.replace(/\/+$/, ''));

const booleanSchema = z
  .string()
  .trim()
  .refine((value) => /^(true|false|1|0|yes|no|on|off)$/i.test(value), {
    error: (issue) => `expected true or false, ${got(issue.input)}`,
  })
  .transform((value) => /^(true|1|yes|on)$/i.test(value));

const scopeListSchema = z.string().transform((value) =>
  value
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter((part) => part !== ''),
);

const PERIODS: Record<string, number> = {
  s: 1,
  sec: 1,
  second: 1,
  m: 60,
  min: 60,
  minute: 60,
  h: 3600,
  hour: 3600,
};

const rateLimitsSchema = z.string().transform((value, context) => {
  const settings: RateLimitSetting[] = [];
  for (const item of value.split(',').map((part) => part.trim())) {
    if (item === '') continue;
    const match = /^(principal|tool|virtual-server)\s*=\s*(\d+)\s*\/\s*([a-z]+)$/i.exec(item);
    const periodSeconds = match ? PERIODS[match[3]!.toLowerCase()] : undefined;
    const capacity = match ? Number(match[2]) : 0;
    if (!match || periodSeconds === undefined || capacity < 1) {
      context.addIssue({
        code: 'custom',
        message: `expected entries like principal=60/min, tool=10/s or virtual-server=1000/h, ${got(item)}`,
      });
      return z.NEVER;
    }
    settings.push({ scope: match[1]!.toLowerCase() as RateLimitSetting['scope'], capacity, periodSeconds });
  }
  return settings;
});

function runtimeConfigSchema(cwd: string): z.ZodType<RuntimeConfig, RawConfig> {
  return z.strictObject({
    port: wholeNumber(0, 65_535).prefault('4444'),
    host: hostSchema.prefault('127.0.0.1'),
    configPath: absolutePath(cwd).optional(),
    dataDir: absolutePath(cwd).prefault('./data'),
    databaseUrl: databaseUrlSchema.optional(),
    logLevel: oneOf(logLevels).prefault('info'),
    logFormat: oneOf(logFormats).prefault('json'),
    upstreamTimeoutMs: wholeNumber(100, 600_000).prefault('30000'),
    allowedOrigins: originListSchema.prefault(''),
    auth: authSchema.optional(),
    publicUrl: publicUrlSchema.optional(),
    allowUnauthenticated: booleanSchema.prefault('false'),
    mcpScopes: scopeListSchema.prefault(''),
    rateLimits: rateLimitsSchema.prefault(''),
    rateLimitStore: oneOf(rateLimitStores).prefault('memory'),
    toolPinning: oneOf(toolPinningModes).prefault('off'),
  });
}

function invalid(message: string, cause?: unknown): ConfigError {
  return new ConfigError('config-invalid', `invalid configuration: ${message}`, { cause });
}

function parseFlags(argv: string[]): Record<string, string | undefined> {
  try {
    return parseArgs({ args: argv, options: flagOptions, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    const quoted = /'([^']*)'/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted !== undefined) {
      throw invalid(`unknown flag ${quoted} (known flags: ${knownFlags})`, error);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted !== undefined) {
      const flag = quoted.split(' ')[0] ?? quoted;
      throw invalid(`${flag}: expected a value (write ${flag}=VALUE if it starts with "-")`, error);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && quoted !== undefined) {
      throw invalid(`unexpected argument "${quoted}" (flags only: ${knownFlags})`, error);
    }
    throw invalid(message.split('\n', 1)[0] ?? message, error);
  }
}

/**
 * Reads the process settings from flags (`--port 8080` or `--port=8080`), then environment variables, then
 * defaults, and validates them. Empty environment variables count as unset. Throws a {@link ConfigError}
 * (`config-invalid`) whose message names the flag or variable, e.g.
 * `invalid configuration: MCP_GATEWAY_PORT: expected a whole number from 0 to 65535, got "abc"`.
 */
export function loadRuntimeConfig(options: LoadRuntimeConfigOptions): RuntimeConfig {
  const flags = parseFlags(options.argv);
  const raw: RawConfig = {};
  const sourceOf: Partial<Record<keyof RuntimeConfig, string>> = {};
  for (const key of settingNames) {
    const { flag, env } = sources[key];
    const flagValue = flags[flag];
    const envValue = options.env[env];
    if (flagValue !== undefined) {
      raw[key] = flagValue;
      sourceOf[key] = `--${flag}`;
    } else if (envValue !== undefined && envValue.trim() !== '') {
      raw[key] = envValue;
      sourceOf[key] = env;
    }
  }

  const result = runtimeConfigSchema(options.cwd ?? process.cwd()).safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path[0] as keyof RuntimeConfig | undefined;
    const label = key === undefined ? undefined : (sourceOf[key] ?? key);
    return label === undefined ? issue.message : `${label}: ${issue.message}`;
  });
  throw invalid(problems.join('; '), result.error);
}

/**
 * Hides the password in a database URL (`postgres://user:***@host/db`), including a `password=` query parameter.
 * Also safe on malformed values: anything before an `@` that looks like credentials is masked.
 */
function maskDatabaseUrl(url: string): string {
  const schemeEnd = url.indexOf('://');
  const start = schemeEnd === -1 ? 0 : schemeEnd + 3;
  const queryIndex = url.slice(start).search(/[?#]/);
  const end = queryIndex === -1 ? url.length : start + queryIndex;
  const at = url.lastIndexOf('@', end - 1);
  let masked = url;
  if (at >= start) {
    const userInfo = url.slice(start, at);
    const colon = userInfo.indexOf(':');
    if (colon !== -1) masked = `${url.slice(0, start)}${userInfo.slice(0, colon)}:***${url.slice(at)}`;
  }
  return masked.replace(/([?&][^=&#]*password=)[^&#]*/gi, '$1***');
}

/**
 * The configuration as it may be logged at start-up: the same fields, with the database password masked
 * (`postgres://user:***@host/db`).
 */
export function describeConfig(config: RuntimeConfig): RuntimeConfig {
  const { databaseUrl, ...rest } = config;
  return databaseUrl === undefined ? { ...rest } : { ...rest, databaseUrl: maskDatabaseUrl(databaseUrl) };
}
