/**
 * The standalone server with all five families enabled at their native paths, on a
 * throwaway database, with a realistic configuration (tokens, keys, users) and seeded data in
 * every family, for the fuzzer, the auth matrix and the hardening checks.
 *
 * Every configured secret is listed in {@link Secrets}; every log line the server writes is
 * kept in {@link FullStandalone.logLines} so tests can check that no secret reaches it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStandalone, type Standalone } from '../../../examples/standalone/app.js';
import { StandaloneConfigSchema, type StandaloneConfig } from '../../../examples/standalone/config.js';
import { validateConfig } from '../../../src/index.js';
import { createTestDatabase, type DatabaseKind } from '../../../src/testing/index.js';
import { TALK_API, type TalkApi } from '../../../plugins/talk/index.js';
import { OwncastTokens, type Owncast } from '../../../plugins/owncast/index.js';
import { StatsStore, OPSDROID_RUNTIME, type Opsdroid } from '../../../plugins/opsdroid/index.js';
import { send, basicAuth, type Sent } from './http.js';

/** Every secret the server is configured with or hands out while seeding. */
export interface Secrets {
  /** Standalone users (HTTP Basic; Talk identity). */
  users: Record<'alice' | 'bob' | 'carol', string>;
  /** opsdroid's command-center token (the exact `Authorization` value). */
  opsdroidCommandCenter: string;
  /** opsdroid's webhook token (`Authorization: Bearer …`). */
  opsdroidWebhook: string;
  /** A redball API key (the `apikey` parameter). */
  redballKey: string;
  /** anope's fixed Bearer token. */
  anopeToken: string;
  /** Owncast's stream key (the admin password of user `admin`). */
  owncastStreamKey: string;
  /** The Talk bot's shared secret. */
  talkBotSecret: string;
  /** Owncast integration tokens by scope. */
  owncastTokens: Record<'HAS_ADMIN_ACCESS' | 'CAN_SEND_MESSAGES' | 'CAN_SEND_SYSTEM_MESSAGES', string>;
}

/** Ids and names the seeding created (realistic path parameters). */
export interface Seeds {
  /** A Talk conversation alice owns, bob is a plain participant of, carol is not in. */
  talkRoom: string;
  /** The Talk bot (enabled in {@link Seeds.talkRoom}). */
  talkBotId: number;
  /** A chat message in the room. */
  talkMessageId: number;
  /** redball ids. */
  redballBotId: number;
  redballTypeId: number;
  redballAuthId: number;
  redballSettingId: number;
  /** anope account id (display {@link CANARY}). */
  anopeAccountId: number;
  /** anope nick id referencing the account. */
  anopeNickId: number;
  /** An Owncast chat message id. */
  owncastMessageId: string;
  /** An Owncast webhook id. */
  owncastWebhookId: number;
}

/** A marker seeded into every family's data: a refusal must never contain it. */
export const CANARY = 'zqcanary7';

/** A running standalone server with everything a reliability test needs. */
export interface FullStandalone {
  /** The database engine. */
  kind: DatabaseKind;
  /** The standalone app (kernel, server). */
  standalone: Standalone;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The configuration it runs with. */
  config: StandaloneConfig;
  /** Every secret. */
  secrets: Secrets;
  /** Seeded ids. */
  seeds: Seeds;
  /** Every log line written (raw JSON lines, after the kernel's scrubbing). */
  logLines: string[];
  /** Sends a raw request to the server. */
  send(input: Parameters<typeof send>[1]): Promise<Sent>;
  /** Waits for write-behind work (opsdroid's stats flusher, reconfigurations) to settle. */
  settle(): Promise<void>;
  /** Puts back credentials the fuzzer may have changed (Owncast's stream key); true when it wrote. */
  repair(): Promise<boolean>;
  /** Stops the server and drops the database. */
  close(): Promise<void>;
}

const USERS = { alice: 'alice-password-4021', bob: 'bob-password-77831', carol: 'carol-password-55190' } as const;

/** Settings a test may change. */
export interface FullStandaloneOptions {
  /** Talk's bad-signature limit before 429 (default the plugin's, 10). */
  talkMaxFailures?: number;
}

