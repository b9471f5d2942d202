/**
 * The result writer's rare paths, on SQLite and PostgreSQL, driven directly against a
 * database with the kernel's tables:
 * - Two results for one delivery. They happen when a delivery's claim lapsed during a slow
 *   attempt and the same instance claimed it again: two attempts of it run at once. Written
 *   in one batch, which of the two outcomes the database applied was its own choice; with one
 *   a retry and the other delivered, the lane was handed on to its next delivery while the
 *   retried one stayed its head (two heads). The later one now goes into the next batch,
 *   where it is turned down.
 * - An attempt whose outcome is not recorded, of a delivery whose log is full. On SQLite the
 *   attempt was once logged before its outcome and taken back when the outcome was not
 *   recorded, and the log was trimmed with the insert, so the oldest kept attempt went for
 *   nothing. Now the outcome and its log entry are one statement, but a full log must still
 *   lose nothing to an outcome that is turned down.
 */
import t, { type Test } from 'tap';
import type { Knex } from 'knex';
import { pino } from 'pino';
import { openDatabase } from '../../src/db/database.js';
import { dialectOf } from '../../src/db/dialect.js';
import { kernelMigrations } from '../../src/db/kernel-migrations.js';
import { migrationContext, runMigrations } from '../../src/db/migrations.js';
import { ATTEMPTS_KEPT, AttemptLog } from '../../src/outbox/attempt-log.js';
import { Lanes, type OutboxRow, type OutcomeUpdate } from '../../src/outbox/lanes.js';
import { newDeliveryRow } from '../../src/outbox/new-deliveries.js';
import type { AttemptOutcome } from '../../src/outbox/outbox.js';
import { ResultWriter, type AttemptResultWrite } from '../../src/outbox/result-writer.js';
import { createTestDatabase, databaseKinds, type DatabaseKind } from '../../src/testing/index.js';

const TABLE = 'swb_outbox';
const ME = 'instance-a';
const FAR = Date.now() + 3_600_000;

interface Setup {
  knex: Knex;
  writer: ResultWriter;
  attemptLog: AttemptLog;
  /** Inserts a delivery with `status`, claimed by `lockedBy`, after `attempts` attempts, in `lane`; answers its row. */
  insert(status: string, lockedBy: string | null, attempts?: number, lane?: string): Promise<OutboxRow>;
}

/** A fresh database of `kind` with the kernel's tables (as the first `migrations` of the kernel made them), and a result writer for instance {@link ME}. */
async function setup(t: Test, kind: DatabaseKind, migrations = kernelMigrations.length): Promise<Setup> {
  const database = await createTestDatabase(kind);
  t.teardown(database.drop);
  const { knex, reads } = openDatabase(database.url);
  t.teardown(async () => {
    if (reads !== knex) await reads.destroy();
    await knex.destroy();
  });
  await runMigrations(knex, 'swb_', kernelMigrations.slice(0, migrations));
  // A new delivery's row as the outbox makes it, then put in the state the test needs.
  const insert = async (status: string, lockedBy: string | null, attempts = 0, lane = 'lane'): Promise<OutboxRow> => {
    const row = newDeliveryRow('notifier', { url: 'http://127.0.0.1:9/hook', body: { lane }, orderingKey: lane }, { maxAttempts: 100, timeoutMs: 1000, maxAgeMs: 3_600_000 }, Date.now());
    const [{ id }] = (await knex(TABLE).insert(row).returning('id')) as Array<{ id: number | string }>;
    await knex(TABLE)
      .where({ id })
      .update({ status, attempts, failures: attempts, locked_by: lockedBy, locked_until: lockedBy ? FAR : null });
    return (await knex(TABLE).where({ id }).first()) as OutboxRow;
  };
  const dialect = dialectOf(knex);
  const attemptLog = new AttemptLog(knex, 'swb_');
  const writer = new ResultWriter(knex, dialect, TABLE, new Lanes(TABLE, dialect), attemptLog, pino({ level: 'silent' }), ME, () => ({ instance: ME, until: FAR }));
  return { knex, writer, attemptLog, insert };
}

