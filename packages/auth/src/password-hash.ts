import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';

/** scrypt cost parameters; the defaults (N=2^15, r=8, p=1) take tens of milliseconds and 32 MiB. */
export interface PasswordHashOptions {
  /** CPU/memory cost, a power of two. Default 32768. */
  cost?: number;
  blockSize?: number;
  parallelization?: number;
}

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const MAX_COST = 2 ** 20;

/** Hashes a password with scrypt and a random salt: `scrypt$N$r$p$<salt>$<hash>` (base64url). */
export async function hashPassword(password: string, options: PasswordHashOptions = {}): Promise<string> {
  const cost = options.cost ?? 2 ** 15;
  const blockSize = options.blockSize ?? 8;
  const parallelization = options.parallelization ?? 1;
  if (!Number.isInteger(Math.log2(cost)) || cost < 2 || cost > MAX_COST) {
    throw new RangeError('cost must be a power of two up to 2^20');
  }
  const salt = randomBytes(SALT_LENGTH);
  const hash = await derive(password, salt, { N: cost, r: blockSize, p: parallelization });
  return [
    'scrypt',
    cost,
    blockSize,
    parallelization,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

/** Checks a password against a {@link hashPassword} hash in constant time; false for any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [cost, blockSize, parallelization] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (
    cost === undefined ||
    blockSize === undefined ||
    parallelization === undefined ||
    !Number.isInteger(Math.log2(cost)) ||
    cost > MAX_COST ||
    blockSize < 1 ||
    blockSize > 32 ||
    parallelization < 1 ||
    parallelization > 16 ||
    expected.length !== KEY_LENGTH
  ) {
    return false;
  }
  const actual = await derive(password, salt, { N: cost, r: blockSize, p: parallelization });
  return timingSafeEqual(actual, expected);
}

function derive(password: string, salt: Buffer, params: ScryptOptions): Promise<Buffer> {
  const N = params.N ?? 1;
  const r = params.r ?? 8;
  const p = params.p ?? 1;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      { N, r, p, maxmem: 256 * N * r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}
