/**
 * The outbox writes attempt results by group commit (several outcomes, their attempt log
 * entries and their lanes' next heads in one statement on SQLite, one transaction on
 * PostgreSQL) and claims in batches. These
 * tests hold it to the guarantees it had with a transaction per delivery, on SQLite and
 * PostgreSQL: each lane is delivered in order while many lanes run at once with retries;
 * a SIGKILL in the middle of batches loses no delivery and breaks no lane's order; a batch
 * in which one outcome cannot be written still records the others, and the one that failed
 * holds its lane and is attempted again once its claim lapses; an attempt that cannot be
 * logged never undoes its outcome.
 */
import t from 'tap';
import { Kernel, definePlugin, type AttemptOutcome, type PluginContext } from '../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel, type DatabaseKind } from '../../src/testing/index.js';
import { spawnTs } from '../helpers/child.js';
import { startReceiver, type Received } from '../helpers/receiver.js';
import { until } from '../helpers/waiting.js';

function notifier(holder: { ctx?: PluginContext }, outcomes: AttemptOutcome[] = []) {
  return definePlugin({
    id: 'notifier',
    version: '1',
    init(ctx) {
      holder.ctx = ctx;
      ctx.outbox.onAttempt((o) => void outcomes.push(o));
    },
  });
}

/** Each lane's received sequence numbers, in arrival order (bodies are `{ lane, n }`). */
function byLane(received: readonly Received[]): Map<string, number[]> {
  const lanes = new Map<string, number[]>();
  for (const r of received) {
    const { lane, n } = JSON.parse(String(r.body)) as { lane: string; n: number };
    let list = lanes.get(lane);
    if (!list) lanes.set(lane, (list = []));
    list.push(n);
  }
  return lanes;
}

/** True when a lane's arrivals never go back: repeats of a delivery (retries, at least once) only, never an earlier one after a later one. */
function inOrder(seq: readonly number[]): boolean {
  return seq.every((n, i) => i === 0 || n >= seq[i - 1]);
}

function inputs(url: string, lanes: number, perLane: number) {
  return Array.from({ length: lanes * perLane }, (_, i) => {
    const lane = `lane-${i % lanes}`;
    return { url, body: { lane, n: Math.floor(i / lanes) }, orderingKey: lane };
  });
}

