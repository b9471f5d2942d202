/**
 * The standalone server as a child process with every plugin enabled and every secret set,
 * for the crash and concurrency tests: its config file, starting and killing it, and one
 * small client per family.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnTs, type Child } from '../../helpers/child.js';

/** The entry point `npm start` runs. */
export const MAIN = 'examples/standalone/main.ts';

/** Every secret the config sets (the secrets-hygiene check records them too). */
export const SECRETS = {
  adminPassword: 'crash-admin-password-5k2n',
  alicePassword: 'crash-alice-password-8q1z',
  anopeToken: 'crash-anope-token-0123456789abcdef',
  redballKey: 'crash-redball-key-0123456789abcdef',
  opsdroidWebhookToken: 'crash-opsdroid-webhook-token-9x8y7w',
  opsdroidCenterToken: 'crash-opsdroid-center-token-6v5u4t',
  owncastStreamKey: 'crash-owncast-stream-key-3s2r1q',
  talkBotSecret: 'crash-talk-bot-secret-'.padEnd(64, 'x'),
} as const;

/** A free TCP port on 127.0.0.1 (closed again at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Options of {@link writeConfig}. */
export interface ConfigOptions {
  /** The database URL. */
  databaseUrl: string;
  /** The standalone log level (default `info`, so that the log is real). */
  logLevel?: string;
  /** Overrides of the `webhooks` section. */
  webhooks?: Record<string, unknown>;
}

