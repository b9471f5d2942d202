/**
 * The contract test: every path and method of Owncast's OpenAPI 0.0.7 document is served
 * (declared in the kernel's OpenAPI document, and answering a real request with its
 * documented success status), admin and integration paths refuse anonymous callers, and
 * real answers validate against the document's response schemas — except where the
 * behaviour notes say the document is wrong (listed below with the reason).
 */
import fs from 'node:fs';
import t from 'tap';
import YAML from 'yaml';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Compile } from 'typebox/compile';
import { databaseKinds, type TestKernel } from '../../../src/testing/index.js';
import { OwncastTokens, type BroadcastService } from '../../../plugins/owncast/index.js';
import { startReceiver } from '../../helpers/receiver.js';
import { basic, bearer, chatClient, getJson, KEY, post, send, startOwncast, until } from './fixtures/helpers.js';

const SPEC_FILE = '/work/shared/specs/owncast-openapi-0.0.7.yaml';
const doc = YAML.parse(fs.readFileSync(SPEC_FILE, 'utf8')) as { paths: Record<string, Record<string, any>>; components: any };
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Responses whose schema the behaviour notes correct. */
const SCHEMA_EXCEPTIONS: Record<string, string> = {
  'GET /api/admin/webhooks': 'notes: the list is an array of webhooks with integer ids (the document says one Webhook object)',
  'GET /api/admin/accesstokens': 'notes: the list is an array of token objects (the document says an array of strings)',
};

const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.keys(item)
    .filter((m) => METHODS.includes(m))
    .map((m) => ({ path, method: m.toUpperCase(), op: item[m] })),
);

function resolveRef(ref: string): any {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node: any, key) => node[key], doc);
}

/** OpenAPI 3.0 schema → JSON Schema: `$ref` inlined, `nullable` turned into a null type, examples dropped. */
function toJsonSchema(node: any): any {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') return toJsonSchema(resolveRef(node.$ref));
  let out: any = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'example' || key === 'examples' || key === 'nullable' || key.startsWith('x-')) continue;
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, toJsonSchema(v)])) : toJsonSchema(value);
  }
  if (node.nullable === true) out = typeof out.type === 'string' ? { ...out, type: [out.type, 'null'] } : { anyOf: [out, { type: 'null' }] };
  return out;
}

/** The JSON schema of an operation's 200 answer, or undefined when the document gives none. */
function successSchema(op: any): any {
  let response = op.responses?.['200'];
  if (response?.$ref) response = resolveRef(response.$ref);
  const schema = response?.content?.['application/json']?.schema;
  return schema ? toJsonSchema(schema) : undefined;
}