/** The result of attempt `row.attempts + 1` of `row`, ending at `at`: delivered (200) or to be retried (503). */
function result(row: OutboxRow, next: 'delivered' | 'retry', at: Date): AttemptResultWrite {
  const attempt = row.attempts + 1;
  const status = next === 'delivered' ? 200 : 503;
  const lastAttempt = { last_attempt_at: at.getTime(), last_attempt_ms: 3 };
  const update: OutcomeUpdate =
    next === 'retry'
      ? { status: 'pending', attempts: attempt, failures: row.failures + 1, last_status: status, last_error: `UnexpectedStatusCode: ${status}`, ...lastAttempt, next_attempt_at: FAR }
      : { status: 'delivered', attempts: attempt, failures: row.failures, last_status: status, last_error: null, ...lastAttempt, finished_at: at.getTime() };
  const outcome: AttemptOutcome = {
    id: Number(row.id),
    deliveryId: row.delivery_id,
    owner: row.owner,
    ownerRef: null,
    url: row.url,
    attempt,
    ok: next === 'delivered',
    status,
    ...(next === 'retry' ? { error: `UnexpectedStatusCode: ${status}` } : {}),
    next,
    at,
    durationMs: 3,
  };
  return { row, update, outcome };
}

/** `row` after its {@link ATTEMPTS_KEPT} attempts were made and logged (retries, a minute ago). */
async function withFullLog(attemptLog: AttemptLog, row: OutboxRow): Promise<OutboxRow> {
  const start = Date.now() - 60_000;
  for (let i = 0; i < ATTEMPTS_KEPT; i++) await attemptLog.record(result({ ...row, attempts: i }, 'retry', new Date(start + i)).outcome, ME);
  return row;
}

/** The numbers of the attempts logged for `row`, oldest first. */
async function attemptNumbers(attemptLog: AttemptLog, row: OutboxRow): Promise<number[]> {
  return ((await attemptLog.forDeliveries([Number(row.id)])).get(Number(row.id)) ?? []).map((a) => a.attempt);
}

