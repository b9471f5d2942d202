/** Shared helpers of the talk plugin tests: users, an OCS client, a CLI runner. */
import { parseBasicAuth, safeEqual, type IdentityResolver } from '../../../src/index.js';
import type { TestKernel } from '../../../src/testing/index.js';

/** The host's users in these tests. */
export const USERS: Record<string, { password: string; displayName: string; admin: boolean }> = {
  root: { password: 'root-password', displayName: 'Root Admin', admin: true },
  alice: { password: 'alice-password', displayName: 'Alice A.', admin: false },
  bob: { password: 'bob-password', displayName: 'Bob B.', admin: false },
  carol: { password: 'carol-password', displayName: 'Carol <C>', admin: false },
  dave: { password: 'dave-password', displayName: 'Dave D.', admin: false },
};

/** The host identity resolver: HTTP Basic against {@link USERS}. */
export const identity: IdentityResolver = (req) => {
  const creds = parseBasicAuth(req.headers.authorization);
  const user = creds ? USERS[creds.user] : undefined;
  if (!creds || !user || !safeEqual(creds.password, user.password)) return null;
  return { id: creds.user, displayName: user.displayName, admin: user.admin, kind: 'user' };
};

/** Basic auth header of a test user. */
export function basic(user: string): string {
  return `Basic ${Buffer.from(`${user}:${USERS[user].password}`).toString('base64')}`;
}

/** The OCS API v1 base. */
export const V1 = '/ocs/v2.php/apps/spreed/api/v1';
/** The OCS API v4 base. */
export const V4 = '/ocs/v2.php/apps/spreed/api/v4';

/** A parsed OCS JSON answer. */
export interface OcsAnswer<T = any> {
  status: number;
  headers: Headers;
  body: { ocs: { meta: { status: string; statuscode: number; message: string }; data: T } } | any;
  data: T;
}

/** An OCS client acting as one user (JSON, with `OCS-APIRequest: true`). */
export function ocsClient(sb: TestKernel, user?: string) {
  const send = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<OcsAnswer> => {
    const h: Record<string, string> = { 'OCS-APIRequest': 'true', Accept: 'application/json', ...headers };
    if (user) h.Authorization = basic(user);
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const res = await sb.fetch(p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, body: parsed, data: parsed?.ocs?.data };
  };
  return {
    get: (p: string, headers?: Record<string, string>) => send('GET', p, undefined, headers),
    post: (p: string, body?: unknown, headers?: Record<string, string>) => send('POST', p, body, headers),
    del: (p: string, body?: unknown, headers?: Record<string, string>) => send('DELETE', p, body, headers),
  };
}

/** Waits until `cond` holds (polling), or fails after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A 64-character secret. */
export function secretOf(seed: string): string {
  return `${seed}-`.repeat(64).slice(0, 64);
}
