/**
 * The conversation model over HTTP and as an API: conversations, participants and
 * moderators, posting and reading the chat (history, lookIntoFuture, lastKnownMessageId,
 * 304, long polling), replies, reactions by people and bots, and the webhooks bots get
 * for them.
 */
import t from 'tap';
import crypto from 'node:crypto';
import { databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { talkPlugin, talkApi } from '../../../plugins/talk/index.js';
import { RoomStore } from '../../../plugins/talk/stores/rooms.js';
import { signAsBot, startTalkBot } from './bot-server.js';
import { V1, V4, identity, ocsClient, secretOf, until } from './helpers.js';

const sha1 = (s: string) => crypto.createHash('sha1').update(s).digest('hex');

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startTestKernel({ database: kind, identity, plugins: [{ plugin: talkPlugin, config: { backendUrl: 'https://talk.example.org/cloud' } }] });
    t.teardown(sb.close);
    const api = talkApi(sb.kernel);
    const alice = ocsClient(sb, 'alice');
    const bob = ocsClient(sb, 'bob');
    const carol = ocsClient(sb, 'carol');
    const dave = ocsClient(sb, 'dave');
    const created = await alice.post(`${V4}/room`, { roomType: 2, roomName: 'Chat' });
    const token: string = created.data.token;
    await alice.post(`${V4}/room/${token}/participants`, { newParticipant: 'bob' });
    await alice.post(`${V4}/room/${token}/participants`, { newParticipant: 'carol' });

    await t.test('participants: listing, adding, promoting and demoting with the original\'s statuses', async (t) => {
      const list = await carol.get(`${V4}/room/${token}/participants`);
      t.equal(list.status, 200);
      t.same(
        list.data.map((p: any) => [p.actorType, p.actorId, p.participantType, p.roomToken]),
        [
          ['users', 'alice', 1, token],
          ['users', 'bob', 3, token],
          ['users', 'carol', 3, token],
        ],
      );
      t.equal((await dave.get(`${V4}/room/${token}/participants`)).status, 404, 'outsiders get 404');
      t.equal((await carol.post(`${V4}/room/${token}/participants`, { newParticipant: 'dave' })).status, 403, 'users cannot add');
      t.equal((await alice.post(`${V4}/room/${token}/participants`, { newParticipant: 'bob' })).status, 200, 'adding twice is fine');
      t.same((await alice.post(`${V4}/room/${token}/participants`, { newParticipant: 'x', source: 'groups' })).data, { error: 'source' });
      const ids = Object.fromEntries(list.data.map((p: any) => [p.actorId, p.attendeeId]));
      t.equal((await carol.post(`${V4}/room/${token}/moderators`, { attendeeId: ids.bob })).status, 403, 'users cannot promote');
      t.equal((await alice.post(`${V4}/room/${token}/moderators`, { attendeeId: 99999 })).status, 404);
      t.equal((await alice.post(`${V4}/room/${token}/moderators`, { attendeeId: ids.alice })).status, 403, 'not oneself');
      t.equal((await alice.post(`${V4}/room/${token}/moderators`, { attendeeId: ids.bob })).status, 200);
      t.equal((await alice.post(`${V4}/room/${token}/moderators`, { attendeeId: ids.bob })).status, 400, 'already a moderator');
      t.equal((await bob.del(`${V4}/room/${token}/moderators`, { attendeeId: ids.alice })).status, 403, 'the owner cannot be demoted');
      t.equal((await bob.post(`${V4}/room/${token}/moderators`, { attendeeId: ids.carol })).status, 200, 'moderators promote');
      t.equal((await bob.del(`${V4}/room/${token}/moderators?attendeeId=${ids.carol}`)).status, 200, 'and demote (id in the query)');
      t.equal((await bob.del(`${V4}/room/${token}/moderators`, { attendeeId: ids.carol })).status, 400, 'already a user');
      // The moderator listing is cached briefly, but a change through this server shows at once.
      t.equal((await bob.get(`${V1}/bot/${token}`)).status, 200);
      t.equal((await bob.get(`${V1}/bot/${token}`)).status, 200);
      t.equal((await alice.del(`${V4}/room/${token}/moderators`, { attendeeId: ids.bob })).status, 200);
      t.equal((await bob.get(`${V1}/bot/${token}`)).status, 403, 'a demoted moderator is refused immediately');
      t.equal((await alice.post(`${V4}/room/${token}/moderators`, { attendeeId: ids.bob })).status, 200);
      t.equal((await bob.get(`${V1}/bot/${token}`)).status, 200);
      const rooms = await carol.get(`${V4}/room`);
      t.same(rooms.data.map((r: any) => [r.token, r.participantType]), [[token, 3]]);
      t.same((await dave.get(`${V4}/room`)).data, []);
    });

    const ids: number[] = [];
    await t.test('posting: blank 400, too long 413, bad replyTo 400, replies carry their parent', async (t) => {
      t.equal((await carol.post(`${V1}/chat/${token}`, { message: '   ' })).status, 400);
      const long = await carol.post(`${V1}/chat/${token}`, { message: 'x'.repeat(32001) });
      t.equal(long.status, 413);
      t.same(long.data, { error: 'message' });
      t.equal((await dave.post(`${V1}/chat/${token}`, { message: 'let me in' })).status, 404);
      for (let i = 1; i <= 5; i++) {
        const r = await carol.post(`${V1}/chat/${token}`, { message: `message ${i}`, referenceId: `ref-${i}` });
        t.equal(r.status, 201);
        t.equal(r.headers.get('x-chat-last-common-read'), String(r.data.id));
        ids.push(r.data.id);
      }
      const reply = await bob.post(`${V1}/chat/${token}`, { message: 'a reply', replyTo: ids[1] });
      t.equal(reply.status, 201);
      t.match(reply.data, { message: 'a reply', actorId: 'bob', actorDisplayName: 'Bob B.', parent: { id: ids[1], message: 'message 2', referenceId: 'ref-2' } });
      ids.push(reply.data.id);
      t.equal((await bob.post(`${V1}/chat/${token}`, { message: 'x', replyTo: 999999 })).status, 400);
      const other = await api.conversations.createRoom({ id: 'alice' }, { type: 2, name: 'Elsewhere' });
      const foreign = await api.conversations.post(other.room, { type: 'users', id: 'alice', displayName: 'Alice' }, { message: 'not here' });
      t.equal((await bob.post(`${V1}/chat/${token}`, { message: 'x', replyTo: foreign.message.id })).status, 400, 'replies across conversations are refused');
    });

    await t.test('reading: history newest first, lastKnownMessageId, limit, future, 304', async (t) => {
      const history = await carol.get(`${V1}/chat/${token}?lookIntoFuture=0`);
      t.equal(history.status, 200);
      t.same(history.data.map((m: any) => m.id), [...ids].reverse());
      t.equal(history.headers.get('x-chat-last-given'), String(ids[0]));
      const older = await carol.get(`${V1}/chat/${token}?lookIntoFuture=0&lastKnownMessageId=${ids[3]}&limit=2`);
      t.same(older.data.map((m: any) => m.id), [ids[2], ids[1]]);
      t.equal(older.headers.get('x-chat-last-given'), String(ids[1]));
      const inclusive = await carol.get(`${V1}/chat/${token}?lookIntoFuture=0&lastKnownMessageId=${ids[3]}&limit=1&includeLastKnown=1`);
      t.same(inclusive.data.map((m: any) => m.id), [ids[3]]);
      const newer = await carol.get(`${V1}/chat/${token}?lookIntoFuture=1&lastKnownMessageId=${ids[3]}&timeout=0`);
      t.same(newer.data.map((m: any) => m.id), [ids[4], ids[5]]);
      t.equal(newer.headers.get('x-chat-last-given'), String(ids[5]));
      const nothingNew = await sb.fetch(`${V1}/chat/${token}?lookIntoFuture=1&lastKnownMessageId=${ids[5]}&timeout=0&format=json`, { headers: { Authorization: `Basic ${Buffer.from('carol:carol-password').toString('base64')}`, 'OCS-APIRequest': 'true' } });
      t.equal(nothingNew.status, 304);
      t.equal(await nothingNew.text(), '');
      const nothingOlder = await carol.get(`${V1}/chat/${token}?lookIntoFuture=0&lastKnownMessageId=${ids[0]}`);
      t.equal(nothingOlder.status, 304);
      const msg = history.data.find((m: any) => m.id === ids[0]);
      t.same(Object.keys(msg).sort(), ['actorDisplayName', 'actorId', 'actorType', 'expirationTimestamp', 'id', 'isReplyable', 'markdown', 'message', 'messageParameters', 'messageType', 'reactions', 'referenceId', 'systemMessage', 'timestamp', 'token'].sort());
      t.same(msg.messageParameters, []);
      t.same(msg.reactions, {});
      t.equal(msg.systemMessage, '');
      t.ok(Math.abs(msg.timestamp - Date.now() / 1000) < 60);
    });

    await t.test('long polling: a waiting reader gets the next message as soon as it is posted', async (t) => {
      const last = ids[ids.length - 1];
      const started = Date.now();
      const waiting = carol.get(`${V1}/chat/${token}?lookIntoFuture=1&lastKnownMessageId=${last}&timeout=20`);
      await new Promise((r) => setTimeout(r, 200));
      const posted = await alice.post(`${V1}/chat/${token}`, { message: 'wake up' });
      const got = await waiting;
      t.equal(got.status, 200);
      t.same(got.data.map((m: any) => m.message), ['wake up']);
      t.ok(Date.now() - started < 15_000, 'answered before the timeout');
      ids.push(posted.data.id);
    });

    await t.test('reactions by people and by bots; bots with the reaction feature hear Like and Undo', async (t) => {
      const secret = secretOf('reaction-bot');
      const bot = await startTalkBot(secret, () => undefined);
      t.teardown(bot.close);
      const installed = await api.bots.install({ name: 'Reactor', secret, url: bot.url, features: ['webhook', 'response', 'reaction'] });
      t.equal(installed.features, 11);
      const setup = await api.bots.setup(installed.id, [token]);
      t.same(setup, { exitCode: 0, lines: [{ ok: true, text: `Successfully set up for conversation ${token}` }] });
      const target = ids[0];
      const liked = await carol.post(`${V1}/reaction/${token}/${target}`, { reaction: '👍' });
      t.equal(liked.status, 201);
      t.same(Object.keys(liked.data), ['👍']);
      t.match(liked.data['👍'][0], { actorType: 'users', actorId: 'carol', actorDisplayName: 'Carol <C>' });
      t.equal((await carol.post(`${V1}/reaction/${token}/${target}`, { reaction: '👍' })).status, 200, 'already there');
      t.equal((await carol.post(`${V1}/reaction/${token}/${target}`, { reaction: 'not an emoji' })).status, 400);
      t.equal((await carol.post(`${V1}/reaction/${token}/999999`, { reaction: '👍' })).status, 404);

      const react = (method: string, reaction: string, messageId = target, s = secret) => {
        const sig = signAsBot(s, reaction);
        return sb.fetch(`${V1}/bot/${token}/reaction/${messageId}?format=json`, {
          method,
          headers: { 'Content-Type': 'application/json', 'OCS-APIRequest': 'true', 'X-Nextcloud-Talk-Bot-Random': sig.random, 'X-Nextcloud-Talk-Bot-Signature': sig.signature },
          body: JSON.stringify({ reaction }),
        });
      };
      t.equal((await react('POST', '🎉')).status, 201);
      t.equal((await react('POST', '🎉')).status, 200);
      t.equal((await react('POST', '🎉', 999999)).status, 404);
      t.equal((await react('POST', 'nope')).status, 400);
      t.equal((await react('POST', '🎉', target, secretOf('wrong'))).status, 401);
      const seen = await carol.get(`${V1}/chat/${token}?lookIntoFuture=0&limit=200`);
      const reacted = seen.data.find((m: any) => m.id === target);
      t.same(reacted.reactions, { '👍': 1, '🎉': 1 });
      t.same(reacted.reactionsSelf, ['👍']);
      const all = await carol.get(`${V1}/reaction/${token}/${target}`);
      t.match(all.data['🎉'][0], { actorType: 'bots', actorId: `bot-${sha1(bot.url)}`, actorDisplayName: 'Reactor' });
      t.equal((await react('DELETE', '🎉')).status, 200);
      t.equal((await react('DELETE', '🎉')).status, 404, 'no such reaction any more');
      const removed = await carol.del(`${V1}/reaction/${token}/${target}`, { reaction: '👍' });
      t.equal(removed.status, 200);
      t.same(removed.data, {});
      t.equal((await carol.del(`${V1}/reaction/${token}/${target}`, { reaction: '👍' })).status, 404);

      // Join, then Like and Undo for carol's reaction; never for the bot's own.
      await until(() => bot.hooks.length >= 3, 10_000, 'reaction webhooks');
      await new Promise((r) => setTimeout(r, 300));
      t.same(bot.hooks.map((h) => h.activity.type), ['Join', 'Like', 'Undo']);
      t.ok(bot.hooks.every((h) => h.verified));
      t.equal(bot.hooks[0].headers['x-nextcloud-talk-backend'], 'https://talk.example.org/cloud/', 'the configured backend URL, with a trailing slash');
      const like = bot.hooks[1].activity;
      t.same(like, {
        type: 'Like',
        actor: { type: 'Person', id: 'users/carol', name: 'Carol <C>' },
        object: { type: 'Note', id: String(target), name: 'message', content: JSON.stringify({ message: 'message 1', parameters: {} }), mediaType: 'text/markdown' },
        target: { type: 'Collection', id: token, name: 'Chat' },
        content: '👍',
      });
      t.same(bot.hooks[2].activity, { type: 'Undo', actor: like.actor, object: like, target: like.target });
      await api.bots.uninstall({ id: installed.id });
    });

    await t.test('guests and replies in webhooks, through the programmatic API', async (t) => {
      const secret = secretOf('api-bot');
      const bot = await startTalkBot(secret, () => undefined);
      t.teardown(bot.close);
      const installed = await api.bots.install({ name: 'Listener', secret, url: bot.url, features: 1 });
      const room = await api.conversations.room(token);
      t.ok(room);
      await api.bots.setup(installed.id, [token]);
      const { attendee } = await api.conversations.addParticipant(room!, { type: 'guests', id: 'g-123', displayName: 'Visitor' });
      t.equal(attendee.participantType, 4);
      const parent = await api.conversations.post(room!, { type: 'guests', id: 'g-123', displayName: 'Visitor' }, { message: 'guest here' });
      await api.conversations.post(room!, { type: 'users', id: 'alice', displayName: 'Alice A.' }, { message: 'welcome', replyTo: parent.message.id });
      await until(() => bot.hooks.length >= 3, 10_000, 'webhooks');
      t.same(bot.hooks[1].activity.actor, { type: 'Person', id: 'guests/g-123', name: 'Visitor' });
      t.equal(bot.hooks[1].headers['x-nextcloud-talk-backend'], 'https://talk.example.org/cloud/');
      t.same(bot.hooks[2].activity.object.inReplyTo, {
        actor: { type: 'Person', id: 'guests/g-123', name: 'Visitor' },
        object: { type: 'Note', id: String(parent.message.id), name: 'message', content: JSON.stringify({ message: 'guest here', parameters: {} }), mediaType: 'text/markdown' },
      });
      const listed = await alice.get(`${V4}/room/${token}`);
      t.match(listed.data.lastMessage, { message: 'welcome', parent: { id: parent.message.id } });
      // A response-only bot (webhook feature off) is never called; removing a bot says Leave.
      await api.bots.remove(installed.id, [token]);
      await until(() => bot.hooks.length >= 4, 10_000, 'Leave');
      t.equal(bot.hooks[3].activity.type, 'Leave');
    });

    await t.test('posts to one conversation commit in id order, so a poller never skips one', async (t) => {
      const room = (await api.conversations.room(token))!;
      const author = { type: 'users', id: 'alice', displayName: 'Alice' };
      // Concurrent posts: every id a poller sees is final, none appears later below it.
      const posted = await Promise.all(Array.from({ length: 20 }, (_, i) => api.conversations.post(room, author, { message: `burst ${i}` })));
      const ids = posted.map((p) => p.message.id).sort((a, b) => a - b);
      const polled = await alice.get(`${V1}/chat/${token}?lookIntoFuture=1&lastKnownMessageId=${ids[0] - 1}&limit=100&timeout=0`);
      t.same(polled.data.map((m: any) => m.id).filter((id: number) => id >= ids[0]), ids);
      if (kind !== 'postgres') return; // SQLite has one writer at a time: nothing to lock.
      // The mechanism: while one post holds the conversation, the next one does not even take
      // a message id (ids come from a sequence, which moves outside transactions).
      const ctx = sb.kernel.context('talk');
      const rooms = ctx.container.resolve(RoomStore);
      const sequenceName = (await ctx.db.raw('SELECT pg_get_serial_sequence(?, ?) AS s', [ctx.table('messages'), 'id'])).rows[0].s as string;
      const lastId = async () => Number((await ctx.db.raw(`SELECT last_value AS v FROM ${sequenceName}`)).rows[0].v);
      const trx = await ctx.db.transaction();
      await rooms.lockForPost(trx, room.id);
      const before = await lastId();
      let settled = false;
      const next = api.conversations.post(room, author, { message: 'after the lock' }).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      t.equal(settled, false, 'a post waits while another one holds the conversation');
      t.equal(await lastId(), before, 'and has not taken an id yet');
      await trx.commit();
      t.ok((await next).message.id > ids[ids.length - 1]);
    });
  });
}
