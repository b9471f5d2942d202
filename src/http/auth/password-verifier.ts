/**
 * Password verification that cannot stall the server: scrypt runs on libuv's thread pool
 * (never on the event loop), at most a few verifications run at once and the rest are
 * refused at once, and a successful verification is remembered briefly so that a client
 * sending the same credentials on every request pays scrypt once.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { isPasswordHash, secretMatcher, verifyPasswordAsync } from '../../secrets.js';
import { HttpError, HttpErrorCodes } from '../http-error.js';

/** The most plain stored passwords whose checks are kept (all are dropped past it). */
const PLAIN_KEPT = 1000;

/** Options of a {@link PasswordVerifier}. */
export interface PasswordVerifierOptions {
  /**
   * How many scrypt verifications may run at once; past that a verification is refused with
   * {@link VerifierBusyError}. Default: half the machine's cores (at least 1), which leaves
   * a core to the event loop and threads to the rest of libuv's pool.
   */
  maxInFlight?: number;
  /** How long a successful verification is remembered, ms (default 60 000; 0 turns it off). */
  rememberMs?: number;
  /** How many successful verifications are remembered at most (default 1 000; the oldest go first). */
  rememberMax?: number;
  /** The clock, ms (tests). */
  now?: () => number;
}

/**
 * Thrown when too many verifications are running: a 503 (`SWB_ERR_AUTH_BUSY`, with
 * `Retry-After: 1`) that every family's responder renders in its own style. Auth
 * strategies built on the host identity let a family map it to its own refusal (Talk's 429).
 */
export class VerifierBusyError extends HttpError {
  constructor() {
    super(503, 'Service Unavailable', { code: HttpErrorCodes.AUTH_BUSY, headers: { 'Retry-After': '1' } });
    this.name = 'VerifierBusyError';
  }
}

/** True when `err` is a {@link VerifierBusyError}. */
export function isVerifierBusy(err: unknown): err is VerifierBusyError {
  return err instanceof VerifierBusyError;
}

/** Checks user passwords against stored values ({@link hashPassword} results or plain text). */
export class PasswordVerifier {
  private readonly maxInFlight: number;
  private readonly rememberMs: number;
  private readonly rememberMax: number;
  private readonly now: () => number;
  /** A per-process random key: the remembered entries are keyed by an HMAC, never by the credentials. */
  private readonly key = crypto.randomBytes(32);
  /** HMAC of (user, password, stored value) → expiry time. Insertion order is age order. */
  private readonly remembered = new Map<string, number>();
  /** The checks running now, by the same HMAC. */
  private readonly pending = new Map<string, Promise<boolean>>();
  /** Checks of plain stored passwords (a hand-written config's), by stored value: each one's digest is computed once. */
  private readonly plain = new Map<string, (given: string) => boolean>();

  /** @param options - bound, memory and clock */
  constructor(options: PasswordVerifierOptions = {}) {
    this.maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? Math.max(1, Math.floor(os.availableParallelism() / 2))));
    this.rememberMs = Math.max(0, options.rememberMs ?? 60_000);
    this.rememberMax = Math.max(0, Math.floor(options.rememberMax ?? 1000));
    this.now = options.now ?? Date.now;
  }

  /** How many verifications are running now. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** How many successful verifications are remembered now. */
  get rememberedCount(): number {
    return this.remembered.size;
  }

  /**
   * True when `password` matches `stored` for `user`. A remembered success answers at once,
   * a check of the same credentials already running is shared; otherwise scrypt runs off
   * the event loop. Rejects with {@link VerifierBusyError} at once when
   * {@link PasswordVerifierOptions.maxInFlight} verifications are already running.
   *
   * A plain stored value and a remembered success answer with the boolean itself, not a
   * promise, so that a request whose credentials were checked before stays synchronous.
   */
  verify(user: string, password: string, stored: string): boolean | Promise<boolean> {
    // A plain password from a hand-written config costs a hash to check: no bound, and no
    // memory but its own digest (computed once).
    if (!isPasswordHash(stored)) return this.plainMatcher(stored)(password);
    const id = this.entryKey(user, password, stored);
    const until = this.remembered.get(id);
    if (until !== undefined) {
      if (until > this.now()) return true;
      this.remembered.delete(id);
    }
    // Requests with the same credentials at the same time (a client's burst) share one check.
    const shared = this.pending.get(id);
    if (shared) return shared;
    if (this.pending.size >= this.maxInFlight) return Promise.reject(new VerifierBusyError());
    const check = verifyPasswordAsync(password, stored)
      .then((ok) => {
        if (ok) this.remember(id);
        return ok;
      })
      .finally(() => this.pending.delete(id));
    this.pending.set(id, check);
    return check;
  }

  /** Forgets every remembered success (e.g. after the users changed). */
  forget(): void {
    this.remembered.clear();
  }

  private plainMatcher(stored: string): (given: string) => boolean {
    let matcher = this.plain.get(stored);
    if (!matcher) {
      if (this.plain.size >= PLAIN_KEPT) this.plain.clear();
      this.plain.set(stored, (matcher = secretMatcher(stored)));
    }
    return matcher;
  }

  private entryKey(user: string, password: string, stored: string): string {
    const mac = crypto.createHmac('sha256', this.key);
    // Lengths first, so that no two different triples give the same input.
    for (const part of [user, password, stored]) mac.update(`${Buffer.byteLength(part)}:`).update(part, 'utf8');
    return mac.digest('base64');
  }

  private remember(id: string): void {
    if (this.rememberMs === 0 || this.rememberMax === 0) return;
    this.remembered.delete(id);
    this.remembered.set(id, this.now() + this.rememberMs);
    while (this.remembered.size > this.rememberMax) {
      const oldest = this.remembered.keys().next().value as string;
      this.remembered.delete(oldest);
    }
  }
}
