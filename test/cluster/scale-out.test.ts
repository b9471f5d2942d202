/**
 * Scale-out: two standalone servers (`examples/standalone/main.ts` in child processes) on one
 * throwaway PostgreSQL behave as one server. Requests alternate between them:
 *
 * - migrations ran once; both answer `/healthz` and `/readyz`;
 * - cluster-wide events and caches: a change made on one instance is seen on the other at
 *   once (talk's listing cache, redball's bot list and API keys, anope's tokens, opsdroid's
 *   module configuration, also changes made by the CLI); caches are configured to live far
 *   longer than the test waits, so only the cluster events can explain what is seen;
 * - figures: opsdroid `/stats/` counts the requests of both instances;
 * - exactly-once ownership: each redball bot runs on exactly one instance (an autoRun bot
 *   started by both instances at once too), a start or stop on the other instance acts on
 *   it there; outbox deliveries are claimed by both instances, and each is delivered once;
 *   crontab skills of opsdroid fire once per scheduled time across two kernels;
 * - failover: one instance is killed (SIGKILL) while it runs bots and holds deliveries in
 *   flight; the other takes the bots over once their lease ran out and delivers what the dead
 *   one held once its claim ran out;
 * - Owncast: chat reaches the websockets of both instances, viewer counts and clients are
 *   the cluster's, settings changed on one are seen on the other.
 *
 * It needs PostgreSQL (`PG_URL`): SQLite is single-instance by design, so there is nothing to
 * run without it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { WebSocket } from 'ws';
import { Kernel, openDatabase } from '../../src/index.js';
import { createTestDatabase, postgresServerUrl } from '../../src/testing/index.js';
import { enabledPlugins } from '../../examples/standalone/app.js';
import { buildCli } from '../../examples/standalone/cli.js';
import { loadStandaloneConfig } from '../../examples/standalone/config.js';
import { bundledPlugins } from '../../examples/standalone/plugins.js';
import { ApiKeyStore, BotStore, BotTypeStore } from '../../plugins/redball/index.js';
import { createOpsdroidPlugin, defineSkill, matchCrontab } from '../../plugins/opsdroid/index.js';
import { spawnTs, type Child } from '../helpers/child.js';
import { startReceiver, type Received } from '../helpers/receiver.js';

const REDBALL_KEY = 'cluster-test-key-0123456789';
const CC_TOKEN = 'command-center-token-0123456789';
const STREAM_KEY = 'owncast-admin-key';
const LEASE_MS = 2000;
const CLAIM_TIMEOUT_MS = 1500;
const CLAIM_MARGIN_MS = 1000;
const PRESENCE_TTL_MS = 2000;

/** A chat websocket client of Owncast, collecting the frames it receives. */
async function chatClient(base: string): Promise<{ ws: WebSocket; frames: Array<Record<string, unknown>> }> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/entry`);
  const frames: Array<Record<string, unknown>> = [];
  // A message can carry several frames, one per line (as Owncast batches them).
  ws.on('message', (data) => {
    for (const line of String(data).split('\n')) if (line.trim()) frames.push(JSON.parse(line));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames };
}

/** Polls `probe` until it returns something other than undefined (or fails after `ms`). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000, every = 25): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

if (!postgresServerUrl()) {
  t.plan(0, 'scale-out needs PostgreSQL (PG_URL): SQLite is single-instance by design');
} else {
  t.test('two standalone servers on one PostgreSQL behave as one', async (t) => {
    const started = Date.now();
    const db = await createTestDatabase('postgres');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-cluster-'));
    const botsDir = path.join(dir, 'bots');
    fs.mkdirSync(botsDir);
    // A bot that leaves a trace of the process running it, every 100 ms.
    fs.writeFileSync(
      path.join(botsDir, 'beacon.mjs'),
      `import fs from 'node:fs';
       export async function run({ signal, bot, sleep, publishState }) {
         let n = 0;
         while (!signal.aborted) {
           n += 1;
           fs.appendFileSync(${JSON.stringify(dir)} + '/beacon-' + bot.id + '.log', process.pid + ' ' + Date.now() + '\\n');
           publishState({ summary: { text: 'beat ' + n, html: '', markdown: '' }, pid: process.pid, n });
           await sleep(100);
         }
       }`,
    );
    const configFile = path.join(dir, 'switchboard.yaml');
    fs.writeFileSync(
      configFile,
      YAML.stringify({
        server: { host: '127.0.0.1', port: 0 },
        database: { url: db.url },
        log: { level: 'info' },
        users: [
          { id: 'admin', password: 'admin-secret-1', admin: true },
          { id: 'alice', password: 'alice-secret-1', displayName: 'Alice' },
        ],
        webhooks: { allow: ['127.0.0.0/8'], timeoutMs: CLAIM_TIMEOUT_MS, claimMarginMs: CLAIM_MARGIN_MS, concurrency: 4 },
        plugins: {
          redball: { apiKeys: [REDBALL_KEY], botsDir, leaseMs: LEASE_MS, stopGraceMs: 300, apiKeyCacheMs: 60_000 },
          opsdroid: { web: { 'command-center': { enabled: true, token: CC_TOKEN } } },
          // Caches far longer-lived than the test's waits: only cluster events can refresh them.
          talk: { cache: { ttlMs: 60_000 }, delivery: { maxAttempts: 10 } },
          anope: {},
          // The periodic re-read of shared state is a minute away: only cluster events can explain what is seen.
          owncast: { streamKey: STREAM_KEY, refreshIntervalMs: 60_000, chat: { presenceTtlMs: PRESENCE_TTL_MS } },
        },
      }),
    );
    const env = { SWITCHBOARD_CONFIG: configFile, DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1' };
    const receiver = await startReceiver();
    const children: Child[] = [];
    let admin: Kernel | undefined;
    t.teardown(async () => {
      for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      await admin?.stop();
      await receiver.close();
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    // `switchboard migrate` once, as a deployment would before starting its instances, through
    // an in-process kernel prepared for CLI work (it also serves the quick admin changes below).
    const { config } = loadStandaloneConfig(env, configFile);
    admin = new Kernel({ database: db.url, logger: { level: 'silent' }, plugins: enabledPlugins(config, bundledPlugins), outbox: config.webhooks });
    await admin.prepare('cli');
    const redballAdmin = admin.context('redball').container;
    const beaconType = await redballAdmin.resolve(BotTypeStore).create({ description: 'Beacon', moduleName: 'beacon' });
    const autoBot = await redballAdmin.resolve(BotStore).create({ name: 'auto', botType: beaconType, autoRun: true, redditAuth: null });

    // Meanwhile, in this process: two kernels on another database with a crontab skill
    // firing every second.
    const cronRun = (async () => {
      const cronDb = await createTestDatabase('postgres');
      const fired = { a: [] as string[], b: [] as string[], claims: 0 };
      const kernels = (['a', 'b'] as const).map((name) => {
        const tick = defineSkill({ name: 'tick', matchers: [matchCrontab('* * * * * *', (_bot, _config, e) => void fired[name].push((e as { scheduledAt: Date }).scheduledAt.toISOString()))] });
        const plugin = createOpsdroidPlugin({ skills: [tick], bundledSkills: false });
        return new Kernel({ database: cronDb.url, logger: { level: 'silent' }, plugins: [{ plugin, config: { skills: { tick: {} } } }] });
      });
      try {
        await Promise.all(kernels.map((k) => k.start()));
        await new Promise((r) => setTimeout(r, 3500));
        for (const k of kernels) await k.stop();
        const cronKnex = openDatabase(cronDb.url).knex;
        try {
          fired.claims = Number(((await cronKnex('swb_leases').where('name', 'like', 'once:opsdroid:cron:tick:%').count({ n: '*' }))[0] as { n: string }).n);
        } finally {
          await cronKnex.destroy();
        }
        return fired;
      } finally {
        for (const k of kernels) await k.stop();
        await cronDb.drop();
      }
    })();
    cronRun.catch(() => undefined);

    // Both instances start at the same moment.
    const spawn = () => {
      const child = spawnTs('examples/standalone/main.ts', [], { env });
      children.push(child);
      return child;
    };
    const [childA, childB] = [spawn(), spawn()];
    const [urlA, urlB] = await Promise.all([childA, childB].map(async (c) => (await c.waitFor(/Switchboard listening on (http:\/\/\S+)/, 60_000))[1]));
    t.comment(`two instances up in ${Date.now() - started} ms`);
    const knex = openDatabase(db.url).knex;
    t.teardown(() => knex.destroy());
    const instanceOf = async (child: Child): Promise<string> =>
      eventually('the instance id', async () => {
        const rows = (await knex('redball_instances').select('instance_id')) as Array<{ instance_id: string }>;
        return rows.find((r) => r.instance_id.includes(`-${child.proc.pid}-`))?.instance_id;
      });
    const [idA, idB] = [await instanceOf(childA), await instanceOf(childB)];
    const pidOf: Record<string, number> = { [idA]: childA.proc.pid!, [idB]: childB.proc.pid! };

    // ------------------------------------------------------------------ helpers
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const ALICE = basic('alice', 'alice-secret-1');
    const ADMIN = basic('admin', 'admin-secret-1');
    const get = async (base: string, p: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}${p}`, { headers });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text };
    };
    const send = async (base: string, method: string, p: string, body: unknown, headers: Record<string, string> = {}) => {
      const form = body instanceof URLSearchParams;
      const res = await fetch(`${base}${p}`, {
        method,
        headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
        body: body === undefined ? undefined : form ? body.toString() : JSON.stringify(body),
      });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text };
    };
    const redball = (base: string, method: string, p: string, form?: Record<string, string>) =>
      method === 'GET' ? get(base, `/api/v1${p}?apikey=${REDBALL_KEY}`) : send(base, method, `/api/v1${p}?apikey=${REDBALL_KEY}`, new URLSearchParams(form ?? {}));
    const botStatus = async (base: string, id: number) => (await redball(base, 'GET', `/bots/${id}`)).json.response.bots[0].status as string;
    const OCS = '/ocs/v2.php/apps/spreed/api';
    const ocsHeaders = (auth: string) => ({ 'OCS-APIRequest': 'true', Accept: 'application/json', Authorization: auth });
    const cli = async (...argv: string[]) => {
      const lines: string[] = [];
      let code = 0;
      const program = buildCli(argv, { output: { out: (l) => void lines.push(l), err: (l) => void lines.push(l) }, setExitCode: (c) => (code = c), env });
      await program.parseAsync(argv, { from: 'user' });
      return { code, out: lines.join('\n') };
    };
    const beacon = (botId: number) => {
      const file = path.join(dir, `beacon-${botId}.log`);
      const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
      return lines.map((l) => ({ pid: Number(l.split(' ')[0]), at: Number(l.split(' ')[1]) }));
    };
    /** The processes that wrote a bot's trace since `since`, in order of first appearance. */
    const writers = (botId: number, since = 0) => [...new Set(beacon(botId).filter((b) => b.at >= since).map((b) => b.pid))];
    const runOf = async (botId: number) => (await knex('redball_bot_runs').where({ bot_id: botId }).first('status', 'instance_id')) as { status: string; instance_id: string };

    // ------------------------------------------------------------------ checks
    t.test('health, readiness and migrations that ran once', async (t) => {
      for (const base of [urlA, urlB]) {
        t.same((await get(base, '/healthz')).json, { status: 'ok' });
        const ready = await get(base, '/readyz');
        t.same([ready.status, ready.json], [200, { status: 'ready' }], `${base} is ready`);
      }
      for (const table of ['swb_migrations', 'redball_migrations', 'talk_migrations', 'opsdroid_migrations', 'anope_migrations', 'owncast_migrations']) {
        const rows = (await knex(table).select('name')) as Array<{ name: string }>;
        t.ok(rows.length > 0, `${table} has migrations`);
        t.equal(new Set(rows.map((r) => r.name)).size, rows.length, `${table}: each migration recorded once`);
      }
    });

    t.test('redball: an autoRun bot started by both instances at once runs on exactly one', async (t) => {
      await eventually('the autoRun bot to run', async () => ((await botStatus(urlA, autoBot)) === 'Running' && beacon(autoBot).length >= 3 ? true : undefined));
      const holder = (await runOf(autoBot)).instance_id;
      t.ok([idA, idB].includes(holder), 'one of the two runs it');
      t.equal(await botStatus(urlB, autoBot), 'Running', 'both instances say Running');
      t.same(writers(autoBot), [pidOf[holder]], 'only that instance ever ran it');
      const leases = (await knex('swb_leases').where('name', `redball:bot:${autoBot}`).select('holder')) as Array<{ holder: string }>;
      t.same(leases.map((l) => l.holder), [holder], 'one lease row, held by it');
      // Stopped from the other instance: the holder stops it.
      const other = holder === idA ? urlB : urlA;
      const stop = await redball(other, 'PUT', `/bots/${autoBot}/stop`);
      t.same(stop.json.response, { result: true }, 'a stop on the other instance');
      t.equal(await botStatus(holder === idA ? urlA : urlB, autoBot), 'Stopped', 'is seen by the holder at once');
      const quiet = Date.now() + 300;
      await new Promise((r) => setTimeout(r, 500));
      t.same(writers(autoBot, quiet), [], 'and the bot no longer runs anywhere');
    });

    const bots: number[] = [];
    t.test('redball: bots run on one instance; status, starts and stops act across the cluster', async (t) => {
      for (const [i, base] of [urlA, urlB].entries()) {
        const created = await redball(base, 'POST', '/bots', { name: `beacon-${i}`, botType: String(beaconType), autoRun: 'False' });
        t.equal(created.status, 200);
        bots.push(created.json.response.bots[0].id);
      }
      const listB = (await redball(urlB, 'GET', '/bots')).json.response.bots as Array<{ id: number; status: string }>;
      t.same(listB.filter((b) => bots.includes(b.id)).map((b) => b.status), ['Stopped', 'Stopped'], 'B lists both (and caches the list)');
      // Both bots start on A.
      for (const id of bots) t.same((await redball(urlA, 'PUT', `/bots/${id}/start`)).json.response, { result: true });
      const afterStart = (await redball(urlB, 'GET', '/bots')).json.response.bots as Array<{ id: number; status: string }>;
      t.same(afterStart.filter((b) => bots.includes(b.id)).map((b) => b.status), ['Running', 'Running'], "B's cached list is refreshed at once: Running");
      for (const id of bots) t.same(await runOf(id), { status: 'running', instance_id: idA }, `bot ${id} runs on A`);
      // A start on B of a bot running on A answers true and starts nothing more.
      t.same((await redball(urlB, 'PUT', `/bots/${bots[0]}/start`)).json.response, { result: true }, 'start on B: already running');
      await eventually('a few beats', async () => (bots.every((id) => beacon(id).length >= 5) ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      for (const id of bots) t.same(writers(id), [childA.proc.pid], `bot ${id}: only A runs it`);
      // A rename on A is in B's list at once (its bot list is cached until a change).
      t.equal((await redball(urlA, 'PUT', `/bots/${bots[1]}`, { name: 'renamed-on-a' })).status, 200);
      const renamed = (await redball(urlB, 'GET', '/bots')).json.response.bots.find((b: { id: number }) => b.id === bots[1]);
      t.equal(renamed.name, 'renamed-on-a', "B's list shows the new name");
    });

    t.test('redball API keys and anope tokens: a revocation is refused on both instances at once', async (t) => {
      const keys = redballAdmin.resolve(ApiKeyStore);
      const { id, key } = await keys.create('cluster');
      const withKey = (base: string) => get(base, `/api/v1/bots?apikey=${key}`);
      await eventually('the new key to work on both', async () => ((await withKey(urlA)).status === 200 && (await withKey(urlB)).status === 200 ? true : undefined), 3000);
      // Both instances now cache the key list for a minute; the revocation must not wait for that.
      const revokedAt = Date.now();
      await keys.revoke(id);
      await eventually('both instances to refuse it', async () => ((await withKey(urlA)).status === 401 && (await withKey(urlB)).status === 401 ? true : undefined), 5000, 5);
      t.comment(`redball key refused on both ${Date.now() - revokedAt} ms after the revocation (the key cache lives 60 s)`);

      const created = await cli('anope', 'token', 'create', '--label', 'cluster');
      t.equal(created.code, 0);
      const token = created.out.split('\n')[0];
      const anope = (base: string) => get(base, '/rest/types', { Authorization: `Bearer ${token}` });
      t.same([(await anope(urlA)).status, (await anope(urlB)).status], [200, 200], 'a token created by the CLI works on both');
      const tokenId = ((await knex('anope_tokens').select('id').orderBy('id', 'desc').first()) as { id: number }).id;
      const revoked = await cli('anope', 'token', 'revoke', String(tokenId));
      t.equal(revoked.code, 0, 'revoked by the CLI (another kernel)');
      const before = Date.now();
      await eventually('both instances to refuse the token', async () => ((await anope(urlA)).status === 401 && (await anope(urlB)).status === 401 ? true : undefined), 4000, 5);
      t.comment(`anope token refused on both ${Date.now() - before} ms after the CLI returned (verified tokens are cached 5000 ms)`);
    });

    t.test('opsdroid: module changes apply on every instance; /stats/ sums both', async (t) => {
      const cc = { Authorization: CC_TOKEN };
      t.equal((await get(urlB, '/skills', cc)).json.hello.enabled, true, 'B: hello is enabled (and its view cached)');
      const patched = await send(urlA, 'PATCH', '/skills', { module_type: 'skills', module_name: 'hello', config: { enabled: false } }, cc);
      t.equal(patched.status, 204, 'disabled on A');
      await eventually('B to show hello disabled', async () => ((await get(urlB, '/skills', cc)).json.hello.enabled === false ? true : undefined), 2000, 5);
      const reset = await cli('opsdroid', 'reset', 'skills', 'hello');
      t.equal(reset.code, 0, 'the CLI forgets the change');
      for (const base of [urlA, urlB]) {
        await eventually(`${base} to show hello enabled again`, async () => ((await get(base, '/skills', cc)).json.hello.enabled === true ? true : undefined), 2000, 5);
      }
      const stats = async (base: string) => (await get(base, '/stats/')).json.messages.webhooks_called as number;
      const base0 = await stats(urlA);
      for (let i = 0; i < 5; i++) t.equal((await send(i % 2 ? urlB : urlA, 'POST', '/skill/dance/party', {})).status, 200);
      for (const base of [urlA, urlB]) {
        const n = await eventually(`${base}'s /stats/ to count all five`, async () => {
          const v = await stats(base);
          return v === base0 + 5 ? v : undefined;
        });
        t.equal(n, base0 + 5, `${base === urlA ? 'A' : 'B'} reports the sum of both instances`);
      }
      const rows = (await knex('opsdroid_stats').select('instance_id')) as Array<{ instance_id: string }>;
      t.same(rows.map((r) => r.instance_id).sort(), [idA, idB].sort(), 'one stats row per instance');
    });

    // Talk: a bot installed by the CLI, enabled on B in a conversation made on A.
    const secret = crypto.randomBytes(32).toString('hex');
    const answered = new Map<string, number>();
    let talkBotId = 0;
    let room = '';
    const lanes: number[] = [];
    const messageOf = (r: Received) => {
      const activity = JSON.parse(r.body.toString('utf8'));
      return activity.type === 'Create' ? (JSON.parse(activity.object.content).message as string) : `${activity.type}`;
    };
    const signatureOk = (r: Received) =>
      crypto.createHmac('sha256', secret).update(String(r.headers['x-nextcloud-talk-random'])).update(r.body).digest('hex') === r.headers['x-nextcloud-talk-signature'];

    t.test('talk: listing cache and bot deliveries across instances, each delivered once', async (t) => {
      receiver.behave((r) => {
        answered.set(String(r.headers['x-switchboard-delivery']), (answered.get(String(r.headers['x-switchboard-delivery'])) ?? 0) + 1);
        return { status: 200 };
      });
      const installed = await cli('talk', 'bot:install', 'Echo', secret, receiver.url, 'cluster bot');
      t.equal(installed.code, 0, installed.out);
      talkBotId = Number(/ID: (\d+)/.exec(installed.out)?.[1]);
      const created = await send(urlA, 'POST', `${OCS}/v4/room`, new URLSearchParams({ roomType: '2', roomName: 'Cluster' }), ocsHeaders(ALICE));
      t.equal(created.status, 201, 'a conversation made on A');
      room = created.json.ocs.data.token;
      const listing = async (base: string) => (await get(base, `${OCS}/v1/bot/${room}`, ocsHeaders(ALICE))).json.ocs.data as Array<{ id: number; state: number }>;
      t.same((await listing(urlA)).map((b) => b.state), [0], 'A lists the bot, disabled (and caches it)');
      t.same((await listing(urlB)).map((b) => b.state), [0], 'B too');
      const enabled = await send(urlB, 'POST', `${OCS}/v1/bot/${room}/${talkBotId}`, undefined, ocsHeaders(ALICE));
      t.equal(enabled.status, 201, 'enabled on B');
      await eventually("A's cached listing to show it enabled", async () => ((await listing(urlA))[0].state === 1 ? true : undefined), 2000, 5);
      await receiver.waitFor(1);
      t.equal(messageOf(receiver.received[0]), 'Join', 'the bot got its Join');

      const texts = [...Array(12)].map((_, i) => `message ${i}`);
      for (const [i, text] of texts.entries()) {
        const posted = await send(i % 2 ? urlB : urlA, 'POST', `${OCS}/v1/chat/${room}`, new URLSearchParams({ message: text }), ocsHeaders(ALICE));
        t.equal(posted.status, 201);
      }
      await receiver.waitFor(1 + texts.length);
      await new Promise((r) => setTimeout(r, 300));
      const got = receiver.received.slice(1).map(messageOf);
      t.same(got, texts, 'every message reached the bot once, in order, whichever instance took it');
      t.ok(receiver.received.every(signatureOk), 'every delivery signed with the secret the CLI installed');
      t.ok([...answered.values()].every((n) => n === 1), 'no delivery was made twice');
      const bot = (await get(urlB, `${OCS}/v1/bot/admin`, ocsHeaders(ADMIN))).json.ocs.data.find((b: { id: number }) => b.id === talkBotId);
      t.equal(bot.error_count, 0, 'no attempt failed');

      // Six more bots, installed and set up by the CLI: their Joins are enqueued by the CLI's
      // kernel, so neither server has seen these bots when it claims their deliveries.
      const secrets = new Map<string, string>();
      const joined = receiver.received.length;
      for (let i = 0; i < 6; i++) {
        const s = crypto.randomBytes(32).toString('hex');
        const out = await cli('talk', 'bot:install', `Lane ${i}`, s, `${receiver.url}?lane=${i}`, 'lane', '--no-setup');
        t.equal(out.code, 0);
        const id = Number(/ID: (\d+)/.exec(out.out)?.[1]);
        lanes.push(id);
        secrets.set(String(i), s);
        t.equal((await cli('talk', 'bot:setup', String(id), room)).code, 0);
      }
      await receiver.waitFor(joined + 6);
      const joins = receiver.received.slice(joined);
      t.same(joins.map(messageOf), Array(6).fill('Join'), 'each lane bot got its Join');
      t.ok(joins.every((r) => [...secrets.values()].some((s) => crypto.createHmac('sha256', s).update(String(r.headers['x-nextcloud-talk-random'])).update(r.body).digest('hex') === r.headers['x-nextcloud-talk-signature'])), 'signed with their own secrets');
      const admin = (await get(urlA, `${OCS}/v1/bot/admin`, ocsHeaders(ADMIN))).json.ocs.data as Array<{ id: number; error_count: number }>;
      t.same(admin.filter((b) => lanes.includes(b.id)).map((b) => b.error_count), Array(6).fill(0), 'no first attempt failed for want of the secret');
    });

    t.test('outbox: both instances deliver, each delivery once', async (t) => {
      // Seven lanes (one per bot URL) held open by the receiver: both instances claim some.
      const before = receiver.received.length;
      receiver.behave(() => 'hang');
      t.equal((await send(urlB, 'POST', `${OCS}/v1/chat/${room}`, new URLSearchParams({ message: 'to every lane' }), ocsHeaders(ALICE))).status, 201);
      // Every request is held until both instances have claims in flight.
      const deliveringBy = async () => {
        const rows = (await knex('swb_outbox').where('status', 'delivering').select('locked_by')) as Array<{ locked_by: string }>;
        return new Set(rows.map((r) => r.locked_by));
      };
      await eventually('seven lanes to be in flight', async () => (receiver.received.length - before >= 7 ? true : undefined));
      const claimers = await eventually('both instances to hold claims', async () => {
        const by = await deliveringBy();
        return by.has(idA) && by.has(idB) ? by : undefined;
      });
      t.same([...claimers].sort(), [idA, idB].sort(), 'deliveries in flight on both instances at once');
      // The hung attempts time out (1.5 s) and are retried; now the receiver answers.
      receiver.behave((r) => {
        answered.set(String(r.headers['x-switchboard-delivery']), (answered.get(String(r.headers['x-switchboard-delivery'])) ?? 0) + 1);
        return { status: 200 };
      });
      await eventually('every delivery to be delivered', async () => {
        const open = await knex('swb_outbox').whereNot('status', 'delivered').count({ n: '*' });
        return Number((open[0] as { n: number | string }).n) === 0 ? true : undefined;
      }, 15_000, 100);
      t.ok([...answered.values()].every((n) => n === 1), 'each delivery was answered once');
    });

    const viewers: Array<{ ws: WebSocket; frames: Array<Record<string, unknown>>; on: 'A' | 'B' }> = [];
    t.teardown(() => {
      for (const v of viewers) v.ws.terminate();
    });
    t.test('owncast: chat, viewers, clients and settings across instances', async (t) => {
      const OWNCAST_ADMIN = { Authorization: basic('admin', STREAM_KEY) };
      const webhook = await send(urlA, 'POST', '/api/admin/webhooks/create', { url: `${receiver.url}?owncast`, events: ['CHAT'] }, OWNCAST_ADMIN);
      t.equal(webhook.status, 200, 'a webhook created on A');
      const stream = await cli('owncast', 'stream', 'start', '--width', '1280');
      t.equal(stream.code, 0, 'a broadcast reported by the CLI');
      for (const base of [urlA, urlB]) {
        await eventually(`${base} to be online`, async () => ((await get(base, '/api/status')).json.online === true ? true : undefined), 2000, 5);
      }
      for (const [base, on] of [[urlA, 'A'], [urlA, 'A'], [urlB, 'B']] as const) viewers.push({ ...(await chatClient(base)), on });
      for (const base of [urlA, urlB]) {
        const n = await eventually(`${base} to count three viewers`, async () => {
          const status = (await get(base, '/api/status')).json;
          return status.viewerCount === 3 ? status.viewerCount : undefined;
        }, 3000, 10);
        t.equal(n, 3, `${base === urlA ? 'A' : 'B'}: /api/status counts the viewers of both instances`);
      }
      const clientsB = (await get(urlB, '/api/admin/clients', OWNCAST_ADMIN)).json as Array<{ clientID: string }>;
      t.equal(clientsB.length, 3, "B's client list has A's clients too");
      t.equal((await get(urlA, '/api/admin/status', OWNCAST_ADMIN)).json.sessionPeakViewerCount, 3, 'the session peak is the cluster\'s');

      // A chat message sent on A reaches the websockets of both instances.
      const hooked = receiver.received.length;
      viewers[0].ws.send(JSON.stringify({ type: 'CHAT', author: 'alice', body: 'hello from **A**' }));
      for (const v of viewers) {
        await eventually(`the message on a client of ${v.on}`, async () => (v.frames.some((f) => f.type === 'CHAT' && f.body === '<p>hello from <strong>A</strong></p>') ? true : undefined), 3000, 5);
      }
      const sent = viewers.map((v) => v.frames.filter((f) => f.type === 'CHAT').length);
      t.same(sent, [1, 1, 1], 'every client, on A and on B, got the message once');
      const historyB = (await get(urlB, '/api/chat')).json as Array<{ body: string }>;
      t.ok(historyB.some((m) => m.body === '<p>hello from <strong>A</strong></p>'), "B's chat history has it at once");
      // Sent on B, it fires the webhook created on A (B knew the webhook at once).
      viewers[2].ws.send(JSON.stringify({ type: 'CHAT', author: 'bob', body: 'hello from B' }));
      await receiver.waitFor(hooked + 2, 5000);
      const chats = receiver.received.slice(hooked).map((r) => JSON.parse(r.body.toString('utf8')) as { type: string; eventData: { body: string } });
      t.same(chats.map((c) => [c.type, c.eventData.body]).sort(), [['CHAT', '<p>hello from <strong>A</strong></p>'], ['CHAT', '<p>hello from B</p>']], 'both messages reached the webhook, once each');

      // A setting changed on A is served by B at once.
      t.equal((await send(urlA, 'POST', '/api/admin/config/name', { value: 'Cluster Cast' }, OWNCAST_ADMIN)).status, 200);
      const took = Date.now();
      await eventually("B's /api/config to show the new name", async () => ((await get(urlB, '/api/config')).json.name === 'Cluster Cast' ? true : undefined), 2000, 5);
      t.comment(`owncast setting seen on B ${Date.now() - took} ms after A answered (periodic re-read: every 60 s)`);
    });

    t.test('crontab skills fire once per scheduled time across two instances', async (t) => {
      const fired = await cronRun;
      const all = [...fired.a, ...fired.b];
      t.comment(`scheduled runs: ${all.length} (instance one ran ${fired.a.length}, instance two ${fired.b.length})`);
      t.ok(all.length >= 2, 'the schedule fired');
      t.equal(new Set(all).size, all.length, 'no scheduled time ran twice');
      t.equal(fired.claims, all.length, 'one claim per scheduled time');
    });

    t.test('failover: a killed instance\'s bots and pending deliveries move to the other', async (t) => {
      receiver.behave(() => 'hang');
      const first = receiver.received.length;
      // Seven lanes (the Echo bot and six more): every message is a delivery on each.
      for (let i = 0; i < 3; i++) {
        t.equal((await send(i % 2 ? urlB : urlA, 'POST', `${OCS}/v1/chat/${room}`, new URLSearchParams({ message: `failover ${i}` }), ocsHeaders(ALICE))).status, 201);
      }
      const heldByA = await eventually('A to hold deliveries in flight', async () => {
        const rows = (await knex('swb_outbox').where({ status: 'delivering', locked_by: idA }).select('delivery_id')) as Array<{ delivery_id: string }>;
        return rows.length > 0 && receiver.received.length > first ? rows.map((r) => r.delivery_id) : undefined;
      });
      const pending = Number(((await knex('swb_outbox').whereNot('status', 'delivered').count({ n: '*' }))[0] as { n: string }).n);
      t.comment(`when A is killed: ${heldByA.length} deliveries in flight on A, ${pending} not yet delivered in all`);
      for (const id of bots) t.same(await runOf(id), { status: 'running', instance_id: idA }, `bot ${id} runs on A`);

      const killedAt = Date.now();
      childA.proc.kill('SIGKILL');
      t.equal(await childA.exited, 'SIGKILL', 'A is gone');
      receiver.behave((r) => {
        answered.set(String(r.headers['x-switchboard-delivery']), (answered.get(String(r.headers['x-switchboard-delivery'])) ?? 0) + 1);
        return { status: 200 };
      });

      // Bots: B takes them over once their leases ran out.
      const takeover = await eventually('B to run both bots', async () => {
        const runs = await Promise.all(bots.map(runOf));
        if (!runs.every((r) => r.status === 'running' && r.instance_id === idB)) return undefined;
        const firstBeats = bots.map((id) => beacon(id).find((b) => b.at >= killedAt && b.pid === childB.proc.pid)?.at);
        return firstBeats.every((at) => at !== undefined) ? Math.max(...(firstBeats as number[])) - killedAt : undefined;
      }, 15_000, 50);
      t.comment(`bots running again on B ${takeover} ms after A was killed (lease ${LEASE_MS} ms)`);
      for (const id of bots) {
        t.same(writers(id, killedAt), [childB.proc.pid], `bot ${id}: only B runs it since`);
        t.equal(await botStatus(urlB, id), 'Running', `bot ${id} is Running`);
        const leases = (await knex('swb_leases').where('name', `redball:bot:${id}`).select('holder')) as Array<{ holder: string }>;
        t.same(leases.map((l) => l.holder), [idB], `bot ${id}: its lease is B's`);
      }
      t.equal(await botStatus(urlB, autoBot), 'Stopped', 'a bot stopped before stays stopped');

      // Owncast: A's viewers stop counting once its presence expired; B's client stays.
      const count = await eventually("A's viewers to drop out of B's count", async () => {
        const n = (await get(urlB, '/api/status')).json.viewerCount;
        return n === 1 ? n : undefined;
      }, PRESENCE_TTL_MS * 4, 50);
      t.equal(count, 1, 'B counts only its own viewer now');
      t.equal(viewers.filter((v) => v.on === 'A').every((v) => v.ws.readyState !== WebSocket.OPEN), true, "A's websockets are gone");

      // Deliveries: B delivers everything, including what A had claimed, once its claims ran out.
      await eventually('every delivery to be delivered', async () => {
        const open = await knex('swb_outbox').whereNot('status', 'delivered').count({ n: '*' });
        return Number((open[0] as { n: number | string }).n) === 0 ? true : undefined;
      }, 20_000, 100);
      t.comment(`every pending delivery delivered ${Date.now() - killedAt} ms after A was killed (claims last ${CLAIM_TIMEOUT_MS} + ${CLAIM_MARGIN_MS} ms)`);
      for (const id of heldByA) t.equal(answered.get(id), 1, `delivery ${id.slice(0, 8)} held by A was delivered once`);
      t.ok([...answered.values()].every((n) => n === 1), 'no delivery was answered twice');
      // The Echo bot's lane (signed with its secret) still got its messages in order, once each.
      const echo = receiver.received.slice(first).filter((r) => signatureOk(r) && answered.has(String(r.headers['x-switchboard-delivery'])));
      const delivered = [...new Map(echo.map((r) => [String(r.headers['x-switchboard-delivery']), messageOf(r)])).values()];
      t.same(delivered, ['failover 0', 'failover 1', 'failover 2'], 'in order on its lane');
      t.same((await get(urlB, '/readyz')).status, 200, 'B serves on');
    });

    t.test('the last instance stops gracefully and records its bots as stopped', async (t) => {
      childB.proc.kill('SIGTERM');
      t.equal(await childB.exited, 0, 'B exits 0 on SIGTERM');
      for (const id of bots) t.equal((await runOf(id)).status, 'stopped', `bot ${id} is recorded as stopped`);
      const members = (await knex('redball_instances').where('alive_until', '>=', Date.now()).select('instance_id')) as unknown[];
      t.same(members, [], 'no live instance left');
      const presence = (await knex('owncast_presence').where('instance_id', idB).select('instance_id')) as unknown[];
      t.same(presence, [], "B's chat presence is gone");
    });
  });
}
