/**
 * Deliveries left in flight by a crash, on SQLite and PostgreSQL. On SQLite (one instance per
 * file) they are due again as soon as the kernel has started, and `start()` resolves only after
 * that: a recovery still running after `start()` could take back a delivery that a worker had
 * claimed meanwhile, and send it twice. On PostgreSQL another instance may really be
 * attempting it, so its claim has to run out first.
 */
import t from 'tap';
import { definePlugin, Kernel, openDatabase, type PluginContext } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';

for (const kind of databaseKinds()) {
  t.test(`${kind}: a delivery cut by a crash`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    let ctx!: PluginContext;
    const plugin = definePlugin({ id: 'notifier', version: '1', init: (c) => void (ctx = c) });
    const outbox = { allow: ['127.0.0.0/8'] };
    const first = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [plugin], outbox });
    await first.prepare('cli');
    // Port 9 (discard) on loopback: nothing answers, and nothing is attempted before the check below.
    const [queued] = await ctx.outbox.enqueueMany([{ url: 'http://127.0.0.1:9/hook', body: { n: 1 } }]);
    await first.stop();

    const { knex } = openDatabase(database.url);
    t.teardown(() => knex.destroy());
    const far = Date.now() + 3_600_000;
    await knex('swb_outbox').where({ id: queued.id }).update({ status: 'delivering', locked_by: 'crashed-instance', locked_until: far, next_attempt_at: far });

    // Whether the recovery's UPDATE had answered when start() resolved.
    let recovered = false;
    const watching = definePlugin({
      id: 'notifier',
      version: '1',
      init: (c) => {
        ctx = c;
        c.db.on('query-response', (_rows: unknown, q: { sql: string }) => {
          if (/^update .*swb_outbox.* set .*status.* where .*status.* = \?/i.test(q.sql)) recovered = true;
        });
      },
    });
    const second = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [watching], outbox: { ...outbox, pollIntervalMs: 3_600_000 } });
    await second.start();
    const recoveredAtStart = recovered;
    t.teardown(() => second.stop());
    const row = (await knex('swb_outbox').where({ id: queued.id }).first('status', 'locked_by')) as { status: string; locked_by: string | null };
    if (kind === 'sqlite') {
      t.ok(recoveredAtStart, 'the recovery had run when start() resolved');
      // Due again (pending, or already claimed by the new worker): not the crashed one's.
      t.not(row.locked_by, 'crashed-instance', 'released');
    } else {
      t.same(row, { status: 'delivering', locked_by: 'crashed-instance' }, 'left to its claim');
    }
  });
}
