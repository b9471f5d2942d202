/**
 * What a chat client sends about itself is bounded before it reaches anyone else: a
 * NAME_CHANGE `image` is passed on only when it is a short plain path under `/img/emoji/`
 * (else `""`, as Owncast sends without an image), and a client's user agent and address are
 * cut when it connects (the admin listing and the cluster presence row show them).
 */
import 'reflect-metadata';
import t from 'tap';
import { WebSocket } from 'ws';
import { MAX_ADDRESS_LENGTH, MAX_USER_AGENT_LENGTH, truncate } from '../../../plugins/owncast/chat/hub.js';
import { MAX_NAME_CHANGE_IMAGE_LENGTH, nameChangeImage } from '../../../plugins/owncast/chat/service.js';
import { databaseKinds } from '../../../src/testing/index.js';
import { startReceiver } from '../../helpers/receiver.js';
import { basic, bearer, chatClient, getJson, post, startOwncast, until } from './fixtures/helpers.js';

t.test('nameChangeImage keeps only short plain emoji paths', async (t) => {
  for (const ok of ['/img/emoji/parrot.gif', '/img/emoji/blobs/blob_cat.png', '/img/emoji/' + 'a'.repeat(MAX_NAME_CHANGE_IMAGE_LENGTH - 15) + '.gif']) {
    t.equal(nameChangeImage(ok), ok, ok.slice(0, 40));
  }
  for (const bad of [
    '/img/emoji/' + 'a'.repeat(MAX_NAME_CHANGE_IMAGE_LENGTH - 14) + '.gif',
    '/img/emoji/' + 'a'.repeat(1024 * 1024),
    'https://robohash.org/bob?size=80x80&set=set2',
    '/img/avatar.png',
    '/img/emoji/../../api/admin/disconnect',
    '/img/emoji/%2e%2e/x.gif',
    'javascript:alert(1)',
    '',
    42,
    null,
    undefined,
    true,
    ['/img/emoji/parrot.gif'],
    { src: '/img/emoji/parrot.gif' },
  ]) {
    t.equal(nameChangeImage(bad), '', typeof bad === 'string' ? bad.slice(0, 40) : JSON.stringify(bad));
  }
});

