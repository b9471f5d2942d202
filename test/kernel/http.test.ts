import querystring from 'node:querystring';
import express from 'express';
import t from 'tap';
import { XMLParser } from 'fast-xml-parser';
import {
  definePlugin,
  Type,
  HttpError,
  reply,
  jsonResponder,
  textResponder,
  ocsResponder,
  redballResponder,
  RedballAnswer,
  staticToken,
  apiKeyQuery,
  httpBasic,
  bearerToken,
  hostIdentity,
  HttpErrorCodes,
  safeEqual,
  RawJson,
  type Responder,
} from '../../src/index.js';
import { startTestKernel } from '../../src/testing/index.js';

/** A plugin with one validated route per responder style. */
function styled(id: string, responder: Responder, mount: string) {
  return {
    mount,
    plugin: definePlugin({
      id,
      version: '1.0.0',
      init(ctx) {
        ctx.routes.defaults({ responder, methodNotAllowed: true });
        ctx.routes.add({
          method: 'POST',
          path: '/items/:id',
          params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
          query: Type.Object({ verbose: Type.Optional(Type.Boolean()), limit: Type.Integer({ default: 10 }) }),
          body: Type.Object({ name: Type.String({ minLength: 1 }), tags: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false }),
          bodyLimit: 200,
          handler: ({ params, query, body }) => reply(201, { id: params.id, verbose: query.verbose ?? false, limit: query.limit, name: body.name }),
        });
        ctx.routes.add({ method: 'GET', path: '/boom', handler: () => { throw new Error('secret internals at /etc/passwd'); } });
        ctx.routes.add({ method: 'GET', path: '/teapot', handler: () => { throw new HttpError(418, "I'm a teapot", { data: { extra: 1 } }); } });
      },
    }),
  };
}

const plugins = [
  styled('j', jsonResponder(), '/json'),
  styled('t', textResponder({ errorText: (e) => `${e.status}: ${e.message}` }), '/text'),
  styled('o', ocsResponder(), '/ocs'),
  styled('r', redballResponder(), '/rb'),
];

