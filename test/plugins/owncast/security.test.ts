/**
 * Owncast's security findings, each as a regression test: cross-site requests to the admin
 * API (CORS never reflects an arbitrary origin with credentials, and a cross-origin body that
 * is not JSON is refused), chat images that walk out of the emoji directory, names that
 * reach an object's prototype, and the 401 every authenticated operation documents.
 */
import t from 'tap';
import { databaseKinds } from '../../../src/testing/index.js';
import { isEmojiPath, renderChatBody } from '../../../plugins/owncast/markdown.js';
import { basic, chatClient, getJson, KEY, owncastOf, post, startOwncast } from './fixtures/helpers.js';

const EVIL = 'https://evil.example';

t.test('chat images: only plain paths under /img/emoji/ pass', async (t) => {
  for (const ok of ['/img/emoji/parrot.gif', '/img/emoji/blobs/blob_cat.png', '/IMG/Emoji/x.v2.webp']) t.ok(isEmojiPath(ok), ok);
  for (const bad of [
    '/img/emoji/../../api/admin/disconnect',
    '/img/emoji/..',
    '/img/emoji/./x.gif',
    '/img/emoji/%2e%2e/%2e%2e/api/admin/disconnect',
    '/img/emoji/..%2f..%2fapi/admin/disconnect',
    '/img/emoji/a%20b.gif',
    '/img/emoji//evil.example/x.gif',
    '/img/emoji/a\\..\\..\\api',
    '/img/emoji/x.gif?/../../api',
    '/img/emoji/',
    '/img/emojis/x.gif',
    '//evil.example/img/emoji/x.gif',
    'https://evil.example/img/emoji/x.gif',
    'img/emoji/x.gif',
  ]) {
    t.notOk(isEmojiPath(bad), bad);
  }
  t.match(renderChatBody('![parrot](/img/emoji/parrot.gif)'), /<img src="\/img\/emoji\/parrot.gif"/, 'an emoji stays');
  for (const raw of [
    '![x](/img/emoji/../../api/admin/disconnect)',
    '<img src="/img/emoji/../../api/admin/disconnect">',
    '<img src="/img/emoji/%2e%2e/%2e%2e/api/admin/disconnect">',
    '<img src="/img/emoji/&#46;&#46;/&#46;&#46;/api/admin/disconnect">',
  ]) {
    t.notMatch(renderChatBody(raw), /<img/i, `no image: ${raw}`);
  }
});

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startOwncast(kind);
    t.teardown(sb.close);
    const admin = basic();

    t.test('CORS: `*` means `*`, without credentials', async (t) => {
      for (const method of ['OPTIONS', 'GET']) {
        const res = await sb.fetch('/api/admin/serverconfig', { method, headers: { ...admin, origin: EVIL } });
        t.equal(res.headers.get('access-control-allow-origin'), '*', `${method}: not the page's origin`);
        t.equal(res.headers.get('access-control-allow-credentials'), null, `${method}: no credentials`);
      }
      t.equal((await sb.fetch('/api/admin/status', { headers: admin })).headers.get('access-control-allow-origin'), null, 'no CORS headers without an Origin');
    });

    t.test('a cross-origin body that is not JSON is refused before auth, and changes nothing', async (t) => {
      const attempts: Array<[string, Record<string, string>, string | undefined]> = [
        ['/api/admin/config/key', { 'content-type': 'text/plain' }, JSON.stringify({ value: 'hijacked-by-a-page' })],
        ['/api/admin/config/key', { 'content-type': 'application/x-www-form-urlencoded' }, JSON.stringify({ value: 'hijacked-by-a-page' })],
        ['/api/admin/config/key', { 'content-type': 'multipart/form-data; boundary=x' }, JSON.stringify({ value: 'hijacked-by-a-page' })],
        ['/api/admin/config/key', {}, JSON.stringify({ value: 'hijacked-by-a-page' })],
        ['/api/admin/webhooks/create', { 'content-type': 'text/plain' }, JSON.stringify({ url: 'https://evil.example/hook', events: ['CHAT'] })],
        ['/api/admin/accesstokens/create', { 'content-type': 'text/plain' }, JSON.stringify({ name: 'evil', scopes: ['HAS_ADMIN_ACCESS'] })],
        ['/api/admin/disconnect', {}, undefined],
      ];
      for (const origin of [EVIL, 'null']) {
        for (const [path, headers, body] of attempts) {
          const res = await sb.fetch(path, { method: 'POST', headers: { ...admin, ...headers, origin }, body });
          t.equal(res.status, 415, `${path} from ${origin} (${headers['content-type'] ?? 'no type'})`);
          // In the route's own style: a BasicResponse on the setters, `{"error": …}` elsewhere.
          const answer = (await res.json()) as { success?: boolean; message?: string; error?: string };
          t.equal(answer.message ?? answer.error, 'a request from another origin must send its body as application/json');
        }
      }
      t.equal((await sb.fetch('/api/admin/status', { headers: basic(KEY) })).status, 200, 'the stream key is unchanged');
      t.same(await getJson(sb, '/api/admin/webhooks'), [], 'no webhook was created');
      t.same(await getJson(sb, '/api/admin/accesstokens'), [], 'no token was created');
    });

    t.test('clients without a page keep working: no Origin, the same origin, a listed origin', async (t) => {
      const curl = await sb.fetch('/api/admin/config/serversummary', { method: 'POST', headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' }, body: JSON.stringify({ value: 'from curl' }) });
      t.same(await curl.json(), { success: true, message: 'changed' }, 'curl -d (no Origin, form type) is read as JSON');
      const bare = await sb.fetch('/api/admin/config/serversummary', { method: 'POST', headers: admin, body: JSON.stringify({ value: 'no type at all' }) });
      t.same(await bare.json(), { success: true, message: 'changed' }, 'no Content-Type at all');
      const same = await sb.fetch('/api/admin/config/serversummary', { method: 'POST', headers: { ...admin, origin: new URL(sb.url).origin, 'content-type': 'text/plain' }, body: JSON.stringify({ value: 'same origin' }) });
      t.same(await same.json(), { success: true, message: 'changed' }, "the server's own origin");
      const json = await post(sb, '/api/admin/config/serversummary', { value: 'json from a page' }, { ...admin, origin: EVIL });
      t.equal(json.status, 200, 'JSON from a page is read: a browser sends it only after a preflight, which cannot grant credentials');
      t.equal((await getJson(sb, '/api/config', {})).summary, 'json from a page');
    });

    t.test('a listed origin gets its origin back with credentials, and may send any type', async (t) => {
      const listed = await startOwncast(kind, { admin: { corsOrigins: ['https://admin.example'] } });
      t.teardown(listed.close);
      const pre = await listed.fetch('/api/admin/config/name', { method: 'OPTIONS', headers: { origin: 'https://admin.example' } });
      t.equal(pre.headers.get('access-control-allow-origin'), 'https://admin.example');
      t.equal(pre.headers.get('access-control-allow-credentials'), 'true');
      t.match(pre.headers.get('vary') ?? '', /Origin/);
      const other = await listed.fetch('/api/admin/config/name', { method: 'OPTIONS', headers: { origin: EVIL } });
      t.equal(other.headers.get('access-control-allow-origin'), null, 'an unlisted origin gets no CORS headers');
      const res = await listed.fetch('/api/admin/config/name', { method: 'POST', headers: { ...admin, origin: 'https://admin.example', 'content-type': 'text/plain' }, body: JSON.stringify({ value: 'Listed' }) });
      t.same(await res.json(), { success: true, message: 'changed' });
      const refused = await listed.fetch('/api/admin/config/name', { method: 'POST', headers: { ...admin, origin: EVIL, 'content-type': 'text/plain' }, body: JSON.stringify({ value: 'Evil' }) });
      t.equal(refused.status, 415);
      t.equal((await getJson(listed, '/api/config', {})).name, 'Listed');
    });

    t.test('a chat image cannot make viewers request an admin path', async (t) => {
      const client = await chatClient(sb);
      t.teardown(client.close);
      client.send({ type: 'CHAT', author: 'mallory', body: 'look ![x](/img/emoji/../../api/admin/disconnect) <img src="/img/emoji/%2e%2e/%2e%2e/api/admin/disconnect">' });
      const message = await client.next((f) => f.type === 'CHAT' && f.author === 'mallory');
      t.notMatch(message.body, /<img/i);
      t.notMatch(message.body, /api\/admin/);
    });

    t.test('names that reach a prototype: social platforms and stored settings', async (t) => {
      const handles = ['__proto__', 'constructor', 'prototype', 'toString', 'GitHub'].map((platform) => ({ platform, url: `https://social.example/${platform}` }));
      t.equal((await post(sb, '/api/admin/config/socialhandles', { value: handles }, admin)).status, 200);
      const shown = (await getJson(sb, '/api/config', {})).socialHandles as Array<Record<string, unknown>>;
      t.same(
        shown.map((h) => h.icon ?? null),
        [null, null, null, null, '/img/platformlogos/github.svg'],
        'only a known platform gets an icon',
      );
      t.ok(shown.every((h) => Object.keys(h).every((k) => ['platform', 'url', 'icon'].includes(k))));

      const ctx = sb.kernel.context('owncast');
      const table = ctx.table('settings');
      await ctx.db(table).insert([
        { key: '__proto__', value: JSON.stringify({ polluted: 'yes' }), updated_at: Date.now() },
        { key: 'constructor', value: JSON.stringify('x'), updated_at: Date.now() },
        { key: 's3', value: JSON.stringify({ enabled: false, endpoint: 'https://s3.example', extra: 'dropped', secret: 5 }), updated_at: Date.now() },
      ]);
      const settings = owncastOf(sb).settings;
      await settings.load();
      t.equal(Object.getPrototypeOf(settings.settings), Object.prototype, 'the settings keep their prototype');
      t.equal((settings.settings as unknown as Record<string, unknown>).polluted, undefined);
      t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
      t.equal(typeof settings.settings.constructor, 'function', 'a row named constructor is not a setting');
      t.same(settings.settings.s3, { enabled: false, endpoint: 'https://s3.example', servingEndpoint: '', accessKey: '', secret: '', bucket: '', region: '', acl: '' }, 'stored s3 keeps known keys of the right type only');
      t.equal((await post(sb, '/api/admin/config/name', { value: 'still writable' }, admin)).status, 200, 'a write still succeeds');
    });

    t.test('every authenticated operation documents its 401 as Owncast sends it', async (t) => {
      const paths = sb.kernel.openapi().paths as Record<string, Record<string, any>>;
      let authenticated = 0;
      for (const [path, ops] of Object.entries(paths)) {
        for (const [method, op] of Object.entries(ops)) {
          if (!op.security || op.security.length === 0) continue;
          authenticated++;
          const refusal = op.responses?.['401'];
          t.ok(refusal, `${method.toUpperCase()} ${path} declares 401`);
          const expected = path.startsWith('/api/admin/') ? 'Unauthorized' : 'invalid access token';
          t.same(refusal?.content?.['text/plain']?.schema?.const, expected, `${method.toUpperCase()} ${path}: ${expected}`);
        }
      }
      t.ok(authenticated >= 47, `${authenticated} authenticated operations`);
      const res = await sb.fetch('/api/admin/config/welcomemessage', { method: 'POST' });
      t.equal(res.status, 401);
      t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      t.equal(await res.text(), 'Unauthorized', 'the documented body is the one sent');
    });
  });
}
