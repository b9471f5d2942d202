/**
 * Requests the kernel refuses for every family: NUL characters anywhere in the path, query or
 * body (PostgreSQL cannot store them; the route fuzzer found 500s in four families), and
 * refused authentication, which is logged — without the credential — and capped per client.
 */
import t from 'tap';
import { definePlugin, HttpError, reply, staticToken, Type, type Logger } from '../../src/index.js';
import { RefusalLog } from '../../src/http/refusal-log.js';
import { databaseKinds, startTestKernel } from '../../src/testing/index.js';

const calls: string[] = [];
const nulPlugin = definePlugin({
  id: 'nul',
  version: '1.0.0',
  init(ctx) {
    ctx.routes.defaults({ onValidationError: (issues) => new HttpError(422, issues.map((i) => i.message).join('; '), { code: 'FAMILY_STYLE' }) });
    ctx.routes.add({
      method: 'GET',
      path: '/n/:name',
      params: Type.Object({ name: Type.String() }),
      query: Type.Object({ q: Type.Optional(Type.String()) }),
      handler: ({ params, query }) => {
        calls.push('get');
        return { name: params.name, q: query.q ?? null };
      },
    });
    ctx.routes.add({
      method: 'POST',
      path: '/n',
      body: Type.Object({ items: Type.Array(Type.Object({ label: Type.String() })) }),
      handler: ({ body }) => {
        calls.push('json');
        return reply(201, body);
      },
    });
    ctx.routes.add({ method: 'PUT', path: '/n', accepts: 'text', handler: ({ body }) => (calls.push('text'), { length: String(body).length }) });
    ctx.routes.add({ method: 'PUT', path: '/raw', accepts: 'raw', handler: ({ body }) => (calls.push('raw'), { bytes: (body as Buffer).length }) });
    ctx.routes.add({ method: 'GET', path: '/locked', auth: staticToken({ tokens: ['the-right-token-123'] }), handler: () => ({ secret: 'data' }) });
  },
});

for (const kind of databaseKinds()) {
  t.test(`${kind}: NUL characters are refused in the family's validation style before the handler runs`, async (t) => {
    const lines: string[] = [];
    const sb = await startTestKernel({ database: kind, plugins: [nulPlugin], logger: { level: 'info', destination: { write: (l: string) => void lines.push(l) } } });
    t.teardown(sb.close);
    calls.length = 0;
    const cases: Array<[string, RequestInit, RegExp]> = [
      ['/n/a%00b', {}, /^params\/name must not contain NUL characters$/],
      ['/n/ok?q=x%00', {}, /^query\/q must not contain NUL characters$/],
      ['/n', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"items":[{"label":"a\\u0000"}]}' }, /^body\/items\/0\/label must not contain NUL characters$/],
      ['/n', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"items":[],"k\\u0000":1}' }, /^body\/k\\u0000 must not contain NUL characters$/],
    ];
    for (const [path, init, message] of cases) {
      const res = await sb.fetch(path, init);
      t.equal(res.status, 422, `${init.method ?? 'GET'} ${path}: the family's validation error`);
      t.match(((await res.json()) as { error: string }).error, message);
    }
    t.same(calls, [], 'no handler ran');
    // Encoded text that only looks like a NUL passes; text and raw bodies are the plugin's to read.
    const ok = await sb.fetch('/n/%2500?q=%2500');
    t.same(await ok.json(), { name: '%00', q: '%00' });
    const text = await sb.fetch('/n', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'a\u0000b' });
    t.same(await text.json(), { length: 3 });
    const raw = await sb.fetch('/raw', { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 0]) });
    t.same(await raw.json(), { bytes: 3 });
    t.same(calls, ['get', 'text', 'raw']);
  });
}

t.test('refused authentication is logged without the credential, and a burst is capped per client', async (t) => {
  const lines: string[] = [];
  const sb = await startTestKernel({ plugins: [nulPlugin], logger: { level: 'info', destination: { write: (l: string) => void lines.push(l) } } });
  t.teardown(sb.close);
  for (let i = 0; i < 14; i++) {
    const res = await sb.fetch(`/locked?attempt=${i}&token=wrong-guess-${i}`, { headers: { authorization: `wrong-guess-${i}` } });
    t.equal(res.status, 401);
  }
  const refusals = sb.kernel.logs.entries('warn').filter((e) => e.message.startsWith('request refused by authentication'));
  t.equal(refusals.length, 10, 'ten lines per client per minute, the rest counted');
  t.ok(refusals.every((e) => e.plugin === 'nul'), 'attributed to the plugin');
  const logged = lines.filter((l) => l.includes('request refused by authentication'));
  t.match(JSON.parse(logged[0]), { level: 40, method: 'GET', path: '/locked', status: 401, ip: /127\.0\.0\.1/ });
  t.notMatch(lines.join('\n'), /wrong-guess/, 'neither the credential nor the query string is logged');
  t.notMatch(lines.join('\n'), /the-right-token-123/);
  t.equal((await sb.fetch('/locked', { headers: { authorization: 'the-right-token-123' } })).status, 200, 'the right token still works');
});

t.test('RefusalLog: the first line after a capped window says how many were left out', async (t) => {
  let now = 0;
  const log = new RefusalLog({ perWindow: 2, windowMs: 1000, now: () => now });
  const out: Array<[Record<string, unknown>, string]> = [];
  const logger = { warn: (fields: Record<string, unknown>, msg: string) => out.push([fields, msg]) } as unknown as Logger;
  const req = (ip: string, path = '/x') => ({ ip, path, method: 'POST', socket: {} }) as never;
  for (let i = 0; i < 5; i++) log.note(logger, req('10.0.0.1'), new HttpError(403, 'Forbidden'));
  log.note(logger, req('10.0.0.2', `/${'p'.repeat(500)}`), new Error('not an HttpError'));
  t.equal(out.length, 3);
  t.equal((out[2][0].path as string).length, 201, 'long paths are cut to 200 characters and an ellipsis');
  t.equal(out[2][0].status, undefined);
  now = 1000;
  log.note(logger, req('10.0.0.1'), new HttpError(403, 'Forbidden'));
  t.same(out[3], [{ method: 'POST', path: '/x', status: 403, ip: '10.0.0.1', notLogged: 3 }, 'request refused by authentication (3 more from this client were not logged)']);
  const small = new RefusalLog({ perWindow: 1, windowMs: 1000, maxClients: 2, now: () => now });
  for (const ip of ['a', 'b', 'c', 'd']) small.note(logger, req(ip), new HttpError(401, 'x'));
  t.equal(out.length, 8, 'new clients are still logged when the table is full');
});
