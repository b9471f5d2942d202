import t from 'tap';
import { Kernel, definePlugin } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';

declare module '../../src/index.js' {
  interface SwitchboardEvents {
    'test.cluster': { text: string; n: number };
  }
}

const quiet = { level: 'silent' as const };

for (const kind of databaseKinds()) {
  t.test(`${kind}: leases give exactly one owner and expire`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    const a = new Kernel({ database: database.url, logger: quiet, plugins: [], instanceId: 'instance-a' });
    const b = new Kernel({ database: database.url, logger: quiet, plugins: [], instanceId: 'instance-b' });
    await a.start();
    await b.start();
    t.teardown(async () => { await a.stop(); await b.stop(); });

    t.equal(await a.leases.acquire('bot:1', 10_000), true, 'a takes it');
    t.equal(await b.leases.acquire('bot:1', 10_000), false, 'b cannot while it lives');
    t.equal(await a.leases.acquire('bot:1', 10_000), true, 'a renews');
    t.equal(await b.leases.holderOf('bot:1'), 'instance-a');
    await b.leases.release('bot:1');
    t.equal(await a.leases.holderOf('bot:1'), 'instance-a', 'only the holder can release');
    await a.leases.release('bot:1');
    t.equal(await b.leases.acquire('bot:1', 60), true, 'b takes it once released');
    await new Promise((r) => setTimeout(r, 120));
    t.equal(await b.leases.holderOf('bot:1'), undefined, 'expired');
    t.equal(await a.leases.acquire('bot:1', 10_000), true, 'a takes over an expired lease');

    // One-off claims: many racing callers, one winner.
    const claims = await Promise.all([...Array(10)].map((_, i) => (i % 2 ? a : b).leases.once('cron:hello:2026-11-24T10:00', 60_000)));
    t.equal(claims.filter(Boolean).length, 1, 'exactly one claim wins');
  });
}

if (databaseKinds().includes('postgres')) {
  t.test('postgres: cluster events reach the other instance, large ones too', async (t) => {
    const database = await createTestDatabase('postgres');
    t.teardown(database.drop);
    const got: Record<string, Array<{ text: string; n: number }>> = { a: [], b: [] };
    const listener = (name: 'a' | 'b') => definePlugin({ id: 'listener', version: '1', init: (ctx) => void ctx.events.on('test.cluster', (e) => void got[name].push(e)) });
    const a = new Kernel({ database: database.url, logger: quiet, plugins: [listener('a')], instanceId: 'a' });
    const b = new Kernel({ database: database.url, logger: quiet, plugins: [listener('b')], instanceId: 'b' });
    await a.start();
    await b.start();
    t.teardown(async () => { await a.stop(); await b.stop(); });
    t.equal(a.context('listener').clustered, true);

    a.events.emit('test.cluster', { text: 'hello', n: 1 }, { cluster: true });
    a.events.emit('test.cluster', { text: 'x'.repeat(20_000), n: 2 }, { cluster: true });
    a.events.emit('test.cluster', { text: 'local only', n: 3 });
    const end = Date.now() + 5000;
    while (got.b.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    t.same(got.b.map((e) => e.n), [1, 2], 'b got the cluster events, in order, not the local one');
    t.equal(got.b[1].text.length, 20_000, 'the large payload arrived whole');
    t.same(got.a.map((e) => e.n), [1, 2, 3], 'a got each of its own events once');
  });
}
