/**
 * The outbox for operators, on SQLite and PostgreSQL: a delivery to a receiver that is down
 * dies, shows in `switchboard outbox list --state dead` and in the admin API with its
 * attempts, and once the receiver is up a replay (from the CLI, and from the admin API)
 * delivers it exactly once with the same delivery id, made by the running server while the
 * CLI is a separate kernel. Plus purge, show, and the admin API's authentication.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCli } from '../../examples/standalone/cli.js';
import { definePlugin, type DeliverySummary, type DeliveryDetail, type PluginContext } from '../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../src/testing/index.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { freePort, until } from '../helpers/waiting.js';

const TOKEN = 'admin-token-0123456789abcdef';

interface Run {
  out: string[];
  err: string[];
  code: number;
}

/** Runs `switchboard …` in process, as its own kernel (another instance than the server). */
async function cli(argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const result: Run = { out: [], err: [], code: 0 };
  const program = buildCli(['node', 'switchboard', ...argv], {
    env,
    output: { out: (l) => void result.out.push(l), err: (l) => void result.err.push(l) },
    setExitCode: (c) => void (result.code = c),
  });
  program.exitOverride();
  await program.parseAsync(argv, { from: 'user' });
  return result;
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: dead, listed, replayed, delivered once with the same id`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-outbox-cli-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const configFile = path.join(dir, 'switchboard.config.json');
    // The CLI kernel has none of the families (they are not needed to see the outbox) and the
    // test's URL policy (loopback allowed), so that a replay's policy check passes.
    fs.writeFileSync(
      configFile,
      JSON.stringify({ webhooks: { allow: ['127.0.0.0/8'] }, plugins: Object.fromEntries(['opsdroid', 'redball', 'talk', 'anope', 'owncast'].map((id) => [id, { enabled: false }])) }),
    );
    const env = { DATABASE_URL: database.url, SWITCHBOARD_CONFIG: configFile };

    let ctx!: PluginContext;
    const plugin = definePlugin({ id: 'notifier', version: '1', init: (c) => void (ctx = c) });
    const server = await startTestKernel({
      database: database.url,
      plugins: [plugin],
      outbox: { maxAttempts: 3, backoffBaseMs: 20, backoffMaxMs: 40, timeoutMs: 1000 },
      admin: { token: TOKEN },
      instanceId: 'server',
    });
    t.teardown(server.close);
    const admin = (p: string, init: RequestInit = {}) => server.fetch(`/_switchboard${p}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...init.headers } });

    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hook`;
    const [a, b] = await ctx.outbox.enqueueMany([
      { url, body: { n: 'a' }, orderingKey: 'a', ownerRef: 'thing:1' },
      { url, body: { n: 'b' }, orderingKey: 'b', ownerRef: 'thing:2' },
    ]);
    await until('both deliveries to be dead', async () => (await server.kernel.outboxOperator.list({ state: 'dead' })).length === 2);

    // The CLI sees them.
    const listed = await cli(['outbox', 'list', '--state', 'dead', '--json'], env);
    t.equal(listed.code, 0, listed.err.join('\n'));
    const deadList = (JSON.parse(listed.out.join('\n')) as { deliveries: DeliverySummary[] }).deliveries;
    t.same(deadList.map((d) => d.deliveryId).sort(), [a.deliveryId, b.deliveryId].sort(), 'outbox list --state dead lists both');
    t.ok(deadList.every((d) => d.state === 'dead' && d.attempts === 3 && d.owner === 'notifier' && /ECONNREFUSED/.test(d.lastError ?? '')));
    const table = await cli(['outbox', 'list', '--state', 'dead'], env);
    t.match(table.out[0], /^ID\s+DELIVERY\s+OWNER\s+REF\s+STATE/, 'a table with a header');
    t.ok(table.out.some((l) => l.includes(a.deliveryId) && /\bdead\b/.test(l)), 'the table shows the delivery as dead');
    t.equal((await cli(['outbox', 'list', '--state', 'delivered', '--json'], env)).out.join('').includes(a.deliveryId), false, 'not under delivered');

    // So does the admin API, with each attempt.
    const apiList = (await (await admin('/outbox?state=dead')).json()) as { deliveries: DeliverySummary[] };
    t.same(apiList.deliveries.map((d) => d.id).sort(), [a.id, b.id].sort());
    const shown = (await (await admin(`/outbox/${a.deliveryId}`)).json()) as DeliveryDetail;
    t.same(shown.attemptLog.map((x) => [x.attempt, x.outcome, x.status]), [[1, 'retry', null], [2, 'retry', null], [3, 'dead', null]]);
    t.ok(shown.attemptLog.every((x) => /^ECONNREFUSED/.test(x.error ?? '') && x.durationMs >= 0 && x.instance === 'server'));
    const showCli = await cli(['outbox', 'show', String(a.id)], env);
    t.equal(showCli.code, 0);
    t.ok(showCli.out.some((l) => /^state:\s+dead$/.test(l)));
    t.ok(showCli.out.some((l) => /^3\s+\S+\s+-\s+\d+ ms\s+dead\s+ECONNREFUSED/.test(l)), 'show lists the attempts');

    // The receiver comes back; one delivery is replayed from the CLI, the other over HTTP.
    let receiver: Receiver | undefined = await startReceiver(() => ({ status: 200 }), port);
    t.teardown(() => receiver?.close());
    const replayed = await cli(['outbox', 'replay', String(a.id)], env);
    t.equal(replayed.code, 0, replayed.err.join('\n'));
    t.match(replayed.out[0], `replayed ${a.id} (delivery ${a.deliveryId})`);
    const viaApi = await admin(`/outbox/${b.id}/replay`, { method: 'POST' });
    t.equal(viaApi.status, 200);
    t.equal(((await viaApi.json()) as { delivery: DeliverySummary }).delivery.deliveryId, b.deliveryId);
    await receiver.waitFor(2);
    await until('both to be delivered', async () => (await server.kernel.outboxOperator.list({ state: 'delivered' })).length === 2);
    await new Promise((r) => setTimeout(r, 300));
    const ids = receiver.received.map((r) => String(r.headers['x-switchboard-delivery']));
    t.same(ids.sort(), [a.deliveryId, b.deliveryId].sort(), 'each delivered once, with its original id');
    const after = (await server.kernel.outboxOperator.show(a.id))!;
    t.equal(after.state, 'delivered');
    t.same(after.attemptLog.map((x) => [x.attempt, x.outcome, x.status]), [[1, 'retry', null], [2, 'retry', null], [3, 'dead', null], [1, 'delivered', 200]]);

    // Only dead deliveries replay.
    const again = await cli(['outbox', 'replay', String(a.id)], env);
    t.equal(again.code, 1);
    t.match(again.err.join('\n'), /is delivered; only dead deliveries can be replayed/);
    const againApi = await admin(`/outbox/${a.id}/replay`, { method: 'POST' });
    t.equal(againApi.status, 409);
    t.equal(((await againApi.json()) as { error: { code: string } }).error.code, 'not_dead');
    t.equal((await admin('/outbox/999999/replay', { method: 'POST' })).status, 404);
    t.equal((await cli(['outbox', 'show', '999999'], env)).code, 1);

    // replay --dead takes every dead one of an owner.
    await receiver.close();
    receiver = undefined;
    const [c] = await ctx.outbox.enqueueMany([{ url, body: { n: 'c' }, orderingKey: 'c' }]);
    await until('c to be dead', async () => (await server.kernel.outboxOperator.show(c.id))?.state === 'dead');
    receiver = await startReceiver(() => ({ status: 200 }), port);
    const all = await cli(['outbox', 'replay', '--dead', '--owner', 'notifier', '--json'], env);
    t.same(JSON.parse(all.out.join('\n')), { replayed: [c.id], refused: [], remaining: 0 });
    await receiver.waitFor(1);
    t.equal(String(receiver.received[0].headers['x-switchboard-delivery']), c.deliveryId);
  });

  t.test(`${kind}: purge removes old finished deliveries and their attempts`, async (t) => {
    let ctx!: PluginContext;
    const server = await startTestKernel({
      database: kind,
      plugins: [definePlugin({ id: 'notifier', version: '1', init: (c) => void (ctx = c) })],
      outbox: { maxAttempts: 1, timeoutMs: 1000 },
      admin: { token: TOKEN },
    });
    t.teardown(server.close);
    const url = `http://127.0.0.1:${await freePort()}/hook`;
    const [oldOne, newOne] = await ctx.outbox.enqueueMany([
      { url, body: {}, orderingKey: '1' },
      { url, body: {}, orderingKey: '2' },
    ]);
    const operator = server.kernel.outboxOperator;
    const attempts = async (id: number) => Number(((await server.kernel.db('swb_outbox_attempts').where('outbox_id', id).count({ n: '*' })) as Array<{ n: string | number }>)[0].n);
    await until('both dead', async () => (await operator.list({ state: 'dead' })).length === 2);
    // A dead delivery has its last attempt logged (it is logged with the outcome, in one statement or transaction).
    t.equal(await attempts(oldOne.id), 1);
    t.equal(await attempts(newOne.id), 1);
    const eightDays = 8 * 24 * 3600 * 1000;
    await server.kernel.db('swb_outbox').where('id', oldOne.id).update({ finished_at: Date.now() - eightDays });

    const bad = await server.fetch('/_switchboard/outbox?state=pending&olderThan=7d', { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    t.equal(bad.status, 400, 'live deliveries are never purged');
    const badAge = await server.fetch('/_switchboard/outbox?state=dead&olderThan=soon', { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    t.equal(badAge.status, 400);
    const res = await server.fetch('/_switchboard/outbox?state=dead&olderThan=7d', { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    t.same(await res.json(), { purged: 1 });
    t.ok(server.kernel.logs.entries().some((e) => /admin API: 1 dead deliveries purged/.test(e.message)), 'the purge is in the log');
    t.equal(await operator.show(oldOne.id), undefined, 'the old one is gone');
    t.equal(await attempts(oldOne.id), 0, 'with its attempts');
    t.equal((await operator.show(newOne.id))?.state, 'dead', 'the recent one stays');
    t.equal(await operator.purge({ state: 'dead', olderThanMs: 0 }), 1);
  });

  t.test(`${kind}: the admin API needs its token`, async (t) => {
    const server = await startTestKernel({ database: kind, plugins: [], admin: { token: TOKEN } });
    t.teardown(server.close);
    for (const headers of <Array<Record<string, string>>>[{}, { authorization: 'Bearer wrong-token' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }]) {
      for (const [method, p] of [['GET', '/outbox'], ['GET', '/outbox/1'], ['POST', '/outbox/1/replay'], ['POST', '/outbox/replay-dead'], ['DELETE', '/outbox?state=dead&olderThan=1d']]) {
        const res = await server.fetch(`/_switchboard${p}`, { method, headers });
        t.equal(res.status, 401, `${method} ${p} without the right token`);
        t.same(await res.json(), { error: { code: 'unauthorized', message: 'A valid admin Bearer token is required' } });
        t.equal(res.headers.get('www-authenticate'), 'Bearer realm="switchboard-admin"');
      }
    }
    const ok = await server.fetch('/_switchboard/outbox', { headers: { authorization: `Bearer ${TOKEN}` } });
    t.equal(ok.status, 200);
    t.same(await ok.json(), { deliveries: [] });
    const badState = await server.fetch('/_switchboard/outbox?state=nope', { headers: { authorization: `Bearer ${TOKEN}` } });
    t.equal(badState.status, 400);
    const twice = await server.fetch('/_switchboard/outbox?owner=a&owner=b', { headers: { authorization: `Bearer ${TOKEN}` } });
    t.equal(twice.status, 400);
    for (const limit of ['0', '1001', '9999', '-1', 'ten']) {
      const res = await server.fetch(`/_switchboard/outbox?limit=${limit}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      t.equal(res.status, 400, `limit=${limit} is refused (1 to 1000)`);
    }
    t.equal((await server.fetch('/_switchboard/outbox?limit=1000', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
    for (const [method, p] of [['GET', '/outbox/%'], ['POST', '/outbox/%E0%A4%A/replay']]) {
      const res = await server.fetch(`/_switchboard${p}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
      t.equal(res.status, 400, `${method} ${p}: a malformed path is the client's error`);
      t.same(await res.json(), { error: { code: 'invalid_request', message: 'The request is malformed' } });
    }

    // Every admin request has an id; refused tokens are in the log, without the token given.
    const traced = await server.fetch('/_switchboard/outbox', { headers: { authorization: `Bearer ${TOKEN}`, 'x-request-id': 'admin-probe-1' } });
    t.equal(traced.headers.get('x-request-id'), 'admin-probe-1', 'the request id is echoed');
    await traced.body?.cancel();
    const refusals = server.kernel.logs.entries('warn').filter((e) => /request refused by authentication/.test(e.message));
    t.ok(refusals.length > 0 && refusals.length <= 10, `refused tokens are logged, capped per client (${refusals.length} lines)`);
    t.notOk(JSON.stringify(server.kernel.logs.entries()).includes('wrong-token'), 'never the token that was tried');

    const off = await startTestKernel({ database: kind, plugins: [] });
    t.teardown(off.close);
    t.equal((await off.fetch('/_switchboard/outbox', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404, 'off without admin.token');
    t.equal(off.kernel.adminHandler, undefined);
  });
}