t.test('routes validate params, query and body, and render errors in each family style', async (t) => {
  const sb = await startTestKernel({ plugins });
  t.teardown(sb.close);
  const post = (path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    sb.fetch(path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  // Success with conversion and defaults.
  const ok = await post('/json/items/7?verbose=true', { name: 'x' });
  t.equal(ok.status, 201);
  t.same(await ok.json(), { id: 7, verbose: true, limit: 10, name: 'x' });

  // JSON style.
  const bad = await post('/json/items/0', { name: '', extra: 1 });
  t.equal(bad.status, 400);
  const badBody = (await bad.json()) as { error: string };
  t.match(badBody.error, /params\/id must be >= 1/);
  t.match(badBody.error, /body has unknown property 'extra'/);

  // Plain text style.
  const text = await post('/text/items/abc', { name: 'x' });
  t.equal(text.status, 400);
  t.match(text.headers.get('content-type'), /^text\/plain/);
  t.match(await text.text(), /^400: params\/id must be integer/);

  // OCS style, JSON and XML.
  const ocsJson = await post('/ocs/items/1?format=json', {});
  t.equal(ocsJson.status, 400);
  const env = (await ocsJson.json()) as { ocs: { meta: { status: string; statuscode: number; message: string }; data: unknown } };
  t.equal(env.ocs.meta.status, 'failure');
  t.equal(env.ocs.meta.statuscode, 400);
  t.match(env.ocs.meta.message, /missing required property 'name'/);
  t.same(env.ocs.data, []);
  const ocsXml = await post('/ocs/items/1', {});
  t.match(ocsXml.headers.get('content-type'), /^application\/xml/);
  const xml = new XMLParser().parse(await ocsXml.text());
  t.equal(xml.ocs.meta.status, 'failure');
  t.equal(xml.ocs.meta.statuscode, 400);

  // redball envelope.
  const rb = await post('/rb/items/1', { name: 5 });
  t.equal(rb.status, 400);
  const rbBody = (await rb.json()) as { meta: { api_version: number; timestamp: number }; errors: string[]; response: string };
  t.equal(rbBody.meta.api_version, 1);
  t.ok(Math.abs(rbBody.meta.timestamp - Date.now() / 1000) < 60);
  t.match(rbBody.errors[0], /body\/name must be string/);
  t.equal(rbBody.response, '');
});

t.test('bad JSON, oversized bodies, deep nesting, wrong methods and thrown errors', async (t) => {
  const sb = await startTestKernel({ plugins });
  t.teardown(sb.close);
  const badJson = await sb.fetch('/text/items/1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
  t.equal(badJson.status, 400);
  t.equal(await badJson.text(), '400: Request body is not valid JSON');

  const big = await sb.fetch('/json/items/1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(500) }) });
  t.equal(big.status, 413);
  t.same(await big.json(), { error: 'Request body too large' });

  const deep = '['.repeat(100) + ']'.repeat(100);
  const nested = await sb.fetch('/json/items/1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"name":"x","tags":${deep}}`.slice(0, 199) });
  t.equal(nested.status, 400);

  const wrong = await sb.fetch('/rb/items/1', { method: 'PATCH' });
  t.equal(wrong.status, 405);
  t.equal(wrong.headers.get('allow'), 'POST');
  t.same(((await wrong.json()) as { errors: string[] }).errors, ['Method Not Allowed']);

  const boom = await sb.fetch('/text/boom');
  t.equal(boom.status, 500);
  const boomText = await boom.text();
  t.equal(boomText, '500: Internal Server Error');
  t.notMatch(boomText, /passwd|at |\.ts/);
  t.ok(sb.kernel.logs.entries('error').some((e) => e.message === 'request failed'), 'the failure is in the log');

  const teapot = await sb.fetch('/ocs/teapot?format=json');
  t.equal(teapot.status, 418);
  t.same(((await teapot.json()) as { ocs: { data: unknown } }).ocs.data, { extra: 1 });

  // HEAD is served by the GET route without a body.
  const head = await sb.fetch('/json/teapot', { method: 'HEAD' });
  t.equal(head.status, 418);
});

t.test('form bodies are converted; text and raw bodies arrive as they were sent', async (t) => {
  const p = definePlugin({
    id: 'bodies',
    version: '1',
    init(ctx) {
      ctx.routes.add({ method: 'POST', path: '/form', accepts: ['json', 'urlencoded'], body: Type.Object({ n: Type.Integer(), on: Type.Boolean() }), handler: ({ body }) => body });
      ctx.routes.add({ method: 'PUT', path: '/text', accepts: 'text', handler: ({ body }) => ({ got: body }) });
      ctx.routes.add({ method: 'PUT', path: '/raw', accepts: 'raw', handler: ({ body }) => ({ bytes: (body as Buffer).length }) });
    },
  });
  const sb = await startTestKernel({ plugins: [p] });
  t.teardown(sb.close);
  const form = await sb.fetch('/form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'n=42&on=true' });
  t.same(await form.json(), { n: 42, on: true });
  const json = await sb.fetch('/form', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":"42","on":true}' });
  t.equal(json.status, 400, 'JSON bodies are not converted: "42" is not an integer');
  const text = await sb.fetch('/text', { method: 'PUT', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'adam@anope.org' });
  t.same(await text.json(), { got: 'adam@anope.org' });
  const raw = await sb.fetch('/raw', { method: 'PUT', body: new Uint8Array([0, 1, 2, 3]) });
  t.same(await raw.json(), { bytes: 4 });
});

t.test('auth strategies refuse in the family style and pass the principal', async (t) => {
  const p = definePlugin({
    id: 'auth',
    version: '1',
    init(ctx) {
      ctx.routes.defaults({ responder: textResponder() });
      const who = ({ principal }: { principal?: { id: string; scopes?: string[] } }) => ({ id: principal?.id, scopes: principal?.scopes });
      ctx.routes.add({ method: 'GET', path: '/static', auth: staticToken({ tokens: ['s3cret-token'], fail: () => new HttpError(403, '403: Forbidden') }), handler: who });
      ctx.routes.add({ method: 'GET', path: '/static-bearer', auth: staticToken({ scheme: 'Bearer', tokens: () => ['hook-token'] }), handler: who });
      ctx.routes.add({ method: 'GET', path: '/apikey', auth: apiKeyQuery({ verify: (k) => (safeEqual(k, 'key-1234') ? { id: 'user1' } : null) }), handler: who });
      ctx.routes.add({
        method: 'GET',
        path: '/basic',
        auth: httpBasic({ realm: 'Owncast Authenticated Request', verify: (u, pw) => (u === 'admin' && safeEqual(pw, 'streamkey') ? { id: 'admin' } : null) }),
        handler: who,
      });
      const verify = (tok: string) => (tok === 'tok-a' ? { id: 'a', scopes: ['CAN_SEND_MESSAGES'] } : null);
      ctx.routes.add({ method: 'GET', path: '/bearer', auth: bearerToken({ verify, scopes: ['HAS_ADMIN_ACCESS'] }), handler: who });
      ctx.routes.add({ method: 'GET', path: '/bearer-any', auth: bearerToken({ verify }), handler: who });
      ctx.routes.add({ method: 'GET', path: '/me', auth: hostIdentity(), handler: who });
      ctx.routes.add({ method: 'GET', path: '/admin', auth: hostIdentity({ admin: true }), handler: who });
    },
  });
  const identity = (req: { headers: Record<string, string | string[] | undefined> }) =>
    req.headers['x-user'] === 'alice' ? { id: 'alice', admin: false } : req.headers['x-user'] === 'root' ? { id: 'root', admin: true } : null;
  const sb = await startTestKernel({ plugins: [p], identity: identity as never });
  t.teardown(sb.close);
  const get = (path: string, headers: Record<string, string> = {}) => sb.fetch(path, { headers });
  const basic = (u: string, pw: string) => `Basic ${Buffer.from(`${u}:${pw}`).toString('base64')}`;

  t.equal((await get('/static')).status, 403);
  t.equal(await (await get('/static', { authorization: 'wrong' })).text(), '403: Forbidden');
  t.equal((await get('/static', { authorization: 'Bearer s3cret-token' })).status, 403, 'no scheme: the bare token only');
  t.equal((await get('/static', { authorization: 's3cret-token' })).status, 200);
  t.equal((await get('/static-bearer', { authorization: 'hook-token' })).status, 401);
  t.equal((await get('/static-bearer', { authorization: 'Bearer hook-token' })).status, 200);
  t.equal((await get('/apikey')).status, 401);
  t.equal((await get('/apikey?apikey=nope')).status, 401);
  t.same(await (await get('/apikey?apikey=key-1234')).json(), { id: 'user1' });
  const noBasic = await get('/basic');
  t.equal(noBasic.status, 401);
  t.equal(noBasic.headers.get('www-authenticate'), 'Basic realm="Owncast Authenticated Request"');
  t.equal((await get('/basic', { authorization: basic('admin', 'nope') })).status, 401);
  t.equal((await get('/basic', { authorization: basic('admin', 'streamkey') })).status, 200);
  t.equal((await get('/bearer', { authorization: 'Bearer tok-a' })).status, 401, 'valid token, wrong scope');
  t.same(await (await get('/bearer-any', { authorization: 'Bearer tok-a' })).json(), { id: 'a', scopes: ['CAN_SEND_MESSAGES'] });
  t.equal((await get('/me')).status, 401);
  t.same(await (await get('/me', { 'x-user': 'alice' })).json(), { id: 'alice' });
  t.equal((await get('/admin', { 'x-user': 'alice' })).status, 403);
  t.equal((await get('/admin', { 'x-user': 'root' })).status, 200);
});

t.test('strategies that answer at once keep the request synchronous; a promise anywhere is waited for', async (t) => {
  const marks: string[] = [];
  const seen = (name: string) => ({ principal }: { principal?: { id: string } }) => {
    marks.push(`${name} handler`);
    return { id: principal?.id };
  };
  const refuse = () => new HttpError(401, 'Unauthorized');
  const p = definePlugin({
    id: 'sync',
    version: '1',
    init(ctx) {
      ctx.routes.defaults({ responder: jsonResponder() });
      // A task queued before auth runs after a handler reached synchronously, before one reached through a promise.
      ctx.routes.onRequest(() => queueMicrotask(() => marks.push('microtask')));
      const key = (k: string) => (k === 'k1' ? { id: 'now' } : null);
      ctx.routes.add({ method: 'GET', path: '/now', auth: apiKeyQuery({ verify: key }), handler: seen('now') });
      ctx.routes.add({ method: 'GET', path: '/later', auth: apiKeyQuery({ verify: async (k) => key(k) }), handler: seen('later') });
      ctx.routes.add({
        method: 'GET',
        path: '/async-then-sync',
        auth: [staticToken({ tokens: async () => ['t1'], fail: refuse }), apiKeyQuery({ verify: key })],
        handler: seen('async-then-sync'),
      });
      ctx.routes.add({
        method: 'GET',
        path: '/sync-then-async',
        auth: [staticToken({ tokens: ['t1'], fail: refuse }), apiKeyQuery({ verify: async (k) => (k === 'k2' ? { id: 'second' } : null) })],
        handler: seen('sync-then-async'),
      });
    },
  });
  const sb = await startTestKernel({ plugins: [p] });
  t.teardown(sb.close);
  const get = async (path: string, headers: Record<string, string> = {}) => {
    marks.length = 0;
    const res = await sb.fetch(path, { headers });
    return { status: res.status, body: res.status === 200 ? await res.json() : undefined, marks: [...marks] };
  };
  t.same(await get('/now?apikey=k1'), { status: 200, body: { id: 'now' }, marks: ['now handler', 'microtask'] }, 'a key known at once: the handler runs in the same tick');
  t.same(await get('/later?apikey=k1'), { status: 200, body: { id: 'now' }, marks: ['microtask', 'later handler'] }, 'an asynchronous verify is waited for');
  t.same((await get('/now?apikey=nope')).status, 401, 'a refusal thrown at once is rendered');
  t.same((await get('/later?apikey=nope')).status, 401, 'a refusal after a promise is rendered');
  t.same(await get('/async-then-sync?apikey=k1', { authorization: 'wrong' }), { status: 200, body: { id: 'now' }, marks: ['microtask', 'async-then-sync handler'] }, 'after an asynchronous refusal the next strategy runs');
  t.same((await get('/async-then-sync', { authorization: 't1' })).body, { id: 'token' }, 'the asynchronous strategy accepts');
  t.same(await get('/sync-then-async?apikey=k2'), { status: 200, body: { id: 'second' }, marks: ['microtask', 'sync-then-async handler'] }, 'after a refusal at once, an asynchronous strategy is waited for');
  t.same(await get('/sync-then-async', { authorization: 't1' }), { status: 200, body: { id: 'token' }, marks: ['sync-then-async handler', 'microtask'] }, 'the first strategy accepting at once');
  t.equal((await get('/sync-then-async?apikey=nope')).status, 401, 'every strategy refusing');
});

t.test('request hooks see every matching request first (CORS preflight style)', async (t) => {
  const p = definePlugin({
    id: 'cors',
    version: '1',
    init(ctx) {
      ctx.routes.defaults({ responder: textResponder(), methodNotAllowed: true });
      ctx.routes.onRequest((req, res) => {
        if (req.headers.origin) res.setHeader('Access-Control-Allow-Origin', '*');
        if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) res.status(200).end();
      });
      ctx.routes.add({ method: 'GET', path: '/stats', handler: () => ({ ok: true }) });
    },
  });
  const sb = await startTestKernel({ plugins: [p] });
  t.teardown(sb.close);
  const pre = await sb.fetch('/stats/', { method: 'OPTIONS', headers: { origin: 'http://x', 'access-control-request-method': 'GET' } });
  t.equal(pre.status, 200);
  t.equal(pre.headers.get('access-control-allow-origin'), '*');
  const plain = await sb.fetch('/stats', { method: 'OPTIONS' });
  t.equal(plain.status, 405);
  const get = await sb.fetch('/STATS/', { headers: { origin: 'http://x' } });
  t.equal(get.status, 200, 'trailing slash and case are forgiven');
  t.equal(get.headers.get('access-control-allow-origin'), '*');
});

t.test('HttpErrorCodes are stable strings', async (t) => {
  t.equal(HttpErrorCodes.VALIDATION, 'SWB_ERR_VALIDATION');
  t.equal(new HttpError(404, 'x').code, 'SWB_ERR_NOT_FOUND');
  t.ok(new RedballAnswer({ result: false }, ['Bot 1 is not running.']));
});

t.test('authentication comes before body parsing unless credentials may be in the body', async (t) => {
  const p = definePlugin({
    id: 'order',
    version: '1',
    init(ctx) {
      ctx.routes.add({ method: 'POST', path: '/header-auth', accepts: 'json', auth: staticToken({ tokens: ['tok-123456'] }), handler: ({ body }) => body });
      ctx.routes.add({ method: 'POST', path: '/form-auth', accepts: 'urlencoded', auth: apiKeyQuery({ fromBody: true, verify: (k) => (k === 'key-123456' ? { id: 'k' } : null) }), handler: () => 'ok' });
    },
  });
  const sb = await startTestKernel({ plugins: [p] });
  t.teardown(sb.close);
  // Anonymous and malformed: refused for the missing token, not for the body.
  const anon = await sb.fetch('/header-auth', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
  t.equal(anon.status, 401);
  const authed = await sb.fetch('/header-auth', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'tok-123456' }, body: '{not json' });
  t.equal(authed.status, 400);
  const form = await sb.fetch('/form-auth', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'apikey=key-123456' });
  t.equal(form.status, 200, 'a key in the form body still works');
});

t.test('pre-serialized JSON is written as it is, inside the family envelope', async (t) => {
  const p = (id: string, responder: Responder) =>
    definePlugin({ id, version: '1', init: (ctx) => { ctx.routes.defaults({ responder }); ctx.routes.add({ method: 'GET', path: `/${id}/raw`, handler: () => RawJson.of({ bots: [{ id: 1 }] }) }); } });
  const sb = await startTestKernel({ plugins: [p('plainjson', jsonResponder()), p('envelope', redballResponder())] });
  t.teardown(sb.close);
  const plain = await sb.fetch('/plainjson/raw');
  t.match(plain.headers.get('content-type'), /^application\/json/);
  t.same(await plain.json(), { bots: [{ id: 1 }] });
  const env = (await (await sb.fetch('/envelope/raw')).json()) as { meta: { api_version: number; timestamp: number }; errors: string; response: unknown };
  t.equal(env.meta.api_version, 1);
  t.ok(Math.abs(env.meta.timestamp - Date.now() / 1000) < 60);
  t.equal(env.errors, '');
  t.same(env.response, { bots: [{ id: 1 }] });
});

t.test('the query string is parsed once per request, however often the route reads it', async (t) => {
  let parses = 0;
  const app = express();
  app.set('query parser', (text: string) => {
    parses++;
    return querystring.parse(text);
  });
  const queries: unknown[] = [];
  const plugin = definePlugin({
    id: 'q',
    version: '1.0.0',
    init(ctx) {
      ctx.routes.add({
        method: 'GET',
        path: '/read',
        // The auth strategy, the validation and the handler each read req.query.
        auth: apiKeyQuery({
          verify: (key, req) => {
            queries.push(req.query);
            return safeEqual(key, 'key-1234') ? { id: 'user1' } : null;
          },
        }),
        query: Type.Object({ apikey: Type.String(), n: Type.Integer() }),
        handler: ({ query, req }) => {
          queries.push(req.query);
          return { n: (query as { n: number }).n };
        },
      });
    },
  });
  const sb = await startTestKernel({ app, plugins: [plugin] });
  t.teardown(sb.close);
  const res = await sb.fetch('/read?apikey=key-1234&n=7');
  t.equal(res.status, 200);
  t.same(await res.json(), { n: 7 });
  t.equal(parses, 1, 'parsed once');
  t.equal(queries.length, 2);
  t.equal(queries[0], queries[1], 'every reader got the same parsed query');
  t.equal((await sb.fetch('/read?apikey=wrong&n=7')).status, 401);
  t.equal(parses, 2, 'once more for the second request');
});
