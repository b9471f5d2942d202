/**
 * Spilled cluster events (payloads over 7 kB, stored in `swb_cluster_events`) are pruned while
 * the bridge runs, not only when it stops: otherwise anyone who can make large cluster events
 * (anonymous Owncast chat) grows the shared database without bound. Rows past the retention
 * go, fresh ones stay readable by the other instances, a failing prune is logged and does not
 * throw, and a receiver that finds its row already pruned treats the event as lost.
 *
 * The bridges are built directly, with the retention and interval shortened through the
 * constructor options (the kernel uses the defaults: five minutes, one minute).
 */
import t, { type Test } from 'tap';
import { pino } from 'pino';
import type { Knex } from 'knex';
import { CLUSTER_CHANNEL, EventBus, KERNEL_TABLE_PREFIX, PgEventBridge, openDatabase, runMigrations } from '../../src/index.js';
import { kernelMigrations } from '../../src/db/kernel-migrations.js';
import { createTestDatabase, postgresServerUrl } from '../../src/testing/index.js';

declare module '../../src/index.js' {
  interface SwitchboardEvents {
    'test.spill': { text: string };
  }
}

const TABLE = `${KERNEL_TABLE_PREFIX}cluster_events`;
/** Far longer than a receiver needs here, far shorter than the age of the planted rows. */
const RETENTION_MS = 30_000;
const PRUNE_INTERVAL_MS = 50;
const quiet = () => pino({ level: 'silent' });

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A logger that keeps the lines it writes (level warn and up). */
function recordingLogger(): { logger: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** A fresh PostgreSQL database with the kernel's tables; dropped when the test ends. */
async function freshDatabase(t: Test): Promise<Knex> {
  const db = await createTestDatabase('postgres');
  const { knex } = openDatabase(db.url);
  t.teardown(async () => {
    await knex.destroy();
    await db.drop();
  });
  await runMigrations(knex, KERNEL_TABLE_PREFIX, kernelMigrations);
  return knex;
}

async function rowCount(knex: Knex, where: (q: Knex.QueryBuilder) => Knex.QueryBuilder = (q) => q): Promise<number> {
  const [row] = await where(knex(TABLE)).count({ n: '*' });
  return Number(row.n);
}

if (!postgresServerUrl()) {
  t.plan(0, 'the cluster event bridge needs PostgreSQL (PG_URL); SQLite is single-instance');
} else {
  t.test('a running bridge prunes old spilled events and keeps fresh ones readable', async (t) => {
    const knex = await freshDatabase(t);
    // Left behind by earlier traffic (or an instance that crashed before it could clean up).
    const old = Date.now() - 10 * RETENTION_MS;
    await knex(TABLE).insert([1, 2, 3].map((i) => ({ payload: JSON.stringify({ text: `old ${i}` }), created_at: old })));

    const busA = new EventBus(quiet());
    const busB = new EventBus(quiet());
    const options = { retentionMs: RETENTION_MS, pruneIntervalMs: PRUNE_INTERVAL_MS };
    const a = new PgEventBridge(knex, KERNEL_TABLE_PREFIX, busA, 'a', quiet(), options);
    const b = new PgEventBridge(knex, KERNEL_TABLE_PREFIX, busB, 'b', quiet(), options);
    await a.start();
    await b.start();
    t.teardown(async () => { await a.stop(); await b.stop(); });
    const got: string[] = [];
    busB.on('test.spill', (e) => void got.push(e.text));

    await until('the old spilled rows to be pruned', async () => (await rowCount(knex)) === 0);
    t.equal(await rowCount(knex), 0, 'rows past the retention are deleted while the bridges run');

    const sentAt = Date.now();
    busA.emit('test.spill', { text: 'y'.repeat(20_000) }, { cluster: true });
    await until('the large event on the other instance', () => got.length === 1);
    t.equal(got[0].length, 20_000, 'a fresh spilled event is read whole by the other instance');
    // Several prune ticks later, the fresh row is still there: only expired rows go.
    await new Promise((r) => setTimeout(r, 10 * PRUNE_INTERVAL_MS));
    t.equal(await rowCount(knex, (q) => q.where('created_at', '>=', sentAt)), 1, 'the fresh row was spilled and outlives the prunes');
  });

  t.test('a failing prune is logged, not thrown, and stop() ends the pruning', async (t) => {
    const knex = await freshDatabase(t);
    const { logger, lines } = recordingLogger();
    // No such table: every prune fails.
    const bridge = new PgEventBridge(knex, 'missing_', new EventBus(quiet()), 'a', logger, { retentionMs: RETENTION_MS, pruneIntervalMs: PRUNE_INTERVAL_MS });
    await bridge.start();
    await until('two failed prunes', () => lines.filter((l) => l.msg === 'spilled cluster events could not be pruned').length >= 2);
    await bridge.stop(); // its last prune fails too, and is logged
    const failures = lines.length;
    t.ok(failures >= 3, 'each failed prune is logged');
    await new Promise((r) => setTimeout(r, 5 * PRUNE_INTERVAL_MS));
    t.equal(lines.length, failures, 'no prune after stop()');
  });

  t.test('an event whose row was pruned before it was read counts as lost', async (t) => {
    const knex = await freshDatabase(t);
    const { logger, lines } = recordingLogger();
    const bus = new EventBus(quiet());
    const bridge = new PgEventBridge(knex, KERNEL_TABLE_PREFIX, bus, 'b', logger);
    await bridge.start();
    t.teardown(() => bridge.stop());
    let resyncs = 0;
    let delivered = 0;
    bus.on('cluster.resync', () => void resyncs++);
    bus.on('test.spill', () => void delivered++);

    // What a sender writes for a spilled event, pointing at a row that is gone.
    await knex.raw('SELECT pg_notify(?, ?)', [CLUSTER_CHANNEL, JSON.stringify({ o: 'a', n: 'test.spill', s: 999_999 })]);
    await until('the resync', () => resyncs === 1);
    t.equal(delivered, 0, 'the event is not delivered');
    t.ok(lines.some((l) => l.msg.startsWith('spilled cluster event expired before it was read')), 'the loss is logged');
  });
}
