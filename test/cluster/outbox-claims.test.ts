/**
 * An instance's outbox worker claims at most what it can attempt (`concurrency`), so that the
 * other instances sharing the table get the rest. On PostgreSQL, an `UPDATE … WHERE id IN
 * (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` may rescan its subquery and claim far more than
 * `n` rows; this test caught that (seven claimed with a concurrency of two).
 */
import t from 'tap';
import { Kernel } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';
import { startReceiver } from '../helpers/receiver.js';

for (const kind of databaseKinds()) {
  t.test(`${kind}: a worker claims no more deliveries than its concurrency`, async (t) => {
    const receiver = await startReceiver(() => 'hang');
    const db = await createTestDatabase(kind);
    const kernel = new Kernel({
      database: db.url,
      logger: { level: 'silent' },
      plugins: [],
      outbox: { allow: ['127.0.0.0/8'], concurrency: 2, timeoutMs: 5000, pollIntervalMs: 20 },
      stopTimeoutMs: 300,
    });
    await kernel.start();
    t.teardown(async () => {
      await kernel.stop();
      await receiver.close();
      await db.drop();
    });
    // Seven lanes, all due at once.
    await kernel.outbox.forOwner('test').enqueueMany([...Array(7)].map((_, i) => ({ url: `${receiver.url}?lane=${i}`, body: { i } })));
    await receiver.waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    const stats = await kernel.outbox.stats();
    t.equal(stats.delivering, 2, 'two claimed (being attempted)');
    t.equal(stats.pending, 5, 'five left for any instance');
    t.equal(receiver.received.length, 2, 'two attempts in flight');
  });
}
