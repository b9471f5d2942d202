/**
 * The cluster event bridge beyond the basics: a kernel that only runs CLI commands
 * (`prepare('cli')`, never started) still sends its cluster events, so a change made by the
 * CLI reaches running instances at once; and a bridge that lost its listening connection
 * emits `cluster.resync` once it listens again, so caches drop what they may have missed.
 */
import t from 'tap';
import { Kernel, definePlugin } from '../../src/index.js';
import { createTestDatabase, postgresServerUrl } from '../../src/testing/index.js';

declare module '../../src/index.js' {
  interface SwitchboardEvents {
    'test.bridge': { n: number };
  }
}

const quiet = { level: 'silent' as const };

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

if (!postgresServerUrl()) {
  t.plan(0, 'the cluster event bridge needs PostgreSQL (PG_URL); SQLite is single-instance');
} else {
  t.test('CLI kernels send cluster events; a reconnected bridge asks for a resync', async (t) => {
    const db = await createTestDatabase('postgres');
    t.teardown(db.drop);
    const got: number[] = [];
    let resyncs = 0;
    const listener = definePlugin({
      id: 'listener',
      version: '1',
      init(ctx) {
        ctx.events.on('test.bridge', (e) => void got.push(e.n));
        ctx.events.on('cluster.resync', () => void resyncs++);
      },
    });
    const server = new Kernel({ database: db.url, logger: quiet, plugins: [listener], instanceId: 'server' });
    await server.start();
    t.teardown(() => server.stop());

    const cli = new Kernel({ database: db.url, logger: quiet, plugins: [], instanceId: 'cli' });
    await cli.prepare('cli');
    cli.events.emit('test.bridge', { n: 1 }, { cluster: true });
    await cli.stop(); // waits until the event is sent
    await until('the CLI kernel\'s event', () => got.length === 1);
    t.same(got, [1], 'the running instance got the CLI kernel\'s event');
    t.equal(resyncs, 0, 'no resync while the bridge stays connected');

    // Cut the bridge's listening connection from the server side.
    await server.db.raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`);
    await until('the resync', () => resyncs === 1);
    t.equal(resyncs, 1, 'cluster.resync once the bridge listens again');
    const other = new Kernel({ database: db.url, logger: quiet, plugins: [], instanceId: 'other' });
    await other.start();
    t.teardown(() => other.stop());
    other.events.emit('test.bridge', { n: 2 }, { cluster: true });
    await until('an event after the reconnection', () => got.length === 2);
    t.same(got, [1, 2], 'events flow again after the reconnection');
  });
}