/** A trigger that makes one statement fail for the rows `condition` picks (`row` is the new row). */
async function failWhen(db: Kernel['db'], kind: DatabaseKind, name: string, table: string, event: 'UPDATE' | 'INSERT', condition: string): Promise<() => Promise<void>> {
  if (kind === 'sqlite') {
    await db.raw(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} WHEN ${condition.replaceAll('row.', 'NEW.')} BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    return async () => void (await db.raw(`DROP TRIGGER ${name}`));
  }
  await db.raw(`CREATE FUNCTION ${name}() RETURNS trigger AS $$ BEGIN IF ${condition.replaceAll('row.', 'NEW.')} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
  await db.raw(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  return async () => {
    await db.raw(`DROP TRIGGER ${name} ON ${table}`);
    await db.raw(`DROP FUNCTION ${name}()`);
  };
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: every lane in order while many lanes are claimed and written in batches, with retries`, async (t) => {
    // Lanes outnumber the worker's concurrency, so claims come in batches; answers come
    // back together (results batch) and one in five fails at first (retries in the batches).
    const failed = new Set<string>();
    const receiver = await startReceiver((req) => {
      const key = String(req.body);
      if (!failed.has(key) && key.length % 5 === 0) {
        failed.add(key);
        return { status: 503 };
      }
      return { status: 200 };
    });
    t.teardown(receiver.close);
    const holder: { ctx?: PluginContext } = {};
    const sb = await startTestKernel({ database: kind, plugins: [notifier(holder)], outbox: { allow: ['127.0.0.0/8'], concurrency: 6, pollIntervalMs: 20, backoffBaseMs: 5, backoffMaxMs: 20 } });
    t.teardown(sb.close);
    const lanes = 12;
    const perLane = 25;
    // Enqueued in several transactions while earlier ones are being delivered.
    for (let i = 0; i < perLane; i += 5) await holder.ctx!.outbox.enqueueMany(inputs(receiver.url, lanes, perLane).filter((d) => d.body.n >= i && d.body.n < i + 5));
    await until('all delivered', async () => (await holder.ctx!.outbox.stats()).delivered === lanes * perLane, 30_000);
    t.ok(failed.size > 0, 'some attempts failed and were retried');
    const seen = byLane(receiver.received);
    t.equal(seen.size, lanes);
    for (const [lane, seq] of seen) {
      t.ok(inOrder(seq), `${lane} arrived in order`);
      t.same([...new Set(seq)], Array.from({ length: perLane }, (_, i) => i), `${lane}: every delivery arrived`);
    }
  });

  t.test(`${kind}: one outcome of a batch that cannot be written holds its lane; the others are recorded`, async (t) => {
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    const holder: { ctx?: PluginContext } = {};
    const outcomes: AttemptOutcome[] = [];
    const sb = await startTestKernel({ database: kind, plugins: [notifier(holder, outcomes)], outbox: { allow: ['127.0.0.0/8'], pollIntervalMs: 20, timeoutMs: 300, claimMarginMs: 200 } });
    t.teardown(sb.close);
    const db = sb.kernel.db;
    // The outcome of lane-3's first delivery cannot be recorded (until the trigger goes).
    const drop = await failWhen(db, kind, 'swb_test_fail_outcome', 'swb_outbox', 'UPDATE', `row.ordering_key = 'lane-3' AND row.status = 'delivered' AND row.attempts = 1`);
    const made = await holder.ctx!.outbox.enqueueMany(inputs(receiver.url, 6, 3));
    await until('the other lanes delivered', async () => {
      const rows = (await db('swb_outbox').whereNot('ordering_key', 'lane-3').where('status', 'delivered').count({ n: '*' })) as Array<{ n: number | string }>;
      return Number(rows[0].n) === 15;
    });
    const lane3 = (await db('swb_outbox').where('ordering_key', 'lane-3').orderBy('id').select('status')) as Array<{ status: string }>;
    t.same(lane3.map((r) => r.status), ['delivering', 'queued', 'queued'], 'lane-3 is held at its head: nothing behind it was attempted');
    t.equal(byLane(receiver.received).get('lane-3')?.filter((n) => n > 0).length ?? 0, 0, 'no later delivery of lane-3 reached the receiver');
    const logged = await sb.kernel.outbox.attemptLog.forDeliveries(made.map((d) => d.id));
    t.equal([...logged.values()].filter((l) => l.length === 1).length, 15, 'the recorded outcomes have their attempts logged');
    await drop();
    await until('lane-3 delivered after its claim lapsed', async () => (await holder.ctx!.outbox.stats()).delivered === 18, 15_000);
    const seq = byLane(receiver.received).get('lane-3')!;
    t.ok(inOrder(seq), 'lane-3 in order');
    t.same([...new Set(seq)], [0, 1, 2]);
    t.ok(seq.filter((n) => n === 0).length >= 2, 'its head was attempted again (at least once)');
  });

  t.test(`${kind}: an attempt that cannot be logged does not undo its outcome, nor the others' log entries`, async (t) => {
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    const holder: { ctx?: PluginContext } = {};
    const sb = await startTestKernel({ database: kind, plugins: [notifier(holder)], outbox: { allow: ['127.0.0.0/8'], pollIntervalMs: 20 } });
    t.teardown(sb.close);
    const db = sb.kernel.db;
    // The victim is lane-2's first delivery, picked before anything is enqueued: a lane's
    // head may be attempted as soon as it is enqueued, before a trigger made after would exist.
    await failWhen(db, kind, 'swb_test_fail_log', 'swb_outbox_attempts', 'INSERT', `row.outbox_id = (SELECT MIN(o.id) FROM swb_outbox o WHERE o.ordering_key = 'lane-2')`);
    const made = await holder.ctx!.outbox.enqueueMany(inputs(receiver.url, 8, 2));
    const victim = made[2].id;
    t.equal(Number((await db('swb_outbox').where('ordering_key', 'lane-2').min({ id: 'id' }).first())?.id), victim, "the victim is lane-2's first delivery");
    const more = await holder.ctx!.outbox.enqueueMany(inputs(receiver.url, 8, 2).map((d) => ({ ...d, body: { ...d.body, n: d.body.n + 2 } })));
    await until('all delivered', async () => (await holder.ctx!.outbox.stats()).delivered === 32);
    const ids = [...made, ...more].map((d) => d.id);
    const logged = await sb.kernel.outbox.attemptLog.forDeliveries(ids);
    t.notOk(logged.has(victim), 'the attempt that could not be logged is missing from the log');
    t.equal(ids.filter((id) => id !== victim && logged.get(id)?.length === 1).length, 31, 'every other attempt is logged');
    const row = (await db('swb_outbox').where('id', victim).first()) as { status: string };
    t.equal(row.status, 'delivered', 'its outcome stands');
    for (const [lane, seq] of byLane(receiver.received)) t.ok(inOrder(seq), `${lane} in order`);
  });

  t.test(`${kind}: a SIGKILL in the middle of batches loses no delivery and keeps every lane in order`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    // Slow enough answers that batches are in flight when the worker dies.
    const receiver = await startReceiver(() => ({ status: 200 }));
    t.teardown(receiver.close);
    const outbox = { allow: ['127.0.0.0/8'], concurrency: 8, pollIntervalMs: 20, timeoutMs: 1000, claimMarginMs: 200 };
    const holder: { ctx?: PluginContext } = {};
    const writer = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [notifier(holder)], outbox });
    await writer.prepare('cli');
    const lanes = 10;
    const perLane = 60;
    const all = inputs(receiver.url, lanes, perLane);
    // In chunks, as Owncast does (SQLite caps the terms of one multi-row insert).
    for (let i = 0; i < all.length; i += 100) await holder.ctx!.outbox.enqueueMany(all.slice(i, i + 100));
    await writer.stop();
    const child = spawnTs('test/outbox/fixtures/outbox-worker.ts', [JSON.stringify({ database: database.url, outbox })]);
    t.teardown(() => void child.proc.kill('SIGKILL'));
    await child.waitFor(/READY/, 20_000);
    await receiver.waitFor(lanes * perLane * 0.3, 20_000);
    child.proc.kill('SIGKILL');
    t.equal(await child.exited, 'SIGKILL', 'the worker was killed');
    const before = receiver.received.length;
    t.ok(before < lanes * perLane, `killed mid-way (${before} of ${lanes * perLane} arrived)`);
    const second = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [notifier({})], outbox });
    await second.start();
    t.teardown(() => second.stop());
    await until('every delivery recorded', async () => {
      const rows = (await second.db('swb_outbox').where('status', 'delivered').count({ n: '*' })) as Array<{ n: number | string }>;
      return Number(rows[0].n) === lanes * perLane;
    }, 30_000);
    const seen = byLane(receiver.received);
    for (const [lane, seq] of seen) {
      t.ok(inOrder(seq), `${lane} in order across the crash`);
      t.same([...new Set(seq)], Array.from({ length: perLane }, (_, i) => i), `${lane}: every delivery arrived`);
    }
    t.equal(seen.size, lanes);
  });
}
