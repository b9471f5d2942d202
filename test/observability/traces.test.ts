/**
 * Spans through `@opentelemetry/api`, seen by a host's SDK (sdk-trace-base's in-memory
 * exporter, registered as the global tracer provider): one per request (plugin, route
 * template, status), per outbox attempt (owner, receiver host only, attempt number, outcome),
 * per redball bot run and per migration; on SQLite and PostgreSQL.
 */
import http from 'node:http';
import t from 'tap';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { definePlugin, Type } from '../../src/index.js';
import { databaseKinds, startTestKernel } from '../../src/testing/index.js';
import { redballPlugin } from '../../plugins/redball/index.js';
import { startReceiver } from '../helpers/receiver.js';
import { call, KEY } from '../plugins/redball/fixtures/client.js';
import { eventually } from './scrape.js';
import { freePort } from '../helpers/waiting.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
t.ok(trace.setGlobalTracerProvider(provider), 'the test registers its SDK');
t.teardown(() => provider.shutdown());

function tracedPlugin() {
  return definePlugin({
    id: 'traced',
    version: '1',
    migrations: [
      {
        name: '001_things',
        async up(db, ctx) {
          await db.schema.createTable(ctx.table('things'), (tb) => tb.increments('id'));
        },
      },
    ],
    init(ctx) {
      ctx.routes.add({ method: 'GET', path: '/traced/items/:id', params: Type.Object({ id: Type.Integer() }), handler: ({ params }) => ({ id: params.id }) });
      ctx.routes.add({
        method: 'POST',
        path: '/traced/send',
        body: Type.Object({ url: Type.String(), maxAttempts: Type.Integer() }),
        handler: async ({ body }) => ctx.outbox.enqueue({ url: body.url, body: { hello: 1 }, maxAttempts: body.maxAttempts }),
      });
    },
  });
}

const spans = (name: string, where: (s: ReadableSpan) => boolean = () => true) => exporter.getFinishedSpans().filter((s) => s.name === name && where(s));

for (const db of databaseKinds()) {
  t.test(`${db}: requests, outbox attempts, bot runs and migrations are traced`, async (t) => {
    exporter.reset();
    const sb = await startTestKernel({
      database: db,
      plugins: [tracedPlugin(), { plugin: redballPlugin, config: { apiKeys: [KEY], autoRun: false } }],
      outbox: { backoffBaseMs: 30_000, backoffMaxMs: 30_000 },
    });
    t.teardown(sb.close);

    // Migrations: the kernel's and each plugin's, one span each.
    const migration = spans('migration', (s) => s.attributes['switchboard.migration.name'] === '001_things');
    t.equal(migration.length, 1, 'the plugin migration has its span');
    t.match(migration[0].attributes, { 'switchboard.migration.prefix': 'traced_', 'db.system': db === 'postgres' ? 'postgresql' : 'sqlite' });
    t.ok(spans('migration').length > 1, "the kernel's and redball's migrations too");

    // A request: the route template, never the raw path.
    t.equal((await sb.fetch('/traced/items/42')).status, 200);
    t.equal((await sb.fetch('/traced/items/nope')).status, 400);
    await eventually(async () => spans('GET /traced/items/:id').length === 2, 5000, 'the request spans');
    const [ok, bad] = spans('GET /traced/items/:id');
    t.equal(ok.kind, SpanKind.SERVER);
    t.match(ok.attributes, { 'switchboard.plugin': 'traced', 'http.request.method': 'GET', 'http.route': '/traced/items/:id', 'http.response.status_code': 200 });
    t.equal(bad.attributes['http.response.status_code'], 400);
    t.notOk(JSON.stringify(exporter.getFinishedSpans().map((s) => s.attributes)).includes('/traced/items/42'), 'no raw path in any span');

    // Outbox attempts: the receiver's host only, never its path, query or credentials.
    const receiver = await startReceiver();
    t.teardown(() => receiver.close());
    const port = new URL(receiver.url).port;
    const send = (url: string, maxAttempts: number) => sb.fetch('/traced/send', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url, maxAttempts }) });
    t.equal((await send(`http://127.0.0.1:${port}/hooks/private-path?token=sekrit`, 3)).status, 200);
    await eventually(async () => spans('outbox attempt').length === 1, 10_000, 'the delivered attempt');
    const delivered = spans('outbox attempt')[0];
    t.equal(delivered.kind, SpanKind.CLIENT);
    t.match(delivered.attributes, { 'switchboard.outbox.owner': 'traced', 'switchboard.outbox.attempt': 1, 'switchboard.outbox.outcome': 'delivered', 'server.address': '127.0.0.1', 'server.port': Number(port), 'http.response.status_code': 200 });
    t.notMatch(JSON.stringify(delivered.attributes), /private-path|sekrit|hooks/, "no path or query");
    t.equal(delivered.status.code, SpanStatusCode.UNSET);

    const dead = `http://127.0.0.1:${await freePort()}/hook`;
    t.equal((await send(dead, 2)).status, 200);
    const toDead = (s: ReadableSpan) => s.attributes['server.address'] === '127.0.0.1' && s.attributes['server.port'] !== Number(port);
    await eventually(async () => spans('outbox attempt', toDead).length === 1, 10_000, 'the failed attempt');
    await sb.kernel.db('swb_outbox').where('url', dead).update({ next_attempt_at: Date.now() });
    await eventually(async () => spans('outbox attempt', toDead).length === 2, 10_000, 'the last attempt');
    const [first, last] = spans('outbox attempt', toDead);
    t.match(first.attributes, { 'switchboard.outbox.attempt': 1, 'switchboard.outbox.outcome': 'retry' });
    t.match(last.attributes, { 'switchboard.outbox.attempt': 2, 'switchboard.outbox.outcome': 'dead' });
    t.equal(last.status.code, SpanStatusCode.ERROR, 'a failed attempt is an error');

    // A redball bot run: from its start to its stop.
    const type = await call(sb, 'POST', '/bottypes', { form: { description: 'beat', moduleName: 'heartbeat' } });
    const created = await call(sb, 'POST', '/bots', { form: { name: 'beat', botType: String(type.body.response.botTypes[0].id), autoRun: 'False' } });
    const id = created.body.response.bots[0].id as number;
    t.equal((await call(sb, 'PUT', `/bots/${id}/start`)).status, 200);
    t.equal(spans('redball bot run').length, 0, 'the run span is open while it runs');
    t.equal((await call(sb, 'PUT', `/bots/${id}/stop`)).status, 200);
    await eventually(async () => spans('redball bot run').length === 1, 10_000, 'the run span');
    t.match(spans('redball bot run')[0].attributes, { 'switchboard.redball.bot.id': id, 'switchboard.redball.bot.module': 'heartbeat', 'switchboard.redball.bot.outcome': 'finished' });

    // A bot whose module is not found is refused before it runs.
    const broken = await call(sb, 'POST', '/bottypes', { form: { description: 'broken', moduleName: 'no-such-module' } });
    const brokenBot = await call(sb, 'POST', '/bots', { form: { name: 'broken', botType: String(broken.body.response.botTypes[0].id), autoRun: 'False' } });
    await call(sb, 'PUT', `/bots/${brokenBot.body.response.bots[0].id}/start`);
    t.equal(spans('redball bot run').length, 1, 'a module that is not found never runs: no run span');
  });
}
