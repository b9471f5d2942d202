/**
 * Delivery details: the backend URL under a mount prefix (and the bot's reply reaching
 * it), what counts as delivered (200 and 202 only), URLs refused by the outbound policy,
 * and webhooks enqueued by another instance (the CLI) signed by the server.
 */
import t from 'tap';
import { databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { talkPlugin, talkApi } from '../../../plugins/talk/index.js';
import { startTalkBot } from './bot-server.js';
import { cliRunner } from './cli-runner.js';
import { V1, V4, identity, ocsClient, secretOf, until } from './helpers.js';

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startTestKernel({ database: kind, identity, plugins: [{ plugin: talkPlugin, mount: '/talk', config: { delivery: { maxAttempts: 1 } } }] });
    t.teardown(sb.close);
    const api = talkApi(sb.kernel);
    const alice = ocsClient(sb, 'alice');
    const created = await alice.post(`/talk${V4}/room`, { roomType: 2, roomName: 'Mounted' });
    t.equal(created.status, 201);
    const token: string = created.data.token;
    const room = (await api.conversations.room(token))!;
    const details = async (id: number) => (await api.bots.get(id))!;

    await t.test('under a mount the backend URL includes it, and the bot\'s reply arrives there', async (t) => {
      const secret = secretOf('mounted-bot');
      const bot = await startTalkBot(secret);
      t.teardown(bot.close);
      const { id } = await api.bots.install({ name: 'Mounted', secret, url: bot.url });
      t.equal((await alice.post(`/talk${V1}/bot/${token}/${id}`)).status, 201);
      t.equal((await alice.post(`/talk${V1}/chat/${token}`, { message: 'ping' })).status, 201);
      await until(() => bot.replies.length === 1, 10_000, 'reply');
      t.equal(bot.hooks[1].headers['x-nextcloud-talk-backend'], `${sb.url}/talk/`);
      t.equal(bot.replies[0].status, 201);
      const chat = await alice.get(`/talk${V1}/chat/${token}?lookIntoFuture=0&limit=1`);
      t.equal(chat.data[0].message, 'echo: ping');
      await api.bots.uninstall({ id });
    });

    await t.test('200 and 202 count as delivered; 201 is a failure', async (t) => {
      const accepted = await startTalkBot(secretOf('accepting'), () => undefined);
      t.teardown(accepted.close);
      accepted.answer(202);
      const created201 = await startTalkBot(secretOf('creating'), () => undefined);
      t.teardown(created201.close);
      created201.answer(201);
      const a = await api.bots.install({ name: 'Accepting', secret: secretOf('accepting'), url: accepted.url });
      const c = await api.bots.install({ name: 'Creating', secret: secretOf('creating'), url: created201.url });
      await api.bots.setup(a.id, [token]);
      await api.bots.setup(c.id, [token]);
      await until(() => accepted.hooks.length >= 1 && created201.hooks.length >= 1, 10_000, 'Joins');
      await until(async () => (await details(c.id)).error_count === 1, 10_000, 'error on 201');
      t.equal((await details(c.id)).last_error_message, 'UnexpectedStatusCode: 201');
      await new Promise((r) => setTimeout(r, 200));
      t.equal((await details(a.id)).error_count, 0, '202 is delivered');
      t.match(await sb.kernel.context('talk').outbox.stats(), { pending: 0, delivering: 0 });
      await api.bots.uninstall({ id: a.id });
      await api.bots.uninstall({ id: c.id });
    });

    await t.test('a URL the outbound policy refuses counts as a failure and blocks nothing', async (t) => {
      const { id } = await api.bots.install({ name: 'Private', secret: secretOf('private'), url: 'http://10.1.2.3/bot' });
      const enabled = await alice.post(`/talk${V1}/bot/${token}/${id}`);
      t.equal(enabled.status, 201, 'enabling still works');
      t.equal((await alice.post(`/talk${V1}/chat/${token}`, { message: 'still posting' })).status, 201, 'posting still works');
      const row = await details(id);
      t.equal(row.error_count, 2, 'the Join and the Create were refused');
      t.match(row.last_error_message, /not allowed/);
      await api.bots.uninstall({ id });
    });

    await t.test('uninstalling a bot drops the webhooks still waiting for it', async (t) => {
      // Its own kernel: retries wait a minute, so a failed webhook is still waiting when the bot goes.
      const own = await startTestKernel({ database: kind, identity, plugins: [{ plugin: talkPlugin, config: { delivery: { maxAttempts: 5 } } }], outbox: { backoffBaseMs: 60_000, backoffMaxMs: 60_000 } });
      t.teardown(own.close);
      const ownApi = talkApi(own.kernel);
      const { room: ownRoom } = await ownApi.conversations.createRoom({ id: 'alice', displayName: 'Alice' }, { type: 2, name: 'Failing' });
      const secret = secretOf('failing');
      const bot = await startTalkBot(secret, () => undefined);
      t.teardown(bot.close);
      bot.answer(503);
      const { id } = await ownApi.bots.install({ name: 'Failing', secret, url: bot.url });
      await ownApi.bots.setup(id, [ownRoom.token]);
      const outbox = own.kernel.context('talk').outbox;
      await until(async () => bot.hooks.length >= 1 && (await outbox.stats()).delivering === 0, 10_000, 'the Join failed once');
      t.match(await outbox.stats(), { pending: 1 }, 'the Join waits for its retry');
      await ownApi.bots.uninstall({ id });
      t.match(await outbox.stats(), { pending: 0, delivering: 0 }, 'and is dropped with the bot');
    });

    await t.test('a webhook enqueued by another instance is signed by this one', async (t) => {
      const cli = cliRunner(sb.databaseUrl!, { delivery: { maxAttempts: 3 } });
      t.teardown(cli.cleanup);
      const secret = secretOf('from-the-cli');
      const bot = await startTalkBot(secret, () => undefined);
      t.teardown(bot.close);
      const installed = await cli.run('talk', 'bot:install', 'Elsewhere', secret, bot.url);
      t.equal(installed.code, 0);
      const id = Number(installed.out[1].slice(4));
      const setup = await cli.run('talk', 'bot:setup', String(id), token);
      t.equal(setup.code, 0);
      await until(() => bot.hooks.some((h) => h.verified && h.activity.type === 'Join'), 15_000, 'signed Join');
      const join = bot.hooks.find((h) => h.verified)!;
      t.same(join.activity.object, { type: 'Collection', id: token, name: 'Mounted' });
      t.equal(join.headers['x-nextcloud-talk-backend'], 'http://localhost/', 'no request, no config: the fallback backend URL');
      t.equal(room.token, token);
    });
  });
}
