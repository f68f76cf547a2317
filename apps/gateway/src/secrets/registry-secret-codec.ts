import { isSecretEnvelope, secretBoxFromEnv, type SecretBox } from '@mcp-gateway/auth';
import { GatewayError, type Logger } from '@mcp-gateway/core';
import { loadRegistry, type RegistryDatabase, type SecretCodec } from '@mcp-gateway/registry';
import type { Kysely } from 'kysely';

/** How the registry's upstream secrets are kept, from the environment (see {@link registrySecretsFromEnv}). */
export interface RegistrySecrets {
  /** Give it as `secrets` to every registry store, `loadRegistry`, `exportRegistry` and `importRegistry`. */
  codec: SecretCodec;
  /** The key new secrets are sealed with; `undefined` when no key is configured (secrets are stored in plain). */
  activeKeyId?: string;
}

/**
 * The registry codec for a {@link SecretBox}: values are sealed as AES-256-GCM envelopes naming their key. Without a
 * box, values are written in plain (as before encryption existed), and reading an envelope fails with an error that
 * names `MCP_GATEWAY_SECRET_KEY`.
 */
export function createRegistrySecretCodec(box: SecretBox | undefined): SecretCodec {
  if (box === undefined) {
    return {
      seal: (plain) => plain,
      open: () => {
        throw new GatewayError(
          'config-invalid',
          'the registry holds encrypted upstream secrets, but MCP_GATEWAY_SECRET_KEY is not set: set it to the key they were encrypted with',
        );
      },
      isSealed: isSecretEnvelope,
    };
  }
  return {
    seal: (plain) => box.encrypt(plain),
    open: (stored) => box.decrypt(stored),
    isSealed: isSecretEnvelope,
    needsReseal: (stored) => box.needsRotation(stored),
  };
}

/**
 * The registry's secret codec from `MCP_GATEWAY_SECRET_KEY` (and `MCP_GATEWAY_SECRET_KEY_PREVIOUS` /
 * `MCP_GATEWAY_SECRET_KEYS`, see `secretBoxFromEnv`). Without a key it logs one warning that upstream secrets are
 * stored unencrypted. A malformed key throws `GatewayError('config-invalid')`.
 */
export function registrySecretsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  logger?: Logger,
): RegistrySecrets {
  const box = secretBoxFromEnv(env);
  if (box === undefined) {
    logger?.warn(
      {},
      'MCP_GATEWAY_SECRET_KEY is not set: upstream secrets (headers, env, REST credentials) are stored unencrypted; generate a key with: openssl rand -base64 32',
    );
  }
  return { codec: createRegistrySecretCodec(box), activeKeyId: box?.activeKeyId };
}

/**
 * Opens every stored secret once, so a secret under a key that is not configured stops the start with a clear error
 * rather than failing a call later. One consistent read of the registry.
 */
export async function assertRegistrySecretsReadable(
  db: Kysely<RegistryDatabase>,
  secrets: RegistrySecrets,
): Promise<void> {
  await loadRegistry(db, { secrets: secrets.codec });
}
