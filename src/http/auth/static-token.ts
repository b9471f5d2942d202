/** A fixed token in a header, optionally behind a scheme word (`Bearer x` or the bare token). */
import type { Request } from 'express';
import { HttpError } from '../http-error.js';
import { safeEqual } from '../../secrets.js';
import type { AuthStrategy, Principal } from './strategy.js';
import { andThen } from '../maybe-promise.js';

/** Options of {@link staticToken}. */
export interface StaticTokenOptions {
  /** Header to read, default `authorization`. */
  header?: string;
  /** Scheme word before the token (e.g. `Bearer`); omit to compare the whole header value. */
  scheme?: string;
  /** The accepted tokens, or a function returning them (read on every request). */
  tokens: readonly string[] | (() => readonly string[] | Promise<readonly string[]>);
  /** The error for a missing or wrong token (default 401 `Unauthorized`). */
  fail?: (req: Request) => HttpError;
  /** The principal to attach on success (default `{ id: 'token', kind: 'token' }`). */
  principal?: Principal;
}

/**
 * Accepts a request whose header equals one of the configured tokens exactly (with the
 * scheme word when one is set), compared in constant time.
 */
export function staticToken(options: StaticTokenOptions): AuthStrategy {
  const header = (options.header ?? 'authorization').toLowerCase();
  const fail = options.fail ?? (() => new HttpError(401, 'Unauthorized'));
  const principal = options.principal ?? { id: 'token', kind: 'token' };
  return {
    name: options.scheme ? options.scheme.toLowerCase() : 'token',
    securityScheme: options.scheme?.toLowerCase() === 'bearer'
      ? { type: 'http', scheme: 'bearer' }
      : { type: 'apiKey', in: 'header', name: header },
    authenticate(req) {
      const value = req.headers[header];
      if (typeof value !== 'string') throw fail(req);
      return andThen(typeof options.tokens === 'function' ? options.tokens() : options.tokens, (tokens) => {
        let ok = false;
        for (const token of tokens) {
          const expected = options.scheme ? `${options.scheme} ${token}` : token;
          // Check every token so the time taken does not reveal which one matched.
          if (safeEqual(value, expected)) ok = true;
        }
        if (!ok) throw fail(req);
        return principal;
      });
    },
  };
}
