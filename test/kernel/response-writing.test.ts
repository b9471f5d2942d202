/**
 * How plugin answers are written: through the serializer of the route's declared response
 * (undeclared fields never leave), as they are where a route declares none, with
 * precomputed headers and no ETag, HEAD without a body, and errors in each family's style.
 */
import t from 'tap';
import {
  definePlugin,
  HttpError,
  jsonResponder,
  ocsResponder,
  RawJson,
  redballResponder,
  reply,
  textResponder,
  Type,
  type Responder,
} from '../../src/index.js';
import { startTestKernel } from '../../src/testing/index.js';

const Item = Type.Object({ id: Type.Integer(), name: Type.String() });
const ROW = { id: 7, name: 'seven', passwordHash: 'sha256:secret', internal: { flag: true } };

/** One plugin per responder, each with the same routes. */
function family(id: string, responder: Responder, mount: string, wrap: (data: ReturnType<typeof Type.Object>) => ReturnType<typeof Type.Object>) {
  return {
    mount,
    plugin: definePlugin({
      id,
      version: '1.0.0',
      init(ctx) {
        ctx.routes.defaults({ responder });
        ctx.routes.add({ method: 'GET', path: '/declared', responses: { 200: { description: 'One item', schema: wrap(Item) } }, handler: () => ({ ...ROW }) });
        ctx.routes.add({ method: 'GET', path: '/undeclared', handler: () => ({ ...ROW }) });
        ctx.routes.add({ method: 'POST', path: '/created', responses: { 201: wrap(Item) }, handler: () => reply(201, { ...ROW }) });
        ctx.routes.add({ method: 'GET', path: '/raw', handler: () => RawJson.of({ id: 1, extra: 'kept: the plugin wrote it', text: 'é € 😀' }) });
        ctx.routes.add({ method: 'GET', path: '/teapot', responses: { 200: wrap(Item) }, handler: () => { throw new HttpError(418, "I'm a teapot"); } });
        ctx.routes.add({ method: 'DELETE', path: '/gone', handler: () => reply(204, undefined) });
      },
    }),
  };
}

const ocsEnvelope = (data: ReturnType<typeof Type.Object>) =>
  Type.Object({ ocs: Type.Object({ meta: Type.Object({ status: Type.String(), statuscode: Type.Integer(), message: Type.String() }), data }) });
const redballEnvelope = (data: ReturnType<typeof Type.Object>) =>
  Type.Object({
    meta: Type.Object({ api_version: Type.Literal(1), timestamp: Type.Number() }),
    errors: Type.Union([Type.Literal(''), Type.Array(Type.String())]),
    response: Type.Union([data, Type.Literal('')]),
  });

const plugins = [
  family('j', jsonResponder(), '/json', (d) => d),
  family('t', textResponder(), '/text', (d) => d),
  family('o', ocsResponder(), '/ocs', ocsEnvelope),
  family('r', redballResponder(), '/rb', redballEnvelope),
];