/** Starts the standalone server with all five families and seeds every family. */
export async function startFullStandalone(kind: DatabaseKind, options: FullStandaloneOptions = {}): Promise<FullStandalone> {
  const db = await createTestDatabase(kind);
  const botsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-rel-bots-'));
  const secrets: Secrets = {
    users: { ...USERS },
    opsdroidCommandCenter: 'opsdroid-command-center-token-7f3a91',
    opsdroidWebhook: 'opsdroid-webhook-token-b81c22d4',
    redballKey: 'redball-api-key-5e0d6c1b9a',
    anopeToken: 'anope-fixed-token-c4f7e2a9d1',
    owncastStreamKey: 'owncast-stream-key-93ab1f',
    talkBotSecret: 'talk-bot-secret-'.padEnd(64, 'x9'),
    owncastTokens: { HAS_ADMIN_ACCESS: '', CAN_SEND_MESSAGES: '', CAN_SEND_SYSTEM_MESSAGES: '' },
  };
  const config = validateConfig<StandaloneConfig>('reliability', StandaloneConfigSchema, {
    server: { host: '127.0.0.1', port: 0 },
    database: { url: db.url },
    log: { level: 'info' },
    users: [
      { id: 'alice', password: secrets.users.alice, displayName: 'Alice', admin: true },
      { id: 'bob', password: secrets.users.bob, displayName: 'Bob' },
      { id: 'carol', password: secrets.users.carol, displayName: 'Carol' },
    ],
    plugins: {
      opsdroid: {
        web: {
          'webhook-token': secrets.opsdroidWebhook,
          'command-center': { enabled: true, token: secrets.opsdroidCommandCenter },
        },
      },
      redball: { apiKeys: [secrets.redballKey], botsDir, autoRun: false, stopGraceMs: 200 },
      // A long-poll of the chat waits at most a second, so no fuzz input can hold the run.
      talk: { chat: { maxPollSeconds: 1 }, ...(options.talkMaxFailures ? { throttle: { maxFailures: options.talkMaxFailures } } : {}) },
      anope: { auth: { token: secrets.anopeToken } },
      owncast: { streamKey: secrets.owncastStreamKey, defaults: { name: `Owncast ${CANARY}` } },
    },
  });
  const logLines: string[] = [];
  const standalone = createStandalone(config, {
    logger: { level: 'info', destination: { write: (line: string) => void logLines.push(line) } },
    stopTimeoutMs: 3000,
  });
  let url: string;
  try {
    url = await standalone.start();
  } catch (err) {
    await db.drop();
    throw err;
  }
  const kernel = standalone.kernel;
  const owncast = kernel.context('owncast').container.resolve<Owncast>(OwncastTokens.Owncast);
  const opsdroidCtx = kernel.context('opsdroid');
  const close = async () => {
    await standalone.stop();
    await db.drop();
    fs.rmSync(botsDir, { recursive: true, force: true });
  };
  const sendTo = (input: Parameters<typeof send>[1]) => send(url, input);
  let seeds: Seeds;
  try {
    seeds = await seed(sendTo, kernel.context('talk').container.resolve<TalkApi>(TALK_API), secrets);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    kind,
    standalone,
    url,
    config,
    secrets,
    seeds,
    logLines,
    send: sendTo,
    async settle() {
      await opsdroidCtx.container.resolve<Opsdroid>(OPSDROID_RUNTIME).settled();
      await opsdroidCtx.container.resolve(StatsStore).flush();
    },
    async repair() {
      if (owncast.settings.streamKey() === secrets.owncastStreamKey) return false;
      await owncast.settings.update({ streamKey: secrets.owncastStreamKey });
      return true;
    },
    close,
  };
}

function expectStatus(res: Sent, status: number, what: string): Sent {
  if (res.status !== status) throw new Error(`seeding ${what}: expected ${status}, got ${res.status} ${res.text.slice(0, 300)}`);
  return res;
}

