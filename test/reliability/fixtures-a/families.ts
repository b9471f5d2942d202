/**
 * What the reliability tests know about each family, beyond its route declarations:
 * realistic path parameters, the credential each auth strategy wants, the headers every
 * request of the family carries, where a route checks its credential in the handler rather
 * than through a declared strategy, and the 5xx answers a family's contract requires.
 *
 * Routes come from the kernel's registry; this file only maps a strategy's name to a
 * credential, so new routes of a family are covered without touching it.
 */
import type { AnyRouteDefinition, AuthStrategy, PluginHttp } from '../../../src/index.js';
import { joinPath } from '../../../src/index.js';
import { talkSignature } from '../../../plugins/talk/index.js';
import { basicAuth } from './http.js';
import type { Secrets, Seeds } from './standalone.js';

/** Headers and query parameters that carry a credential. */
export interface Credential {
  /** Headers to add. */
  headers?: Record<string, string>;
  /** Query parameters to add. */
  query?: Array<[string, string]>;
}

/** A route of the registry with everything resolved. */
export interface ResolvedRoute {
  /** The plugin's id. */
  plugin: string;
  /** The declaration. */
  route: AnyRouteDefinition;
  /** One method of it. */
  method: string;
  /** The full path (mount prefix + route path). */
  fullPath: string;
  /** The auth strategies that apply (the route's, else the plugin's default). */
  auth: readonly AuthStrategy[];
}

function asArray<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** Every route and method of every plugin, from the kernel's registry. */
export function resolveRoutes(surfaces: readonly PluginHttp[]): ResolvedRoute[] {
  const out: ResolvedRoute[] = [];
  for (const surface of surfaces) {
    for (const route of surface.routes) {
      const auth = route.auth !== undefined ? asArray(route.auth) : asArray(surface.defaults.auth);
      for (const method of asArray(route.method)) out.push({ plugin: surface.id, route, method, fullPath: joinPath(surface.prefix, route.path), auth });
    }
  }
  return out;
}

/** The Talk OCS base. */
const TALK = '/ocs/v2.php/apps/spreed/api';
/** A 64-character random for Talk bot signatures. */
export const TALK_RANDOM = 'r'.repeat(32) + '0123456789abcdef0123456789abcdef';

/** Wrong credentials: distinctive, so a test can tell that none of them reached a log line. */
export const WRONG = {
  opsdroidCommandCenter: 'wrong-cc-token-5Qz1',
  opsdroidWebhook: 'wrong-webhook-token-5Qz2',
  redballKey: 'wrong-redball-key-5Qz3',
  talkPassword: 'wrong-password-5Qz4',
  talkBotSecret: 'wrong-bot-secret-5Qz5'.padEnd(64, '5'),
  anopeToken: 'wrong-anope-token-5Qz6',
  owncastStreamKey: 'wrong-stream-key-5Qz7',
  owncastToken: 'wrong-owncast-token-5Qz8',
} as const;

/** Talk's bot paths (their handler verifies the signature). */
export const TALK_BOT_MESSAGE = `${TALK}/v1/bot/:token/message`;
/** Talk's bot reaction path. */
export const TALK_BOT_REACTION = `${TALK}/v1/bot/:token/reaction/:messageId`;

function botSignature(secret: string, payload: string): Credential {
  return { headers: { 'x-nextcloud-talk-bot-random': TALK_RANDOM, 'x-nextcloud-talk-bot-signature': talkSignature(secret, TALK_RANDOM, payload) } };
}

/** Talk routes only moderators of the conversation may use (`method path`). */
const MODERATOR_ROUTES = new Set([
  `GET ${TALK}/v1/bot/:token`,
  `POST ${TALK}/v1/bot/:token/:botId`,
  `DELETE ${TALK}/v1/bot/:token/:botId`,
  `POST ${TALK}/v4/room/:token/participants`,
  `POST ${TALK}/v4/room/:token/moderators`,
  `DELETE ${TALK}/v4/room/:token/moderators`,
]);

