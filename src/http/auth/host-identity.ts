/** The host's own identity (sessions, SSO, or the standalone app's configured users). */
import type { Request } from 'express';
import { HttpError } from '../http-error.js';
import { isVerifierBusy } from './password-verifier.js';
import type { AuthStrategy, Principal } from './strategy.js';
import { isPromiseLike, type MaybePromise } from '../maybe-promise.js';

/** Options of {@link hostIdentity}. */
export interface HostIdentityOptions {
  /** Require an administrator. */
  admin?: boolean;
  /** The error when nobody is logged in (default 401 `Unauthorized`). */
  fail?: (req: Request) => HttpError;
  /** The error when the user is not an administrator (default 403 `Forbidden`). */
  forbidden?: (req: Request) => HttpError;
  /**
   * The error when the resolver refuses because too many password checks are running
   * (a {@link VerifierBusyError}); default: that error itself, a 503 with `Retry-After`.
   */
  busy?: (req: Request) => HttpError;
}

/** Accepts a request that the kernel's identity resolver recognises. */
export function hostIdentity(options: HostIdentityOptions = {}): AuthStrategy {
  const fail = options.fail ?? (() => new HttpError(401, 'Unauthorized'));
  const forbidden = options.forbidden ?? (() => new HttpError(403, 'Forbidden'));
  return {
    name: 'identity',
    securityScheme: { type: 'http', scheme: 'basic', description: 'The host application\'s identity (HTTP Basic in the standalone server).' },
    authenticate(req, ctx) {
      const refused = (err: unknown): never => {
        if (isVerifierBusy(err) && options.busy) throw options.busy(req);
        throw err;
      };
      const accepted = (principal: Principal | null | undefined): Principal => {
        if (!principal) throw fail(req);
        if (options.admin && !principal.admin) throw forbidden(req);
        return principal;
      };
      // At once when the resolver answers at once.
      let answer: MaybePromise<Principal | null | undefined>;
      try {
        answer = ctx.identity ? ctx.identity(req) : undefined;
      } catch (err) {
        return refused(err);
      }
      return isPromiseLike(answer) ? Promise.resolve(answer).then(accepted, refused) : accepted(answer);
    },
  };
}