t.test('the document has the 49 paths of the contract', async (t) => {
  t.equal(Object.keys(doc.paths).length, 49);
  t.equal(operations.length, 49, 'one method per path');
});

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    const sb: TestKernel = await startOwncast(kind);
    t.teardown(sb.close);

    t.test("the OpenAPI document built from the plugin's routes is valid", async (t) => {
      const result = await new Validator().validate(sb.kernel.openapi() as never);
      t.same(result.errors ?? [], [], 'no validation errors');
      t.equal(result.valid, true);
    });

    t.test('every path and method is declared', async (t) => {
      const served = sb.kernel.openapi().paths as Record<string, Record<string, unknown>>;
      for (const { path, method } of operations) t.ok(served[path]?.[method.toLowerCase()], `${method} ${path} is declared`);
      t.ok(served['/api/integrations/chat/messagevisibility']?.post, 'the messagevisibility alias is declared');
    });

    // A world in which every endpoint has something to show.
    const created = await (await post(sb, '/api/admin/accesstokens/create', { name: 'all', scopes: ['CAN_SEND_SYSTEM_MESSAGES', 'CAN_SEND_MESSAGES', 'HAS_ADMIN_ACCESS'] }, basic())).json() as any;
    const spare = await (await post(sb, '/api/admin/accesstokens/create', { name: 'spare', scopes: ['CAN_SEND_MESSAGES'] }, basic())).json() as any;
    const hook = await (await post(sb, '/api/admin/webhooks/create', { url: receiver.url, events: ['STREAM_STOPPED'] }, basic())).json() as any;
    t.equal((await post(sb, '/api/admin/config/directoryenabled', { value: true }, basic())).status, 200, 'the directory is enabled, so /api/yp answers');
    const broadcasts = sb.kernel.container.resolve<BroadcastService>(OwncastTokens.Broadcasts);
    await broadcasts.start({ remoteAddr: '203.0.113.9', streamDetails: { width: 1280, height: 720, frameRate: 30, videoBitrate: 2500, videoCodec: 'H.264', audioBitrate: 128, audioCodec: 'AAC', encoder: 'obs' } });
    const client = await chatClient(sb);
    t.teardown(client.close);
    client.send({ type: 'USER_JOINED', username: 'viewer' });
    client.send({ type: 'CHAT', author: 'viewer', body: 'hello **spec**' });
    const message = await client.next((f) => f.type === 'CHAT');
    await until(async () => (await getJson(sb, '/api/admin/clients')).length === 1 && (await getJson(sb, '/api/admin/clients'))[0].username === 'viewer');
    await owncastOf(sb).metrics.sampleViewers();
    await owncastOf(sb).metrics.sampleHardware();

    const bodies: Record<string, unknown> = {
      '/api/admin/chat/updatemessagevisibility': { idArray: [message.id], visible: true },
      '/api/integrations/chat/updatemessagevisibility': { idArray: [message.id], visible: true },
      '/api/admin/config/key': { value: KEY },
      '/api/admin/config/pagecontent': { value: '# Welcome to my cool server!<br><br>I _hope_ you enjoy it.' },
      '/api/admin/config/streamtitle': { value: 'Streaming my favorite game, Desert Bus.' },
      '/api/admin/config/name': { value: 'Spec server' },
      '/api/admin/config/serversummary': { value: 'The best in Desert Bus Streaming' },
      '/api/admin/config/logo': { value: '/img/mylogo.png' },
      '/api/admin/config/tags': { value: ['games', 'music', 'streaming'] },
      '/api/admin/config/ffmpegpath': { value: '/home/owncast/ffmpeg' },
      '/api/admin/config/webserverport': { value: 8080 },
      '/api/admin/config/rtmpserverport': { value: 1935 },
      '/api/admin/config/nsfw': { value: false },
      '/api/admin/config/directoryenabled': { value: true },
      '/api/admin/config/serverurl': { value: 'https://live.mycoolserver.biz' },
      '/api/admin/config/video/streamlatencylevel': { value: 4 },
      '/api/admin/config/video/streamoutputvariants': {
        value: [
          { framerate: 30, videoPassthrough: false, videoBitrate: 1800, cpuUsageLevel: 2, audioPassthrough: true },
          { framerate: 24, videoPassthrough: false, videoBitrate: 1000, cpuUsageLevel: 3, audioPassthrough: true },
        ],
      },
      '/api/admin/config/video/codec': { value: 'libx264' },
      '/api/admin/config/s3': {
        value: { enabled: true, endpoint: 'https://s3.us-west-000.backblazeb2.com', accessKey: 'e1ac500y7000500047156bd060', secret: 'H8FH8eSxM2K/S42CUg5K000Tt4WY2fI', bucket: 'video', region: 'us-west-000' },
      },
      '/api/admin/config/socialhandles': { value: [{ platform: 'github', url: 'https://github.com/owncast/owncast' }, { platform: 'mastodon', url: 'https://mastodon.social/@gabek' }] },
      '/api/admin/config/customstyles': { value: 'body { color: orange; background: black; }' },
      '/api/admin/config/externalactions': [{ url: 'https://example.com/tip', title: 'Tip', description: 'Tip jar', openExternally: true }],
      '/api/integrations/streamtitle': { value: 'Streaming my favorite game, Desert Bus.' },
      '/api/integrations/chat/user': { user: 'bot', body: 'hello from a bot' },
      '/api/integrations/chat/system': { body: 'a system message' },
      '/api/integrations/chat/action': { body: 'rolled a 15 on the dice', author: 'JohnSmith' },
      '/api/admin/accesstokens/create': { name: 'your new token', scopes: ['CAN_SEND_MESSAGES'] },
      '/api/admin/accesstokens/delete': { token: spare.token },
      '/api/admin/webhooks/create': { url: receiver.url, events: ['CHAT'] },
      '/api/admin/webhooks/delete': { id: hook.id },
    };

    // Disconnecting ends the broadcast, which the admin status of the document expects: run it last.
    const ordered = [...operations].sort((a, b) => Number(a.path === '/api/admin/disconnect') - Number(b.path === '/api/admin/disconnect'));
    for (const { path, method, op } of ordered) {
      const admin = path.startsWith('/api/admin/');
      const integration = path.startsWith('/api/integrations/');
      const auth = admin ? basic() : integration ? bearer(created.token) : {};
      if (admin || integration) {
        const anonymous = await send(sb, path, method, method === 'GET' ? undefined : bodies[path] ?? {}, {});
        t.equal(anonymous.status, 401, `${method} ${path} refuses an anonymous caller`);
      }
      const res = method === 'GET' ? await sb.fetch(path, { headers: auth }) : await send(sb, path, method, bodies[path] ?? {}, auth);
      const text = await res.text();
      t.equal(res.status, 200, `${method} ${path} answers 200 (${text.slice(0, 200)})`);
      const schema = successSchema(op);
      const key = `${method} ${path}`;
      if (!schema || SCHEMA_EXCEPTIONS[key]) continue;
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        t.fail(`${key} answers JSON`);
        continue;
      }
      const validator = Compile(schema);
      const errors = validator.Check(body) ? [] : [...validator.Errors(body)].map((e) => `${e.instancePath} ${e.message}`);
      t.same(errors, [], `${key} answers what the document describes`);
    }

    t.test('the corrected answers have the shape the notes give', async (t) => {
      const hooks = await getJson(sb, '/api/admin/webhooks');
      t.ok(Array.isArray(hooks) && hooks.every((h: any) => Number.isInteger(h.id) && typeof h.url === 'string' && Array.isArray(h.events)));
      const tokens = await getJson(sb, '/api/admin/accesstokens');
      t.ok(Array.isArray(tokens) && tokens.every((k: any) => typeof k.token === 'string' && k.token.length === 44 && Array.isArray(k.scopes)));
    });

    t.test('the alias of the integration visibility route', async (t) => {
      const res = await post(sb, '/api/integrations/chat/messagevisibility', { idArray: [message.id], visible: false }, bearer(created.token));
      t.equal(res.status, 200);
      t.same(await res.json(), { success: true, message: 'changed' });
      const hidden = (await getJson(sb, '/api/admin/chat/messages')).find((m: any) => m.id === message.id);
      t.equal(hidden.visible, false);
    });
  });
}

function owncastOf(sb: TestKernel) {
  return sb.kernel.context('owncast').container.resolve<import('../../../plugins/owncast/index.js').Owncast>(OwncastTokens.Owncast);
}