/** Writes the standalone config (JSON) with every plugin enabled and every secret set; returns its path. */
export function writeConfig(dir: string, options: ConfigOptions): string {
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    database: { url: options.databaseUrl },
    log: { level: options.logLevel ?? 'info' },
    users: [
      { id: 'admin', password: SECRETS.adminPassword, admin: true },
      { id: 'alice', password: SECRETS.alicePassword, displayName: 'Alice' },
    ],
    // Local receivers; quick attempts; a crashed instance's claims are taken over soon.
    webhooks: { allow: ['127.0.0.0/8'], timeoutMs: 1000, maxAttempts: 100, claimMarginMs: 500, ...options.webhooks },
    plugins: {
      anope: { auth: { token: SECRETS.anopeToken } },
      redball: { apiKeys: [SECRETS.redballKey], botsDir: path.join(dir, 'bots'), autoRun: false },
      opsdroid: {
        web: { 'webhook-token': SECRETS.opsdroidWebhookToken, 'command-center': { enabled: true, token: SECRETS.opsdroidCenterToken } },
      },
      talk: { delivery: { timeoutMs: 1000, maxAttempts: 100 }, cache: { ttlMs: 0 } },
      owncast: { streamKey: SECRETS.owncastStreamKey, refreshIntervalMs: 200 },
    },
  };
  const file = path.join(dir, 'switchboard.config.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** A running standalone child. */
export interface Server {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The child. */
  child: Child;
  /** Kills it with SIGKILL and waits until it is gone. */
  kill(): Promise<void>;
  /** Stops it with SIGTERM and waits (exit code). */
  stop(): Promise<number | string>;
}

/** Starts the standalone server on `configFile` in `cwd`; resolves once it listens. */
export async function startServer(configFile: string, cwd: string): Promise<Server> {
  const child = spawnTs(path.resolve(MAIN), [], { cwd, env: { SWITCHBOARD_CONFIG: configFile, PORT: undefined, HOST: undefined, DATABASE_URL: undefined } });
  let url: string;
  try {
    [, url] = await child.waitFor(/Switchboard listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
  } catch (err) {
    child.proc.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    child,
    kill: async () => {
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
      await child.exited;
    },
    stop: async () => {
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGTERM');
      return child.exited;
    },
  };
}

/** An answer: status and body text (parsed JSON when it is JSON). */
export interface Answer {
  status: number;
  text: string;
  json: any;
  headers: Headers;
}

/** Sends a request; never throws for HTTP errors (a network error rejects). */
export async function request(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Answer> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  let body = rest.body;
  if (json !== undefined) {
    body = JSON.stringify(json);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const res = await fetch(url, { ...rest, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, text, json: parsed, headers: res.headers };
}

/** HTTP Basic `Authorization` value. */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The OCS API v1 base of Talk. */
export const TALK_V1 = '/ocs/v2.php/apps/spreed/api/v1';
/** The OCS API v4 base of Talk. */
export const TALK_V4 = '/ocs/v2.php/apps/spreed/api/v4';

/** One client per family against a server at `base`, with the config's credentials. */
export function clients(base: () => string) {
  const ocsHeaders = (user: 'admin' | 'alice') => ({
    'OCS-APIRequest': 'true',
    Accept: 'application/json',
    Authorization: user === 'admin' ? basic('admin', SECRETS.adminPassword) : basic('alice', SECRETS.alicePassword),
  });
  return {
    anope: {
      create: (type: string, fields: Record<string, string>) =>
        request(`${base()}/rest/${type}`, { method: 'POST', headers: { authorization: `Bearer ${SECRETS.anopeToken}` }, json: fields }),
      put: (type: string, id: string | number, field: string, value: string) =>
        request(`${base()}/rest/${type}/${id}/${field}`, { method: 'PUT', headers: { authorization: `Bearer ${SECRETS.anopeToken}`, 'content-type': 'text/plain' }, body: value }),
      get: (type: string, id: string | number) => request(`${base()}/rest/${type}/${id}`, { headers: { authorization: `Bearer ${SECRETS.anopeToken}` } }),
      list: (type: string) => request(`${base()}/rest/${type}`, { headers: { authorization: `Bearer ${SECRETS.anopeToken}` } }),
    },
    redball: {
      call: (method: string, p: string, json?: unknown, form?: Record<string, string>) => {
        const url = `${base()}/api/v1${p}${p.includes('?') ? '&' : '?'}apikey=${encodeURIComponent(SECRETS.redballKey)}`;
        if (form) return request(url, { method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
        return request(url, { method, json });
      },
    },
    opsdroid: {
      patch: (type: string, name: string, config: Record<string, unknown>) =>
        request(`${base()}/${type}`, { method: 'PATCH', headers: { authorization: SECRETS.opsdroidCenterToken }, json: { module_type: type, module_name: name, config } }),
      get: (type: string) => request(`${base()}/${type}`, { headers: { authorization: SECRETS.opsdroidCenterToken } }),
      webhook: (skill: string, hook: string) =>
        request(`${base()}/skill/${skill}/${hook}`, { method: 'POST', headers: { authorization: `Bearer ${SECRETS.opsdroidWebhookToken}` } }),
      stats: () => request(`${base()}/stats/`),
    },
    talk: {
      createRoom: (name: string) => request(`${base()}${TALK_V4}/room`, { method: 'POST', headers: ocsHeaders('alice'), json: { roomType: 2, roomName: name } }),
      post: (token: string, message: string) => request(`${base()}${TALK_V1}/chat/${token}`, { method: 'POST', headers: ocsHeaders('alice'), json: { message } }),
      history: (token: string, lastKnownMessageId?: number) =>
        request(`${base()}${TALK_V1}/chat/${token}?lookIntoFuture=0&limit=200${lastKnownMessageId ? `&lastKnownMessageId=${lastKnownMessageId}` : ''}`, { headers: ocsHeaders('alice') }),
      enableBot: (token: string, botId: number) => request(`${base()}${TALK_V1}/bot/${token}/${botId}`, { method: 'POST', headers: ocsHeaders('alice') }),
      admin: () => request(`${base()}${TALK_V1}/bot/admin`, { headers: ocsHeaders('admin') }),
      react: (token: string, messageId: number, reaction: string, user: 'admin' | 'alice' = 'alice') =>
        request(`${base()}${TALK_V1}/reaction/${token}/${messageId}`, { method: 'POST', headers: ocsHeaders(user), json: { reaction } }),
    },
    owncast: {
      admin: (p: string, body?: unknown) =>
        request(`${base()}${p}`, body === undefined ? { headers: { authorization: basic('admin', SECRETS.owncastStreamKey) } } : { method: 'POST', headers: { authorization: basic('admin', SECRETS.owncastStreamKey) }, json: body }),
      integration: (token: string, p: string, body?: unknown) =>
        request(`${base()}${p}`, body === undefined ? { headers: { authorization: `Bearer ${token}` } } : { method: 'POST', headers: { authorization: `Bearer ${token}` }, json: body }),
    },
  };
}

/** The family clients' type. */
export type Clients = ReturnType<typeof clients>;

/** Reads every message of a Talk conversation (newest first, in pages of 200). */
export async function talkHistory(c: Clients, token: string): Promise<Array<{ id: number; message: string; actorType: string }>> {
  const out: Array<{ id: number; message: string; actorType: string }> = [];
  let last: number | undefined;
  for (;;) {
    const page = await c.talk.history(token, last);
    if (page.status === 304) break;
    if (page.status !== 200) throw new Error(`chat history answered ${page.status}: ${page.text}`);
    const data = page.json.ocs.data as Array<{ id: number; message: string; actorType: string }>;
    if (data.length === 0) break;
    out.push(...data);
    last = data[data.length - 1].id;
  }
  return out;
}
