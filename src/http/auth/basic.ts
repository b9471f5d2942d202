/** HTTP Basic authentication. */
import type { Request } from 'express';
import { HttpError } from '../http-error.js';
import { isVerifierBusy } from './password-verifier.js';
import type { AuthStrategy, Principal } from './strategy.js';
import { isPromiseLike, type MaybePromise } from '../maybe-promise.js';

/** Options of {@link httpBasic}. */
export interface HttpBasicOptions {
  /** The realm announced in `WWW-Authenticate`. */
  realm: string;
  /** Checks a user and password (in constant time) and returns the principal, or null. */
  verify(user: string, password: string, req: Request): Principal | null | Promise<Principal | null>;
  /** The error for missing or wrong credentials (default 401 `Unauthorized` with the challenge). */
  fail?: (req: Request) => HttpError;
  /**
   * The error when `verify` refuses because too many password checks are running (it threw
   * a {@link VerifierBusyError}); default: that error itself, a 503 with `Retry-After`.
   */
  busy?: (req: Request) => HttpError;
}

/** User and password from an `Authorization: Basic` header. */
export interface BasicCredentials {
  /** The user name (before the first colon). */
  user: string;
  /** The password (everything after it). */
  password: string;
}

/** Reads `Authorization: Basic …` into user and password, or undefined when absent/malformed. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Accepts a request with valid HTTP Basic credentials. */
export function httpBasic(options: HttpBasicOptions): AuthStrategy {
  const challenge = `Basic realm="${options.realm.replace(/"/g, '')}"`;
  const fail = options.fail ?? (() => new HttpError(401, 'Unauthorized', { headers: { 'WWW-Authenticate': challenge } }));
  return {
    name: 'basic',
    securityScheme: { type: 'http', scheme: 'basic' },
    authenticate(req) {
      const creds = parseBasicAuth(req.headers.authorization);
      if (!creds) throw fail(req);
      const refused = (err: unknown): never => {
        if (isVerifierBusy(err) && options.busy) throw options.busy(req);
        throw err;
      };
      const accepted = (principal: Principal | null): Principal => {
        if (!principal) throw fail(req);
        return principal;
      };
      // At once when `verify` answers at once (a password checked before, say).
      let answer: MaybePromise<Principal | null>;
      try {
        answer = options.verify(creds.user, creds.password, req);
      } catch (err) {
        return refused(err);
      }
      return isPromiseLike(answer) ? Promise.resolve(answer).then(accepted, refused) : accepted(answer);
    },
  };
}
