/**
 * Crash durability: the standalone server (every plugin, every secret set) runs as a child
 * process on a SQLite file; a write storm across the families is cut by SIGKILL; after a
 * restart on the same file every acknowledged write is there and `PRAGMA integrity_check`
 * is ok. Then the same with webhook deliveries that could not be made before the crash:
 * after the restart, with the receivers up, every one of them arrives.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import knexFactory from 'knex';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { clients, freePort, SECRETS, startServer, talkHistory, writeConfig, type Clients, type Server } from './fixtures-b/standalone.js';
import { Ledger, writer, type StormTargets } from './fixtures-b/storm.js';
import { buildCli } from '../../examples/standalone/cli.js';

/** Writers running at once in the storm. */
const WRITERS = 12;
/** The storm is cut once this many writes are acknowledged (or after STORM_MAX_MS). */
const ACKS_BEFORE_KILL = 400;
const STORM_MAX_MS = 8000;

function tempDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-crash-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function integrityCheck(file: string): Promise<string> {
  const db = knexFactory({ client: 'sqlite3', connection: { filename: file }, useNullAsDefault: true });
  try {
    const rows = (await db.raw('PRAGMA integrity_check')) as Array<{ integrity_check: string }>;
    return rows.map((r) => r.integrity_check).join('\n');
  } finally {
    await db.destroy();
  }
}

/** Runs the CLI in-process against the config (as an operator would beside the running server). */
async function cli(configFile: string, ...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const result = { code: 0, out: [] as string[], err: [] as string[] };
  const program = buildCli(['node', 'switchboard', ...argv], {
    output: { out: (l) => void result.out.push(l), err: (l) => void result.err.push(l) },
    setExitCode: (c) => void (result.code = c),
    env: { SWITCHBOARD_CONFIG: configFile },
  });
  program.exitOverride();
  await program.parseAsync(argv, { from: 'user' });
  return result;
}

/** What the storm writes to, made before it starts (every step asserted). */
async function prepareTargets(t: Test, c: Clients, config: string, hooks: { talk: string; owncast: string }): Promise<StormTargets & { botId: number }> {
  const anopeAccounts: string[] = [];
  for (let w = 0; w < WRITERS; w++) {
    const a = await c.anope.create('account', { display: `writer-${w}`, email: `writer${w}@example.org` });
    t.equal(a.status, 201, `anope account of writer ${w}`);
    anopeAccounts.push(a.text.trim());
  }
  const redballBots: number[] = [];
  for (let b = 0; b < 3; b++) {
    const r = await c.redball.call('POST', '/bots', undefined, { name: `settings-bot-${b}`, botType: '1', autoRun: 'False' });
    t.equal(r.status, 200, `redball bot ${b}: ${r.text}`);
    redballBots.push(r.json.response.bots[0].id);
  }
  const room = await c.talk.createRoom('Crash room');
  t.equal(room.status, 201, `talk room: ${room.text}`);
  const talkRoom = room.json.ocs.data.token as string;
  // A Talk bot installed with the CLI beside the running server and enabled in the room:
  // every message of the storm owes it a webhook. Its receiver is down until after the crash.
  const installed = await cli(config, 'talk', 'bot:install', 'Crash bot', SECRETS.talkBotSecret, hooks.talk, 'Receives every message', '-f', 'webhook');
  t.equal(installed.code, 0, `talk bot:install: ${installed.err.join(' ')}`);
  const botId = Number(/ID: (\d+)/.exec(installed.out.join('\n'))?.[1]);
  const enabled = await c.talk.enableBot(talkRoom, botId);
  t.equal(enabled.status, 201, `talk bot enabled in the room: ${enabled.text}`);
  // An Owncast webhook for chat (its receiver is down too), and a token to chat with.
  const hook = await c.owncast.admin('/api/admin/webhooks/create', { url: hooks.owncast, events: ['CHAT'] });
  t.equal(hook.status, 200, `owncast webhook: ${hook.text}`);
  const token = await c.owncast.admin('/api/admin/accesstokens/create', { name: 'crash bot', scopes: ['CAN_SEND_MESSAGES'] });
  t.equal(token.status, 200, 'owncast access token created'); // its answer holds the token: not printed
  return { anopeAccounts, redballBots, talkRoom, owncastToken: token.json?.token, botId };
}

