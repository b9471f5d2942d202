/**
 * The routes of Owncast's real 0.0.7 router (`router/router.go` at tag v0.0.7, commit
 * 3810ce4f), beyond its OpenAPI document: every API route is served with its auth, and the
 * four the document omits behave as their controllers do — `/api/video/variants`,
 * `/api/socialplatforms`, `/api/admin/config/welcomemessage` and
 * `/api/admin/config/chat/disable`.
 */
import t from 'tap';
import { databaseKinds } from '../../../src/testing/index.js';
import { basic, bearer, chatClient, getJson, post, startOwncast, until } from './fixtures/helpers.js';

/** Every API route of the v0.0.7 router, by who may call it. */
const ROUTER_0_0_7 = {
  public: ['/api/status', '/api/emoji', '/api/chat', '/api/config', '/api/yp', '/api/socialplatforms', '/api/video/variants'],
  admin: [
    '/api/admin/status',
    '/api/admin/disconnect',
    '/api/admin/serverconfig',
    '/api/admin/viewersOverTime',
    '/api/admin/hardwarestats',
    '/api/admin/clients',
    '/api/admin/logs',
    '/api/admin/logs/warnings',
    '/api/admin/chat/messages',
    '/api/admin/chat/updatemessagevisibility',
    '/api/admin/config/key',
    '/api/admin/config/pagecontent',
    '/api/admin/config/streamtitle',
    '/api/admin/config/name',
    '/api/admin/config/serversummary',
    '/api/admin/config/welcomemessage',
    '/api/admin/config/chat/disable',
    '/api/admin/config/video/codec',
    '/api/admin/webhooks',
    '/api/admin/webhooks/delete',
    '/api/admin/webhooks/create',
    '/api/admin/accesstokens',
    '/api/admin/accesstokens/delete',
    '/api/admin/accesstokens/create',
    '/api/admin/config/logo',
    '/api/admin/config/tags',
    '/api/admin/config/ffmpegpath',
    '/api/admin/config/webserverport',
    '/api/admin/config/rtmpserverport',
    '/api/admin/config/nsfw',
    '/api/admin/config/directoryenabled',
    '/api/admin/config/socialhandles',
    '/api/admin/config/video/streamlatencylevel',
    '/api/admin/config/video/streamoutputvariants',
    '/api/admin/config/s3',
    '/api/admin/config/serverurl',
    '/api/admin/yp/reset',
    '/api/admin/config/externalactions',
    '/api/admin/config/customstyles',
  ],
  integrations: [
    '/api/integrations/chat/system',
    '/api/integrations/chat/user',
    '/api/integrations/chat/action',
    '/api/integrations/chat/messagevisibility',
    '/api/integrations/streamtitle',
    '/api/integrations/chat',
    '/api/integrations/clients',
  ],
};

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startOwncast(kind, { chat: { welcomeDelayMs: 50 } });
    t.teardown(sb.close);
    const admin = basic();

    t.test('every API route of the 0.0.7 router is served, with its auth', async (t) => {
      t.equal((await post(sb, '/api/admin/config/directoryenabled', { value: true }, admin)).status, 200, '/api/yp answers only with the directory on');
      for (const path of ROUTER_0_0_7.public) t.equal((await sb.fetch(path)).status, 200, `GET ${path}`);
      for (const path of ROUTER_0_0_7.admin) {
        // GET: a POST route's other methods ask for auth first too, as Owncast's handlers do.
        const res = await sb.fetch(path);
        t.equal(res.status, 401, `${path} asks for the admin`);
        t.equal(await res.text(), 'Unauthorized');
        t.equal(res.headers.get('www-authenticate'), 'Basic realm="Owncast Authenticated Request"');
      }
      for (const path of ROUTER_0_0_7.integrations) {
        const res = await sb.fetch(path);
        t.equal(res.status, 401, `${path} asks for an access token`);
        t.equal(await res.text(), 'invalid access token');
      }
    });

    t.test('/api/video/variants names each variant as Owncast does, highest bitrate first', async (t) => {
      t.same(await getJson(sb, '/api/video/variants', {}), [{ name: '1.2Mbps@24fps', index: 0 }], 'the default variant');
      const variants = [
        { videoBitrate: 800, framerate: 30 },
        { videoPassthrough: true },
        { videoBitrate: 6000, scaledWidth: 1920, scaledHeight: 1080, framerate: 60 },
        { name: 'Mobile', videoBitrate: 500 },
        { videoBitrate: 1500, scaledHeight: 480 },
        { videoBitrate: 2000, scaledWidth: 640 },
        { videoBitrate: 3000, scaledWidth: 1080, scaledHeight: 720 },
      ];
      t.same(await (await post(sb, '/api/admin/config/video/streamoutputvariants', { value: variants }, admin)).json(), { success: true, message: 'stream output variants updated' });
      t.same(await getJson(sb, '/api/video/variants', {}), [
        { name: '1080p @6Mbps', index: 2 },
        { name: '720p @3Mbps', index: 6 },
        { name: '640w', index: 5 },
        { name: '480h', index: 4 },
        { name: '800Kbps@30fps', index: 0 },
        { name: 'Mobile', index: 3 },
        { name: 'Source', index: 1 },
      ]);
      const server = await getJson(sb, '/api/admin/serverconfig');
      t.same(
        server.videoSettings.videoQualityVariants.map((v: any) => v.name),
        ['800Kbps@30fps', 'Source', '1080p @6Mbps', 'Mobile', '480h', '640w', '720p @3Mbps'],
        'serverconfig names the variants, in their order',
      );
      t.equal((await sb.fetch('/api/video/variants', { method: 'POST' })).status, 405, 'GET only');
    });

    t.test('/api/socialplatforms lists the known platforms by key, for any origin', async (t) => {
      const res = await sb.fetch('/api/socialplatforms', { headers: { origin: 'https://viewer.example' } });
      t.equal(res.status, 200);
      t.equal(res.headers.get('access-control-allow-origin'), '*');
      const platforms = (await res.json()) as Record<string, { platform: string; icon: string }>;
      const keys = Object.keys(platforms);
      t.equal(keys.length, 24);
      t.same(keys, [...keys].sort(), 'sorted by key, as Go encodes a map');
      t.same(platforms.github, { platform: 'GitHub', icon: '/img/platformlogos/github.svg' });
      t.same(platforms.kofi, { platform: 'Ko-Fi', icon: '/img/platformlogos/ko-fi.svg' });
      t.same(platforms.liberapay, { platform: 'LiberaPay', icon: '/img/platformlogos/liberapay.svg' });
      t.ok(Object.values(platforms).every((p) => Object.keys(p).length === 2 && p.icon.startsWith('/img/platformlogos/')));
    });

    t.test('the welcome message is sent to each client as it connects, and shows in serverconfig', async (t) => {
      const set = await post(sb, '/api/admin/config/welcomemessage', { value: '  Hi, **welcome** to the stream!  ' }, admin);
      t.same(await set.json(), { success: true, message: 'changed' });
      t.equal((await getJson(sb, '/api/admin/serverconfig')).instanceDetails.welcomeMessage, 'Hi, **welcome** to the stream!', 'trimmed, as Owncast');
      const name = (await getJson(sb, '/api/config', {})).name as string;
      const client = await chatClient(sb);
      t.teardown(client.close);
      const welcome = await client.next((f) => f.type === 'SYSTEM');
      t.match(welcome, { id: 'initial-message-1', author: name, body: '<p>Hi, <strong>welcome</strong> to the stream!</p>', visible: true });
      t.match(welcome.timestamp, /^\d{4}-\d\d-\d\dT/);
      t.notOk((await getJson(sb, '/api/chat', {})).some((m: any) => m.id === 'initial-message-1'), 'not stored: it is for one client');

      t.same(await (await post(sb, '/api/admin/config/welcomemessage', { value: 5 }, admin)).json(), { success: false, message: 'value must be string' });
      t.equal((await getJson(sb, '/api/admin/serverconfig')).instanceDetails.welcomeMessage, 'Hi, **welcome** to the stream!', 'a refused value changes nothing');

      t.same(await (await post(sb, '/api/admin/config/welcomemessage', { value: '' }, admin)).json(), { success: true, message: 'changed' });
      const quiet = await chatClient(sb);
      t.teardown(quiet.close);
      await wait(400);
      t.notOk(quiet.frames.some((f) => f.type === 'SYSTEM'), 'an empty welcome message sends nothing');
    });

    t.test('chat can be disabled: /api/config and serverconfig say so, and chat is refused', async (t) => {
      const token = ((await (await post(sb, '/api/admin/accesstokens/create', { name: 'bot', scopes: ['CAN_SEND_SYSTEM_MESSAGES', 'CAN_SEND_MESSAGES'] }, admin)).json()) as { token: string }).token;
      t.equal((await getJson(sb, '/api/config', {})).chatDisabled, false);
      t.equal((await getJson(sb, '/api/admin/serverconfig')).chatDisabled, false);
      t.same(await (await post(sb, '/api/admin/config/chat/disable', { value: 'yes' }, admin)).json(), { success: false, message: 'value must be boolean' });
      t.equal((await getJson(sb, '/api/config', {})).chatDisabled, false, 'a refused value changes nothing');

      t.same(await (await post(sb, '/api/admin/config/chat/disable', { value: true }, admin)).json(), { success: true, message: 'chat disabled status updated' });
      t.equal((await getJson(sb, '/api/config', {})).chatDisabled, true);
      t.equal((await getJson(sb, '/api/admin/serverconfig')).chatDisabled, true);

      const before = (await getJson(sb, '/api/admin/chat/messages')).length;
      const client = await chatClient(sb);
      t.teardown(client.close);
      client.send({ type: 'CHAT', author: 'viewer', body: 'is anyone there?' });
      for (const [path, body] of [
        ['/api/integrations/chat/system', { body: 'system' }],
        ['/api/integrations/chat/user', { user: 'bot', body: 'user' }],
        ['/api/integrations/chat/action', { body: 'acts' }],
      ] as const) {
        const res = await post(sb, path, body, bearer(token));
        t.equal(res.status, 400, `${path} is refused`);
        t.same(await res.json(), { success: false, message: 'chat is disabled' });
      }
      t.equal((await post(sb, '/api/admin/config/streamtitle', { value: 'quiet title' }, admin)).status, 200);
      await wait(300);
      t.equal((await getJson(sb, '/api/admin/chat/messages')).length, before, 'nothing was stored');
      t.notOk(client.frames.some((f) => f.type === 'CHAT' || f.type === 'CHAT_ACTION'), 'nothing reached the chat clients');

      t.same(await (await post(sb, '/api/admin/config/chat/disable', { value: false }, admin)).json(), { success: true, message: 'chat disabled status updated' });
      client.send({ type: 'CHAT', author: 'viewer', body: 'back again' });
      await client.next((f) => f.type === 'CHAT' && f.body === '<p>back again</p>');
      t.equal((await post(sb, '/api/integrations/chat/system', { body: 'welcome back' }, bearer(token))).status, 200);
      await until(async () => (await getJson(sb, '/api/admin/chat/messages')).length === before + 1, 5000, 'the message is stored');
    });
  });
}
