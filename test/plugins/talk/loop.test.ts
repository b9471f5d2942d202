/**
 * The whole bot loop on SQLite and PostgreSQL, over HTTP and the CLI only: install a bot,
 * a moderator enables it, a user posts, a real bot server verifies the signed webhook and
 * answers with a signed reply that appears in the chat as the bot.
 */
import t from 'tap';
import crypto from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { talkPlugin, talkApi } from '../../../plugins/talk/index.js';
import { startTalkBot, signAsBot } from './bot-server.js';
import { V1, V4, identity, ocsClient, secretOf, until } from './helpers.js';
import { cliRunner } from './cli-runner.js';

const sha1 = (s: string) => crypto.createHash('sha1').update(s).digest('hex');

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startTestKernel({ database: kind, identity, plugins: [{ plugin: talkPlugin, config: { throttle: { maxFailures: 3, windowSeconds: 60 }, delivery: { maxAttempts: 2 } } }] });
    t.teardown(sb.close);
    const cli = cliRunner(sb.databaseUrl!);
    t.teardown(cli.cleanup);
    const secret = secretOf('echo-bot-secret');
    const bot = await startTalkBot(secret);
    t.teardown(bot.close);
    const alice = ocsClient(sb, 'alice');
    const bob = ocsClient(sb, 'bob');
    const carol = ocsClient(sb, 'carol');
    const root = ocsClient(sb, 'root');
    let botId = 0;
    let token = '';

    await t.test('an administrator installs the bot with the CLI', async (t) => {
      const run = await cli.run('talk', 'bot:install', 'Echo', secret, bot.url, 'Repeats what you say');
      t.equal(run.code, 0);
      t.equal(run.out[0], 'Bot installed');
      t.match(run.out[1], /^ID: \d+$/);
      botId = Number(run.out[1].slice(4));
      t.ok(run.out.concat(run.err).every((l) => !l.includes(secret)), 'the secret is not printed');
      const admin = await root.get(`${V1}/bot/admin`);
      t.equal(admin.status, 200);
      t.same(admin.data, [
        { id: botId, name: 'Echo', url: bot.url, url_hash: sha1(bot.url), description: 'Repeats what you say', error_count: 0, last_error_date: 0, last_error_message: '', state: 1, features: 3 },
      ]);
      t.notOk(JSON.stringify(admin.body).includes(secret), 'no secret in the admin listing');
    });

    await t.test('a conversation with an owner, a moderator and a user', async (t) => {
      const created = await alice.post(`${V4}/room`, { roomType: 2, roomName: 'Team' });
      t.equal(created.status, 201);
      t.match(created.data, { type: 2, name: 'Team', displayName: 'Team', participantType: 1, actorType: 'users', actorId: 'alice' });
      token = created.data.token;
      t.match(token, /^[a-z0-9]{8}$/);
      t.equal((await alice.post(`${V4}/room/${token}/participants`, { newParticipant: 'bob', source: 'users' })).status, 200);
      t.equal((await alice.post(`${V4}/room/${token}/participants`, { newParticipant: 'carol' })).status, 200);
      const people = await alice.get(`${V4}/room/${token}/participants`);
      const bobRow = people.data.find((p: any) => p.actorId === 'bob');
      t.equal(bobRow.participantType, 3);
      const promoted = await alice.post(`${V4}/room/${token}/moderators`, { attendeeId: bobRow.attendeeId });
      t.equal(promoted.status, 200);
      const after = await bob.get(`${V4}/room/${token}/participants`);
      t.equal(after.data.find((p: any) => p.actorId === 'bob').participantType, 2);
    });

    await t.test('the moderator enables the bot: 201, then 200; the bot gets a signed Join', async (t) => {
      const listed = await bob.get(`${V1}/bot/${token}`);
      t.equal(listed.status, 200);
      t.same(listed.data, [{ id: botId, name: 'Echo', description: 'Repeats what you say', state: 0 }]);
      const first = await bob.post(`${V1}/bot/${token}/${botId}`);
      t.equal(first.status, 201);
      t.same(first.data, { id: botId, name: 'Echo', description: 'Repeats what you say', state: 1 });
      t.same(first.body.ocs.meta, { status: 'ok', statuscode: 201, message: 'OK' });
      const again = await bob.post(`${V1}/bot/${token}/${botId}`);
      t.equal(again.status, 200);
      t.same(again.data, { id: botId, name: 'Echo', description: 'Repeats what you say', state: 1 });
      await until(() => bot.hooks.length >= 1, 10_000, 'Join');
      const join = bot.hooks[0];
      t.equal(join.verified, true, 'the bot verifies the Join signature');
      t.same(join.activity, {
        type: 'Join',
        actor: { type: 'Application', id: `bots/bot-${sha1(bot.url)}`, name: 'Echo' },
        object: { type: 'Collection', id: token, name: 'Team' },
      });
      t.equal((await bob.get(`${V1}/bot/${token}`)).data[0].state, 1);
    });

    await t.test('a user posts; the bot verifies the webhook and replies; the reply appears as the bot', async (t) => {
      const posted = await carol.post(`${V1}/chat/${token}`, { message: 'hello bot' });
      t.equal(posted.status, 201);
      const messageId = posted.data.id;
      t.match(posted.data, { token, actorType: 'users', actorId: 'carol', actorDisplayName: 'Carol <C>', message: 'hello bot', messageType: 'comment' });
      await until(() => bot.hooks.length >= 2, 10_000, 'Create');
      const hook = bot.hooks[1];
      t.equal(hook.verified, true, 'signature verified by the bot over the exact bytes');
      t.equal(hook.headers['x-nextcloud-talk-random']!.length, 64);
      t.match(hook.headers['x-nextcloud-talk-signature'], /^[0-9a-f]{64}$/);
      t.equal(hook.headers['x-nextcloud-talk-backend'], `${sb.url}/`);
      t.equal(hook.headers['ocs-apirequest'], 'true');
      t.match(hook.headers['content-type'], /^application\/json/);
      t.same(hook.activity, {
        type: 'Create',
        actor: { type: 'Person', id: 'users/carol', name: 'Carol <C>', talkParticipantType: '3' },
        object: { type: 'Note', id: String(messageId), name: 'message', content: JSON.stringify({ message: 'hello bot', parameters: {} }), mediaType: 'text/markdown' },
        target: { type: 'Collection', id: token, name: 'Team' },
      });
      await until(() => bot.replies.length >= 1, 10_000, 'reply');
      t.equal(bot.replies[0].status, 201, 'the signed reply is accepted');
      t.same(bot.replies[0].body, { ocs: { meta: { status: 'ok', statuscode: 201, message: 'OK' }, data: null } });
      const chat = await carol.get(`${V1}/chat/${token}?lookIntoFuture=0`);
      t.equal(chat.status, 200);
      t.equal(chat.data.length, 2);
      t.match(chat.data[0], { actorType: 'bots', actorId: `bot-${sha1(bot.url)}`, actorDisplayName: 'Echo', message: 'echo: hello bot', parent: { id: messageId, message: 'hello bot' } });
      t.equal(chat.headers.get('x-chat-last-given'), String(messageId));
      // Bots never receive bots' messages: still only Join and Create.
      await new Promise((r) => setTimeout(r, 300));
      t.equal(bot.hooks.length, 2);
    });

    await t.test('a bad signature is refused with 401, repeated ones with 429', async (t) => {
      const attempt = (sig: { random: string; signature: string }, message = 'forged') =>
        sb.fetch(`${V1}/bot/${token}/message`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'OCS-APIRequest': 'true', 'X-Nextcloud-Talk-Bot-Random': sig.random, 'X-Nextcloud-Talk-Bot-Signature': sig.signature },
          body: JSON.stringify({ message }),
        });
      const wrong = await attempt(signAsBot(secretOf('not-the-secret'), 'forged'));
      t.equal(wrong.status, 401);
      t.same(await wrong.json(), { ocs: { meta: { status: 'failure', statuscode: 401, message: '' }, data: null } });
      const tampered = signAsBot(secret, 'original text');
      t.equal((await attempt(tampered, 'changed text')).status, 401, 'a signature over other text');
      const short = await attempt({ random: 'short', signature: signAsBot(secret, 'forged', 'short').signature });
      t.equal(short.status, 400, 'a random under 32 characters is a 400');
      t.equal((await attempt(signAsBot(secretOf('still-wrong'), 'forged'))).status, 401);
      const throttled = await attempt(signAsBot(secret, 'forged'));
      t.equal(throttled.status, 429, 'after 3 failures even a good signature waits');
      t.ok(sb.kernel.logs.entries().every((e) => !JSON.stringify(e).includes(secret)), 'the secret is never logged');
      const chat = await carol.get(`${V1}/chat/${token}?lookIntoFuture=0`);
      t.equal(chat.data.length, 2, 'nothing was posted');
    });

    await t.test('a bot server that answers 500 raises error_count', async (t) => {
      const failing = await startTalkBot(secretOf('failing-bot'));
      t.teardown(failing.close);
      failing.answer(500);
      const run = await cli.run('talk', 'bot:install', 'Broken', secretOf('failing-bot'), failing.url);
      t.equal(run.code, 0);
      const id = Number(run.out[1].slice(4));
      t.equal((await bob.post(`${V1}/bot/${token}/${id}`)).status, 201);
      t.equal((await carol.post(`${V1}/chat/${token}`, { message: 'anyone there?' })).status, 201);
      const details = async () => (await root.get(`${V1}/bot/admin`)).data.find((b: any) => b.id === id);
      // Join and Create, two attempts each (delivery.maxAttempts = 2): every attempt counts.
      await until(async () => (await details()).error_count >= 4, 15_000, 'error_count');
      const row = await details();
      t.equal(row.last_error_message, 'UnexpectedStatusCode: 500');
      t.ok(row.last_error_date > 1_700_000_000 && row.last_error_date <= Math.ceil(Date.now() / 1000));
      t.equal((await details()).error_count, 4, 'no more attempts after the last one');
      t.ok(failing.hooks.every((h) => h.verified), 'each attempt was signed correctly');
      t.equal((await root.get(`${V1}/bot/admin`)).data.find((b: any) => b.id === botId).error_count, 0, 'the healthy bot has no errors');
    });

    await t.test('disable: 200 with state 0, a Leave, and no more webhooks', async (t) => {
      const hooksBefore = bot.hooks.length;
      const off = await bob.del(`${V1}/bot/${token}/${botId}`);
      t.equal(off.status, 200);
      t.same(off.data, { id: botId, name: 'Echo', description: 'Repeats what you say', state: 0 });
      await until(() => bot.hooks.length > hooksBefore, 10_000, 'Leave');
      t.equal(bot.hooks[hooksBefore].activity.type, 'Leave');
      t.equal(bot.hooks[hooksBefore].verified, true);
      const again = await bob.del(`${V1}/bot/${token}/${botId}`);
      t.equal(again.status, 200, 'disabling a disabled bot is still 200');
      t.equal((await carol.post(`${V1}/chat/${token}`, { message: 'quiet now' })).status, 201);
      await new Promise((r) => setTimeout(r, 300));
      t.equal(bot.hooks.length, hooksBefore + 1, 'no Create after disabling');
    });

    await t.test('no-setup bots, non-moderators, unknown conversations, non-admins', async (t) => {
      const run = await cli.run('talk', 'bot:install', '--no-setup', 'Hidden', secretOf('hidden-bot'), 'https://hidden.example/bot');
      t.equal(run.code, 0);
      const hidden = Number(run.out[1].slice(4));
      const refused = await bob.post(`${V1}/bot/${token}/${hidden}`);
      t.equal(refused.status, 400);
      t.same(refused.data, { error: 'bot' });
      t.equal((await bob.del(`${V1}/bot/${token}/${hidden}`)).status, 400);
      t.ok((await bob.get(`${V1}/bot/${token}`)).data.every((b: any) => b.id !== hidden), 'no-setup bots are not offered');
      t.equal((await bob.post(`${V1}/bot/${token}/999999`)).status, 400, 'unknown bot id');

      const asUser = await carol.get(`${V1}/bot/${token}`);
      t.equal(asUser.status, 403);
      t.same(asUser.body.ocs, { meta: { status: 'failure', statuscode: 403, message: '' }, data: [] });
      t.equal((await carol.post(`${V1}/bot/${token}/${botId}`)).status, 403);
      t.equal((await carol.del(`${V1}/bot/${token}/${botId}`)).status, 403);

      const unknown = await bob.get(`${V1}/bot/zzzz9999`);
      t.equal(unknown.status, 404);
      t.same(unknown.body.ocs, { meta: { status: 'failure', statuscode: 404, message: '' }, data: [] });
      t.equal((await ocsClient(sb, 'dave').get(`${V1}/bot/${token}`)).status, 404, 'not a participant: 404');

      const notAdmin = await alice.get(`${V1}/bot/admin`);
      t.equal(notAdmin.status, 403);
      t.same(notAdmin.body.ocs, { meta: { status: 'failure', statuscode: 403, message: 'Logged in account must be an admin' }, data: [] });
    });

    await t.test('JSON and XML answers, and the OCS-APIRequest rule', async (t) => {
      const headers = { Authorization: `Basic ${Buffer.from('bob:bob-password').toString('base64')}`, 'OCS-APIRequest': 'true' };
      const xml = await sb.fetch(`${V1}/bot/${token}`, { headers });
      t.equal(xml.status, 200);
      t.equal(xml.headers.get('content-type'), 'application/xml; charset=utf-8');
      const text = await xml.text();
      t.match(text, /^<\?xml version="1.0"\?>\n<ocs>/);
      const parsed = new XMLParser().parse(text);
      t.equal(parsed.ocs.meta.status, 'ok');
      t.equal(parsed.ocs.meta.statuscode, 200);
      t.equal(parsed.ocs.meta.message, 'OK');
      const elements = [parsed.ocs.data.element].flat();
      t.same(elements.map((e: any) => [e.id, e.name, e.state]), [[botId, 'Echo', 0], [elements[1].id, 'Broken', 1]]);
      const json = await sb.fetch(`${V1}/bot/${token}?format=json`, { headers });
      t.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
      t.equal(((await json.json()) as any).ocs.data[0].id, botId);
      const noHeader = await sb.fetch(`${V1}/bot/${token}?format=json`, { headers: { Authorization: headers.Authorization } });
      t.equal(noHeader.status, 412);
      t.equal(await noHeader.text(), '{"message":"CSRF check failed"}');
      const botNoHeader = await sb.fetch(`${V1}/bot/${token}/message`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"message":"x"}' });
      t.equal(botNoHeader.status, 412, 'bot requests need the header too (bot libraries send it)');
    });

    await t.test('the programmatic API sees the same state', async (t) => {
      const api = talkApi(sb.kernel);
      const bots = await api.bots.list(token);
      t.same(bots.map((b) => b.name).sort(), ['Broken']);
      const room = await api.conversations.room(token);
      t.equal(room?.name, 'Team');
    });
  });
}
