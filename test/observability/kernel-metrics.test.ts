/**
 * The kernel's Prometheus metrics, scraped from a running kernel and parsed with a
 * Prometheus text parser: each one moves after the matching action, on SQLite and PostgreSQL.
 */
import t from 'tap';
import { register as globalRegistry } from 'prom-client';
import { definePlugin, HttpError, Type } from '../../src/index.js';
import { databaseKinds, startTestKernel } from '../../src/testing/index.js';
import { startReceiver } from '../helpers/receiver.js';
import { openWs } from '../helpers/ws-client.js';
import { eventually, scrape } from './scrape.js';
import { freePort } from '../helpers/waiting.js';

function probePlugin() {
  return definePlugin({
    id: 'probe',
    version: '1',
    init(ctx) {
      const pokes = ctx.metrics.counter({ name: 'pokes_total', help: 'Pokes.', labelNames: ['kind'] });
      let depth = 0;
      ctx.metrics.gauge({ name: 'depth', help: 'Depth, sampled at scrape.', collect: (g) => g.set(depth) });
      ctx.routes.add({ method: 'GET', path: '/probe/items/:id', params: Type.Object({ id: Type.Integer() }), handler: ({ params }) => ({ id: params.id }) });
      ctx.routes.add({
        method: 'POST',
        path: '/probe/poke',
        handler: () => {
          pokes.labels('soft').inc();
          depth += 3;
          return { ok: true };
        },
      });
      ctx.routes.add({
        method: 'GET',
        path: '/probe/broken',
        handler: () => {
          throw new HttpError(503, 'down');
        },
      });
      ctx.routes.add({
        method: 'POST',
        path: '/probe/send',
        body: Type.Object({ url: Type.String(), maxAttempts: Type.Integer() }),
        handler: async ({ body }) => ctx.outbox.enqueue({ url: body.url, body: { hello: 1 }, maxAttempts: body.maxAttempts }),
      });
      ctx.websockets.add({ path: '/probe/ws', handler: (ws) => ws.send('hi') });
    },
  });
}