t.test('plugin answers', async (t) => {
  const sb = await startTestKernel({ plugins });
  t.teardown(sb.close);
  // The host app computes ETags (Express's default); plugin answers do not carry them.
  t.equal(sb.app.get('etag'), 'weak');
  const json = { accept: 'application/json' };

  t.test('a declared response never carries an undeclared field, in every family', async (t) => {
    for (const [path, pick] of [
      ['/json/declared', (b: any) => b],
      ['/text/declared', (b: any) => b],
      ['/ocs/declared', (b: any) => b.ocs.data],
      ['/rb/declared', (b: any) => b.response],
    ] as const) {
      const res = await sb.fetch(path, { headers: json });
      t.equal(res.status, 200, path);
      t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8', path);
      t.equal(res.headers.get('etag'), null, `${path}: no ETag`);
      const text = await res.text();
      t.equal(res.headers.get('content-length'), String(Buffer.byteLength(text)), `${path}: Content-Length is the body's`);
      t.same(pick(JSON.parse(text)), { id: 7, name: 'seven' }, path);
      t.notMatch(text, /passwordHash|secret|internal/, `${path}: nothing undeclared`);
    }
    // A Reply's status picks that status's schema.
    const created = await sb.fetch('/json/created', { method: 'POST' });
    t.equal(created.status, 201);
    t.same(await created.json(), { id: 7, name: 'seven' });
    // The envelope's own fields are there.
    const ocs = (await (await sb.fetch('/ocs/declared', { headers: json })).json()) as { ocs: { meta: unknown } };
    t.same(ocs.ocs.meta, { status: 'ok', statuscode: 200, message: 'OK' });
    const rb = (await (await sb.fetch('/rb/declared')).json()) as { meta: { api_version: number; timestamp: number }; errors: string };
    t.equal(rb.meta.api_version, 1);
    t.type(rb.meta.timestamp, 'number');
    t.equal(rb.errors, '');
  });

  t.test('a route that declares no response schema answers what the handler returned', async (t) => {
    for (const path of ['/json/undeclared', '/text/undeclared']) {
      const res = await sb.fetch(path);
      t.equal(await res.text(), JSON.stringify(ROW), path);
    }
    t.same(((await (await sb.fetch('/ocs/undeclared', { headers: json })).json()) as { ocs: { data: unknown } }).ocs.data, ROW);
    t.same(((await (await sb.fetch('/rb/undeclared')).json()) as { response: unknown }).response, ROW);
    // Pre-serialized JSON is written as it is.
    t.same(await (await sb.fetch('/json/raw')).json(), { id: 1, extra: 'kept: the plugin wrote it', text: 'é € 😀' });
    const rawRes = await sb.fetch('/rb/raw');
    const rawText = await rawRes.text();
    t.equal(rawRes.headers.get('content-length'), String(Buffer.byteLength(rawText)), 'the length counts UTF-8 bytes');
    const rawRb = JSON.parse(rawText) as { response: unknown; errors: string };
    t.same(rawRb.response, { id: 1, extra: 'kept: the plugin wrote it', text: 'é € 😀' });
    t.equal(rawRb.errors, '');
  });

  t.test('HEAD answers the GET headers without a body', async (t) => {
    for (const path of ['/json/declared', '/ocs/declared', '/rb/undeclared']) {
      const get = await sb.fetch(path, { headers: json });
      const body = await get.text();
      const head = await sb.fetch(path, { method: 'HEAD', headers: json });
      t.equal(head.status, 200, path);
      t.equal(await head.text(), '', `${path}: no body`);
      t.equal(head.headers.get('content-type'), get.headers.get('content-type'), path);
      if (!path.startsWith('/rb/')) t.equal(head.headers.get('content-length'), String(Buffer.byteLength(body)), `${path}: the GET's length`);
      else t.ok(Number(head.headers.get('content-length')) > 0, `${path}: a length`);
      t.equal(head.headers.get('etag'), null);
    }
  });

  t.test('204 has neither a body nor body headers', async (t) => {
    const res = await sb.fetch('/json/gone', { method: 'DELETE' });
    t.equal(res.status, 204);
    t.equal(res.headers.get('content-type'), null);
    t.equal(res.headers.get('content-length'), null);
    t.equal(await res.text(), '');
  });

  t.test('errors keep each family\'s style (a declared success schema does not touch them)', async (t) => {
    const j = await sb.fetch('/json/teapot');
    t.equal(j.status, 418);
    t.equal(j.headers.get('content-type'), 'application/json; charset=utf-8');
    t.same(await j.json(), { error: "I'm a teapot" });
    const x = await sb.fetch('/text/teapot');
    t.equal(x.headers.get('content-type'), 'text/plain; charset=utf-8');
    t.equal(await x.text(), "I'm a teapot");
    const o = (await (await sb.fetch('/ocs/teapot', { headers: json })).json()) as unknown;
    t.same(o, { ocs: { meta: { status: 'failure', statuscode: 418, message: "I'm a teapot" }, data: [] } });
    const r = (await (await sb.fetch('/rb/teapot')).json()) as { errors: string[]; response: string };
    t.same([r.errors, r.response], [["I'm a teapot"], '']);
    // An unknown path under a plugin and an unmatched method are still the family's.
    const missing = await sb.fetch('/json/declared', { method: 'PUT' });
    t.equal(missing.status, 404);
  });

  t.test('OCS XML carries the declared fields only, like its JSON', async (t) => {
    const res = await sb.fetch('/ocs/declared');
    t.equal(res.headers.get('content-type'), 'application/xml; charset=utf-8');
    const xml = await res.text();
    t.match(xml, /<id>7<\/id>/);
    t.match(xml, /<name>seven<\/name>/);
    t.notMatch(xml, /passwordHash|secret|internal/);
    t.equal(res.headers.get('content-length'), String(Buffer.byteLength(xml)));
    // Without a schema, XML shows what the handler returned.
    t.match(await (await sb.fetch('/ocs/undeclared')).text(), /<passwordHash>/);
  });
});