/** The knowledge the tests have of one family. */
export interface Family {
  /** Realistic values of path parameters by name. */
  params: Record<string, string>;
  /** Headers every request of the family carries (not credentials). */
  headers?: Record<string, string>;
  /** Query parameters every request carries (not credentials). */
  query?: Array<[string, string]>;
  /** The credential a strategy of this family accepts (by the strategy's name and scopes). */
  credential(strategy: AuthStrategy): Credential;
  /** A credential of the right kind that is wrong (never configured anywhere). */
  wrongCredential(strategy: AuthStrategy): Credential;
  /** False for a declared strategy that checks no credential (Talk's CSRF header rule). Default true. */
  isCredential?(strategy: AuthStrategy): boolean;
  /** A credential a route checks in its handler (no declared strategy), if any. */
  handlerCredential?(route: ResolvedRoute): Credential | undefined;
  /** A wrong credential for a route that checks its own. */
  handlerWrongCredential?(route: ResolvedRoute): Credential | undefined;
  /** Valid credentials of this family that must still not open the route (a lower scope, another role). */
  lowerCredentials?(route: ResolvedRoute): Array<{ name: string; credential: Credential }>;
  /** A realistic body for a route, when the schema's sample would not reach its success path. */
  body?(route: ResolvedRoute): { value: unknown } | undefined;
  /** Why a 5xx answer is the family's contract for this request, or undefined. */
  contract5xx?(route: ResolvedRoute, status: number): string | undefined;
}

