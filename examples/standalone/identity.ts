/**
 * The standalone server's own identity: HTTP Basic against the configured `users`, handed
 * to plugins through the kernel's identity resolver.
 */
import type { Request } from 'express';
import { parseBasicAuth, PasswordVerifier, type IdentityResolver, type PasswordVerifierOptions, type Principal } from '../../src/index.js';
import type { StandaloneConfig } from './config.js';

/**
 * Builds the identity resolver for the configured users. Passwords are checked by a
 * {@link PasswordVerifier}: scrypt off the event loop, a bounded number at once (past that
 * the resolver throws a `VerifierBusyError`, which each family renders as its own 503 or
 * 429), and a success remembered briefly.
 */
export function usersIdentity(users: StandaloneConfig['users'], verifier: PasswordVerifier | PasswordVerifierOptions = {}): IdentityResolver {
  const byId = new Map(users.map((u) => [u.id, u]));
  const passwords = verifier instanceof PasswordVerifier ? verifier : new PasswordVerifier(verifier);
  // Check unknown users against a real stored value too, so that timing does not reveal who exists.
  const dummy = users[0]?.password ?? 'no-user';
  return async (req: Request): Promise<Principal | null> => {
    const creds = parseBasicAuth(req.headers.authorization);
    if (!creds) return null;
    const user = byId.get(creds.user);
    const ok = await passwords.verify(creds.user, creds.password, user?.password ?? dummy);
    if (!user || !ok) return null;
    return { id: user.id, displayName: user.displayName ?? user.id, admin: user.admin, kind: 'user' };
  };
}
