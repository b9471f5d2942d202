/**
 * Admin configuration: Owncast's own upstream configuration scenario, every setter refusing
 * every wrong type (400 BasicResponse naming the problem, nothing changed), the POST-only
 * answer, admin auth and the stream key, CORS and preflight, and a generated stream key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { WebSocket } from 'ws';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { owncastPlugin } from '../../../plugins/owncast/index.js';
import { basic, bearer, chatClient, getJson, KEY, owncastOf, post, send, startOwncast } from './fixtures/helpers.js';

// Always starts with a letter: an all-digit value would not be a valid host name in the s3 endpoint.
const rand = () => `r${Math.random().toString(16).slice(2, 14)}`;

/** Wrong values per setter; every one must be refused. */
const WRONG: Record<string, unknown[]> = {};
const STRINGS = ['name', 'serversummary', 'logo', 'pagecontent', 'streamtitle', 'ffmpegpath', 'serverurl', 'customstyles', 'video/codec', 'key'];
for (const s of STRINGS) WRONG[s] = [5, true, null, ['x'], { a: 1 }];
WRONG['name'].push('   ');
WRONG['key'].push('', 'short', ' padded ');
WRONG['serverurl'].push('not a url', 'javascript:alert(1)');
WRONG['video/codec'].push('lib x264;rm -rf');
WRONG['webserverport'] = ['8080', 80.5, true, null, 0, 70000];
WRONG['rtmpserverport'] = ['1935', -1, 65536, []];
WRONG['video/streamlatencylevel'] = ['2', 1.5, -1, 5, false];
WRONG['nsfw'] = ['true', 1, null, {}];
WRONG['directoryenabled'] = ['false', 0, []];
WRONG['tags'] = ['x', [1], [null], { a: 'b' }];
WRONG['socialhandles'] = ['x', [{ platform: 1, url: 'https://x.example' }], [{ platform: 'x' }], [{ platform: 'x', url: 'javascript:alert(1)' }], [5]];
WRONG['video/streamoutputvariants'] = ['x', [], [{ framerate: '30' }], [{ cpuUsageLevel: 9 }], [1], [{ videoPassthrough: 'no' }]];
WRONG['s3'] = ['x', { enabled: 'yes' }, { enabled: true }, { enabled: true, endpoint: 5 }, [], { endpoint: 'https://e.example' }];

