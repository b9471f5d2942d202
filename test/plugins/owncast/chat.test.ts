/**
 * Chat over the websocket as Owncast 0.0.7 clients speak it, moderation, integration
 * senders with scoped access tokens, and webhooks delivered through the outbox.
 */
import t from 'tap';
import { databaseKinds } from '../../../src/testing/index.js';
import { startReceiver } from '../../helpers/receiver.js';
import { basic, bearer, chatClient, getJson, owncastOf, post, startOwncast, until } from './fixtures/helpers.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    const sb = await startOwncast(kind, { chat: { pingIntervalMs: 300 }, defaults: { name: 'Test Server' } });
    t.teardown(sb.close);
    const admin = basic();
    const received = (type: string) => receiver.received.map((r) => JSON.parse(String(r.body))).filter((b) => b.type === type);

    const hookRes = await post(sb, '/api/admin/webhooks/create', { url: receiver.url, events: ['CHAT', 'USER_JOINED', 'NAME_CHANGE', 'VISIBILITY-UPDATE', 'STREAM_STARTED', 'STREAM_TITLE_UPDATED'] }, admin);
    const hook = (await hookRes.json()) as any;

    t.test('webhooks are created, validated and listed', async (t) => {
      t.equal(hookRes.status, 200);
      t.ok(Number.isInteger(hook.id));
      t.match(hook, { url: receiver.url, events: ['CHAT', 'USER_JOINED', 'NAME_CHANGE', 'VISIBILITY-UPDATE', 'STREAM_STARTED', 'STREAM_TITLE_UPDATED'], lastUsed: null });
      t.match(hook.timestamp, ISO);
      const bad = await post(sb, '/api/admin/webhooks/create', { url: receiver.url, events: ['CHAT', 'NOPE'] }, admin);
      t.equal(bad.status, 400);
      t.same(await bad.json(), { error: 'one or more invalid event provided' });
      for (const url of ['ftp://example.com/hook', 'javascript:alert(1)', 'not a url', 'http://169.254.169.254/latest']) {
        const res = await post(sb, '/api/admin/webhooks/create', { url, events: ['CHAT'] }, admin);
        t.equal(res.status, 400, `refuses ${url}`);
        t.type(((await res.json()) as any).error, 'string');
      }
      t.equal((await post(sb, '/api/admin/webhooks/create', { url: receiver.url, events: 'CHAT' }, admin)).status, 400);
      t.same((await getJson(sb, '/api/admin/webhooks')).map((h: any) => h.id), [hook.id]);
    });

    const alice = await chatClient(sb, 'alice-browser');
    const bob = await chatClient(sb, 'bob-browser');
    t.teardown(alice.close);
    t.teardown(bob.close);
    let messageId = '';

    t.test('a websocket CHAT gets a server id, time and sanitized HTML body, and reaches every client', async (t) => {
      alice.send({ type: 'USER_JOINED', username: 'alice' });
      bob.send({ type: 'USER_JOINED', username: 'bob' });
      alice.send({ type: 'CHAT', author: 'alice', body: '*hi* <script>alert(1)</script>', id: 'forged', timestamp: '2000-01-01T00:00:00Z', visible: false });
      const frame = await bob.next((f) => f.type === 'CHAT');
      t.equal(frame.author, 'alice');
      t.equal(frame.body, '<p><em>hi</em> </p>');
      t.equal(frame.visible, true);
      t.not(frame.id, 'forged');
      t.match(frame.id, /^[A-Za-z0-9_-]{12}$/);
      t.match(frame.timestamp, ISO);
      t.not(frame.timestamp, '2000-01-01T00:00:00Z');
      t.same(await alice.next((f) => f.type === 'CHAT'), frame, 'the sender gets it too');
      messageId = frame.id;
      t.notOk(alice.frames.some((f) => f.type === 'USER_JOINED'), 'joins are not announced while offline (as Owncast)');
      const listed = (await getJson(sb, '/api/admin/chat/messages')).find((m: any) => m.id === messageId);
      t.same(listed, frame, 'the admin list shows it');
      t.ok((JSON.parse(await (await sb.fetch('/api/chat')).text()) as any[]).some((m) => m.id === messageId), '/api/chat shows it');
      await until(() => received('CHAT').length === 1);
      t.same(received('CHAT')[0], { type: 'CHAT', eventData: { author: 'alice', body: frame.body, rawBody: '*hi* <script>alert(1)</script>', id: messageId, visible: true, timestamp: frame.timestamp } });
      await until(() => received('USER_JOINED').length === 2);
      // Alice and Bob join over two sockets, so either join may reach the server first.
      const joins = received('USER_JOINED');
      t.same(joins.map((j: any) => j.eventData.username).sort(), ['alice', 'bob']);
      t.match(joins.find((j: any) => j.eventData.username === 'alice'), { type: 'USER_JOINED', eventData: { username: 'alice', type: 'USER_JOINED' } });
    });

    t.test('the connected clients are listed and counted', async (t) => {
      const clients = await getJson(sb, '/api/admin/clients');
      t.equal(clients.length, 2);
      const a = clients.find((c: any) => c.username === 'alice');
      t.match(a, { messageCount: 1, userAgent: 'alice-browser', ipAddress: '127.0.0.1', clientID: /^[0-9a-f]{32}$/ });
      t.match(a.connectedAt, ISO);
      t.equal(owncastOf(sb).hub.count(), 2);
    });

    t.test('a name change reaches every client and renames the client', async (t) => {
      bob.send({ type: 'NAME_CHANGE', oldName: 'bob', newName: 'robert', image: '/img/emoji/parrot.gif' });
      const frame = await alice.next((f) => f.type === 'NAME_CHANGE');
      t.match(frame, { oldName: 'bob', newName: 'robert', image: '/img/emoji/parrot.gif', type: 'NAME_CHANGE', id: String });
      await until(async () => (await getJson(sb, '/api/admin/clients')).some((c: any) => c.username === 'robert'));
      await until(() => received('NAME_CHANGE').length === 1);
      t.match(received('NAME_CHANGE')[0].eventData, { oldName: 'bob', newName: 'robert' });
    });

    t.test('the server keeps clients alive with PING', async (t) => {
      await alice.next((f) => f.type === 'PING', 3000);
      alice.send({ type: 'PONG' });
      t.equal(alice.socket.readyState, alice.socket.OPEN);
    });

    t.test('a hidden message is re-sent as VISIBILITY-UPDATE and leaves /api/chat', async (t) => {
      const res = await post(sb, '/api/admin/chat/updatemessagevisibility', { idArray: [messageId, 'no-such-id'], visible: false }, admin);
      t.same(await res.json(), { success: true, message: 'changed' });
      const update = await bob.next((f) => f.type === 'VISIBILITY-UPDATE' && f.visible === false);
      t.match(update, { id: messageId, author: 'alice', visible: false });
      const history = JSON.parse(await (await sb.fetch('/api/chat')).text()) as any[];
      t.notOk(history.some((m) => m.id === messageId), 'gone from /api/chat');
      t.equal((await getJson(sb, '/api/admin/chat/messages')).find((m: any) => m.id === messageId).visible, false, 'still in the admin list, hidden');
      await until(() => received('VISIBILITY-UPDATE').length === 1);
      t.match(received('VISIBILITY-UPDATE')[0].eventData, { id: messageId, visible: false });
      t.equal((await post(sb, '/api/admin/chat/updatemessagevisibility', { idArray: [messageId], visible: true }, admin)).status, 200);
      t.ok((JSON.parse(await (await sb.fetch('/api/chat')).text()) as any[]).some((m) => m.id === messageId), 'shown again');
    });

    t.test('visibility updates refuse wrong bodies with a BasicResponse and change nothing', async (t) => {
      const before = await getJson(sb, '/api/admin/chat/messages');
      for (const body of [{}, { idArray: [], visible: false }, { idArray: 'x', visible: false }, { idArray: [1], visible: false }, { idArray: [messageId], visible: 'no' }, { idArray: [messageId] }, [messageId]]) {
        const res = await post(sb, '/api/admin/chat/updatemessagevisibility', body, admin);
        t.equal(res.status, 400, JSON.stringify(body));
        const answer = (await res.json()) as any;
        t.equal(answer.success, false);
        t.match(answer.message, /idArray|visible|request body/);
      }
      t.same(await getJson(sb, '/api/admin/chat/messages'), before);
    });

    t.test('malformed frames are ignored; too long messages and floods are dropped', async (t) => {
      const carol = await chatClient(sb);
      t.teardown(carol.close);
      carol.send('not json');
      carol.send('[1,2]');
      carol.send({ body: 'no type' });
      carol.socket.send(Buffer.from([1, 2, 3]), { binary: true });
      carol.send({ type: 'CHAT', author: 'carol', body: 'x'.repeat(2001) });
      carol.send({ type: 'CHAT', author: 'carol', body: '   ' });
      // Every frame counts: 6 used, the burst is 5, so nothing more passes for a while.
      for (let i = 0; i < 3; i++) carol.send({ type: 'CHAT', author: 'carol', body: `flood ${i}` });
      const dave = await chatClient(sb);
      t.teardown(dave.close);
      for (let i = 0; i < 7; i++) dave.send({ type: 'CHAT', author: 'dave', body: `burst ${i}` });
      await until(async () => (await getJson(sb, '/api/admin/chat/messages')).filter((m: any) => m.author === 'dave').length === 5);
      await new Promise((r) => setTimeout(r, 300));
      const all = await getJson(sb, '/api/admin/chat/messages');
      t.equal(all.filter((m: any) => m.author === 'dave').length, 5, 'the burst allowance is 5');
      t.equal(all.filter((m: any) => m.author === 'carol').length, 0, 'nothing from the malformed, empty, long or flooding frames');
      t.equal(carol.socket.readyState, carol.socket.OPEN, 'the connection stays open');
    });

    t.test('integration access tokens, their scopes, and the chat senders', async (t) => {
      const create = async (name: string, scopes: unknown) => post(sb, '/api/admin/accesstokens/create', { name, scopes }, admin);
      const sysRes = await create('system bot', ['CAN_SEND_SYSTEM_MESSAGES']);
      const sys = (await sysRes.json()) as any;
      t.equal(sysRes.status, 200);
      t.match(sys, { name: 'system bot', scopes: ['CAN_SEND_SYSTEM_MESSAGES'], lastUsed: null, timestamp: ISO });
      t.match(sys.token, /^[A-Za-z0-9_-]{43}=$/, '32 random bytes, URL-safe base64 with padding');
      t.same(await (await create('x', ['CAN_FLY'])).json(), { error: 'one or more invalid scopes provided' });
      t.equal((await create('x', [])).status, 400);
      t.equal((await create('', ['CAN_SEND_MESSAGES'])).status, 400);
      const user = (await (await create('user bot', ['CAN_SEND_MESSAGES'])).json()) as any;
      const mod = (await (await create('moderator', ['HAS_ADMIN_ACCESS'])).json()) as any;

      const system = await post(sb, '/api/integrations/chat/system', { body: 'Server *maintenance* soon' }, bearer(sys.token));
      t.same(await system.json(), { success: true, message: 'sent' });
      const sysFrame = await alice.next((f) => f.type === 'SYSTEM');
      t.match(sysFrame, { author: 'Test Server', body: '<p>Server <em>maintenance</em> soon</p>', visible: true });
      const action = await post(sb, '/api/integrations/chat/action', { body: 'rolled a 15 on the dice', author: 'JohnSmith' }, bearer(sys.token));
      t.same(await action.json(), { success: true, message: 'sent' });
      t.match(await alice.next((f) => f.type === 'CHAT_ACTION' && /rolled/.test(f.body)), { body: '<p>JohnSmith rolled a 15 on the dice</p>' });
      const asUser = await post(sb, '/api/integrations/chat/user', { user: 'bot', body: 'beep' }, bearer(user.token));
      t.same(await asUser.json(), { success: true, message: 'sent' });
      t.match(await alice.next((f) => f.type === 'CHAT' && f.author === 'bot'), { body: '<p>beep</p>' });
      t.equal((await post(sb, '/api/integrations/chat/user', { author: 'bot2', body: 'boop' }, bearer(user.token))).status, 200, '`author` works too');

      // Exact scopes: none implies another.
      for (const [path, token] of [['/api/integrations/chat/user', sys.token], ['/api/integrations/chat/system', user.token], ['/api/integrations/chat/system', mod.token], ['/api/integrations/streamtitle', sys.token]] as const) {
        const res = await post(sb, path, { body: 'x', value: 'x', user: 'x' }, bearer(token));
        t.equal(res.status, 401, `${path} refuses a token without its scope`);
        t.equal(await res.text(), 'invalid access token');
      }
      for (const headers of [{}, bearer('nope'), basic()]) {
        const res = await sb.fetch('/api/integrations/chat', { headers });
        t.equal(res.status, 401);
        t.equal(await res.text(), 'invalid access token');
      }
      const history = JSON.parse(await (await sb.fetch('/api/integrations/chat', { headers: bearer(mod.token) })).text()) as any[];
      t.ok(history.some((m) => m.type === 'SYSTEM') && history.some((m) => m.type === 'CHAT_ACTION'));
      t.equal((await sb.fetch('/api/integrations/chat', { method: 'POST', headers: bearer(mod.token) })).status, 501);
      t.equal((await getJson(sb, '/api/integrations/clients', bearer(mod.token))).length, 2);

      // Wrong bodies: a BasicResponse naming the problem.
      for (const body of [{ body: 5 }, { body: '' }, {}, { body: 'y'.repeat(2001) }]) {
        const res = await post(sb, '/api/integrations/chat/system', body, bearer(sys.token));
        t.equal(res.status, 400);
        t.match(await res.json(), { success: false, message: /body/ });
      }
      t.match(await (await post(sb, '/api/integrations/chat/user', { body: 'who am i' }, bearer(user.token))).json(), { success: false, message: 'user is required' });

      const title = await post(sb, '/api/integrations/streamtitle', { value: 'Speedrun' }, bearer(mod.token));
      t.same(await title.json(), { success: true, message: 'changed' });
      t.match(await alice.next((f) => f.type === 'CHAT_ACTION' && /Speedrun/.test(f.body)), { body: '<p>Stream title changed to <strong>Speedrun</strong></p>' });
      t.equal((await getJson(sb, '/api/status', {})).streamTitle, 'Speedrun');
      await until(() => received('STREAM_TITLE_UPDATED').length === 1);
      t.match(received('STREAM_TITLE_UPDATED')[0].eventData, { name: 'Test Server', streamTitle: 'Speedrun' });

      const listed = (await getJson(sb, '/api/admin/accesstokens')).find((k: any) => k.token === sys.token);
      t.match(listed.lastUsed, ISO, 'lastUsed is set by use');

      t.same(await (await post(sb, '/api/admin/accesstokens/delete', { token: sys.token }, admin)).json(), { success: true, message: 'deleted token' });
      const after = await post(sb, '/api/integrations/chat/system', { body: 'still here?' }, bearer(sys.token));
      t.equal(after.status, 401, 'a deleted token is refused');
      t.same(await (await post(sb, '/api/admin/accesstokens/delete', { token: sys.token }, admin)).json(), { error: 'token not found' });
      t.same(await (await post(sb, '/api/admin/accesstokens/delete', {}, admin)).json(), { error: 'must provide a token' });
      t.notOk((await getJson(sb, '/api/admin/accesstokens')).some((k: any) => k.token === sys.token));
    });

    t.test('a broadcast start reaches chat clients and STREAM_STARTED webhooks; joins are announced while online', async (t) => {
      await owncastOf(sb).broadcasts.start({ remoteAddr: '198.51.100.7' });
      const started = await alice.next((f) => f.type === 'STREAM_STARTED');
      t.match(started, { author: 'Test Server', body: '<p>Stay tuned, the stream is <strong>starting</strong>!</p>', visible: true, id: String });
      await until(() => received('STREAM_STARTED').length === 1);
      t.same(received('STREAM_STARTED')[0], { type: 'STREAM_STARTED', eventData: { name: 'Test Server', summary: owncastOf(sb).settings.settings.summary, streamTitle: 'Speedrun' } });
      bob.send({ type: 'USER_JOINED', username: 'robert' });
      t.match(await alice.next((f) => f.type === 'USER_JOINED'), { username: 'robert', id: String, timestamp: ISO });
      t.equal((await getJson(sb, '/api/status', {})).viewerCount, 2);
    });

    t.test('a delivered webhook records lastUsed; deleting it stops deliveries', async (t) => {
      await until(async () => (await getJson(sb, '/api/admin/webhooks'))[0].lastUsed !== null);
      t.match((await getJson(sb, '/api/admin/webhooks'))[0].lastUsed, ISO);
      t.same(await (await post(sb, '/api/admin/webhooks/delete', { id: hook.id }, admin)).json(), { success: true, message: 'deleted webhook' });
      t.same(await getJson(sb, '/api/admin/webhooks'), []);
      t.same(await (await post(sb, '/api/admin/webhooks/delete', { id: hook.id }, admin)).json(), { error: `webhook ${hook.id} not found` });
      // Deliveries enqueued before the delete still go out; wait for them before counting.
      const outbox = sb.kernel.context('owncast').outbox;
      await until(async () => {
        const stats = await outbox.stats();
        return stats.pending === 0 && stats.delivering === 0;
      });
      const count = receiver.received.length;
      alice.send({ type: 'CHAT', author: 'alice', body: 'after the webhook' });
      await bob.next((f) => f.type === 'CHAT' && f.body === '<p>after the webhook</p>');
      await new Promise((r) => setTimeout(r, 300));
      t.equal(receiver.received.length, count, 'no delivery after the delete');
    });

    t.test('a webhook whose URL is no longer allowed is skipped; the others and the chat go on', async (t) => {
      const ctx = sb.kernel.context('owncast');
      // Stored before the policy changed (it would be refused now): the metadata address.
      await ctx.db(ctx.table('webhooks')).insert({ url: 'http://169.254.169.254/latest', events: JSON.stringify(['CHAT']), created_at: Date.now(), last_used: null });
      const good = (await (await post(sb, '/api/admin/webhooks/create', { url: receiver.url, events: ['CHAT'] }, admin)).json()) as any;
      t.ok(Number.isInteger(good.id));
      const before = received('CHAT').length;
      alice.send({ type: 'CHAT', author: 'alice', body: 'still delivered' });
      await bob.next((f) => f.type === 'CHAT' && f.body === '<p>still delivered</p>');
      await until(() => received('CHAT').length === before + 1);
      t.equal(received('CHAT').at(-1).eventData.rawBody, 'still delivered');
      const warnings = await getJson(sb, '/api/admin/logs/warnings');
      t.ok(warnings.some((l: any) => /webhook not sent: URL http:\/\/169\.254\.169\.254 is not allowed/.test(l.message)), 'a warning says why');
    });
  });
}
