/**
 * Group commit (`GroupCommit`): concurrent callers' writes share transactions, on SQLite and
 * PostgreSQL. Each caller is answered only after its own write committed, with its own
 * result; one caller's bad write fails only that caller; commit order is submission order;
 * batches are bounded; a lone caller's write starts at once.
 */
import t from 'tap';
import type { Knex } from 'knex';
import { GroupCommit, openDatabase } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const database = await createTestDatabase(kind);
    const { knex } = openDatabase(database.url);
    // A second, independent connection: what another reader sees once a caller is answered.
    const { knex: reader } = openDatabase(database.url);
    t.teardown(async () => {
      await reader.destroy();
      await knex.destroy();
      await database.drop();
    });
    await knex.schema.createTable('items', (tb) => {
      tb.increments('seq');
      tb.string('name').notNullable().unique();
    });

    /** Inserts the names (one statement) and returns each row's seq, in order. */
    const insertNames = async (names: readonly string[], trx: Knex.Transaction): Promise<number[]> => {
      await trx('items').insert(names.map((name) => ({ name })));
      const rows = (await trx('items').whereIn('name', names).select('seq', 'name')) as Array<{ seq: number | string; name: string }>;
      const seqOf = new Map(rows.map((r) => [r.name, Number(r.seq)]));
      return names.map((name) => seqOf.get(name)!);
    };

    t.test('concurrent callers share transactions, each answered after its commit, in order', async (t) => {
      const batches: number[] = [];
      const committedOrder: string[] = [];
      const transactions: Knex.Transaction[] = [];
      const trxOf = new Map<string, Knex.Transaction>();
      const gc = new GroupCommit<string, number>(knex, {
        maxBatch: 8,
        write: async (names, trx) => {
          batches.push(names.length);
          transactions.push(trx);
          for (const name of names) trxOf.set(name, trx);
          return insertNames(names, trx);
        },
        committed: (_seq, name) => committedOrder.push(name),
      });
      const names = Array.from({ length: 40 }, (_, i) => `a${i}`);
      const answered: string[] = [];
      const results = await Promise.all(
        names.map((name) =>
          gc.submit(name).then(async (seq) => {
            answered.push(name);
            // Answered only once committed: its transaction is over, and another connection sees the row.
            t.ok(trxOf.get(name)?.isCompleted(), `${name}'s transaction is over when its caller is answered`);
            const row = await reader('items').where('name', name).first();
            t.equal(row?.seq === undefined ? undefined : Number(row.seq), seq, `${name} is visible to another connection when its caller is answered`);
            return seq;
          }),
        ),
      );
      t.ok(transactions.every((trx) => trx.isCompleted()), 'every transaction completed');
      t.same(answered, names, 'callers answered in submission order');
      t.same(committedOrder, names, 'committed hook runs in commit order');
      t.same(
        results,
        [...results].sort((a, b) => a - b),
        'seq (commit order) follows submission order',
      );
      t.equal(new Set(results).size, names.length, 'every caller got its own result');
      t.equal(batches[0], 1, 'the first caller, alone when it came, was written at once in its own transaction');
      t.ok(batches.length < names.length, `fewer transactions (${batches.length}) than callers (${names.length})`);
      t.ok(Math.max(...batches) > 1, 'callers that came while a transaction was committing were batched');
      t.ok(Math.max(...batches) <= 8, 'no batch is larger than maxBatch');
      t.equal(batches.reduce((a, b) => a + b, 0), names.length, 'each item written once when nothing fails');
      const stored = await reader('items').whereIn('name', names).orderBy('seq').select('name');
      t.same(stored.map((r) => r.name), names, 'stored in submission order');
    });

    t.test('one caller’s bad write fails only that caller; the others are stored', async (t) => {
      await knex('items').insert({ name: 'taken' });
      const gc = new GroupCommit<string, number>(knex, { write: insertNames });
      // The first call starts a transaction at once; the rest queue behind it as one batch.
      const names = ['b0', 'b1', 'b2', 'taken', 'b3', 'b4'];
      const outcomes = await Promise.allSettled(names.map((name) => gc.submit(name)));
      t.same(
        outcomes.map((o) => o.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
      );
      const err = (outcomes[3] as PromiseRejectedResult).reason as Error;
      t.match(err.message, /unique|UNIQUE/, 'the bad caller gets its own database error');
      const stored = await reader('items').whereIn('name', names).orderBy('seq').select('name');
      t.same(stored.map((r) => r.name), ['taken', 'b0', 'b1', 'b2', 'b3', 'b4'], 'every other write is stored, in order');
      const seqs = outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<number>).value);
      const rows = await reader('items').whereIn('name', ['b0', 'b1', 'b2', 'b3', 'b4']).orderBy('seq').select('seq');
      t.same(seqs, rows.map((r) => Number(r.seq)), 'each caller got the seq of its own row');
    });

    t.test('a failing committed hook fails only its caller; its write stays committed', async (t) => {
      const gc = new GroupCommit<string, number>(knex, {
        write: insertNames,
        committed: (_seq, name) => {
          if (name === 'c1') throw new Error('publish failed');
        },
      });
      const outcomes = await Promise.allSettled(['c0', 'c1', 'c2'].map((name) => gc.submit(name)));
      t.same(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
      t.equal(((outcomes[1] as PromiseRejectedResult).reason as Error).message, 'publish failed');
      t.equal((await reader('items').whereIn('name', ['c0', 'c1', 'c2'])).length, 3);
    });

    t.test('a write that returns the wrong number of results fails its callers and writes nothing', async (t) => {
      const gc = new GroupCommit<string, number>(knex, {
        write: async (names, trx) => (await insertNames(names, trx)).slice(1),
      });
      const outcomes = await Promise.allSettled(['d0', 'd1'].map((name) => gc.submit(name)));
      t.same(outcomes.map((o) => o.status), ['rejected', 'rejected']);
      t.match(((outcomes[0] as PromiseRejectedResult).reason as Error).message, /returned 0 results for 1 items/);
      t.equal((await reader('items').whereIn('name', ['d0', 'd1'])).length, 0, 'rolled back');
      t.equal(gc.waiting, 0);
    });

    t.test('a caller after an idle period gets its own transaction, and batching resumes', async (t) => {
      const batches: number[] = [];
      const gc = new GroupCommit<string, number>(knex, {
        write: (names, trx) => {
          batches.push(names.length);
          return insertNames(names, trx);
        },
      });
      await gc.submit('e0');
      await gc.submit('e1');
      t.same(batches, [1, 1], 'one after the other: one transaction each, none waits for company');
      await Promise.all(['e2', 'e3', 'e4'].map((n) => gc.submit(n)));
      t.same(batches, [1, 1, 3], 'callers that come together (none in flight) share the next transaction');
    });
  });
}

t.test('maxBatch must be a positive integer', async (t) => {
  const fake = {} as Knex;
  const write = async () => [];
  t.throws(() => new GroupCommit(fake, { write, maxBatch: 0 }), RangeError);
  t.throws(() => new GroupCommit(fake, { write, maxBatch: 1.5 }), RangeError);
  t.doesNotThrow(() => new GroupCommit(fake, { write, maxBatch: 1 }));
});