for (const db of databaseKinds()) {
  t.test(`${db}: every kernel metric moves after its action`, async (t) => {
    const sb = await startTestKernel({ database: db, plugins: [probePlugin()], outbox: { backoffBaseMs: 30_000, backoffMaxMs: 30_000 } });
    t.teardown(sb.close);
    sb.app.get('/metrics', sb.kernel.metrics());
    const metricsUrl = `${sb.url}/metrics`;
    const before = await scrape(metricsUrl);

    // Node's default metrics, in the kernel's registry, never in prom-client's global one.
    t.ok(before.family('process_cpu_user_seconds_total'), 'default process metrics are collected');
    t.ok(before.family('nodejs_eventloop_lag_seconds'), 'default Node metrics are collected');
    t.notOk((await globalRegistry.metrics()).includes('switchboard_'), 'nothing lands in the global registry');
    t.equal(before.value('switchboard_plugin_up', { plugin: 'probe' }), 1, 'the plugin is up');

    // Requests: labelled by route template, never the raw path.
    const route = { plugin: 'probe', method: 'GET', route: '/probe/items/:id' };
    t.equal((await sb.fetch('/probe/items/1')).status, 200);
    t.equal((await sb.fetch('/probe/items/22')).status, 200);
    t.equal((await sb.fetch('/probe/items/x')).status, 400);
    t.equal((await sb.fetch('/probe/broken')).status, 503);
    let after = await scrape(metricsUrl);
    t.equal(after.value('switchboard_http_requests_total', { ...route, status: '200' }) - before.value('switchboard_http_requests_total', { ...route, status: '200' }), 2, 'two 200s counted');
    t.equal(after.value('switchboard_http_requests_total', { ...route, status: '400' }), 1, 'the 400 counted under the template');
    t.equal(after.value('switchboard_http_requests_total', { plugin: 'probe', route: '/probe/broken', status: '503' }), 1);
    t.equal(after.histogramCount('switchboard_http_request_duration_seconds', route), 3, 'three durations observed');
    const routes = after.labels('switchboard_http_requests_total').map((l) => l.route);
    t.notOk(routes.some((r) => /\/probe\/items\/(1|22|x)$/.test(r)), 'no raw path as a label');
    t.equal(after.family('switchboard_http_request_duration_seconds')?.type, 'HISTOGRAM');

    // A plugin's own metrics, prefixed with its id.
    await sb.fetch('/probe/poke', { method: 'POST' });
    after = await scrape(metricsUrl);
    t.equal(after.value('switchboard_probe_pokes_total', { kind: 'soft' }), 1, 'plugin counter');
    t.equal(after.value('switchboard_probe_depth'), 3, 'plugin gauge sampled at scrape');

    // Websockets.
    const ws = await openWs(`${sb.url.replace('http', 'ws')}/probe/ws`);
    t.equal((await scrape(metricsUrl)).value('switchboard_websocket_connections', { plugin: 'probe' }), 1, 'one open websocket');
    await ws.close();
    await eventually(async () => (await scrape(metricsUrl)).value('switchboard_websocket_connections', { plugin: 'probe' }) === 0, 5000, 'the websocket to be gone');

    // Outbox: a delivery to a receiver that never answers is pending; one to a dead port
    // retries, then dies.
    const hanging = await startReceiver(() => 'hang');
    t.teardown(() => hanging.close());
    const send = (url: string, maxAttempts: number) => sb.fetch('/probe/send', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url, maxAttempts }) });
    t.equal((await send(hanging.url, 5)).status, 200);
    await hanging.waitFor(1);
    await new Promise((r) => setTimeout(r, 1100));
    after = await scrape(metricsUrl);
    t.equal(after.value('switchboard_outbox_deliveries', { owner: 'probe', state: 'pending' }), 1, 'a pending delivery');
    t.ok(after.value('switchboard_outbox_oldest_pending_seconds', { owner: 'probe' }) >= 1, 'its age is reported');

    const dead = `http://127.0.0.1:${await freePort()}/hook`;
    t.equal((await send(dead, 2)).status, 200);
    await eventually(async () => (await scrape(metricsUrl)).value('switchboard_outbox_attempts_total', { owner: 'probe', outcome: 'retry' }) === 1, 10_000, 'a failed attempt');
    after = await scrape(metricsUrl);
    t.equal(after.value('switchboard_outbox_deliveries', { owner: 'probe', state: 'retrying' }), 1, 'a retrying delivery');
    // Due now: the second attempt makes it dead.
    await sb.kernel.db('swb_outbox').where('url', dead).update({ next_attempt_at: Date.now() });
    await eventually(async () => (await scrape(metricsUrl)).value('switchboard_outbox_attempts_total', { owner: 'probe', outcome: 'dead' }) === 1, 10_000, 'the last attempt');
    after = await scrape(metricsUrl);
    t.equal(after.value('switchboard_outbox_deliveries', { owner: 'probe', state: 'dead' }), 1, 'a dead delivery');
    t.equal(after.value('switchboard_outbox_deliveries', { owner: 'probe', state: 'retrying' }), 0);

    // Stopped: the plugin is down (the registry still answers; the outbox is not read).
    await sb.kernel.stop();
    t.equal((await scrape(metricsUrl)).value('switchboard_plugin_up', { plugin: 'probe' }), 0, 'down after stop');
  });
}

t.test('metrics off: kernel.metrics() answers 404 and plugin metrics still work detached', async (t) => {
  const sb = await startTestKernel({ plugins: [probePlugin()], metrics: false });
  t.teardown(sb.close);
  sb.app.get('/metrics', sb.kernel.metrics());
  t.equal((await sb.fetch('/metrics')).status, 404);
  t.equal(sb.kernel.metricsRegistry, undefined);
  t.equal((await sb.fetch('/probe/poke', { method: 'POST' })).status, 200);
});

t.test("a host's registry: the kernel's metrics join the host's", async (t) => {
  const { Registry, Counter } = await import('prom-client');
  const registry = new Registry();
  new Counter({ name: 'host_things_total', help: 'The host’s own.', registers: [registry] }).inc();
  const sb = await startTestKernel({ plugins: [probePlugin()], metrics: { registry, defaultMetrics: false } });
  t.teardown(sb.close);
  await sb.fetch('/probe/items/5');
  const text = await registry.metrics();
  t.match(text, /host_things_total 1/);
  t.match(text, /switchboard_http_requests_total\{plugin="probe",method="GET",route="\/probe\/items\/:id",status="200"\} 1/);
  t.notMatch(text, /process_cpu_user_seconds_total/, 'default metrics off when asked');
});