/** The families of the standalone server, with the secrets and seeds of a running instance. */
export function families(secrets: Secrets, seeds: Seeds, streamKey: () => string): Record<string, Family> {
  return {
    opsdroid: {
      params: { skill: 'dance', webhook: 'party', socket: 'unknown-socket' },
      credential: (s) => (s.name === 'token' ? { headers: { authorization: secrets.opsdroidCommandCenter } } : {}),
      wrongCredential: () => ({ headers: { authorization: WRONG.opsdroidCommandCenter } }),
      // The webhook route checks `web.webhook-token` itself (opsdroid answers 403 with its own body).
      handlerCredential: (r) => (r.fullPath.startsWith('/skill/') ? { headers: { authorization: `Bearer ${secrets.opsdroidWebhook}` } } : undefined),
      handlerWrongCredential: (r) => (r.fullPath.startsWith('/skill/') ? { headers: { authorization: `Bearer ${WRONG.opsdroidWebhook}` } } : undefined),
      // The two tokens are not interchangeable (and the command center takes no "Bearer").
      lowerCredentials: (r) =>
        r.fullPath.startsWith('/skill/')
          ? [{ name: 'the command-center token', credential: { headers: { authorization: secrets.opsdroidCommandCenter } } }, { name: 'the command-center token as Bearer', credential: { headers: { authorization: `Bearer ${secrets.opsdroidCommandCenter}` } } }]
          : [{ name: 'the webhook token', credential: { headers: { authorization: `Bearer ${secrets.opsdroidWebhook}` } } }, { name: 'the command-center token as Bearer', credential: { headers: { authorization: `Bearer ${secrets.opsdroidCommandCenter}` } } }],
      body: (r) => (r.method === 'PATCH' ? { value: JSON.stringify({ module_type: 'skills', module_name: 'hello', config: { greeting: 'hi' } }) } : undefined),
      // opsdroid-notes.md: "A skill that throws → 500" — none of the bundled webhook skills throws, so nothing is allowed here.
      contract5xx: () => undefined,
    },
    redball: {
      params: { botId: String(seeds.redballBotId), typeId: String(seeds.redballTypeId), authId: String(seeds.redballAuthId), settingId: String(seeds.redballSettingId), field: 'id', rest: 'bots' },
      credential: (s) => (s.name === 'apikey' ? { query: [['apikey', secrets.redballKey]] } : {}),
      wrongCredential: () => ({ query: [['apikey', WRONG.redballKey]] }),
      // redball has one kind of key; a key sent where redball does not read it opens nothing.
      lowerCredentials: () => [{ name: 'the key in a header instead of the apikey parameter', credential: { headers: { apikey: secrets.redballKey, authorization: `Bearer ${secrets.redballKey}` } } }],
    },
    talk: {
      params: { token: seeds.talkRoom, botId: String(seeds.talkBotId), messageId: String(seeds.talkMessageId) },
      headers: { 'ocs-apirequest': 'true', accept: 'application/json' },
      credential: (s) => (s.name === 'identity' ? { headers: { authorization: basicAuth('alice', secrets.users.alice) } } : {}),
      wrongCredential: () => ({ headers: { authorization: basicAuth('alice', WRONG.talkPassword) } }),
      // The CSRF rule of the bot routes checks a header, not a credential: the handler checks the signature.
      isCredential: (s) => s.name !== 'ocs_api_request',
      handlerCredential: (r) => (r.fullPath === TALK_BOT_MESSAGE ? botSignature(secrets.talkBotSecret, 'signed sample') : r.fullPath === TALK_BOT_REACTION ? botSignature(secrets.talkBotSecret, '👍') : undefined),
      handlerWrongCredential: (r) => (r.fullPath === TALK_BOT_MESSAGE ? botSignature(WRONG.talkBotSecret, 'signed sample') : r.fullPath === TALK_BOT_REACTION ? botSignature(WRONG.talkBotSecret, '👍') : undefined),
      lowerCredentials: (r) => {
        const out: Array<{ name: string; credential: Credential }> = [];
        const bob = { name: 'bob (not an administrator, not a moderator of the room)', credential: { headers: { authorization: basicAuth('bob', secrets.users.bob) } } };
        const carol = { name: 'carol (not in the room)', credential: { headers: { authorization: basicAuth('carol', secrets.users.carol) } } };
        if (r.fullPath === `${TALK}/v1/bot/admin`) out.push(bob, carol);
        else if (MODERATOR_ROUTES.has(`${r.method} ${r.fullPath}`)) out.push(bob, carol);
        else if (r.fullPath.includes(':token')) out.push(carol);
        // The bot's signature over another payload (a replay with a changed message).
        if (r.fullPath === TALK_BOT_MESSAGE || r.fullPath === TALK_BOT_REACTION) out.push({ name: 'a valid signature over another message', credential: botSignature(secrets.talkBotSecret, 'another message') });
        return out;
      },
      body: (r) => {
        // Bot requests are signed over random + message (or reaction): the base request carries a valid signature.
        if (r.fullPath === TALK_BOT_MESSAGE) return { value: { message: 'signed sample' } };
        if (r.fullPath === TALK_BOT_REACTION) return { value: { reaction: '👍' } };
        if (r.fullPath === `${TALK}/v1/chat/:token` && r.method === 'POST') return { value: { message: 'sample' } };
        return undefined;
      },
    },
    anope: {
      params: { type: 'account', id: String(seeds.anopeAccountId), field: 'email', value: `nick${seeds.anopeNickId}` },
      credential: (s) => (s.name === 'bearer' ? { headers: { authorization: `Bearer ${secrets.anopeToken}` } } : {}),
      wrongCredential: () => ({ headers: { authorization: `Bearer ${WRONG.anopeToken}` } }),
      // The token without its scheme word, or as Basic, opens nothing.
      lowerCredentials: () => [
        { name: 'the token without "Bearer"', credential: { headers: { authorization: secrets.anopeToken } } },
        { name: 'the token as a Basic password', credential: { headers: { authorization: basicAuth('anope', secrets.anopeToken) } } },
      ],
      body: (r) => (r.method === 'POST' ? { value: JSON.stringify({ display: 'fuzzed', email: 'f@example.org' }) } : r.method === 'PUT' ? { value: 'new value' } : undefined),
    },
    owncast: {
      params: {},
      credential: (s) => {
        if (s.name === 'basic') return { headers: { authorization: basicAuth('admin', streamKey()) } };
        if (s.name === 'bearer') {
          const scope = (s.scopes?.[0] ?? 'HAS_ADMIN_ACCESS') as keyof Secrets['owncastTokens'];
          return { headers: { authorization: `Bearer ${secrets.owncastTokens[scope]}` } };
        }
        return {};
      },
      wrongCredential: (s) => (s.name === 'basic' ? { headers: { authorization: basicAuth('admin', WRONG.owncastStreamKey) } } : { headers: { authorization: `Bearer ${WRONG.owncastToken}` } }),
      // owncast-notes.md: scopes are exact ("none implies another") and tokens never open /api/admin/*.
      lowerCredentials: (r) => {
        const required = r.auth.flatMap((s) => s.scopes ?? []);
        const isAdmin = r.auth.some((s) => s.name === 'basic');
        const tokens = (Object.keys(secrets.owncastTokens) as Array<keyof Secrets['owncastTokens']>).filter((scope) => isAdmin || !required.includes(scope));
        const out = tokens.map((scope) => ({ name: `a ${scope} token`, credential: { headers: { authorization: `Bearer ${secrets.owncastTokens[scope]}` } } }));
        if (isAdmin) out.push({ name: 'the stream key with another user name', credential: { headers: { authorization: basicAuth('root', streamKey()) } } });
        else out.push({ name: 'the admin password as a Bearer token', credential: { headers: { authorization: `Bearer ${streamKey()}` } } });
        return out;
      },
      // owncast-notes.md: "`/api/chat` answers non-GET with 501" (and its integration twin).
      contract5xx: (r, status) =>
        status === 501 && r.method !== 'GET' && (r.fullPath === '/api/chat' || r.fullPath === '/api/integrations/chat') ? 'owncast-notes.md: /api/chat answers non-GET with 501' : undefined,
    },
  };
}
