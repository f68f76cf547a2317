import { Hono } from 'hono';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  exportRegistry,
  importRegistry,
  RegistryError,
  type RegistryDatabase,
  type RegistryDocument,
  type SecretCodec,
} from '@mcp-gateway/registry';
import type { Kysely } from 'kysely';
import { MASK } from './gateways-routes.ts';
import { restError } from './rest-error.ts';

/** Options of {@link createConfigRoutes}. */
export interface ConfigRoutesOptions {
  db: Kysely<RegistryDatabase>;
  /** Tells every replica the whole registry may have changed. */
  publish: (change: { kind: 'config'; id: string; version: number }) => Promise<void>;
  /** The registry's secret codec (see `registrySecretsFromEnv`); without it secrets are read and written as stored. */
  secrets?: SecretCodec;
}

type Secrets = Record<string, string>;

/**
 * Header and env values of gateways and adapter tool settings are credentials: shown masked, and a masked value sent
 * back keeps the stored one (see {@link unmaskDocument}).
 */
export function maskDocument(document: RegistryDocument): RegistryDocument {
  const mask = (values: Secrets | undefined) =>
    values && Object.fromEntries(Object.keys(values).map((key) => [key, MASK]));
  return {
    ...document,
    gateways: document.gateways.map((g) => ({ ...g, headers: mask(g.headers), env: mask(g.env) })),
    tools: document.tools.map((t) =>
      t.integrationConfig ? { ...t, integrationConfig: { masked: true } } : t,
    ),
  };
}

/** `sent` with every masked value replaced by the one in `stored` (an export with secrets in plain). */
export function unmaskDocument(sent: RegistryDocument, stored: RegistryDocument): RegistryDocument {
  const storedByName = new Map(stored.gateways.map((g) => [g.name, g]));
  const keep = (values: Secrets | undefined, previous: Secrets | undefined) =>
    values &&
    Object.fromEntries(
      Object.entries(values).map(([key, value]) => [
        key,
        value === MASK ? (previous?.[key] ?? value) : value,
      ]),
    );
  const storedTools = new Map(stored.tools.map((t) => [`${t.gateway ?? ''}\u0000${t.name}`, t]));
  return {
    ...sent,
    gateways: (sent.gateways ?? []).map((g) => {
      const previous = storedByName.get(g.name);
      return { ...g, headers: keep(g.headers, previous?.headers), env: keep(g.env, previous?.env) };
    }),
    tools: (sent.tools ?? []).map((t) => {
      const masked = (t.integrationConfig as { masked?: unknown } | undefined)?.masked === true;
      return masked
        ? { ...t, integrationConfig: storedTools.get(`${t.gateway ?? ''}\u0000${t.name}`)?.integrationConfig }
        : t;
    }),
  };
}

/**
 * `GET /v1/config` exports the whole registry (JSON, or YAML with `?format=yaml` or `Accept: application/yaml`),
 * secrets masked. `PUT /v1/config` imports one (`?mode=merge` (default) or `replace`), in one transaction: a
 * document with any bad entry changes nothing, and the 400 lists every bad entry.
 */
export function createConfigRoutes(options: ConfigRoutesOptions): Hono {
  const app = new Hono();

  app.get('/', async (c) => {
    const document = maskDocument(await exportRegistry(options.db, { secrets: options.secrets }));
    const wantsYaml = c.req.query('format') === 'yaml' || /yaml/.test(c.req.header('accept') ?? '');
    if (wantsYaml)
      return c.body(stringifyYaml(document), 200, { 'content-type': 'application/yaml; charset=utf-8' });
    return c.json(document);
  });

  app.put('/', async (c) => {
    const mode = c.req.query('mode') ?? 'merge';
    if (mode !== 'merge' && mode !== 'replace') {
      return restError(c, 400, { code: 'invalid-input', message: 'mode must be "merge" or "replace"' });
    }
    const text = await c.req.text();
    let sent: unknown;
    try {
      sent = /yaml/.test(c.req.header('content-type') ?? '') ? parseYaml(text) : JSON.parse(text);
    } catch (error) {
      return restError(c, 400, {
        code: 'invalid-input',
        message: `the body is not valid ${/yaml/.test(c.req.header('content-type') ?? '') ? 'YAML' : 'JSON'}: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    if (typeof sent !== 'object' || sent === null || Array.isArray(sent)) {
      return restError(c, 400, {
        code: 'invalid-input',
        message: 'the body must be a registry document (an object)',
      });
    }
    const stored = await exportRegistry(options.db, { secrets: options.secrets });
    try {
      const result = await importRegistry(options.db, unmaskDocument(sent as RegistryDocument, stored), {
        mode,
        actor: 'api',
        secrets: options.secrets,
      });
      await options.publish({ kind: 'config', id: 'api', version: Date.now() });
      return c.json(result);
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'invalid-input') {
        return restError(c, 400, { code: 'invalid-input', message: error.message, details: error.details });
      }
      throw error;
    }
  });

  return app;
}
