/**
 * The families' own views agree with the operator's replays, on SQLite and PostgreSQL:
 *
 * - Owncast: a webhook delivery that died leaves `lastUsed` null; replayed from the CLI
 *   (another kernel, without the families) once the receiver is back, it is delivered by the
 *   server with its original id, and `GET /api/admin/webhooks` shows the new `lastUsed`.
 * - Talk: a bot webhook that died counted each failed attempt in `error_count`; replayed
 *   through the admin API while the bot still fails, `GET …/bot/admin` counts the replay's
 *   failed attempts, with the new `last_error_date` and `last_error_message`; replayed again once the bot
 *   answers 200, it is delivered and the error count stays (as Talk, which never resets it).
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCli } from '../../examples/standalone/cli.js';
import { owncastPlugin } from '../../plugins/owncast/index.js';
import { talkApi, talkPlugin } from '../../plugins/talk/index.js';
import type { DeliverySummary } from '../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../src/testing/index.js';
import { startReceiver } from '../helpers/receiver.js';
import { basic as owncastBasic, getJson, post, KEY } from '../plugins/owncast/fixtures/helpers.js';
import { startTalkBot } from '../plugins/talk/bot-server.js';
import { identity, ocsClient, secretOf, until, V1 } from '../plugins/talk/helpers.js';

const TOKEN = 'admin-token-family-views-0123456789';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Runs `switchboard …` in process, as its own kernel (another instance than the server). */
async function cli(argv: string[], env: NodeJS.ProcessEnv): Promise<{ out: string[]; err: string[]; code: number }> {
  const result = { out: [] as string[], err: [] as string[], code: 0 };
  const program = buildCli(['node', 'switchboard', ...argv], {
    env,
    output: { out: (l) => void result.out.push(l), err: (l) => void result.err.push(l) },
    setExitCode: (c) => void (result.code = c),
  });
  program.exitOverride();
  await program.parseAsync(argv, { from: 'user' });
  return result;
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: Owncast's lastUsed and Talk's error fields follow replays`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-family-views-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const configFile = path.join(dir, 'switchboard.config.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({ webhooks: { allow: ['127.0.0.0/8'] }, plugins: Object.fromEntries(['opsdroid', 'redball', 'talk', 'anope', 'owncast'].map((id) => [id, { enabled: false }])) }),
    );
    const env = { DATABASE_URL: database.url, SWITCHBOARD_CONFIG: configFile };

    const sb = await startTestKernel({
      database: database.url,
      identity,
      admin: { token: TOKEN },
      outbox: { maxAttempts: 2, backoffBaseMs: 20, backoffMaxMs: 40, timeoutMs: 2000 },
      plugins: [
        { plugin: talkPlugin, config: { delivery: { maxAttempts: 2 } } },
        { plugin: owncastPlugin, config: { streamKey: KEY, refreshIntervalMs: 100 } },
      ],
    });
    t.teardown(sb.close);
    const operator = sb.kernel.outboxOperator;
    const deadOf = async (owner: string) => (await operator.list({ owner, state: 'dead' }))[0] as DeliverySummary | undefined;

    await t.test('Owncast: a replay from the CLI sets the webhook\'s lastUsed', async (t) => {
      const receiver = await startReceiver(() => ({ status: 500 }));
      t.teardown(receiver.close);
      const created = await post(sb, '/api/admin/webhooks/create', { url: receiver.url, events: ['STREAM_TITLE_UPDATED'] }, owncastBasic());
      t.equal(created.status, 200);
      t.same(await (await post(sb, '/api/admin/config/streamtitle', { value: 'Replayed' }, owncastBasic())).json(), { success: true, message: 'changed' });
      const dead = await until(async () => (await deadOf('owncast')) !== undefined, 10_000, 'the webhook delivery to die').then(() => deadOf('owncast'));
      t.equal(receiver.received.length, 2, 'both attempts reached the failing receiver');
      // The outbox reports the last attempt to the family after the row is marked dead; give it that moment.
      await new Promise((r) => setTimeout(r, 200));
      t.equal((await getJson(sb, '/api/admin/webhooks'))[0].lastUsed, null, 'a dead delivery sets no lastUsed');

      receiver.behave(() => ({ status: 200 }));
      const before = Date.now();
      const replayed = await cli(['outbox', 'replay', String(dead!.id)], env);
      t.equal(replayed.code, 0, replayed.err.join('\n'));
      await until(async () => (await getJson(sb, '/api/admin/webhooks'))[0].lastUsed !== null, 10_000, 'lastUsed');
      const lastUsed: string = (await getJson(sb, '/api/admin/webhooks'))[0].lastUsed;
      t.match(lastUsed, ISO);
      t.ok(Date.parse(lastUsed) >= before - 1, 'lastUsed is the replay\'s delivery');
      t.equal(receiver.received.length, 3, 'delivered once more');
      t.equal(receiver.received[2].headers['x-switchboard-delivery'], dead!.deliveryId, 'with the original delivery id');
      t.equal((await operator.show(dead!.id))?.state, 'delivered');
    });

    await t.test('Talk: replays through the admin API show in error_count and last_error_*', async (t) => {
      const api = talkApi(sb.kernel);
      const { room } = await api.conversations.createRoom({ id: 'alice', displayName: 'Alice' }, { type: 2, name: 'Replays' });
      const secret = secretOf('replayed');
      const bot = await startTalkBot(secret, () => undefined);
      t.teardown(bot.close);
      bot.answer(500);
      const { id } = await api.bots.install({ name: 'Replayed', secret, url: bot.url });
      await api.bots.setup(id, [room.token]);
      const root = ocsClient(sb, 'root');
      const details = async () => ((await root.get(`${V1}/bot/admin`)).data as Array<{ id: number; error_count: number; last_error_date: number; last_error_message: string }>).find((b) => b.id === id)!;

      await until(async () => (await details()).error_count === 2, 10_000, 'two failed attempts counted');
      const dead = (await deadOf('talk'))!;
      t.equal(dead.ownerRef, `bot:${id}`);
      t.match(await details(), { error_count: 2, last_error_message: 'UnexpectedStatusCode: 500' });

      bot.answer(503);
      const admin = (p: string) => sb.fetch(`/_switchboard${p}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      const beforeSeconds = Math.floor(Date.now() / 1000);
      t.equal((await admin(`/outbox/${dead.id}/replay`)).status, 200);
      // A replay gets fresh attempts (two here), each failure counted as Talk counts them.
      await until(async () => (await operator.show(dead.id))?.state === 'dead' && (await details()).error_count === 4, 10_000, 'the replay\'s two failures counted');
      const failed = await details();
      t.equal(failed.last_error_message, 'UnexpectedStatusCode: 503', 'the replay\'s error');
      t.ok(failed.last_error_date >= beforeSeconds, 'the replay\'s time');

      bot.answer(200);
      const hooksBefore = bot.hooks.length;
      t.equal((await admin(`/outbox/${dead.deliveryId}/replay`)).status, 200);
      await until(() => bot.hooks.length > hooksBefore, 10_000, 'the delivery');
      await until(async () => (await operator.show(dead.id))?.state === 'delivered', 10_000, 'delivered');
      const last = bot.hooks[bot.hooks.length - 1];
      t.equal(last.headers['x-switchboard-delivery'], dead.deliveryId, 'the original delivery id');
      t.ok(last.verified, 'signed with the bot\'s secret on replay');
      t.equal(last.activity.type, 'Join');
      await new Promise((r) => setTimeout(r, 200));
      t.match(await details(), { error_count: 4, last_error_message: 'UnexpectedStatusCode: 503' }, 'a success keeps the count, as Talk');
    });
  });
}