/** The integers from `from` to `to`. */
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: a delivery's two results in one turn: the first is written, the second turned down, and its lane keeps one head`, async (t) => {
    const { knex, writer, attemptLog, insert } = await setup(t, kind);
    // The lane's head, claimed by this instance (twice over), and the delivery queued behind it.
    const head = await insert('delivering', ME);
    const next = await insert('queued', null);
    // Both attempts end in the same millisecond.
    const at = new Date();
    // Both in the same turn: without the rule they went into one batch.
    const [delivered, retried] = await Promise.all([writer.write(result(head, 'delivered', at)), writer.write(result(head, 'retry', at))]);

    t.equal(delivered.changed, true, 'the first result is written');
    t.equal(delivered.following && Number(delivered.following.id), Number(next.id), 'and hands the lane on to its next delivery');
    t.equal(retried.changed, false, 'the second finds the claim released and is turned down');
    const rows = (await knex(TABLE).orderBy('id').select('id', 'status', 'locked_by')) as Array<{ id: number | string; status: string; locked_by: string | null }>;
    t.same(
      rows.map((r) => [Number(r.id), r.status, r.locked_by]),
      [
        [Number(head.id), 'delivered', null],
        [Number(next.id), 'delivering', ME],
      ],
      'the delivery is delivered and the lane has one head, its next delivery',
    );
    const logged = (await attemptLog.forDeliveries([Number(head.id)])).get(Number(head.id)) ?? [];
    t.same(
      logged.map((a) => [a.status, a.outcome]),
      [[200, 'delivered']],
      'only the written result is in the attempt log',
    );
  });

  t.test(`${kind}: an attempt whose outcome is not recorded costs a full log none of its kept attempts`, async (t) => {
    const { knex, writer, attemptLog, insert } = await setup(t, kind);
    // Twenty attempts made and logged; another instance has the claim now.
    const row = await withFullLog(attemptLog, await insert('delivering', ME, ATTEMPTS_KEPT));
    await knex(TABLE).where({ id: row.id }).update({ locked_by: 'instance-b' });

    const written = await writer.write(result(row, 'retry', new Date()));

    t.equal(written.changed, false, 'the outcome is not recorded');
    t.same(await attemptNumbers(attemptLog, row), range(1, ATTEMPTS_KEPT), 'the kept attempts are all there, the oldest included');
    t.same(await knex(TABLE).where({ id: row.id }).first('status', 'locked_by', 'attempts'), { status: 'delivering', locked_by: 'instance-b', attempts: ATTEMPTS_KEPT }, 'the row is the other instance\'s');
  });

  t.test(`${kind}: a late result of an attempt whose claim lapsed is turned down once the same instance has gone on to a later attempt`, async (t) => {
    const { knex, writer, attemptLog, insert } = await setup(t, kind);
    // Attempt 4 hung past its claim; this instance took the delivery again, made attempt 4
    // again (a retry) and is now making attempt 6. Attempt 4's first result arrives late.
    const row = await insert('delivering', ME, 5);
    const late = await writer.write(result({ ...row, attempts: 3 }, 'delivered', new Date()));

    t.equal(late.changed, false, 'the late result is not recorded');
    t.same(await knex(TABLE).where({ id: row.id }).first('status', 'locked_by', 'attempts'), { status: 'delivering', locked_by: ME, attempts: 5 }, 'the row is as the later attempt left it');
    t.same(await attemptNumbers(attemptLog, row), [], 'and nothing is logged');

    const current = await writer.write(result(row, 'delivered', new Date()));
    t.equal(current.changed, true, 'the current attempt\'s result is recorded');
    t.same(await attemptNumbers(attemptLog, row), [6], 'and logged');
  });

  t.test(`${kind}: a recorded attempt still trims its delivery's log to the attempts kept`, async (t) => {
    const { writer, attemptLog, insert } = await setup(t, kind);
    const row = await withFullLog(attemptLog, await insert('delivering', ME, ATTEMPTS_KEPT));

    const written = await writer.write(result(row, 'retry', new Date()));

    t.equal(written.changed, true, 'the outcome is recorded');
    t.same(await attemptNumbers(attemptLog, row), range(2, ATTEMPTS_KEPT + 1), 'the newest attempts are kept, the oldest dropped');
  });

  t.test(`${kind}: results written together trim each delivery's log to the attempts kept`, async (t) => {
    const { writer, attemptLog, insert } = await setup(t, kind);
    const rows = [
      await withFullLog(attemptLog, await insert('delivering', ME, ATTEMPTS_KEPT, 'lane-a')),
      await withFullLog(attemptLog, await insert('delivering', ME, ATTEMPTS_KEPT, 'lane-b')),
    ];

    // In the same turn: one batch of two, written in one statement (SQLite) or transaction (PostgreSQL).
    const written = await Promise.all(rows.map((row) => writer.write(result(row, 'delivered', new Date()))));

    t.same(written.map((w) => w.changed), [true, true], 'both outcomes are recorded');
    for (const row of rows) t.same(await attemptNumbers(attemptLog, row), range(2, ATTEMPTS_KEPT + 1), `delivery ${row.delivery_id}: the newest attempts are kept`);
  });

  t.test(`${kind}: each attempt is logged as its result says, delivered, retried and dead, in one batch`, async (t) => {
    const { knex, writer, attemptLog, insert } = await setup(t, kind);
    const [a, b, c] = [await insert('delivering', ME, 0, 'lane-a'), await insert('delivering', ME, 4, 'lane-b'), await insert('delivering', ME, 9, 'lane-c')];
    const at = new Date(Date.now() - 5_000);
    const dead = result(c, 'retry', at);
    dead.update = { ...dead.update, status: 'dead', next_attempt_at: undefined, finished_at: at.getTime(), last_status: null, last_error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9' };
    dead.outcome = { ...dead.outcome, next: 'dead', status: undefined, error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9' };
    const writes = [result(a, 'delivered', at), { ...result(b, 'retry', at), update: { ...result(b, 'retry', at).update, last_attempt_ms: 1234 } }, dead];
    writes[1].outcome = { ...writes[1].outcome, durationMs: 1234 };

    const written = await Promise.all(writes.map((w) => writer.write(w)));

    t.same(written.map((w) => w.changed), [true, true, true], 'every outcome is recorded');
    const logged = await attemptLog.forDeliveries([a, b, c].map((r) => Number(r.id)));
    const entry = (row: OutboxRow) => logged.get(Number(row.id)) ?? [];
    t.same(entry(a), [{ attempt: 1, at, status: 200, error: null, durationMs: 3, outcome: 'delivered', instance: ME }], 'the delivered attempt');
    t.same(entry(b), [{ attempt: 5, at, status: 503, error: 'UnexpectedStatusCode: 503', durationMs: 1234, outcome: 'retry', instance: ME }], 'the retried attempt');
    t.same(entry(c), [{ attempt: 10, at, status: null, error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9', durationMs: 3, outcome: 'dead', instance: ME }], 'the dead attempt');
    const rows = (await knex(TABLE).whereIn('id', [a.id, b.id, c.id]).orderBy('id').select('status', 'attempts', 'last_attempt_at', 'last_attempt_ms')) as Array<Record<string, unknown>>;
    t.same(
      rows.map((r) => [r.status, r.attempts, Number(r.last_attempt_at), r.last_attempt_ms]),
      [
        ['delivered', 1, at.getTime(), 3],
        ['pending', 5, at.getTime(), 1234],
        ['dead', 10, at.getTime(), 3],
      ],
      'each row keeps its last attempt',
    );
  });

  t.test(`${kind}: kernel migration 005 on a database in use: the delivery in flight is logged with its outcome; down and up again`, async (t) => {
    const { knex, writer, attemptLog, insert } = await setup(t, kind, 4);
    const row = await insert('delivering', ME, 1);
    await runMigrations(knex, 'swb_', kernelMigrations);

    const written = await writer.write(result(row, 'retry', new Date()));

    t.equal(written.changed, true, 'the outcome is recorded');
    t.same(await attemptNumbers(attemptLog, row), [2], 'and its attempt logged');
    const migration = kernelMigrations.find((m) => m.name === '005_outbox_attempt_logged_with_outcome')!;
    const triggers = async () =>
      kind === 'sqlite' ? ((await knex.raw(`SELECT name FROM sqlite_master WHERE type = 'trigger'`)) as Array<{ name: string }>).map((r) => r.name) : [];
    t.same(await triggers(), kind === 'sqlite' ? ['swb_outbox_attempt_logged'] : [], 'SQLite logs through a trigger; PostgreSQL has none');
    // An update that does not bring a new last attempt logs nothing: what an earlier release,
    // which logs its attempts itself, would run on this database.
    await knex(TABLE).where({ id: row.id }).update({ attempts: 3, status: 'delivered', locked_by: null });
    t.same(await attemptNumbers(attemptLog, row), [2], 'an update without a new last attempt logs nothing');
    await knex.transaction((trx) => migration.down!(trx, migrationContext(trx, 'swb_')));
    t.same(await triggers(), [], 'down drops the trigger');
    t.notOk(await knex.schema.hasColumn(TABLE, 'last_attempt_at'), 'and the columns');
    t.same(await attemptNumbers(attemptLog, row), [2], 'and keeps the attempt log');
    await knex.transaction((trx) => migration.up(trx, migrationContext(trx, 'swb_')));
    t.ok(await knex.schema.hasColumn(TABLE, 'last_attempt_ms'), 'up adds them again');
    t.same(await triggers(), kind === 'sqlite' ? ['swb_outbox_attempt_logged'] : [], 'and the trigger');
  });

  t.test(`${kind}: a lane's next head, made in the same statement, logs no attempt`, async (t) => {
    const { knex, writer, attemptLog, insert } = await setup(t, kind);
    const head = await insert('delivering', ME, 2);
    // A replayed delivery: attempts made, and a last attempt on its row.
    const next = await insert('queued', null, 3);
    await knex(TABLE).where({ id: next.id }).update({ last_attempt_at: Date.now() - 60_000, last_attempt_ms: 5 });
    const logged = await attemptNumbers(attemptLog, next);

    const written = await writer.write(result(head, 'delivered', new Date()));

    t.equal(written.following && Number(written.following.id), Number(next.id), 'the next delivery is the head');
    t.same(await attemptNumbers(attemptLog, next), logged, 'and no attempt more logged');
    t.same(await attemptNumbers(attemptLog, head), [3], 'the finished head has its attempt');
  });
}
