import t from 'tap';
import { definePlugin, Kernel, type AttemptOutcome, type PluginContext } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';
import { startReceiver } from '../helpers/receiver.js';

// Two kernels on one database (two instances behind a load balancer): every delivery is
// made exactly once, by one of them, and each lane still arrives in order.
for (const kind of databaseKinds()) {
  t.test(`${kind}: two instances share the outbox without double delivery`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    const receivers = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    t.teardown(() => Promise.all(receivers.map((r) => r.close())));
    const outcomes: AttemptOutcome[] = [];
    const contexts: PluginContext[] = [];
    const plugin = definePlugin({ id: 'notifier', version: '1', init: (ctx) => { contexts.push(ctx); ctx.outbox.onAttempt((o) => void outcomes.push(o)); } });
    const outbox = { allow: ['127.0.0.0/8'], pollIntervalMs: 20 };
    const a = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [plugin], outbox, instanceId: 'a' });
    const b = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [plugin], outbox, instanceId: 'b' });
    await a.start();
    await b.start();
    t.teardown(async () => { await a.stop(); await b.stop(); });
    const per = 30;
    for (let i = 0; i < per; i++) {
      // Alternate the instance that enqueues, as a load balancer would.
      await contexts[i % 2].outbox.enqueueMany(receivers.map((r) => ({ url: r.url, body: { i } })));
    }
    await Promise.all(receivers.map((r) => r.waitFor(per, 20_000)));
    await new Promise((r) => setTimeout(r, 300));
    for (const r of receivers) {
      const ids = r.received.map((x) => String(x.headers['x-switchboard-delivery']));
      t.equal(new Set(ids).size, ids.length, 'no delivery arrived twice');
      t.same(r.received.map((x) => JSON.parse(String(x.body)).i), Array.from({ length: per }, (_, i) => i), 'in order');
    }
    t.equal(outcomes.length, per * receivers.length, 'one attempt per delivery');
    t.ok(outcomes.every((o) => o.ok && o.attempt === 1), 'every attempt succeeded the first time');
  });
}
