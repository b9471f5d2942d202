/**
 * The standalone server's `/metrics`: behind `metrics.token` (Bearer) when one is set,
 * scraped and parsed, its request counter moving after a family request; its access log on
 * by default. On SQLite and PostgreSQL.
 */
import { Writable } from 'node:stream';
import t from 'tap';
import { definePlugin } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';
import { createStandalone } from '../../examples/standalone/app.js';
import { loadStandaloneConfig } from '../../examples/standalone/config.js';
import { scrape } from './scrape.js';

const TOKEN = 'metrics-token-0123456789abcdef';

const pinger = definePlugin({
  id: 'pinger',
  version: '1.0.0',
  init(ctx) {
    ctx.routes.add({ method: 'GET', path: '/pinger/ping/:n', handler: () => ({ pong: true }) });
  },
});

for (const kind of databaseKinds()) {
  t.test(`${kind}: /metrics needs the token; a scrape sees a request counted`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    const { config } = loadStandaloneConfig({ SWITCHBOARD_CONFIG: '', PORT: '0', DATABASE_URL: db.url });
    const lines: string[] = [];
    const destination = new Writable({ write: (c, _e, cb) => void (lines.push(String(c)), cb()) });
    const standalone = createStandalone({ ...config, metrics: { token: TOKEN } }, { plugins: [pinger], logger: { level: 'info', destination } });
    t.teardown(() => standalone.stop());
    const url = await standalone.start();

    for (const auth of [undefined, 'Bearer wrong-token-0123456789abcdef', `Basic ${TOKEN}`, TOKEN]) {
      const res = await fetch(`${url}/metrics`, { headers: auth ? { Authorization: auth } : {} });
      t.equal(res.status, 401, `refused with ${auth ?? 'no Authorization'}`);
      t.notMatch(await res.text(), /switchboard_/);
    }
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const before = await scrape(`${url}/metrics`, auth);
    t.equal(before.value('switchboard_plugin_up', { plugin: 'pinger' }), 1);
    t.equal((await fetch(`${url}/pinger/ping/7`, { headers: { 'X-Request-Id': 'standalone-req-1' } })).headers.get('x-request-id'), 'standalone-req-1');
    const after = await scrape(`${url}/metrics`, auth);
    const labels = { plugin: 'pinger', method: 'GET', route: '/pinger/ping/:n', status: '200' };
    t.equal(after.value('switchboard_http_requests_total', labels) - before.value('switchboard_http_requests_total', labels), 1);
    t.ok(after.family('process_resident_memory_bytes'), 'process metrics');

    await new Promise((r) => setTimeout(r, 50));
    const log = lines.join('');
    t.match(log, /"req":\{"id":"standalone-req-1","method":"GET","url":"\/pinger\/ping\/7"/, 'the access log is on in the standalone server');
    t.notOk(log.includes(TOKEN), 'the metrics token is in no log line');
  });
}

t.test('without metrics.token, /metrics is open', async (t) => {
  const db = await createTestDatabase('sqlite');
  t.teardown(() => db.drop());
  const { config } = loadStandaloneConfig({ SWITCHBOARD_CONFIG: '', PORT: '0', DATABASE_URL: db.url });
  t.equal(config.metrics.token, undefined, 'no token by default');
  t.equal(config.log.access, true, 'access log on by default');
  const standalone = createStandalone(config, { plugins: [pinger], logger: { level: 'silent' } });
  t.teardown(() => standalone.stop());
  const url = await standalone.start();
  const s = await scrape(`${url}/metrics`);
  t.equal(s.value('switchboard_plugin_up', { plugin: 'pinger' }), 1);
});
