/**
 * redball on several instances, in one process (two kernels on one PostgreSQL): a stopping
 * instance hands its bots to the other at once; the last one to stop records them as
 * stopped; an instance whose run was taken elsewhere stops its copy without writing; the
 * first instance of the next cluster start resets what nobody runs and starts the autoRun
 * bots. (The failover after a crash is in scale-out.test.ts, with real processes.)
 */
import t from 'tap';
import { openDatabase } from '../../src/index.js';
import { createTestDatabase, postgresServerUrl, startTestKernel, type TestKernel } from '../../src/testing/index.js';
import { BotRunner, BotStore, BotTypeStore, redballPlugin } from '../../plugins/redball/index.js';
import { until } from '../helpers/waiting.js';

const KEY = 'handover-test-key-0123456789';
const config = { apiKeys: [KEY], leaseMs: 1000, stopGraceMs: 200 };

if (!postgresServerUrl()) {
  t.plan(0, 'several instances need PostgreSQL (PG_URL); SQLite is single-instance by design');
} else {
  t.test('redball bots move between instances', async (t) => {
    const db = await createTestDatabase('postgres');
    t.teardown(db.drop);
    const knex = openDatabase(db.url).knex;
    t.teardown(() => knex.destroy());
    const start = () => startTestKernel({ database: db.url, plugins: [{ plugin: redballPlugin, config }] });
    const a: TestKernel = await start();
    const b: TestKernel = await start();
    t.teardown(async () => {
      await a.close();
      await b.close();
    });
    const ctxA = a.kernel.context('redball');
    const idA = a.kernel.instanceId;
    const idB = b.kernel.instanceId;
    const type = (await ctxA.container.resolve(BotTypeStore).list()).find((bt) => bt.moduleName === 'heartbeat')!.id;
    const bot = await ctxA.container.resolve(BotStore).create({ name: 'beat', botType: type, autoRun: true, redditAuth: null });
    const other = await ctxA.container.resolve(BotStore).create({ name: 'other', botType: type, autoRun: false, redditAuth: null });
    const api = async (sb: TestKernel, method: string, path: string) => (await (await sb.fetch(`/api/v1${path}?apikey=${KEY}`, { method })).json()) as { response: any };
    const run = async (id: number) => (await knex('redball_bot_runs').where({ bot_id: id }).first('status', 'instance_id')) as { status: string; instance_id: string };
    const runnerA = ctxA.container.resolve(BotRunner);
    const runnerB = b.kernel.context('redball').container.resolve(BotRunner);

    t.same((await api(a, 'PUT', `/bots/${bot}/start`)).response, { result: true });
    t.same((await api(b, 'PUT', `/bots/${other}/start`)).response, { result: true });
    t.same([await run(bot), await run(other)], [{ status: 'running', instance_id: idA }, { status: 'running', instance_id: idB }]);

    // Another instance's run taken over behind its back (its lease and record): it stops its copy.
    await knex('swb_leases').where('name', `redball:bot:${other}`).update({ holder: 'someone-else' });
    await until('B to give the bot up', async () => (runnerB.isRunning(other) ? undefined : true));
    t.same(await run(other), { status: 'running', instance_id: idB }, 'the run was not written by the instance that lost it');
    await knex('swb_leases').where('name', `redball:bot:${other}`).del();
    await knex('redball_bot_runs').where({ bot_id: other }).update({ status: 'stopped' });

    // A stops while B runs: the bot moves to B at once and stays Running.
    const stopping = Date.now();
    await a.close();
    const moved = await until('B to run the bot', async () => (runnerB.isRunning(bot) ? Date.now() - stopping : undefined));
    t.comment(`handed over in ${moved} ms (lease 1000 ms)`);
    t.same(await run(bot), { status: 'running', instance_id: idB }, 'recorded as running on B');
    t.equal((await api(b, 'GET', `/bots/${bot}`)).response.bots[0].status, 'Running');
    t.equal(runnerA.isRunning(bot), false);

    // B is the last instance: stopping it stops the bot.
    await b.close();
    t.equal((await run(bot)).status, 'stopped', 'the last instance to stop records its bots as stopped');
    t.same(await knex('redball_instances').select('instance_id'), [], 'no instance left in the membership');

    // The next cluster start: its first instance starts the autoRun bot, a second joins.
    const c = await start();
    const d = await start();
    t.teardown(async () => {
      await c.close();
      await d.close();
    });
    const holder = await until('the autoRun bot to run', async () => {
      const r = await run(bot);
      return r.status === 'running' ? r.instance_id : undefined;
    });
    t.ok([c.kernel.instanceId, d.kernel.instanceId].includes(holder), 'on one of them');
    const runners = [c, d].map((k) => k.kernel.context('redball').container.resolve(BotRunner));
    t.equal(runners.filter((r) => r.isRunning(bot)).length, 1, 'and only one');
    t.equal((await run(other)).status, 'stopped', 'a stopped bot stays stopped');
  });
}