const S3_STEPS: Array<[Record<string, unknown>, string]> = [
  [{ enabled: true }, 's3 support requires an endpoint'],
  [{ enabled: true, endpoint: 'ftp://e.example' }, 's3 support requires an endpoint'],
  [{ enabled: true, endpoint: 'https://e.example', accessKey: 'a' }, 's3 support requires an access key and secret'],
  [{ enabled: true, endpoint: 'https://e.example', accessKey: 'a', secret: 's' }, 's3 support requires a region and endpoint'],
  [{ enabled: true, endpoint: 'https://e.example', accessKey: 'a', secret: 's', region: 'r' }, 's3 support requires a bucket created for storing public video segments'],
];

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startOwncast(kind);
    t.teardown(sb.close);
    const admin = basic();

    t.test("Owncast's upstream scenario: set, then read back from /api/config and /api/admin/serverconfig", async (t) => {
      const serverName = rand();
      const streamTitle = rand();
      const serverSummary = rand();
      const pageContent = `<p>${rand()}</p>`;
      const tags = [rand(), rand(), rand()];
      const latencyLevel = 3;
      const variant = { videoBitrate: 1200, framerate: 42, cpuUsageLevel: 2, scaledHeight: 300, scaledWidth: 400 };
      const socialHandles = [{ url: `http://facebook.org/${rand()}`, platform: rand() }];
      const s3 = { enabled: true, endpoint: `http://${rand()}`, accessKey: rand(), secret: rand(), bucket: rand(), region: rand() };
      const set = async (endpoint: string, value: unknown, message = 'changed') => {
        const res = await post(sb, `/api/admin/config/${endpoint}`, { value }, admin);
        t.equal(res.status, 200, `set ${endpoint}`);
        t.same(await res.json(), { success: true, message });
      };
      await set('name', serverName);
      await set('streamtitle', streamTitle);
      await set('serversummary', serverSummary);
      await set('pagecontent', pageContent);
      await set('tags', tags);
      await set('video/streamlatencylevel', latencyLevel, 'set stream latency');
      await set('video/streamoutputvariants', [variant], 'stream output variants updated');
      await set('socialhandles', socialHandles, 'social handles updated');
      await set('s3', s3, 'storage configuration changed');

      const web = await getJson(sb, '/api/config', {});
      t.equal(web.name, serverName);
      t.equal(web.streamTitle, streamTitle);
      t.equal(web.summary, serverSummary);
      t.equal(web.extraPageContent, pageContent);
      t.strictSame(web.tags, tags);
      t.strictSame(web.socialHandles, socialHandles);
      t.equal(web.logo, '/logo');

      const server = await getJson(sb, '/api/admin/serverconfig');
      t.equal(server.instanceDetails.name, serverName);
      t.equal(server.instanceDetails.summary, serverSummary);
      t.equal(server.instanceDetails.streamTitle, streamTitle);
      t.equal(server.instanceDetails.extraPageContent, pageContent, 'the admin view shows the page content as written');
      t.strictSame(server.instanceDetails.tags, tags);
      t.strictSame(server.instanceDetails.socialHandles, socialHandles);
      t.equal(server.videoSettings.latencyLevel, latencyLevel);
      t.equal(server.videoSettings.videoQualityVariants.length, 1);
      t.equal(server.videoSettings.videoQualityVariants[0].framerate, variant.framerate);
      t.equal(server.videoSettings.videoQualityVariants[0].cpuUsageLevel, variant.cpuUsageLevel);
      t.equal(server.videoSettings.videoQualityVariants[0].scaledWidth, variant.scaledWidth);
      t.equal(server.yp.enabled, false);
      t.equal(server.streamKey, KEY);
      t.strictSame(server.s3, { ...s3, servingEndpoint: '', acl: '' });
    });

    t.test('page content is markdown, rendered and sanitized for /api/config', async (t) => {
      const markdown = '# Welcome\n\nI _hope_ you **enjoy** it. <script>alert(1)</script><a href="javascript:alert(2)">x</a><img src="/x.png" onerror="alert(3)">';
      t.equal((await post(sb, '/api/admin/config/pagecontent', { value: markdown }, admin)).status, 200);
      const web = await getJson(sb, '/api/config', {});
      t.equal(web.extraPageContent, '<h1>Welcome</h1>\n<p>I <em>hope</em> you <strong>enjoy</strong> it. <a>x</a><img src="/x.png" /></p>');
      t.equal((await getJson(sb, '/api/admin/serverconfig')).instanceDetails.extraPageContent, markdown);
    });

    t.test('social handles of known platforms get their icon in /api/config only', async (t) => {
      const handles = [{ platform: 'github', url: 'https://github.com/owncast/owncast' }, { platform: 'myspace', url: 'https://myspace.example/me' }];
      t.equal((await post(sb, '/api/admin/config/socialhandles', { value: handles }, admin)).status, 200);
      t.strictSame((await getJson(sb, '/api/config', {})).socialHandles, [{ ...handles[0], icon: '/img/platformlogos/github.svg' }, handles[1]]);
      t.strictSame((await getJson(sb, '/api/admin/serverconfig')).instanceDetails.socialHandles, handles);
    });

    t.test('every setter refuses every wrong type with 400 naming the problem, and changes nothing', async (t) => {
      const before = [await getJson(sb, '/api/admin/serverconfig'), await getJson(sb, '/api/config', {})];
      for (const [setter, values] of Object.entries(WRONG)) {
        for (const value of values) {
          const res = await post(sb, `/api/admin/config/${setter}`, { value }, admin);
          const body = (await res.json()) as any;
          t.equal(res.status, 400, `${setter} refuses ${JSON.stringify(value)}`);
          t.equal(body.success, false);
          t.match(body.message, /value|s3 support/, `${setter}: the message names the problem (${body.message})`);
        }
        const missing = await post(sb, `/api/admin/config/${setter}`, {}, admin);
        t.same(await missing.json(), { success: false, message: 'value is required' }, `${setter} without a value`);
        const notJson = await post(sb, `/api/admin/config/${setter}`, '{"value": ', admin);
        t.equal(notJson.status, 400);
        t.same(await notJson.json(), { success: false, message: 'Request body is not valid JSON' }, `${setter} with a broken body`);
        const array = await post(sb, `/api/admin/config/${setter}`, [1, 2], admin);
        t.equal(array.status, 400, `${setter} refuses an array body`);
      }
      for (const [value, message] of S3_STEPS) {
        t.same(await (await post(sb, '/api/admin/config/s3', { value }, admin)).json(), { success: false, message }, `s3 checks in Owncast's order: ${message}`);
      }
      const actions = [{ value: [] }, [{ url: 'x', title: 't' }], [{ title: 't' }], [{ url: 'https://a.example', title: 't', openExternally: 'yes' }], 'x'];
      for (const body of actions) {
        const res = await post(sb, '/api/admin/config/externalactions', body, admin);
        t.equal(res.status, 400, `externalactions refuses ${JSON.stringify(body)}`);
        t.equal(((await res.json()) as any).success, false);
      }
      const after = [await getJson(sb, '/api/admin/serverconfig'), await getJson(sb, '/api/config', {})];
      t.strictSame(after, before, 'nothing changed');
    });

    t.test('external actions take the array itself', async (t) => {
      const actions = [{ url: 'https://tips.example/me', title: 'Tip me', description: 'Thanks', color: '#ff0000', openExternally: true }];
      const res = await post(sb, '/api/admin/config/externalactions', actions, admin);
      t.same(await res.json(), { success: true, message: 'external actions update' }, "Owncast's message");
      t.strictSame((await getJson(sb, '/api/config', {})).externalActions, actions);
    });

    t.test('ports, flags, codec and urls', async (t) => {
      t.same(await (await post(sb, '/api/admin/config/webserverport', { value: 8123 }, admin)).json(), { success: true, message: 'http port set' });
      t.same(await (await post(sb, '/api/admin/config/rtmpserverport', { value: 1936 }, admin)).json(), { success: true, message: 'rtmp port set' });
      for (const [path, value] of [['nsfw', true], ['video/codec', 'h264_nvenc'], ['serverurl', 'https://live.example.com'], ['ffmpegpath', '/opt/ffmpeg'], ['logo', '/img/new.png'], ['customstyles', 'body{}']] as const) {
        t.equal((await post(sb, `/api/admin/config/${path}`, { value }, admin)).status, 200, path);
      }
      const server = await getJson(sb, '/api/admin/serverconfig');
      t.match(server, { webServerPort: 8123, rtmpServerPort: 1936, videoCodec: 'h264_nvenc', ffmpegPath: '/opt/ffmpeg', yp: { instanceUrl: 'https://live.example.com' } });
      t.match(server.instanceDetails, { nsfw: true, logo: '/img/new.png', customStyles: 'body{}' });
      t.match(await getJson(sb, '/api/config', {}), { nsfw: true, customStyles: 'body{}', logo: '/logo' });
    });

    t.test('the directory endpoint exists only while the directory is enabled', async (t) => {
      const off = await sb.fetch('/api/yp');
      t.equal(off.status, 404);
      t.equal(await off.text(), '');
      t.equal((await post(sb, '/api/admin/config/directoryenabled', { value: true }, admin)).status, 200);
      const yp = await getJson(sb, '/api/yp', {});
      t.match(yp, { name: String, description: String, logo: '/logo', nsfw: true, online: false, viewerCount: 0, lastConnectTime: null });
      t.equal((await post(sb, '/api/admin/yp/reset', undefined, admin)).status, 200);
      t.equal((await post(sb, '/api/admin/config/directoryenabled', { value: false }, admin)).status, 200);
      t.equal((await sb.fetch('/api/yp')).status, 404);
    });

    t.test('POST-only routes answer other methods with a BasicResponse 400, after auth', async (t) => {
      for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
        const res = await sb.fetch('/api/admin/config/name', { method, headers: admin });
        t.equal(res.status, 400);
        t.same(await res.json(), { success: false, message: `${method} not supported` });
      }
      t.equal((await sb.fetch('/api/admin/config/name')).status, 401, 'auth comes first');
      const tokenRoute = await sb.fetch('/api/admin/webhooks/create', { headers: admin });
      t.same(await tokenRoute.json(), { success: false, message: 'GET not supported' });
      const chat = await sb.fetch('/api/chat', { method: 'POST', body: '{}' });
      t.equal(chat.status, 501);
      t.same(await chat.json(), { error: 'method not implemented (PRs are accepted)' });
      const status = await sb.fetch('/api/status', { method: 'DELETE' });
      t.equal(status.status, 405);
    });

    t.test('bodies are read as JSON whatever their content type (curl -d)', async (t) => {
      const res = await sb.fetch('/api/admin/config/serversummary', { method: 'POST', headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' }, body: JSON.stringify({ value: 'from curl' }) });
      t.same(await res.json(), { success: true, message: 'changed' });
      t.equal((await getJson(sb, '/api/config', {})).summary, 'from curl');
    });

    t.test('CORS and preflight', async (t) => {
      for (const path of ['/api/status', '/api/config', '/api/chat']) {
        t.equal((await sb.fetch(path)).headers.get('access-control-allow-origin'), '*', path);
      }
      const preflight = await sb.fetch('/api/admin/serverconfig', { method: 'OPTIONS', headers: { origin: 'https://admin.example' } });
      t.equal(preflight.status, 200, 'admin OPTIONS answers 200 before auth');
      t.equal(preflight.headers.get('access-control-allow-origin'), '*', 'the default `*` means `*`');
      t.equal(preflight.headers.get('access-control-allow-credentials'), null, '… without credentials');
      t.equal(preflight.headers.get('access-control-allow-headers'), 'Origin, X-Requested-With, Content-Type, Accept, Authorization');
      const withOrigin = await sb.fetch('/api/admin/status', { headers: { ...admin, origin: 'https://admin.example' } });
      t.equal(withOrigin.headers.get('access-control-allow-origin'), '*');
      const integration = await sb.fetch('/api/integrations/chat', { method: 'OPTIONS' });
      t.equal(integration.status, 204);
      t.equal(integration.headers.get('access-control-allow-origin'), '*');
    });

    t.test('admin auth: HTTP Basic, admin and the stream key; tokens never open admin routes', async (t) => {
      const token = (await (await post(sb, '/api/admin/accesstokens/create', { name: 'admin-ish', scopes: ['HAS_ADMIN_ACCESS'] }, admin)).json()) as { token: string };
      const refused = [basic('wrong'), basic(KEY, 'root'), basic(`${KEY}x`), { authorization: 'Basic !!!' }, { authorization: `Bearer ${KEY}` }, bearer(token.token), {}];
      for (const headers of refused) {
        const res = await sb.fetch('/api/admin/serverconfig', { headers });
        t.equal(res.status, 401, `refused: ${JSON.stringify(headers)}`);
        t.equal(res.headers.get('www-authenticate'), 'Basic realm="Owncast Authenticated Request"');
        t.equal(await res.text(), 'Unauthorized');
      }
      const res = await post(sb, '/api/admin/config/name', { value: 'nope' }, bearer(token.token));
      t.equal(res.status, 401);
    });

    t.test('a new stream key is the admin password from the next request', async (t) => {
      const next = `new-${rand()}`;
      t.same(await (await post(sb, '/api/admin/config/key', { value: next }, admin)).json(), { success: true, message: 'changed' });
      t.equal((await sb.fetch('/api/admin/status', { headers: admin })).status, 401, 'the old key no longer works');
      t.equal((await getJson(sb, '/api/admin/serverconfig', basic(next))).streamKey, next);
      t.equal((await post(sb, '/api/admin/config/key', { value: KEY }, basic(next))).status, 200);
      t.equal((await sb.fetch('/api/admin/status', { headers: admin })).status, 200);
      // A key too long to send back as a password is refused, and the admin keeps access.
      const huge = await post(sb, '/api/admin/config/key', { value: 'k'.repeat(257) }, admin);
      t.equal(huge.status, 400);
      t.equal(((await huge.json()) as { success: boolean }).success, false);
      t.equal((await sb.fetch('/api/admin/status', { headers: admin })).status, 200);
    });
  });

  t.test(`${kind}: without a configured key one is generated, stored, printed once and never logged`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(db.drop);
    const emojiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-emoji-'));
    t.teardown(() => fs.rmSync(emojiDir, { recursive: true, force: true }));
    for (const file of ['parrot.gif', 'nicolas_cage_party.gif', 'readme.txt']) fs.writeFileSync(path.join(emojiDir, file), 'x');
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    const capture = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    const start = async () => {
      process.stderr.write = capture as typeof process.stderr.write;
      try {
        return await startTestKernel({
          database: db.url,
          plugins: [{ plugin: owncastPlugin, config: { admin: { corsOrigins: ['https://admin.example'] }, emoji: { directory: emojiDir }, chat: { maxConnections: 1, retentionDays: 1 } } }],
        });
      } finally {
        process.stderr.write = original;
      }
    };
    const first = await start();
    const printed = written.join('');
    const key = /password \/ stream key: (\S+)/.exec(printed)?.[1];
    t.ok(key && key.length >= 20, 'a random key was printed');
    t.equal((await first.fetch('/api/admin/status', { headers: basic(key) })).status, 200, 'it is the admin password');
    const logs = JSON.stringify(await getJson(first, '/api/admin/logs', basic(key)));
    t.notOk(logs.includes(key!), 'the key is not in the log');
    t.match(logs, /generated one, stored it in the database and printed it once/);
    first.kernel.context('owncast').logger.info(`a careless line with ${key}`);
    t.match(JSON.stringify(await getJson(first, '/api/admin/logs', basic(key))), /a careless line with \[REDACTED\]/, 'the key is scrubbed from any later line');
    const cors = await first.fetch('/api/admin/status', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    t.equal(cors.headers.get('access-control-allow-origin'), null, 'restricted CORS origins are honoured');
    const allowed = await first.fetch('/api/admin/status', { method: 'OPTIONS', headers: { origin: 'https://admin.example' } });
    t.equal(allowed.headers.get('access-control-allow-origin'), 'https://admin.example');
    t.equal(allowed.headers.get('access-control-allow-credentials'), 'true', 'a listed origin may send credentials');
    t.same(await getJson(first, '/api/emoji', {}), [
      { name: 'nicolas_cage_party', emoji: '/img/emoji/nicolas_cage_party.gif' },
      { name: 'parrot', emoji: '/img/emoji/parrot.gif' },
    ], 'the image files of the emoji directory');
    const only = await chatClient(first);
    const second_ = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${first.url.replace('http', 'ws')}/entry`);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
    });
    t.equal(second_, 503, 'chat.maxConnections bounds the connections of a process');
    await only.close();
    const owncast = owncastOf(first);
    await owncast.messages.insertMany([
      { type: 'CHAT', author: 'old', body: '<p>old</p>', rawBody: 'old', at: Date.now() - 2 * 86_400_000 },
      { type: 'CHAT', author: 'new', body: '<p>new</p>', rawBody: 'new', at: Date.now() - 60_000 },
    ]);
    await owncast.refresh();
    t.same((await getJson(first, '/api/admin/chat/messages', basic(key))).map((m: any) => m.author), ['new']);
    t.equal(await owncast.messages.count(), 1, 'chat.retentionDays deletes older messages');
    await first.close();
    written.length = 0;
    const second = await start();
    t.teardown(second.close);
    t.notMatch(written.join(''), /stream key/, 'not printed again');
    t.equal((await second.fetch('/api/admin/status', { headers: basic(key) })).status, 200, 'the stored key survives a restart');
  });
}
