/** Bearer tokens with scopes (Owncast integrations, Anope's token). */
import type { Request } from 'express';
import { HttpError } from '../http-error.js';
import type { AuthStrategy, Principal } from './strategy.js';
import { andThen } from '../maybe-promise.js';

/** Options of {@link bearerToken}. */
export interface BearerTokenOptions {
  /** Resolves a token to a principal (with its `scopes`), or null when unknown. */
  verify(token: string, req: Request): Principal | null | Promise<Principal | null>;
  /** Scopes of which the principal must hold at least one (exact match); none: any valid token. */
  scopes?: readonly string[];
  /** The error for a missing or unknown token (default 401 `Unauthorized`). */
  fail?: (req: Request) => HttpError;
  /** The error for a valid token without the scope (default: the same as `fail`). */
  insufficientScope?: (req: Request) => HttpError;
}

/** Reads the token of an `Authorization: Bearer <token>` header. */
export function parseBearer(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer +(\S+) *$/i.exec(header);
  return m ? m[1] : undefined;
}

/** Accepts a request with a known bearer token holding one of the required scopes. */
export function bearerToken(options: BearerTokenOptions): AuthStrategy {
  const fail = options.fail ?? (() => new HttpError(401, 'Unauthorized', { headers: { 'WWW-Authenticate': 'Bearer' } }));
  const insufficient = options.insufficientScope ?? fail;
  const required = options.scopes ?? [];
  return {
    name: 'bearer',
    securityScheme: { type: 'http', scheme: 'bearer' },
    scopes: required,
    authenticate(req) {
      const token = parseBearer(req.headers.authorization);
      if (!token) throw fail(req);
      return andThen(options.verify(token, req), (principal) => {
        if (!principal) throw fail(req);
        if (required.length > 0 && !required.some((s) => principal.scopes?.includes(s))) throw insufficient(req);
        return principal;
      });
    },
  };
}