/** Runs the storm until `kill` is due, then kills the server; resolves when every writer has stopped. */
async function stormAndKill(c: Clients, ledger: Ledger, targets: StormTargets, server: Server): Promise<void> {
  let killing = false;
  let killed = false;
  const started = Date.now();
  const writers = Array.from({ length: WRITERS }, async (_, w) => {
    const step = writer(c, ledger, targets, w);
    while (!killed) {
      try {
        await step();
      } catch (err) {
        // Cut by the kill, this write's fate stays unknown; before the kill, it is a failure.
        if (!killing) ledger.refused.push({ kind: `writer ${w}`, place: '', value: '', fate: 'refused', body: (err as Error).message });
        return;
      }
    }
  });
  while (ledger.acked < ACKS_BEFORE_KILL && Date.now() - started < STORM_MAX_MS) await new Promise((r) => setTimeout(r, 5));
  killing = true;
  await server.kill();
  killed = true;
  await Promise.all(writers);
}

/** Checks every acknowledged write against the restarted server; returns how many were found. */
async function verify(t: Test, c: Clients, ledger: Ledger, talkRoom: string): Promise<number> {
  let found = 0;
  const problems: string[] = [];
  const acked = ledger.created.filter((e) => e.fate === 'acked');
  const talk = new Map((await talkHistory(c, talkRoom)).map((m) => [String(m.id), m.message]));
  const owncastChat = await c.owncast.admin('/api/admin/chat/messages');
  // Exact texts (a tag such as w1-1 must not be found inside w1-10): the rendered HTML without its tags.
  const owncastTexts = new Set(owncastChat.status === 200 ? (owncastChat.json as Array<{ body: string }>).map((m) => m.body.replace(/<[^>]*>/g, '').trim()) : []);
  const redballConfigs = new Map<string, any>();
  for (const e of acked) {
    let ok = false;
    switch (e.kind) {
      case 'anope account': {
        const got = await c.anope.get('account', e.key);
        ok = got.status === 200 && got.json?.display === e.value;
        break;
      }
      case 'redball bot': {
        const got = await c.redball.call('GET', `/bots/${e.key}`);
        ok = got.status === 200 && got.json.response.bots[0].name === e.value;
        break;
      }
      case 'redball setting': {
        const [bot, category, key] = e.key.split('/');
        if (!redballConfigs.has(bot)) redballConfigs.set(bot, (await c.redball.call('GET', `/bots/${bot}/config`)).json?.response?.bots?.[0]?.config);
        const setting = (redballConfigs.get(bot)?.[category] as Array<{ key: string; val: unknown }> | undefined)?.find((s) => s.key === key);
        ok = setting !== undefined && String(setting.val) === e.value;
        break;
      }
      case 'talk message':
        ok = talk.get(e.key) === e.value;
        break;
      case 'owncast chat message':
        ok = owncastTexts.has(e.value);
        break;
    }
    if (ok) found++;
    else problems.push(`${e.kind} ${e.key || e.value} (acknowledged with ${e.status}) is missing`);
  }
  // Places written in sequence: the final value is the last acknowledged write's, or a later one's that was cut.
  const skills = (await c.opsdroid.get('skills')).json;
  const serverConfig = await c.owncast.admin('/api/admin/serverconfig');
  for (const place of ledger.sets.keys()) {
    let final: string | undefined;
    const [family, ...rest] = place.split(':');
    if (family === 'anope') {
      const [, id] = rest;
      final = (await c.anope.get('account', id)).json?.email;
    } else if (family === 'opsdroid') {
      const value = skills?.hello?.[rest[2]];
      final = value === undefined ? undefined : String(value);
    } else if (family === 'owncast') {
      final = serverConfig.json?.instanceDetails?.streamTitle;
    }
    const check = ledger.checkPlace(place, final);
    found += check.found;
    if (check.problem) problems.push(check.problem);
  }
  t.same(problems, [], 'every acknowledged write is there after the crash');
  return found;
}

interface Delivery {
  id: string;
  body: any;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
}

/** The requests a receiver got, one per `X-Switchboard-Delivery` (a cut attempt may repeat). */
function distinct(receiver: Receiver): Map<string, Delivery> {
  const out = new Map<string, Delivery>();
  for (const r of receiver.received) {
    const id = String(r.headers['x-switchboard-delivery']);
    if (!out.has(id)) out.set(id, { id, body: JSON.parse(r.body.toString('utf8')), headers: r.headers, raw: r.body });
  }
  return out;
}

