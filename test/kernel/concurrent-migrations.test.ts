import t from 'tap';
import { definePlugin, Kernel } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';

const plugin = definePlugin({
  id: 'racer',
  version: '1',
  migrations: [
    { name: '001', up: (db, { table }) => db.schema.createTable(table('a'), (t) => t.increments('id')) },
    { name: '002', up: (db, { table }) => db.schema.createTable(table('b'), (t) => t.increments('id')) },
  ],
});

// Several instances starting at once on a fresh database (a deployment rolling out).
for (const kind of databaseKinds()) {
  t.test(`${kind}: instances starting together on a fresh database all start`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    const kernels = [1, 2, 3].map((i) => new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [plugin], instanceId: `i${i}` }));
    const results = await Promise.allSettled(kernels.map((k) => k.start()));
    t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled'], results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')).join('; '));
    const names = await kernels[0].db('racer_migrations').orderBy('name').pluck('name');
    t.same(names, ['001', '002'], 'each migration ran once');
    await Promise.all(kernels.map((k) => k.stop()));
  });
}
