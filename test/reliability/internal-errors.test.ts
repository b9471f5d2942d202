/**
 * Internal errors never reach a client (issue 15, finding 6): on the standalone server with
 * all five families, every route that takes a body gets a 200,000-level deep JSON body (as
 * JSON and as text), opsdroid's PATCH gets one deep inside `config` (the finding: it answered
 * `400: Maximum call stack size exceeded`), and then, with the database closed under the
 * running kernel, every GET route of every family is called, and a write in each family is
 * made with a body it would accept. No answer may carry an
 * exception's name, message or stack frame, nothing may crash, and every answer is in its
 * family's own error style.
 */
import t from 'tap';
import http from 'node:http';
import { databaseKinds } from '../../src/testing/index.js';
import { families, resolveRoutes, type ResolvedRoute } from './fixtures-a/families.js';
import type { Sent } from './fixtures-a/http.js';
import { shapeOf } from './fixtures-a/shapes.js';
import { startFullStandalone, type FullStandalone } from './fixtures-a/standalone.js';

/** What must never appear in an answer: exception names, messages of the runtime and drivers, stack frames. */
const LEAKS: RegExp[] = [
  /RangeError|TypeError|SyntaxError|ReferenceError|AggregateError/,
  /\bError:/,
  /Maximum call stack/i,
  /\bat \S+ \(|\bat (file|node):|node:internal|\.ts:\d+|\.js:\d+/,
  /SQLITE_|knex|Knex|Unable to acquire a connection|pool is (destroyed|draining)|ECONNREFUSED|relation "|syntax error at|violates/,
  /undefined is not|Cannot read propert|is not a function|is not iterable/,
];

const DEPTH = 200_000;
const deepArray = '['.repeat(DEPTH) + ']'.repeat(DEPTH);

/** Problems with an answer: a leak, no answer, or not the family's style. */
function problems(plugin: string, res: Sent): string[] {
  const out: string[] = [];
  if (res.status <= 0) return [`no answer (${res.error ?? 'none'})`];
  for (const leak of LEAKS) if (leak.test(res.text)) out.push(`leaks ${leak}: ${JSON.stringify(res.text.slice(0, 200))}`);
  if (res.status < 400) return out;
  const type = String(res.headers['content-type'] ?? '');
  const json = res.json as Record<string, any> | undefined;
  switch (plugin) {
    case 'opsdroid':
      if (!/^text\/plain/.test(type) || !new RegExp(`^${res.status}: `).test(res.text)) out.push(`not opsdroid's "<status>: <reason>" text: ${type} ${JSON.stringify(res.text.slice(0, 100))}`);
      break;
    case 'redball':
      // redball-notes.md: `{"meta": {"api_version": 1, "timestamp": <epoch seconds>}, "errors": [...], "response": ""}`,
      // the errors starting with redball's status line (`"500 Internal Server Error"`).
      if (
        !/^application\/json/.test(type) ||
        json?.meta?.api_version !== 1 ||
        typeof json.meta.timestamp !== 'number' ||
        !Array.isArray(json.errors) ||
        !json.errors.every((e: unknown) => typeof e === 'string') ||
        json.errors[0] !== `${res.status} ${http.STATUS_CODES[res.status]}` ||
        json.response !== ''
      ) {
        out.push(`not redball's envelope with its status line: ${type} ${res.text.slice(0, 100)}`);
      }
      break;
    case 'talk':
      if (!(json?.ocs?.meta?.status === 'failure' || json?.message === 'CSRF check failed' || (res.status === 405 && res.text === ''))) out.push(`not an OCS failure: ${res.text.slice(0, 100)}`);
      break;
    case 'anope':
      if (!/^text\/plain/.test(type)) out.push(`not anope's plain text: ${type} ${res.text.slice(0, 100)}`);
      break;
    case 'owncast':
      // (`GET /api/yp` answers an empty 404 while the directory is off, as Owncast does.)
      if (!(/^text\/plain/.test(type) || (json && (typeof json.error === 'string' || json.success === false)) || (res.status === 404 && res.text === ''))) out.push(`not an Owncast error: ${type} ${res.text.slice(0, 100)}`);
      break;
  }
  return out;
}

function request(sa: FullStandalone, route: ResolvedRoute, body?: { text: string; type: string }) {
  const fam = families(sa.secrets, sa.seeds, () => sa.secrets.owncastStreamKey)[route.plugin];
  const shape = shapeOf(route, fam);
  const path = `/${shape.segments.map((s) => ('literal' in s ? s.literal : s.value)).join('/')}`;
  const qs = shape.baseQuery.length > 0 ? `?${shape.baseQuery.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : '';
  const headers: Record<string, string> = { ...shape.headers };
  if (body) headers['content-type'] = body.type;
  return sa.send({ method: route.method, path: path + qs, headers, body: body?.text, timeoutMs: 60_000 });
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: no internal error reaches a client`, async (t) => {
    const sa = await startFullStandalone(kind);
    let closed = false;
    t.teardown(async () => {
      if (!closed) await sa.close().catch(() => undefined);
    });
    const routes = resolveRoutes(sa.standalone.kernel.httpSurfaces());
    const check = (route: ResolvedRoute, what: string, res: Sent) => {
      const found = problems(route.plugin, res);
      t.same(found, [], `${route.method} ${route.fullPath} ${what}: ${res.status}`);
    };

    // opsdroid's PATCH with the nesting inside `config`, where the configuration check recursed.
    const patch = routes.find((r) => r.plugin === 'opsdroid' && r.method === 'PATCH');
    t.ok(patch, "opsdroid's PATCH route is registered");
    for (const config of [`{"deep": ${deepArray}}`, '{"deep": ' + '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000) + '}']) {
      const text = `{"module_type": "skills", "module_name": "hello", "config": ${config}}`;
      const res = await request(sa, patch!, { text, type: 'application/json' });
      check(patch!, 'deep config', res);
      t.equal(res.status, 400, 'a deep configuration is a bad request');
    }

    // Every route that takes a body: a deep body as JSON and as text.
    for (const route of routes) {
      if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method)) continue;
      for (const type of ['application/json', 'text/plain']) {
        check(route, `deep body as ${type}`, await request(sa, route, { text: deepArray, type }));
      }
    }

    // The database closed under the running kernel: every GET route answers in its family's style.
    await sa.standalone.kernel.db.destroy();
    for (const route of routes) {
      if (route.method !== 'GET') continue;
      check(route, 'with the database closed', await request(sa, route));
    }
    // And a write in each family, with a body it would accept: it fails in the family's style.
    const writes: Array<{ plugin: string; method: string; path: string; body: unknown; type?: string }> = [
      { plugin: 'opsdroid', method: 'PATCH', path: patch?.fullPath ?? '', body: { module_type: 'skills', module_name: 'hello', config: { greeting: 'hi' } } },
      { plugin: 'redball', method: 'PUT', path: '/api/v1/bots/:botId', body: { name: 'renamed-while-closed' } },
      { plugin: 'talk', method: 'POST', path: '/ocs/v2.php/apps/spreed/api/v1/chat/:token', body: { message: 'written while closed' } },
      { plugin: 'anope', method: 'PUT', path: '/rest/:type/:id/:field', body: 'closed@example.org', type: 'text/plain' },
      { plugin: 'owncast', method: 'POST', path: '/api/admin/config/streamtitle', body: { value: 'written while closed' } },
    ];
    for (const write of writes) {
      const route = routes.find((r) => r.plugin === write.plugin && r.method === write.method && r.fullPath === write.path);
      t.ok(route, `${write.plugin}: ${write.method} ${write.path} is registered`);
      if (!route) continue;
      const text = typeof write.body === 'string' ? write.body : JSON.stringify(write.body);
      const res = await request(sa, route, { text, type: write.type ?? 'application/json' });
      check(route, 'a write with the database closed', res);
      t.ok(res.status >= 500, `${write.plugin}: the write failed (${res.status}), it was not taken`);
    }
    closed = true;
    await sa.close().catch(() => undefined);
  });
}
