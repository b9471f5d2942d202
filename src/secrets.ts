/**
 * Secret handling shared by every family: constant-time comparison, hashing of stored keys,
 * and the registry of configured secrets that the logger scrubs from every line.
 */
import crypto from 'node:crypto';

/**
 * SHA-256 of `data` (text as UTF-8). Node's one-shot `crypto.hash` (Node 20.12 and later)
 * costs about a quarter of a `Hash` object per call, and every API key and token check hashes
 * at least twice per request; older Node versions get the `Hash` object.
 */
const sha256: (data: string | Buffer) => Buffer =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'buffer') : (data) => crypto.createHash('sha256').update(data).digest();

/**
 * Compares two secrets in constant time. Both sides are hashed first, so neither the
 * content nor the length of the expected secret leaks through timing.
 */
export function safeEqual(given: string | Buffer, expected: string | Buffer): boolean {
  return crypto.timingSafeEqual(sha256(given), sha256(expected)) && given.length === expected.length;
}

/**
 * The check of given values against one expected secret, with the result of
 * {@link safeEqual}`(given, expected)`; the expected side's digest is computed once, for a
 * secret compared on every request (a configured password).
 */
export function secretMatcher(expected: string | Buffer): (given: string | Buffer) => boolean {
  const digest = sha256(expected);
  return (given) => crypto.timingSafeEqual(sha256(given), digest) && given.length === expected.length;
}

/**
 * Hashes a high-entropy secret (an API key, an access token) for storage. A fast hash is
 * right here: the inputs are random, so there is nothing to brute-force; passwords chosen by
 * people use {@link hashPassword} instead.
 */
export function hashToken(token: string): string {
  return sha256(token).toString('hex');
}

/** Generates a random token: `bytes` random bytes in URL-safe base64 (no padding). */
export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

const SCRYPT_KEYLEN = 32;

/** Hashes a password with scrypt and a random salt: `scrypt$<salt>$<hash>` (hex). */
export function hashPassword(password: string): string {
  const salt = crypto.randomBytes(16);
  const hash = crypto.scryptSync(password, salt, SCRYPT_KEYLEN);
  return `scrypt$${salt.toString('hex')}$${hash.toString('hex')}`;
}

/** A stored scrypt hash taken apart, or undefined when the stored value is a plain password. */
function scryptParts(stored: string): { salt: Buffer; expected: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 3 || parts[0] !== 'scrypt') return undefined;
  return { salt: Buffer.from(parts[1], 'hex'), expected: Buffer.from(parts[2], 'hex') };
}

/** True when a stored password is a {@link hashPassword} result (checking it costs a scrypt). */
export function isPasswordHash(stored: string): boolean {
  return scryptParts(stored) !== undefined;
}

/**
 * Checks a password against a stored value in constant time. The stored value is either a
 * {@link hashPassword} result or, for configuration files written by hand, the plain password.
 * This runs scrypt on the calling thread: a server checks request credentials with
 * {@link verifyPasswordAsync} (or a `PasswordVerifier`) instead.
 */
export function verifyPassword(password: string, stored: string): boolean {
  const scrypt = scryptParts(stored);
  if (!scrypt) return safeEqual(password, stored);
  const actual = crypto.scryptSync(password, scrypt.salt, scrypt.expected.length || SCRYPT_KEYLEN);
  return scrypt.expected.length === actual.length && crypto.timingSafeEqual(scrypt.expected, actual);
}

/**
 * {@link verifyPassword} with scrypt on libuv's thread pool, so the event loop keeps serving
 * while it runs. Compares in constant time.
 */
export function verifyPasswordAsync(password: string, stored: string): Promise<boolean> {
  const scrypt = scryptParts(stored);
  if (!scrypt) return Promise.resolve(safeEqual(password, stored));
  const { salt, expected } = scrypt;
  return new Promise((resolve, reject) => {
    crypto.scrypt(password, salt, expected.length || SCRYPT_KEYLEN, (err, actual) => {
      if (err) reject(err);
      else resolve(expected.length === actual.length && crypto.timingSafeEqual(expected, actual));
    });
  });
}

/** The shortest secret the registry scrubs; shorter strings would mangle ordinary log text. */
export const MIN_SCRUBBED_SECRET_LENGTH = 6;

/**
 * The configured secrets of a kernel (tokens, keys, passwords). The logger replaces every
 * registered secret with `[REDACTED]` in every line it writes, whatever the field or message.
 */
export class SecretRegistry {
  private readonly secrets = new Set<string>();

  /** Registers a secret so that it never appears in log output. Short or empty values are ignored. */
  add(secret: string | undefined | null): void {
    if (typeof secret !== 'string' || secret.length < MIN_SCRUBBED_SECRET_LENGTH) return;
    this.secrets.add(secret);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) this.secrets.add(escaped);
  }

  /** Forgets a secret (e.g. a revoked token). */
  delete(secret: string): void {
    this.secrets.delete(secret);
    this.secrets.delete(JSON.stringify(secret).slice(1, -1));
  }

  /** How many secrets are registered. */
  get size(): number {
    return this.secrets.size;
  }

  /** Returns `text` with every registered secret replaced by `[REDACTED]`. */
  scrub(text: string): string {
    if (this.secrets.size === 0) return text;
    let out = text;
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
    }
    return out;
  }
}
