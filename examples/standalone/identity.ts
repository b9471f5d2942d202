/**
 * The standalone server's own identity: HTTP Basic against the configured `users`, handed
 * to plugins through the kernel's identity resolver.
 */
import type { Request } from 'express';
import { andThen, parseBasicAuth, PasswordVerifier, type IdentityResolver, type PasswordVerifierOptions, type Principal } from '../../src/index.js';
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
  // At once (no promise) when the password was checked a moment ago: see PasswordVerifier.verify.
  return (req: Request): Principal | null | Promise<Principal | null> => {
    const creds = parseBasicAuth(req.headers.authorization);
    if (!creds) return null;
    const user = byId.get(creds.user);
    return andThen(passwords.verify(creds.user, creds.password, user?.password ?? dummy), (ok) =>
      user && ok ? { id: user.id, displayName: user.displayName ?? user.id, admin: user.admin, kind: 'user' } : null,
    );
  };
}
