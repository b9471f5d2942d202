/**
 * Server hardening of the standalone server with all five families: timeouts set on the
 * HTTP server, header and body size limits (413 in each family's style, and an anonymous
 * client cannot make the server read a large body), the JSON depth limit, helmet's security
 * headers on every answer without breaking a family's CORS contract, and no `X-Powered-By`.
 */
import net from 'node:net';
import t from 'tap';
import { MAX_JSON_DEPTH } from '../../src/index.js';
import { databaseKinds } from '../../src/testing/index.js';
import { basicAuth, type Sent } from './fixtures-a/http.js';
import { startFullStandalone, type FullStandalone } from './fixtures-a/standalone.js';

/** helmet's headers as the standalone app configures them (an API-only server). */
const SECURITY_HEADERS: Record<string, string | RegExp> = {
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'strict-transport-security': /^max-age=\d+; includeSubDomains$/,
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

/**
 * What is wrong with an answer's security headers. `expressFallback`: Express's own 404 page
 * (finalhandler) replaces the policy with its own `default-src 'none'`, which is as strict for
 * an API; framing stays forbidden by `X-Frame-Options`.
 */
function headerProblems(res: Sent): string[] {
  const problems: string[] = [];
  for (const [name, expected] of Object.entries(SECURITY_HEADERS)) {
    const got = res.headers[name];
    if (typeof got !== 'string' || (typeof expected === 'string' ? got !== expected : !expected.test(got))) problems.push(`${name}: ${JSON.stringify(got)}`);
  }
  if (res.headers['x-powered-by'] !== undefined) problems.push(`x-powered-by: ${res.headers['x-powered-by']}`);
  // Owncast's and opsdroid's APIs are called cross-origin by design: no resource policy may block that.
  if (res.headers['cross-origin-resource-policy'] !== undefined) problems.push(`cross-origin-resource-policy: ${res.headers['cross-origin-resource-policy']}`);
  return problems;
}

/** Sends raw bytes and returns the raw answer (for what a client library would refuse to send). */
function rawExchange(url: string, bytes: string | Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let out = '';
    socket.on('data', (c) => (out += c.toString('latin1')));
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.write(bytes);
    setTimeout(() => socket.destroy(), 3000).unref();
  });
}

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sa = await startFullStandalone(kind);
    t.teardown(sa.close);
    const s = sa.secrets;
    const ocs = { authorization: basicAuth('alice', s.users.alice), 'ocs-apirequest': 'true', accept: 'application/json' };
    const owncastAdmin = { authorization: basicAuth('admin', s.owncastStreamKey) };
    const V1 = '/ocs/v2.php/apps/spreed/api/v1';

    t.test('the HTTP server has header, request and keep-alive timeouts', async (t) => {
      const server = sa.standalone.server;
      t.equal(server.headersTimeout, 10_000, 'a client must finish its headers within 10 s (slowloris)');
      t.equal(server.requestTimeout, 30_000, 'a whole request within 30 s');
      t.equal(server.keepAliveTimeout, 5_000, 'idle keep-alive connections close after 5 s');
      t.ok(server.headersTimeout > server.keepAliveTimeout, 'the headers timeout outlasts keep-alive (no race on reused sockets)');
      t.ok(server.requestTimeout >= server.headersTimeout);
    });

    t.test('headers past 16 kB get 431, the connection is closed, the server carries on', async (t) => {
      const answer = await rawExchange(sa.url, `GET /api/status HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      t.match(answer, /^HTTP\/1\.1 431 /);
      t.equal((await sa.send({ method: 'GET', path: '/healthz' })).status, 200);
    });

    t.test('bodies past the limit get 413 in each family style; anonymous clients are refused before their body is read', async (t) => {
      const big = 'x'.repeat(1536 * 1024);
      const json = (value: string) => `{"value":"${value}"}`;
      const cases: Array<{ name: string; req: Parameters<FullStandalone['send']>[0]; status: number; check: (r: Sent) => boolean }> = [
        {
          name: 'opsdroid PATCH /skills (aiohttp text)',
          req: { method: 'PATCH', path: '/skills', headers: { authorization: s.opsdroidCommandCenter, 'content-type': 'application/json' }, body: json(big) },
          status: 413,
          check: (r) => /^413: /.test(r.text),
        },
        {
          name: 'redball POST /api/v1/bots (envelope)',
          req: { method: 'POST', path: `/api/v1/bots?apikey=${s.redballKey}`, headers: { 'content-type': 'application/json' }, body: json(big) },
          status: 413,
          check: (r) => /^413 /.test((r.json as any)?.errors?.[0] ?? '') && (r.json as any).response === '',
        },
        {
          name: 'talk POST chat (OCS)',
          req: { method: 'POST', path: `${V1}/chat/${sa.seeds.talkRoom}`, headers: { ...ocs, 'content-type': 'application/json' }, body: JSON.stringify({ message: big }) },
          status: 413,
          check: (r) => (r.json as any)?.ocs?.meta?.statuscode === 413,
        },
        {
          name: 'anope POST /rest/account (plain text)',
          req: { method: 'POST', path: '/rest/account', headers: { authorization: `Bearer ${s.anopeToken}`, 'content-type': 'application/json' }, body: json(big) },
          status: 413,
          check: (r) => /^text\/plain/.test(String(r.headers['content-type'])) && !r.text.startsWith('{'),
        },
        {
          name: 'owncast POST /api/admin/config/name (BasicResponse)',
          req: { method: 'POST', path: '/api/admin/config/name', headers: { ...owncastAdmin, 'content-type': 'application/json' }, body: json(big) },
          status: 413,
          check: (r) => (r.json as any)?.success === false && typeof (r.json as any).message === 'string',
        },
        {
          name: 'anope without a token: refused before the body is read',
          req: { method: 'POST', path: '/rest/account', headers: { 'content-type': 'application/json' }, body: json(big) },
          status: 401,
          check: (r) => r.text === 'Unauthorized',
        },
        {
          name: 'owncast admin without credentials: refused before the body is read',
          req: { method: 'POST', path: '/api/admin/config/name', headers: { 'content-type': 'application/json' }, body: json(big) },
          status: 401,
          check: (r) => r.text === 'Unauthorized',
        },
      ];
      for (const c of cases) {
        const res = await sa.send(c.req);
        t.equal(res.status, c.status, `${c.name}: ${res.status} ${res.text.slice(0, 120)}`);
        t.ok(c.check(res), `${c.name}: the family's style`);
        t.same(headerProblems(res), [], `${c.name}: security headers`);
      }
      const name = await sa.send({ method: 'GET', path: '/api/config' });
      t.notMatch(name.text, /xxxxxxxx/, 'the refused body changed nothing');
    });

    t.test(`JSON nested deeper than ${MAX_JSON_DEPTH} levels is refused in the family style; plugins parsing JSON themselves survive 500 000 levels`, async (t) => {
      const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{"a":1}${'}'.repeat(depth - 1)}`;
      const deepValue = (depth: number) => `{"value":${nested(depth - 1)}}`;
      const at = (depth: number) => [
        { name: 'redball', req: { method: 'POST', path: `/api/v1/bots?apikey=${s.redballKey}`, headers: { 'content-type': 'application/json' }, body: deepValue(depth) } },
        { name: 'talk', req: { method: 'POST', path: `${V1}/chat/${sa.seeds.talkRoom}`, headers: { ...ocs, 'content-type': 'application/json' }, body: deepValue(depth) } },
        { name: 'owncast', req: { method: 'POST', path: '/api/admin/config/tags', headers: { ...owncastAdmin, 'content-type': 'application/json' }, body: deepValue(depth) } },
      ];
      for (const { name, req } of at(MAX_JSON_DEPTH + 1)) {
        const res = await sa.send(req);
        t.equal(res.status, 400, `${name}: ${MAX_JSON_DEPTH + 1} levels → 400`);
        t.match(res.text, new RegExp(`deeper than ${MAX_JSON_DEPTH} levels`), `${name}: says why, in its style`);
      }
      for (const { name, req } of at(MAX_JSON_DEPTH)) {
        const res = await sa.send(req);
        t.equal(res.status, 400, `${name}: ${MAX_JSON_DEPTH} levels parse (and fail validation, a nested value is not what the route takes)`);
        t.notMatch(res.text, /deeper than/, `${name}: not refused for its depth`);
      }
      const deepest = `${'['.repeat(500_000)}${']'.repeat(500_000)}`;
      const anope = await sa.send({ method: 'POST', path: '/rest/account', headers: { authorization: `Bearer ${s.anopeToken}` }, body: deepest });
      t.equal(anope.status, 400, `anope parses JSON itself: ${anope.text.slice(0, 80)}`);
      const opsdroid = await sa.send({ method: 'PATCH', path: '/skills', headers: { authorization: s.opsdroidCommandCenter }, body: deepest });
      t.equal(opsdroid.status, 400, `opsdroid parses JSON itself: ${opsdroid.text.slice(0, 80)}`);
      t.equal((await sa.send({ method: 'GET', path: '/healthz' })).status, 200);
    });

    t.test("helmet's headers on every family's answers (errors too), no X-Powered-By, and each family's CORS still works", async (t) => {
      const answers: Array<[string, Parameters<FullStandalone['send']>[0]]> = [
        ['opsdroid /', { method: 'GET', path: '/' }],
        ['opsdroid command center refusal', { method: 'GET', path: '/config' }],
        ['redball list', { method: 'GET', path: `/api/v1/bots?apikey=${s.redballKey}` }],
        ['redball refusal', { method: 'GET', path: '/api/v1/bots' }],
        ['talk admin list', { method: 'GET', path: `${V1}/bot/admin`, headers: ocs }],
        ['talk unknown route', { method: 'GET', path: `${V1}/nothing-here`, headers: ocs }],
        ['anope list', { method: 'GET', path: '/rest/account', headers: { authorization: `Bearer ${s.anopeToken}` } }],
        ['anope OPTIONS', { method: 'OPTIONS', path: '/rest/account' }],
        ['owncast status', { method: 'GET', path: '/api/status' }],
        ['owncast admin refusal', { method: 'GET', path: '/api/admin/status' }],
        ['owncast 501', { method: 'POST', path: '/api/chat', headers: { 'content-type': 'application/json' }, body: '{}' }],
        ['a path no family serves (the JSON 404)', { method: 'GET', path: '/no/such/path' }],
        ['/healthz', { method: 'GET', path: '/healthz' }],
        ['/openapi.json', { method: 'GET', path: '/openapi.json' }],
      ];
      for (const [name, req] of answers) {
        const res = await sa.send(req);
        t.same(headerProblems(res), [], `${name} (${res.status})`);
      }
      const unknown = await sa.send({ method: 'GET', path: '/no/such/path' });
      t.equal(unknown.status, 404);
      t.match(unknown.headers['content-type'], /^application\/json/, "a path no family serves answers JSON, not Express's HTML page");
      const status = await sa.send({ method: 'GET', path: '/api/status', headers: { origin: 'https://viewer.example' } });
      t.equal(status.headers['access-control-allow-origin'], '*', 'Owncast: /api/status is readable from any origin');
      const admin = await sa.send({ method: 'OPTIONS', path: '/api/admin/status', headers: { origin: 'https://admin.example' } });
      t.equal(admin.status, 200);
      t.equal(admin.headers['access-control-allow-origin'], '*', "Owncast: the admin preflight answers `*` by default, never the page's origin");
      t.equal(admin.headers['access-control-allow-credentials'], undefined, '… and no credentials');
      const preflight = await sa.send({ method: 'OPTIONS', path: '/stats', headers: { origin: 'https://dash.example', 'access-control-request-method': 'GET' } });
      t.equal(preflight.status, 200, 'opsdroid: preflight');
      t.equal(preflight.headers['access-control-allow-origin'], '*');
      t.equal(preflight.headers['access-control-allow-methods'], 'DELETE, GET, OPTIONS, PATCH, POST, PUT');
    });

    t.test('an error reaching Express itself shows no stack trace', async (t) => {
      // A request target Express cannot decode and a path outside every family.
      for (const path of ['/%E0%A4%A', '/..%2f..%2fetc%2fpasswd', '/openapi.json/%00']) {
        const res = await sa.send({ method: 'GET', path });
        t.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
        t.notMatch(res.text, /\n\s+at |node_modules|\/work\/|Error:/, `${path}: no stack trace`);
      }
    });
  });
}
