/** An API key in the query string (and optionally a form body), as redball's `apikey`. */
import type { Request } from 'express';
import { HttpError } from '../http-error.js';
import type { AuthStrategy, Principal } from './strategy.js';
import { andThen } from '../maybe-promise.js';

/** Options of {@link apiKeyQuery}. */
export interface ApiKeyQueryOptions {
  /** The parameter name, default `apikey`. */
  param?: string;
  /** Also read the key from a parsed form/JSON body. */
  fromBody?: boolean;
  /** Resolves a key to a principal, or null when unknown. Must compare in constant time. */
  verify(key: string, req: Request): Principal | null | Promise<Principal | null>;
  /** The error for a missing or unknown key (default 401 `Unauthorized`). */
  fail?: (req: Request) => HttpError;
}

/** Accepts a request carrying a known API key in its query (or body). */
export function apiKeyQuery(options: ApiKeyQueryOptions): AuthStrategy {
  const param = options.param ?? 'apikey';
  const fail = options.fail ?? (() => new HttpError(401, 'Unauthorized'));
  return {
    name: 'apikey',
    securityScheme: { type: 'apiKey', in: 'query', name: param },
    needsBody: options.fromBody === true,
    authenticate(req) {
      let key: unknown = (req.query as Record<string, unknown>)[param];
      if (key === undefined && options.fromBody && req.body && typeof req.body === 'object') {
        key = (req.body as Record<string, unknown>)[param];
      }
      if (typeof key !== 'string' || key === '') throw fail(req);
      // At once when `verify` answers at once (see AuthStrategy.authenticate).
      return andThen(options.verify(key, req), (principal) => {
        if (!principal) throw fail(req);
        return principal;
      });
    },
  };
}