t.test('truncate cuts to the bound and never splits a surrogate pair', async (t) => {
  t.equal(truncate('short', 10), 'short');
  t.equal(truncate('abcdef', 3), 'abc');
  t.equal(truncate('ab😀cd', 3), 'ab', 'the high surrogate at the cut is dropped with its pair');
  t.equal(truncate('ab😀cd', 4), 'ab😀');
  t.equal(truncate('x'.repeat(10_000), MAX_USER_AGENT_LENGTH).length, MAX_USER_AGENT_LENGTH);
});

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    const sb = await startOwncast(kind, { chat: { rateLimitBurst: 100, rateLimitPerSecond: 100, trustForwardedFor: true } });
    t.teardown(sb.close);
    const admin = basic();
    const hook = await post(sb, '/api/admin/webhooks/create', { url: receiver.url, events: ['NAME_CHANGE', 'CHAT'] }, admin);
    t.equal(hook.status, 200);
    const delivered = (type: string) => receiver.received.map((r) => JSON.parse(String(r.body))).filter((b) => b.type === type);

    t.test('a NAME_CHANGE image that is not a short emoji path is sent as "" to clients and webhooks', async (t) => {
      const sender = await chatClient(sb, 'sender');
      const viewer = await chatClient(sb, 'viewer');
      t.teardown(sender.close);
      t.teardown(viewer.close);
      const huge = '/img/emoji/' + 'a'.repeat(200_000) + '.gif';
      const cases: Array<{ name: string; image?: unknown; expected: string }> = [
        { name: 'huge', image: huge, expected: '' },
        { name: 'long', image: '/img/emoji/' + 'a'.repeat(300) + '.gif', expected: '' },
        { name: 'external', image: 'https://robohash.org/bob?size=80x80&set=set2', expected: '' },
        { name: 'traversal', image: '/img/emoji/../../api/admin/disconnect', expected: '' },
        { name: 'other-path', image: '/img/avatar.png', expected: '' },
        { name: 'number', image: 42, expected: '' },
        { name: 'object', image: { src: '/img/emoji/parrot.gif' }, expected: '' },
        { name: 'absent', expected: '' },
        { name: 'emoji', image: '/img/emoji/parrot.gif', expected: '/img/emoji/parrot.gif' },
        { name: 'nested-emoji', image: '/img/emoji/blobs/blob_cat.png', expected: '/img/emoji/blobs/blob_cat.png' },
      ];
      let oldName = 'sender';
      for (const c of cases) {
        sender.send({ type: 'NAME_CHANGE', oldName, newName: c.name, ...('image' in c ? { image: c.image } : {}) });
        const frame = await viewer.next((f) => f.type === 'NAME_CHANGE' && f.newName === c.name);
        t.same(Object.keys(frame).sort(), ['id', 'image', 'newName', 'oldName', 'timestamp', 'type'], `${c.name}: the frame's fields`);
        t.match(frame, { oldName, newName: c.name, image: c.expected, type: 'NAME_CHANGE', id: String }, `${c.name}: image ${JSON.stringify(c.expected)}`);
        t.same(await sender.next((f) => f.type === 'NAME_CHANGE' && f.newName === c.name), frame, `${c.name}: the sender gets the same frame`);
        oldName = c.name;
      }
      await until(() => delivered('NAME_CHANGE').length === cases.length, 10_000, 'every NAME_CHANGE webhook');
      for (const c of cases) {
        const hooks = delivered('NAME_CHANGE').filter((d) => d.eventData.newName === c.name);
        t.equal(hooks.length, 1, `${c.name}: one delivery`);
        t.equal(hooks[0].eventData.image, c.expected, `${c.name}: the webhook's image`);
      }
      t.ok(receiver.received.every((r) => r.body.length < 10_000), 'no delivery carries the huge image');
      t.ok(viewer.frames.every((f) => JSON.stringify(f).length < 10_000), 'no frame carries the huge image');

      // Nothing else changed: the client is renamed, still connected, and still chats.
      await until(async () => (await getJson(sb, '/api/admin/clients')).some((c: any) => c.username === 'nested-emoji'));
      t.equal(sender.socket.readyState, sender.socket.OPEN);
      sender.send({ type: 'CHAT', body: 'still here' });
      t.match(await viewer.next((f) => f.type === 'CHAT'), { author: 'nested-emoji', body: '<p>still here</p>' });
      await until(() => delivered('CHAT').length === 1);
    });

    t.test('a long user agent and forwarded address are cut when a client connects', async (t) => {
      const longAgent = 'Mozilla/5.0 ' + 'x'.repeat(10_000);
      const agent = await chatClient(sb, longAgent);
      t.teardown(agent.close);
      const connect = (headers: Record<string, string>) =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(`${sb.url.replace('http', 'ws')}/entry`, { headers });
          socket.once('open', () => resolve(socket));
          socket.once('error', reject);
        });
      const forwarded = await connect({ 'user-agent': 'forwarded', 'x-forwarded-for': 'f'.repeat(5000) + ', 10.0.0.1' });
      const plain = await connect({ 'user-agent': 'plain', 'x-forwarded-for': '203.0.113.7' });
      t.teardown(() => {
        forwarded.close();
        plain.close();
      });
      const check = (clients: any[], label: string) => {
        const long = clients.find((c) => c.userAgent.startsWith('Mozilla/5.0 '));
        t.ok(long, `${label}: the client is listed`);
        t.equal(long.userAgent, longAgent.slice(0, MAX_USER_AGENT_LENGTH), `${label}: its user agent is cut to ${MAX_USER_AGENT_LENGTH} characters`);
        t.same(Object.keys(long).sort(), ['clientID', 'connectedAt', 'ipAddress', 'messageCount', 'userAgent', 'username'], `${label}: the same fields`);
        t.match(long, { messageCount: 0, ipAddress: '127.0.0.1', username: null, clientID: /^[0-9a-f]{32}$/ });
        t.equal(clients.find((c) => c.userAgent === 'forwarded').ipAddress, 'f'.repeat(MAX_ADDRESS_LENGTH), `${label}: a long forwarded address is cut`);
        t.equal(clients.find((c) => c.userAgent === 'plain').ipAddress, '203.0.113.7', `${label}: a short one is kept`);
      };
      check(await getJson(sb, '/api/admin/clients'), '/api/admin/clients');
      const token = (await (await post(sb, '/api/admin/accesstokens/create', { name: 'mod', scopes: ['HAS_ADMIN_ACCESS'] }, admin)).json()) as any;
      check(await getJson(sb, '/api/integrations/clients', bearer(token.token)), '/api/integrations/clients');
    });
  });
}
