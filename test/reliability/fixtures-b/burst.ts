/**
 * Bursts of concurrent requests, and the in-process kernel with every plugin that the
 * concurrency tests fire them at.
 */
import { anopePlugin } from '../../../plugins/anope/index.js';
import { opsdroidPlugin } from '../../../plugins/opsdroid/index.js';
import { owncastPlugin } from '../../../plugins/owncast/index.js';
import { redballPlugin } from '../../../plugins/redball/index.js';
import { talkPlugin } from '../../../plugins/talk/index.js';
import { parseBasicAuth, safeEqual, type IdentityResolver, type PluginEntry } from '../../../src/index.js';
import type { Answer } from './standalone.js';

/** Credentials of the in-process kernels of these tests. */
export const CREDENTIALS = {
  anopeToken: 'burst-anope-token-0123456789abcdef',
  redballKey: 'burst-redball-key-0123456789abcdef',
  opsdroidWebhookToken: 'burst-opsdroid-webhook-token-1a2b3c',
  opsdroidCenterToken: 'burst-opsdroid-center-token-4d5e6f',
  owncastStreamKey: 'burst-owncast-stream-key-7g8h9i',
  /** Users are `user0` … `user<n>` and `owner`, each with the password `<id>-password-burst`. */
  password: (user: string) => `${user}-password-burst`,
} as const;

/** Host identity: HTTP Basic for `owner` and `user<n>`, with {@link CREDENTIALS.password}. */
export const identity: IdentityResolver = (req) => {
  const creds = parseBasicAuth(req.headers.authorization);
  if (!creds || !/^(owner|user\d{1,4})$/.test(creds.user) || !safeEqual(creds.password, CREDENTIALS.password(creds.user))) return null;
  return { id: creds.user, displayName: creds.user === 'owner' ? 'Owner' : `User ${creds.user.slice(4)}`, admin: creds.user === 'owner', kind: 'user' };
};

/** HTTP Basic `Authorization` of a test user. */
export function basicOf(user: string): string {
  return `Basic ${Buffer.from(`${user}:${CREDENTIALS.password(user)}`).toString('base64')}`;
}

/** Every plugin, configured with the credentials above. */
export function allPlugins(): PluginEntry<any>[] {
  return [
    { plugin: anopePlugin, config: { auth: { token: CREDENTIALS.anopeToken } } },
    { plugin: redballPlugin, config: { apiKeys: [CREDENTIALS.redballKey], autoRun: false } },
    { plugin: opsdroidPlugin, config: { web: { 'webhook-token': CREDENTIALS.opsdroidWebhookToken, 'command-center': { enabled: true, token: CREDENTIALS.opsdroidCenterToken } } } },
    { plugin: talkPlugin, config: { cache: { ttlMs: 0 } } },
    { plugin: owncastPlugin, config: { streamKey: CREDENTIALS.owncastStreamKey, refreshIntervalMs: 100 } },
  ];
}

/** What a burst produced. */
export interface BurstResult {
  answers: Answer[];
  /** Answers with a 5xx status, or that mention SQLITE_BUSY or a database error, and network errors. */
  errors: string[];
  /** How many answers had each status. */
  statuses: Record<number, number>;
}

/** Fires `n` requests at once (`send(i)`), waits for all, and sorts out what went wrong. */
export async function burst(n: number, send: (i: number) => Promise<Answer>): Promise<BurstResult> {
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => send(i)));
  const answers: Answer[] = [];
  const errors: string[] = [];
  const statuses: Record<number, number> = {};
  settled.forEach((s, i) => {
    if (s.status === 'rejected') {
      errors.push(`#${i}: ${(s.reason as Error).message}`);
      return;
    }
    const a = s.value;
    answers.push(a);
    statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    if (a.status >= 500 || /SQLITE_|database is locked|deadlock|could not serialize|duplicate key|unique constraint/i.test(a.text)) {
      errors.push(`#${i}: ${a.status} ${a.text.slice(0, 200)}`);
    }
  });
  return { answers, errors, statuses };
}
