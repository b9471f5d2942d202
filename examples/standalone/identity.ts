/**
 * The standalone server's own identity: HTTP Basic against the configured `users`, handed
 * to plugins through the kernel's identity resolver.
 */
import type { Request } from 'express';
import { parseBasicAuth, verifyPassword, type IdentityResolver, type Principal } from '../../src/index.js';
import type { StandaloneConfig } from './config.js';

/** Builds the identity resolver for the configured users. */
export function usersIdentity(users: StandaloneConfig['users']): IdentityResolver {
  const byId = new Map(users.map((u) => [u.id, u]));
  // Compare against a dummy for unknown users so that timing does not reveal who exists.
  const dummy = users[0]?.password ?? 'no-user';
  return (req: Request): Principal | null => {
    const creds = parseBasicAuth(req.headers.authorization);
    if (!creds) return null;
    const user = byId.get(creds.user);
    const ok = verifyPassword(creds.password, user?.password ?? dummy);
    if (!user || !ok) return null;
    return { id: user.id, displayName: user.displayName ?? user.id, admin: user.admin, kind: 'user' };
  };
}