t.test('SIGKILL in the middle of a write storm (standalone server, SQLite file)', async (t) => {
  const dir = tempDir(t);
  const dbFile = path.join(dir, 'switchboard.db');
  const config = writeConfig(dir, { databaseUrl: `sqlite:${dbFile}` });
  const talkPort = await freePort();
  const owncastPort = await freePort();
  let server = await startServer(config, dir);
  t.teardown(() => server.kill());
  const c = clients(() => server.url);

  const targets = await prepareTargets(t, c, config, { talk: `http://127.0.0.1:${talkPort}/talk`, owncast: `http://127.0.0.1:${owncastPort}/owncast` });
  const ledger = new Ledger();
  await stormAndKill(c, ledger, targets, server);
  t.equal(server.child.proc.signalCode, 'SIGKILL', 'the server was killed, not stopped');
  t.same(ledger.refused.map((e) => `${e.kind} ${e.status}: ${e.body}`), [], 'no write was refused during the storm');
  t.ok(ledger.acked >= 100, `the storm got going before the kill (${ledger.acked} acknowledged)`);
  t.equal(await integrityCheck(dbFile), 'ok', 'PRAGMA integrity_check after the crash');

  // The webhook receivers come up, then the server, on the same file.
  const talkReceiver = await startReceiver(() => ({ status: 200 }), talkPort);
  const owncastReceiver = await startReceiver(() => ({ status: 200 }), owncastPort);
  t.teardown(() => talkReceiver.close());
  t.teardown(() => owncastReceiver.close());
  server = await startServer(config, dir);

  await t.test('every acknowledged write is there', async (t) => {
    const found = await verify(t, c, ledger, targets.talkRoom);
    t.comment(`writes acknowledged: ${ledger.acked}, found after the crash: ${found} (${ledger.byKind()})`);
    t.equal(found, ledger.acked, 'found after the crash = acknowledged');
  });

  await t.test('every webhook owed when the server died is delivered after the restart', async (t) => {
    const talkAcked = new Map(ledger.created.filter((e) => e.kind === 'talk message' && e.fate === 'acked').map((e) => [e.key, e.value]));
    const owncastAcked = ledger.created.filter((e) => e.kind === 'owncast chat message' && e.fate === 'acked').map((e) => e.value);
    t.ok(talkAcked.size > 10 && owncastAcked.length > 10, `messages that owe a webhook: talk ${talkAcked.size}, owncast ${owncastAcked.length}`);
    const talkCreates = () => [...distinct(talkReceiver).values()].filter((d) => d.body.type === 'Create');
    const missing = () => {
      const talk = new Map(talkCreates().map((d) => [String(d.body.object.id), JSON.parse(d.body.object.content).message as string]));
      const owncast = new Set([...distinct(owncastReceiver).values()].filter((d) => d.body.type === 'CHAT').map((d) => String(d.body.eventData.rawBody ?? d.body.eventData.body)));
      return {
        talk: [...talkAcked].filter(([id, text]) => talk.get(id) !== text).map(([id]) => id),
        owncast: owncastAcked.filter((text) => !owncast.has(text)),
      };
    };
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const m = missing();
      if (m.talk.length === 0 && m.owncast.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.same(missing(), { talk: [], owncast: [] }, 'every acknowledged message reached its receiver, with its text');

    // Talk's deliveries are signed with the bot's secret over the exact bytes; the Join came too.
    const badSignatures = talkCreates().filter((d) => {
      const random = String(d.headers['x-nextcloud-talk-random']);
      const expected = crypto.createHmac('sha256', SECRETS.talkBotSecret).update(random).update(d.raw).digest('hex');
      return d.headers['x-nextcloud-talk-signature'] !== expected;
    });
    t.equal(badSignatures.length, 0, 'every Talk delivery is signed with the bot secret');
    t.ok([...distinct(talkReceiver).values()].some((d) => d.body.type === 'Join'), 'the Join owed from before the storm arrived');
    const repeated = talkReceiver.received.length + owncastReceiver.received.length - distinct(talkReceiver).size - distinct(owncastReceiver).size;
    t.comment(`webhooks owed at the kill, delivered after the restart: talk ${talkAcked.size}, owncast ${owncastAcked.length}; repeated attempts: ${repeated}`);
    t.ok(repeated <= 2, `only an attempt cut by the kill may arrive twice (${repeated} repeated)`);
    const bot = (await c.talk.admin()).json.ocs.data.find((b: { id: number }) => b.id === targets.botId);
    t.ok(bot?.error_count > 0, `the failed attempts before the crash were counted (error_count ${bot?.error_count})`);
  });

  t.equal(await server.stop(), 0, 'the restarted server stops cleanly');
  t.equal(await integrityCheck(dbFile), 'ok', 'PRAGMA integrity_check after the restart');
});
