/**
 * The opsdroid plugin's configuration, on SQLite and PostgreSQL: the command center off
 * (404), `GET /` switched off, webhooks without a token, the websocket connector's own
 * token, CORS with an origin list, a mount prefix, adding an available module by PATCH,
 * and the startup errors of a bad configuration.
 */
import t from 'tap';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { DANCE_MOVES, opsdroidPlugin } from '../../../plugins/opsdroid/index.js';
import { CC_TOKEN, Chat, openSocket } from './fixtures/helpers.js';

const SOCKET_TOKEN = 'socket-token-31415926';

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    await t.test('command center off, no index, no webhook token, a socket token, CORS origins', async (t) => {
      const sb = await startTestKernel({
        database: kind,
        plugins: [
          {
            plugin: opsdroidPlugin,
            config: {
              web: { disable_web_index_handler_in_root: true, cors: { 'allow-all': false, origins: ['https://a.example'] } },
              // Top-level keys of opsdroid's own configuration.yaml are accepted.
              'welcome-message': true,
              logging: { level: 'info', console: true },
              lang: 'en',
              connectors: { websocket: { token: SOCKET_TOKEN } },
              skills: { dance: {}, hello: null },
            },
          },
        ],
      });
      t.teardown(sb.close);

      t.ok(sb.kernel.logs.entries('info').some((e) => JSON.stringify(e).includes('Welcome to opsdroid')), 'the welcome message');
      const root = await sb.fetch('/');
      t.equal(root.status, 404, 'GET / is left to the host');
      t.match(root.headers.get('content-type'), /^text\/html/, 'the host\'s (Express\'s) own 404');
      await root.text();

      for (const [method, path] of [['GET', '/connectors'], ['GET', '/skills/'], ['GET', '/databases'], ['GET', '/parsers/'], ['GET', '/config'], ['PATCH', '/skills'], ['PATCH', '/connectors/']]) {
        const res = await sb.fetch(path, { method, headers: { authorization: CC_TOKEN }, body: method === 'PATCH' ? '{}' : undefined });
        t.equal(res.status, 404, `${method} ${path}`);
        t.equal(await res.text(), '404: Not Found');
      }

      const stats = (await (await sb.fetch('/stats')).json()) as { modules: unknown };
      t.same(stats.modules, { skills: 2, connectors: 1, databases: 1 }, 'a module written `hello:` (null) is loaded');

      const unauthorized = await sb.fetch('/connector/websocket', { method: 'POST' });
      t.equal(unauthorized.status, 401);
      t.equal(await unauthorized.text(), '401: Unauthorized');
      const wrong = await sb.fetch('/connector/websocket', { method: 'POST', headers: { authorization: `Bearer ${SOCKET_TOKEN}` } });
      t.equal(wrong.status, 401, 'the exact token, no scheme');
      await wrong.text();
      const chat = await Chat.open(sb, { authorization: SOCKET_TOKEN });
      t.teardown(() => chat.close());
      t.match(await chat.ask({ message: 'hey', user: 'zoe' }), /^(Hi|Hello|Hey) zoe$/);

      const party = await sb.fetch('/skill/dance/party', { method: 'POST' });
      t.equal(party.status, 200, 'no webhook token configured: no auth needed');
      t.same(await party.json(), { called_skill: 'party' });
      for (const move of DANCE_MOVES) t.equal(await chat.next(), move);

      const allowed = await sb.fetch('/stats/', { headers: { origin: 'https://a.example' } });
      t.equal(allowed.headers.get('access-control-allow-origin'), 'https://a.example');
      t.match(allowed.headers.get('vary'), /Origin/);
      await allowed.text();
      const other = await sb.fetch('/stats/', { headers: { origin: 'https://b.example' } });
      t.equal(other.headers.get('access-control-allow-origin'), null);
      await other.text();
      const preflight = await sb.fetch('/stats/', { method: 'OPTIONS', headers: { origin: 'https://b.example', 'access-control-request-method': 'GET' } });
      t.equal(preflight.status, 200);
      t.equal(preflight.headers.get('access-control-allow-methods'), null, 'a refused origin gets no CORS headers');
      await preflight.text();
    });

    await t.test('a mount prefix; PATCH adds an available module that is not configured', async (t) => {
      const sb = await startTestKernel({
        database: kind,
        plugins: [{ plugin: opsdroidPlugin, mount: '/bot', config: { web: { 'command-center': { enabled: true, token: CC_TOKEN } } } }],
      });
      t.teardown(sb.close);
      t.same(await (await sb.fetch('/bot/')).json(), { message: 'Welcome to the opsdroid API' });
      t.equal((await sb.fetch('/bot/stats/')).status, 200);
      const missing = await sb.fetch('/bot/skill/nope/hook', { method: 'POST' });
      t.equal(missing.status, 404);
      t.equal(await missing.text(), '404: Not Found');
      const wrongMethod = await sb.fetch('/bot/skill/dance/party');
      t.equal(wrongMethod.status, 405, 'the webhook exists under the mount');
      await wrongMethod.text();
      const chat = await Chat.open({ ...sb, fetch: (p, init) => sb.fetch(`/bot${p}`, init), url: `${sb.url}/bot` });
      t.teardown(() => chat.close());
      t.match(await chat.ask('hello'), /^(Hi|Hello|Hey)$/);
      await t.rejects(openSocket(`${sb.url.replace('http', 'ws')}/bot/connector/websocket/nope`), { status: 400, message: '"Please request a socket first"' });

      // The spec's connectors example, on a configuration without the shell connector.
      const added = await sb.fetch('/bot/connectors', {
        method: 'PATCH',
        headers: { authorization: CC_TOKEN, 'content-type': 'application/json' },
        body: JSON.stringify({ module_type: 'connectors', module_name: 'shell', config: { enabled: false } }),
      });
      t.equal(added.status, 204);
      const connectors = (await (await sb.fetch('/bot/connectors', { headers: { authorization: CC_TOKEN } })).json()) as Record<string, Record<string, unknown>>;
      t.same(Object.keys(connectors), ['websocket', 'shell']);
      t.same(connectors.shell, { name: 'shell', module: '', enabled: false, type: 'connector', entrypoint: null, module_path: 'opsdroid.connector.shell', install_path: 'opsdroid_modules/connector/shell', branch: 'master' }, 'opsdroid\'s key order with `enabled` set by the user');
      t.equal(((await (await sb.fetch('/bot/stats')).json()) as { modules: { connectors: number } }).modules.connectors, 1, 'added disabled: not loaded');
      const unknown = await sb.fetch('/bot/connectors', {
        method: 'PATCH',
        headers: { authorization: CC_TOKEN },
        body: JSON.stringify({ module_type: 'connectors', module_name: 'slack', config: { enabled: true } }),
      });
      t.equal(unknown.status, 404);
      t.equal(await unknown.text(), "404: There is no connectors module named 'slack'.");
    });

    await t.test('a bad configuration stops the kernel with a clear error', async (t) => {
      const cases: Array<[unknown, RegExp]> = [
        [{ web: { 'command-center': { enabled: true } } }, /Command center is enabled, but no authorization token is set\./],
        [{ skills: { hello: {}, nope: {} } }, /skills 'nope' is configured but not available \(available: dance, hello, loudnoises, seen\)/],
        [{ connectors: { websocket: { 'max-connections': 'ten' } } }, /Invalid config for connectors 'websocket': max-connections: must be an integer at least 0 \(got a string\)/],
        [{ parsers: { regex: { enabled: 'yes' } } }, /Invalid config for parsers 'regex': enabled: must be true or false \(got a string\)/],
        [{ timezone: 'Mars/Olympus_Mons' }, /Unknown timezone 'Mars\/Olympus_Mons'/],
        [{ skills: ['hello'] }, /^plugins\.opsdroid\.skills: must be an object \(got a list\)$/],
        [{ web: { 'command-center': { enabled: true, token: CC_TOKEN, extra: 1 } } }, /^plugins\.opsdroid\.web\.command-center\.extra: unknown key/],
      ];
      // One database for every attempt: a refused start leaves nothing behind.
      const db = await createTestDatabase(kind);
      t.teardown(() => db.drop());
      for (const [config, message] of cases) {
        await t.rejects(startTestKernel({ database: db.url, plugins: [{ plugin: opsdroidPlugin, config }] }), { message }, String(message));
      }
    });
  });
}
