import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { describeConfig, loadRuntimeConfig } from './runtime-config.ts';
import type { LoadRuntimeConfigOptions } from './runtime-config.ts';

const cwd = '/srv/gateway';

function load(argv: string[] = [], env: LoadRuntimeConfigOptions['env'] = {}) {
  return loadRuntimeConfig({ argv, env, cwd });
}

function loadError(argv: string[] = [], env: LoadRuntimeConfigOptions['env'] = {}): ConfigError {
  try {
    load(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('config-invalid');
    return error as ConfigError;
  }
  throw new Error('expected loadRuntimeConfig to throw');
}

describe('loadRuntimeConfig', () => {
  it('uses the defaults when nothing is set', () => {
    expect(load()).toEqual({
      port: 4444,
      host: '127.0.0.1',
      dataDir: '/srv/gateway/data',
      logLevel: 'info',
      logFormat: 'json',
      upstreamTimeoutMs: 30_000,
      allowedOrigins: [],
      allowUnauthenticated: false,
      mcpScopes: [],
      rateLimits: [],
      rateLimitStore: 'memory',
      toolPinning: 'off',
    });
  });

  it('resolves relative paths against process.cwd() when no cwd is given', () => {
    const config = loadRuntimeConfig({ argv: ['--config', 'gw.yaml'], env: {} });
    expect(config.dataDir).toBe(`${process.cwd()}/data`);
    expect(config.configPath).toBe(`${process.cwd()}/gw.yaml`);
  });

  // Each setting: its flag, its env variable, a flag value, an env value and what each becomes.
  const settings = [
    {
      key: 'port',
      flag: '--port',
      env: 'MCP_GATEWAY_PORT',
      flagValue: '8080',
      envValue: '9090',
      fromFlag: 8080,
      fromEnv: 9090,
    },
    {
      key: 'host',
      flag: '--host',
      env: 'MCP_GATEWAY_HOST',
      flagValue: '0.0.0.0',
      envValue: '::1',
      fromFlag: '0.0.0.0',
      fromEnv: '::1',
    },
    {
      key: 'configPath',
      flag: '--config',
      env: 'MCP_GATEWAY_CONFIG',
      flagValue: 'flag.yaml',
      envValue: '/etc/gw/env.json',
      fromFlag: '/srv/gateway/flag.yaml',
      fromEnv: '/etc/gw/env.json',
    },
    {
      key: 'dataDir',
      flag: '--data-dir',
      env: 'MCP_GATEWAY_DATA_DIR',
      flagValue: '../flag-data',
      envValue: '/var/lib/gw',
      fromFlag: '/srv/flag-data',
      fromEnv: '/var/lib/gw',
    },
    {
      key: 'databaseUrl',
      flag: '--database-url',
      env: 'DATABASE_URL',
      flagValue: 'postgres://flag@db/gw',
      envValue: 'postgresql://env@db/gw',
      fromFlag: 'postgres://flag@db/gw',
      fromEnv: 'postgresql://env@db/gw',
    },
    {
      key: 'logLevel',
      flag: '--log-level',
      env: 'LOG_LEVEL',
      flagValue: 'debug',
      envValue: 'warn',
      fromFlag: 'debug',
      fromEnv: 'warn',
    },
    {
      key: 'logFormat',
      flag: '--log-format',
      env: 'MCP_GATEWAY_LOG_FORMAT',
      flagValue: 'pretty',
      envValue: 'json',
      fromFlag: 'pretty',
      fromEnv: 'json',
    },
    {
      key: 'upstreamTimeoutMs',
      flag: '--upstream-timeout-ms',
      env: 'MCP_GATEWAY_UPSTREAM_TIMEOUT_MS',
      flagValue: '5000',
      envValue: '7000',
      fromFlag: 5000,
      fromEnv: 7000,
    },
    {
      key: 'allowedOrigins',
      flag: '--allowed-origins',
      env: 'MCP_GATEWAY_ALLOWED_ORIGINS',
      flagValue: 'https://flag.example.com',
      envValue: 'https://a.example.com,http://localhost:3000',
      fromFlag: ['https://flag.example.com'],
      fromEnv: ['https://a.example.com', 'http://localhost:3000'],
    },
  ] as const;

  describe.each(settings)('$key', ({ key, flag, env, flagValue, envValue, fromFlag, fromEnv }) => {
    it(`reads ${env}`, () => {
      expect(load([], { [env]: envValue })[key]).toEqual(fromEnv);
    });

    it(`prefers ${flag} over ${env}`, () => {
      expect(load([flag, flagValue], { [env]: envValue })[key]).toEqual(fromFlag);
    });

    it(`accepts ${flag}=value`, () => {
      expect(load([`${flag}=${flagValue}`], { [env]: envValue })[key]).toEqual(fromFlag);
    });

    it(`treats an empty ${env} as unset`, () => {
      expect(load([], { [env]: '  ' })[key]).toEqual(load()[key]);
    });
  });

  it('takes the last value when a flag is repeated', () => {
    expect(load(['--port', '1000', '--port=2000']).port).toBe(2000);
  });

  it('accepts log levels and formats in any case', () => {
    const config = load(['--log-level', 'DEBUG'], { MCP_GATEWAY_LOG_FORMAT: 'Pretty' });
    expect(config.logLevel).toBe('debug');
    expect(config.logFormat).toBe('pretty');
  });

  it('normalizes allowed origins, skipping blanks and duplicates', () => {
    const config = load([], {
      MCP_GATEWAY_ALLOWED_ORIGINS: ' https://App.example.com/ ,, https://app.example.com',
    });
    expect(config.allowedOrigins).toEqual(['https://app.example.com']);
  });

  it('accepts port 0 (any free port)', () => {
    expect(load(['--port', '0']).port).toBe(0);
  });

  describe('rejects bad values, naming the flag or variable', () => {
    it.each([
      [
        [],
        { MCP_GATEWAY_PORT: 'abc' },
        'invalid configuration: MCP_GATEWAY_PORT: expected a whole number from 0 to 65535, got "abc"',
      ],
      [
        ['--port', '65536'],
        {},
        'invalid configuration: --port: expected a whole number from 0 to 65535, got "65536"',
      ],
      [
        ['--port=1.5'],
        {},
        'invalid configuration: --port: expected a whole number from 0 to 65535, got "1.5"',
      ],
      [['--port=-1'], {}, 'invalid configuration: --port: expected a whole number from 0 to 65535, got "-1"'],
      [
        ['--port', '1e3'],
        {},
        'invalid configuration: --port: expected a whole number from 0 to 65535, got "1e3"',
      ],
      [
        ['--host', ''],
        {},
        'invalid configuration: --host: expected a host name or IP address such as 127.0.0.1 or 0.0.0.0, got ""',
      ],
      [
        [],
        { MCP_GATEWAY_HOST: 'http://localhost' },
        'invalid configuration: MCP_GATEWAY_HOST: expected a host name or IP address such as 127.0.0.1 or 0.0.0.0, got "http://localhost"',
      ],
      [
        ['--log-level', 'loud'],
        {},
        'invalid configuration: --log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      ],
      [
        [],
        { LOG_LEVEL: 'verbose' },
        'invalid configuration: LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
      ],
      [
        [],
        { MCP_GATEWAY_LOG_FORMAT: 'xml' },
        'invalid configuration: MCP_GATEWAY_LOG_FORMAT: expected one of json, pretty, got "xml"',
      ],
      [
        [],
        { MCP_GATEWAY_UPSTREAM_TIMEOUT_MS: '10s' },
        'invalid configuration: MCP_GATEWAY_UPSTREAM_TIMEOUT_MS: expected a whole number from 100 to 600000, got "10s"',
      ],
      [
        ['--upstream-timeout-ms', '50'],
        {},
        'invalid configuration: --upstream-timeout-ms: expected a whole number from 100 to 600000, got "50"',
      ],
      [
        [],
        { MCP_GATEWAY_ALLOWED_ORIGINS: 'https://ok.example.com,app.example.com' },
        'invalid configuration: MCP_GATEWAY_ALLOWED_ORIGINS: expected comma-separated origins such as https://app.example.com, got "app.example.com"',
      ],
      [
        ['--allowed-origins', 'https://app.example.com/path'],
        {},
        'invalid configuration: --allowed-origins: expected comma-separated origins such as https://app.example.com, got "https://app.example.com/path"',
      ],
      [['--data-dir='], {}, 'invalid configuration: --data-dir: expected a path, got ""'],
      [['--config', ' '], {}, 'invalid configuration: --config: expected a path, got ""'],
    ] as const)('%j %j', (argv, env, message) => {
      expect(loadError([...argv], env).message).toBe(message);
    });

    it('names the flag, not the env variable it overrides', () => {
      expect(loadError(['--port', 'x'], { MCP_GATEWAY_PORT: '80' }).message).toBe(
        'invalid configuration: --port: expected a whole number from 0 to 65535, got "x"',
      );
    });

    it('reports every bad value at once', () => {
      expect(loadError(['--log-level', 'loud'], { MCP_GATEWAY_PORT: 'abc' }).message).toBe(
        'invalid configuration: MCP_GATEWAY_PORT: expected a whole number from 0 to 65535, got "abc"; ' +
          '--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      );
    });

    it('rejects a database URL that is not Postgres, without echoing its password', () => {
      const error = loadError([], { DATABASE_URL: 'mysql://app:s3cret@db:3306/gw' });
      expect(error.message).toBe(
        'invalid configuration: DATABASE_URL: expected a URL starting with postgres:// or postgresql://, got "mysql://app:***@db:3306/gw"',
      );
      expect(loadError(['--database-url', 'user:hunter2@db/gw']).message).toBe(
        'invalid configuration: --database-url: expected a URL starting with postgres:// or postgresql://, got "user:***@db/gw"',
      );
    });

    it('rejects an unknown flag, listing the known ones', () => {
      const error = loadError(['--prot', '80']);
      expect(error.message).toMatch(
        /^invalid configuration: unknown flag --prot \(known flags: --port, --host, --config,/,
      );
      expect(error.cause).toBeInstanceOf(Error);
    });

    it('rejects a flag without its value', () => {
      expect(loadError(['--port']).message).toBe(
        'invalid configuration: --port: expected a value (write --port=VALUE if it starts with "-")',
      );
      expect(loadError(['--host', '--port', '80']).message).toBe(
        'invalid configuration: --host: expected a value (write --host=VALUE if it starts with "-")',
      );
    });

    it('rejects positional arguments', () => {
      expect(loadError(['start']).message).toMatch(
        /^invalid configuration: unexpected argument "start" \(flags only:/,
      );
    });
  });
});

describe('auth, rate-limit and pinning settings', () => {
  it('parses the auth methods, public URL, scopes, rate limits and pinning mode', () => {
    const config = load(
      [
        '--auth',
        'jwt, token',
        '--public-url',
        'https://gw.example.com/',
        '--rate-limits',
        'principal=60/min,tool=5/s',
      ],
      {
        MCP_GATEWAY_MCP_SCOPES: 'mcp:tools mcp:read',
        MCP_GATEWAY_TOOL_PINNING: 'quarantine',
        MCP_GATEWAY_ALLOW_UNAUTHENTICATED: 'yes',
      },
    );
    expect(config.auth).toEqual(['jwt', 'token']);
    expect(config.publicUrl).toBe('https://gw.example.com');
    expect(config.mcpScopes).toEqual(['mcp:tools', 'mcp:read']);
    expect(config.rateLimits).toEqual([
      { scope: 'principal', capacity: 60, periodSeconds: 60 },
      { scope: 'tool', capacity: 5, periodSeconds: 1 },
    ]);
    expect(config.toolPinning).toBe('quarantine');
    expect(config.allowUnauthenticated).toBe(true);
    expect(load(['--auth', 'none']).auth).toEqual([]);
    expect(load().auth).toBeUndefined();
  });

  it('names the setting and the expected form for bad values', () => {
    expect(loadError(['--auth', 'jwt,ldap']).message).toMatch(
      /--auth: expected "none" or a comma-separated list of token, jwt, basic, got "ldap"/,
    );
    expect(loadError([], { MCP_GATEWAY_RATE_LIMITS: 'principal=60' }).message).toMatch(
      /MCP_GATEWAY_RATE_LIMITS: expected entries like principal=60\/min/,
    );
    expect(loadError(['--public-url', 'gw.example.com']).message).toMatch(
      /--public-url: expected the gateway's external base URL/,
    );
    expect(loadError([], { MCP_GATEWAY_TOOL_PINNING: 'maybe' }).message).toMatch(
      /MCP_GATEWAY_TOOL_PINNING: expected one of off, quarantine, trust-first/,
    );
  });
});

describe('describeConfig', () => {
  it('masks the database password', () => {
    const config = load(['--database-url', 'postgres://gateway:p%40ss@db.internal:5432/gw?sslmode=require']);
    const described = describeConfig(config);
    expect(described.databaseUrl).toBe('postgres://gateway:***@db.internal:5432/gw?sslmode=require');
    expect(JSON.stringify(described)).not.toContain('p%40ss');
    expect(described).toEqual({
      ...config,
      databaseUrl: 'postgres://gateway:***@db.internal:5432/gw?sslmode=require',
    });
  });

  it('masks a password given as a query parameter', () => {
    const config = load([], { DATABASE_URL: 'postgresql:///gw?host=/run/pg&password=hunter2&user=gw' });
    expect(describeConfig(config).databaseUrl).toBe('postgresql:///gw?host=/run/pg&password=***&user=gw');
  });

  it('leaves a URL without a password as it is, and omits an unset one', () => {
    expect(describeConfig(load([], { DATABASE_URL: 'postgres://gw@db/gw' })).databaseUrl).toBe(
      'postgres://gw@db/gw',
    );
    expect(describeConfig(load())).not.toHaveProperty('databaseUrl');
  });
});
