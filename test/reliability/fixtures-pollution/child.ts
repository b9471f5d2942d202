/**
 * The standalone server exactly as users start it — `npm start` (the command of package.json's
 * `start` script: the esbuild bundle) or `switchboard start` (package.json's `bin`) — as a
 * child process with every family enabled, the secrets of {@link Secrets} and the seeds of
 * {@link seed}, and `probe.mjs` preloaded so the test can read the prototype state inside it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { npmStartArgs } from '../../helpers/start-script.js';
import { captureChild } from '../../../src/testing/log-capture.js';
import { createTestDatabase, type DatabaseKind } from '../../../src/testing/index.js';
import { send, type Sending, type Sent } from '../fixtures-a/http.js';
import { seed, type Secrets, type Seeds } from '../fixtures-a/standalone.js';
import type { PrototypeState } from './prototype-state.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'probe.mjs');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };

/** How the server is started. */
export type Entry = 'npm start' | 'switchboard start';

/** The node arguments (after node's own) of each entry, from package.json. */
export function entryArgs(entry: Entry): string[] {
  if (entry === 'switchboard start') return [path.join(ROOT, pkg.bin.switchboard), 'start'];
  return npmStartArgs(ROOT);
}

/** The files an entry needs (built by `npm run build`). */
export function missingBuild(entry: Entry): string | undefined {
  try {
    const file = entryArgs(entry).find((a) => a.startsWith(ROOT));
    return file && !fs.existsSync(file) ? file : undefined;
  } catch (err) {
    // npmStartArgs refuses a start script whose bundle is not built.
    return (err as Error).message;
  }
}

/** A running standalone child. */
export interface StandaloneChild {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Its secrets. */
  secrets: Secrets;
  /** What the seeding created (after {@link StandaloneChild.seed}). */
  seeds?: Seeds;
  /** Sends a raw request. */
  send(input: Sending): Promise<Sent>;
  /** The prototype state inside the child. */
  state(): Promise<PrototypeState>;
  /** Seeds every family through its API (Talk's bot through the `switchboard` command). */
  seed(): Promise<Seeds>;
  /** What it printed. */
  output(): string;
  /** Stops it (SIGTERM, then SIGKILL) and drops the database. */
  close(): Promise<void>;
}

const USERS = { alice: 'alice-password-pollution-1', bob: 'bob-password-pollution-22', carol: 'carol-password-pollution-3' } as const;

/** Starts the server through `entry` on a throwaway database of `kind`. */
export async function startChild(kind: DatabaseKind, entry: Entry): Promise<StandaloneChild> {
  const db = await createTestDatabase(kind);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-pollution-'));
  const secrets: Secrets = {
    users: { ...USERS },
    opsdroidCommandCenter: 'pollution-opsdroid-center-token-41a7',
    opsdroidWebhook: 'pollution-opsdroid-webhook-token-9c2e',
    redballKey: 'pollution-redball-key-0f3b8d21',
    anopeToken: 'pollution-anope-token-7e51c9a0',
    owncastStreamKey: 'pollution-owncast-stream-key-2b',
    talkBotSecret: 'pollution-talk-bot-secret-'.padEnd(64, 'p7'),
    owncastTokens: { HAS_ADMIN_ACCESS: '', CAN_SEND_MESSAGES: '', CAN_SEND_SYSTEM_MESSAGES: '' },
  };
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    database: { url: db.url },
    log: { level: 'warn' },
    users: [
      { id: 'alice', password: USERS.alice, displayName: 'Alice', admin: true },
      { id: 'bob', password: USERS.bob, displayName: 'Bob' },
      { id: 'carol', password: USERS.carol, displayName: 'Carol' },
    ],
    plugins: {
      opsdroid: { web: { 'webhook-token': secrets.opsdroidWebhook, 'command-center': { enabled: true, token: secrets.opsdroidCommandCenter } } },
      redball: { apiKeys: [secrets.redballKey], botsDir: path.join(dir, 'bots'), autoRun: false, stopGraceMs: 200 },
      talk: { chat: { maxPollSeconds: 1 }, throttle: { maxFailures: 1_000_000 } },
      anope: { auth: { token: secrets.anopeToken } },
      owncast: { streamKey: secrets.owncastStreamKey },
    },
  };
  fs.mkdirSync(path.join(dir, 'bots'));
  const configFile = path.join(dir, 'switchboard.config.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const env = { ...process.env, SWITCHBOARD_CONFIG: configFile, PORT: undefined, HOST: undefined, DATABASE_URL: undefined, NODE_OPTIONS: undefined };
  const proc: ChildProcess = spawn(process.execPath, ['--import', PROBE, ...entryArgs(entry)], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const capture = captureChild(env, 'pollution');
  if (capture) proc.once('close', () => capture.close());
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => {
    out += String(c);
    capture?.write(c);
  });
  proc.stderr!.on('data', (c: Buffer) => (out += String(c)));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const cleanup = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${entry} did not listen within 60 s: ${out}`)), 60_000);
      const check = () => {
        const m = /Switchboard listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      proc.stdout!.on('data', check);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${entry} exited before listening: ${out}`));
      });
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
  let next = 0;
  const child: StandaloneChild = {
    url,
    secrets,
    send: (input) => send(url, input),
    state: () =>
      new Promise<PrototypeState>((resolve, reject) => {
        const id = ++next;
        const timer = setTimeout(() => reject(new Error('the child did not answer the probe')), 10_000);
        const onMessage = (m: { type?: string; id?: number; state?: PrototypeState }) => {
          if (m?.type !== 'prototype-state' || m.id !== id) return;
          clearTimeout(timer);
          proc.off('message', onMessage);
          resolve(m.state!);
        };
        proc.on('message', onMessage);
        proc.send({ type: 'prototype-state', id });
      }),
    async seed() {
      const bots = {
        async install(spec: { name: string; secret: string; url: string; description?: string; features?: string[] }) {
          const cli = (args: string[]) => promisify(execFile)(process.execPath, [path.join(ROOT, pkg.bin.switchboard), ...args], { cwd: dir, env, timeout: 60_000 });
          await cli(['talk', 'bot:install', spec.name, spec.secret, spec.url, spec.description ?? '', ...(spec.features ?? []).flatMap((f) => ['-f', f])]);
          const listed = JSON.parse((await cli(['talk', 'bot:list', '--output', 'json'])).stdout) as Array<{ id: number; name: string }>;
          const bot = listed.find((b) => b.name === spec.name);
          if (!bot) throw new Error(`the installed bot is not listed: ${JSON.stringify(listed)}`);
          return bot;
        },
      };
      child.seeds = await seed((input) => send(url, input), { bots } as never, secrets);
      return child.seeds;
    },
    output: () => out,
    close: cleanup,
  };
  return child;
}