/** Creates data in every family through its own API (and Talk's programmatic bot install). */
export async function seed(sendTo: (input: Parameters<typeof send>[1]) => Promise<Sent>, talk: Pick<TalkApi, 'bots'>, secrets: Secrets): Promise<Seeds> {
  const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // Talk: alice (an administrator) owns a room; bob is a plain participant; carol is not in it.
  const ocs = (user: keyof Secrets['users']) => ({ authorization: basicAuth(user, secrets.users[user]), 'ocs-apirequest': 'true', accept: 'application/json' });
  const V1 = '/ocs/v2.php/apps/spreed/api/v1';
  const V4 = '/ocs/v2.php/apps/spreed/api/v4';
  const room = expectStatus(await sendTo({ method: 'POST', path: `${V4}/room`, headers: { ...ocs('alice'), 'content-type': 'application/json' }, body: JSON.stringify({ roomType: 2, roomName: `Room ${CANARY}` }) }), 201, 'talk room');
  const talkRoom = (room.json as any).ocs.data.token as string;
  expectStatus(await sendTo({ method: 'POST', path: `${V4}/room/${talkRoom}/participants`, headers: { ...ocs('alice'), 'content-type': 'application/json' }, body: JSON.stringify({ newParticipant: 'bob', source: 'users' }) }), 200, 'talk participant');
  const bot = await talk.bots.install({ name: 'Fuzz bot', secret: secrets.talkBotSecret, url: 'responseonly://reliability-bot', description: 'answers only', features: ['response', 'reaction'] });
  expectStatus(await sendTo({ method: 'POST', path: `${V1}/bot/${talkRoom}/${bot.id}`, headers: ocs('alice') }), 201, 'talk bot enable');
  const msg = expectStatus(await sendTo({ method: 'POST', path: `${V1}/chat/${talkRoom}`, headers: { ...ocs('alice'), 'content-type': 'application/json' }, body: JSON.stringify({ message: `hello ${CANARY}` }) }), 201, 'talk message');
  const talkMessageId = (msg.json as any).ocs.data.id as number;

  // redball: a bot type, an authorization, a bot with one setting.
  const rb = (p: string) => `/api/v1${p}?apikey=${encodeURIComponent(secrets.redballKey)}`;
  const type = expectStatus(await sendTo({ method: 'POST', path: rb('/bottypes'), ...json({ description: `Heartbeat ${CANARY}`, moduleName: 'heartbeat' }) }), 200, 'redball type');
  const redballTypeId = (type.json as any).response.botTypes[0].id as number;
  const auth = expectStatus(
    await sendTo({ method: 'POST', path: rb('/redditauths'), ...json({ description: `auth ${CANARY}`, reddit_appId: 'app-id', reddit_appSecret: 'reddit-app-secret-31f8', reddit_scopes: "['identity']" }) }),
    200,
    'redball auth',
  );
  const redballAuthId = (auth.json as any).response.redditAuths[0].id as number;
  const botRes = expectStatus(await sendTo({ method: 'POST', path: rb('/bots'), ...json({ name: `bot-${CANARY}`, botType: redballTypeId, autoRun: 'False', redditAuth: redballAuthId }) }), 200, 'redball bot');
  const redballBotId = (botRes.json as any).response.bots[0].id as number;
  expectStatus(await sendTo({ method: 'POST', path: rb(`/bots/${redballBotId}/config`), ...json({ Main: [{ key: 'greeting', val: CANARY, type: 'str', description: 'a greeting' }] }) }), 200, 'redball setting');
  const conf = expectStatus(await sendTo({ method: 'GET', path: rb(`/bots/${redballBotId}/config`) }), 200, 'redball config');
  const redballSettingId = (conf.json as any).response.bots[0].config.Main[0].id as number;

  // anope: an account and a nick referencing it.
  const anope = { authorization: `Bearer ${secrets.anopeToken}` };
  const account = expectStatus(await sendTo({ method: 'POST', path: '/rest/account', headers: anope, body: JSON.stringify({ display: CANARY, email: `${CANARY}@example.org` }) }), 201, 'anope account');
  const anopeAccountId = Number(account.text);
  const nick = expectStatus(await sendTo({ method: 'POST', path: '/rest/nick', headers: anope, body: JSON.stringify({ nick: `nick${CANARY}`, nc: `account:${anopeAccountId}` }) }), 201, 'anope nick');
  const anopeNickId = Number(nick.text);

  // Owncast: an integration token per scope, a chat message, a webhook.
  const admin = { authorization: basicAuth('admin', secrets.owncastStreamKey), 'content-type': 'application/json' };
  for (const scope of Object.keys(secrets.owncastTokens) as Array<keyof Secrets['owncastTokens']>) {
    const tok = expectStatus(await sendTo({ method: 'POST', path: '/api/admin/accesstokens/create', headers: admin, body: JSON.stringify({ name: `token ${scope}`, scopes: [scope] }) }), 200, 'owncast token');
    secrets.owncastTokens[scope] = (tok.json as any).token as string;
  }
  expectStatus(
    await sendTo({ method: 'POST', path: '/api/integrations/chat/user', headers: { authorization: `Bearer ${secrets.owncastTokens.CAN_SEND_MESSAGES}`, 'content-type': 'application/json' }, body: JSON.stringify({ user: 'viewer', body: `chat ${CANARY}` }) }),
    200,
    'owncast chat',
  );
  const history = expectStatus(await sendTo({ method: 'GET', path: '/api/admin/chat/messages', headers: admin }), 200, 'owncast history');
  const owncastMessageId = ((history.json as any[]).find((m) => String(m.body).includes(CANARY)) ?? (history.json as any[])[0])?.id as string;
  const hook = expectStatus(await sendTo({ method: 'POST', path: '/api/admin/webhooks/create', headers: admin, body: JSON.stringify({ url: 'https://hooks.invalid/owncast', events: ['STREAM_STARTED'] }) }), 200, 'owncast webhook');
  const owncastWebhookId = (hook.json as any).id as number;

  return { talkRoom, talkBotId: bot.id, talkMessageId, redballBotId, redballTypeId, redballAuthId, redballSettingId, anopeAccountId, anopeNickId, owncastMessageId, owncastWebhookId };
}
