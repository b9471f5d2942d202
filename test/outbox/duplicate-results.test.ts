/**
 * Two results for one delivery, on SQLite and PostgreSQL. They happen when a delivery's claim
 * lapsed during a slow attempt and the same instance claimed it again: two attempts of it
 * run at once. Written in one batch, which of the two outcomes the database applied was its
 * own choice; with one a retry and the other delivered, the lane was handed on to its next
 * delivery while the retried one stayed its head (two heads). The result writer now puts
 * the later one in the next batch, where it is turned down.
 */
import t from 'tap';
import { pino } from 'pino';
import { openDatabase } from '../../src/db/database.js';
import { dialectOf } from '../../src/db/dialect.js';
import { kernelMigrations } from '../../src/db/kernel-migrations.js';
import { runMigrations } from '../../src/db/migrations.js';
import { AttemptLog } from '../../src/outbox/attempt-log.js';
import { Lanes, type OutboxRow, type OutcomeUpdate } from '../../src/outbox/lanes.js';
import type { AttemptOutcome } from '../../src/outbox/outbox.js';
import { ResultWriter, type AttemptResultWrite } from '../../src/outbox/result-writer.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';

const TABLE = 'swb_outbox';
const ME = 'instance-a';
const FAR = Date.now() + 3_600_000;

for (const kind of databaseKinds()) {
  t.test(`${kind}: a delivery's two results in one turn: the first is written, the second turned down, and its lane keeps one head`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    const { knex, reads } = openDatabase(database.url);
    t.teardown(async () => {
      if (reads !== knex) await reads.destroy();
      await knex.destroy();
    });
    await runMigrations(knex, 'swb_', kernelMigrations);
    let n = 0;
    const insert = async (status: string, lockedBy: string | null): Promise<OutboxRow> => {
      n++;
      const [{ id }] = (await knex(TABLE)
        .insert({
          delivery_id: `delivery-${n}`,
          owner: 'notifier',
          url: 'http://127.0.0.1:9/hook',
          ordering_key: 'lane',
          headers: '{}',
          body: Buffer.from(`{"n":${n}}`),
          success: 'any-2xx',
          status,
          max_attempts: 5,
          timeout_ms: 1000,
          next_attempt_at: 0,
          created_at: n,
          expires_at: FAR,
          locked_by: lockedBy,
          locked_until: lockedBy ? FAR : null,
        })
        .returning('id')) as Array<{ id: number | string }>;
      return (await knex(TABLE).where({ id }).first()) as OutboxRow;
    };
    // The lane's head, claimed by this instance (twice over), and the delivery queued behind it.
    const head = await insert('delivering', ME);
    const next = await insert('queued', null);

    const dialect = dialectOf(knex);
    const attemptLog = new AttemptLog(knex, 'swb_');
    const writer = new ResultWriter(knex, dialect, TABLE, new Lanes(TABLE, dialect), attemptLog, pino({ level: 'silent' }), ME, () => ({ instance: ME, until: FAR }));
    // Both attempts end in the same millisecond: their log entries differ only in outcome.
    const at = new Date();
    const result = (next: AttemptOutcome['next'], status: number): AttemptResultWrite => {
      const update: OutcomeUpdate =
        next === 'retry'
          ? { status: 'pending', attempts: 1, failures: 1, last_status: status, last_error: `UnexpectedStatusCode: ${status}`, next_attempt_at: FAR }
          : { status: 'delivered', attempts: 1, failures: 0, last_status: status, last_error: null, finished_at: Date.now() };
      const outcome: AttemptOutcome = {
        id: Number(head.id),
        deliveryId: head.delivery_id,
        owner: head.owner,
        ownerRef: null,
        url: head.url,
        attempt: 1,
        ok: next === 'delivered',
        status,
        ...(next === 'retry' ? { error: `UnexpectedStatusCode: ${status}` } : {}),
        next,
        at,
        durationMs: 3,
      };
      return { row: head, update, outcome };
    };

    // Both in the same turn: without the rule they went into one batch.
    const [delivered, retried] = await Promise.all([writer.write(result('delivered', 200)), writer.write(result('retry', 503))]);

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
      'only the written result is in the attempt log (taking the other back left it)',
    );
  });
}
