/**
 * Who may use the object API. The original had no authentication and relied on binding to a
 * private address; ours is closed unless the config says otherwise:
 *
 * - `tokens` (default): `Authorization: Bearer <token>` with a token stored (hashed) in the
 *   database, created with `switchboard anope token create`; on the very first start one is
 *   generated and printed once;
 * - `{ token }`: one fixed bearer token from the config;
 * - `host`: the host's identity resolver (the standalone server: HTTP Basic users), admins only;
 * - `{ middleware }`: the host's own Express middleware: calling `next()` lets the request
 *   through, answering it (e.g. 401/403) refuses it, `next(err)` refuses it with the error's status;
 * - `{ strategy }`: any kernel auth strategy;
 * - `none`: open, explicitly.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bearerToken, hostIdentity, HttpError, safeEqual, type AuthStrategy, type Principal } from '../../src/index.js';
import { AnopeMessages } from './errors.js';
import type { AnopeTokenStore } from './token-store.js';

/** One fixed Bearer token. */
export interface FixedTokenAuth {
  /** The token (at least 16 characters); it is scrubbed from every log line. */
  token: string;
}

/** The host's own Express middleware decides (programmatic use). */
export interface MiddlewareAuth {
  /** Calling `next()` lets the request in; answering it refuses it; `next(err)` refuses it with `err.status`. */
  middleware: RequestHandler;
}

/** A kernel auth strategy decides (programmatic use). */
export interface StrategyAuth {
  /** The strategy, e.g. `httpBasic(…)`. */
  strategy: AuthStrategy;
}

/** The auth policy of the plugin config: `tokens` (default), `none`, `host`, or one of the objects. */
export type AnopeAuth = 'none' | 'tokens' | 'host' | FixedTokenAuth | MiddlewareAuth | StrategyAuth;

/** The 401 of the family: a plain string with a Bearer challenge. */
export function unauthorized(scheme = 'Bearer'): HttpError {
  return new HttpError(401, AnopeMessages.unauthorized, { headers: { 'WWW-Authenticate': `${scheme} realm="anope"` } });
}

/** The strategies for a policy (none for `none`). */
export function authStrategies(policy: AnopeAuth, tokens: AnopeTokenStore): AuthStrategy[] {
  if (policy === 'none') return [];
  if (policy === 'tokens') {
    return [
      bearerToken({
        verify: async (token) => ((await tokens.verify(token)) ? { id: 'anope-token', kind: 'token' } : null),
        fail: () => unauthorized(),
      }),
    ];
  }
  if (policy === 'host') {
    return [hostIdentity({ admin: true, fail: () => unauthorized('Basic'), forbidden: () => new HttpError(403, 'Forbidden') })];
  }
  if ('token' in policy) {
    const expected = policy.token;
    return [bearerToken({ verify: (token) => (safeEqual(token, expected) ? { id: 'anope-token', kind: 'token' } : null), fail: () => unauthorized() })];
  }
  if ('middleware' in policy) {
    if (typeof policy.middleware !== 'function') throw new TypeError("plugin 'anope': auth.middleware must be an Express middleware function");
    return [middlewareStrategy(policy.middleware)];
  }
  if ('strategy' in policy) {
    const s = policy.strategy as Partial<AuthStrategy> | undefined;
    if (!s || typeof s.authenticate !== 'function' || typeof s.name !== 'string') {
      throw new TypeError("plugin 'anope': auth.strategy must be an auth strategy (name and authenticate)");
    }
    return [policy.strategy];
  }
  throw new TypeError("plugin 'anope': unknown auth policy");
}

/**
 * Runs a host's Express middleware as an auth strategy. The request passes when the
 * middleware calls `next()`; the principal is `res.locals.principal` or `req.user` when the
 * middleware sets one. An answer written by the middleware stands as the refusal.
 */
export function middlewareStrategy(middleware: RequestHandler): AuthStrategy {
  return {
    name: 'host-middleware',
    securityScheme: { type: 'http', scheme: 'bearer', description: "The host application's own middleware decides." },
    authenticate(req: Request): Promise<Principal> {
      const res = req.res as Response;
      return new Promise<Principal>((resolve, reject) => {
        let settled = false;
        const onDone = () => settle(() => reject(new HttpError(401, AnopeMessages.unauthorized)));
        const settle = (fn: () => void) => {
          if (settled) return;
          settled = true;
          res.off('finish', onDone);
          res.off('close', onDone);
          fn();
        };
        res.once('finish', onDone);
        res.once('close', onDone);
        const next: NextFunction = (err?: unknown) => {
          if (err === undefined || err === null || err === 'route' || err === 'router') {
            const user = (res.locals?.principal ?? (req as Request & { user?: unknown }).user) as Partial<Principal> | undefined;
            const principal: Principal = user && typeof user === 'object' && typeof user.id === 'string' ? (user as Principal) : { id: 'host', kind: 'middleware' };
            settle(() => resolve(principal));
            return;
          }
          const e = err as { status?: number; statusCode?: number; message?: string; expose?: boolean };
          const status = e.status ?? e.statusCode;
          settle(() =>
            reject(
              status && status >= 400 && status < 500
                ? new HttpError(status, e.expose !== false && e.message ? e.message : AnopeMessages.unauthorized)
                : new HttpError(500, 'Internal Server Error', { cause: err }),
            ),
          );
        };
        try {
          const result = middleware(req, res, next) as unknown;
          if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, (err: unknown) => next(err ?? new Error('middleware failed')));
        } catch (err) {
          next(err ?? new Error('middleware failed'));
        }
      });
    },
  };
}
