/**
 * `sqlTransaction`: the transactions of hot write paths (the outbox's results), run on the
 * pool's connection directly on SQLite and as Knex transactions on PostgreSQL. Both commit
 * on success, undo everything on failure, undo only a failed savepoint, and take their turn
 * with the Knex transactions around them. `transactionStatements`: statements in a caller's
 * Knex transaction, committed or undone with it.
 */
import t from 'tap';
import { dialectOf } from '../../src/db/dialect.js';
import { sqlTransaction, transactionStatements } from '../../src/db/statements.js';
import { openDatabase } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const database = await createTestDatabase(kind);
    const { knex } = openDatabase(database.url);
    t.teardown(async () => {
      await knex.destroy();
      await database.drop();
    });
    const dialect = dialectOf(knex);
    await knex.schema.createTable('st_items', (tb) => {
      tb.increments('id');
      tb.string('name').notNullable().unique();
    });
    const names = async () => ((await knex('st_items').orderBy('id').pluck('name')) as string[]);

    t.test('commits, and answers RETURNING rows', async (t) => {
      const rows = await sqlTransaction(knex, dialect, async (tx) => {
        await tx.rows('INSERT INTO st_items (name) VALUES (?)', ['a']);
        return tx.rows<{ name: string }>('INSERT INTO st_items (name) VALUES (?), (?) RETURNING name', ['b', 'c']);
      });
      t.same(rows.map((r) => r.name).sort(), ['b', 'c']);
      t.same(await names(), ['a', 'b', 'c']);
    });

    t.test('a failure undoes the whole transaction and is rethrown', async (t) => {
      await t.rejects(
        sqlTransaction(knex, dialect, async (tx) => {
          await tx.rows('INSERT INTO st_items (name) VALUES (?)', ['d']);
          await tx.rows('INSERT INTO st_items (name) VALUES (?)', ['a']);
        }),
      );
      t.same(await names(), ['a', 'b', 'c'], 'd was undone');
    });

    t.test('a failed savepoint undoes only its own statements', async (t) => {
      const caught = await sqlTransaction(knex, dialect, async (tx) => {
        await tx.rows('INSERT INTO st_items (name) VALUES (?)', ['e']);
        const err = await tx
          .savepoint(async (sp) => {
            await sp.rows('INSERT INTO st_items (name) VALUES (?)', ['f']);
            await sp.rows('INSERT INTO st_items (name) VALUES (?)', ['b']);
          })
          .then(() => undefined, (e: unknown) => e);
        await tx.savepoint((sp) => sp.rows('INSERT INTO st_items (name) VALUES (?)', ['g']));
        return err;
      });
      t.ok(caught, 'the savepoint rethrew');
      t.same(await names(), ['a', 'b', 'c', 'e', 'g'], 'f was undone, e and g committed');
    });

    t.test('a statement run alone that fails undoes only itself, and the transaction goes on', async (t) => {
      const caught = await sqlTransaction(knex, dialect, async (tx) => {
        await tx.rows('INSERT INTO st_items (name) VALUES (?)', ['s1']);
        // Two rows in one statement, the second a duplicate: neither may stay.
        const err = await tx.alone('INSERT INTO st_items (name) VALUES (?), (?)', ['s2', 'a']).then(() => undefined, (e: unknown) => e);
        await tx.alone('INSERT INTO st_items (name) VALUES (?)', ['s3']);
        await tx.rows('INSERT INTO st_items (name) VALUES (?)', ['s4']);
        return err;
      });
      t.ok(caught, 'the failure was rethrown');
      t.same(await names(), ['a', 'b', 'c', 'e', 'g', 's1', 's3', 's4'], 's2 was undone; s1, s3 and s4 committed');
      await knex('st_items').where('name', 'like', 's%').del();
    });

    t.test('takes turns with concurrent Knex transactions (nothing lost, no error)', async (t) => {
      const work = Array.from({ length: 40 }, (_, i) =>
        i % 2
          ? sqlTransaction(knex, dialect, async (tx) => {
              await tx.rows('INSERT INTO st_items (name) VALUES (?)', [`direct${i}`]);
            })
          : knex.transaction(async (trx) => {
              await trx('st_items').insert({ name: `knex${i}` });
            }),
      );
      await Promise.all(work);
      const all = await names();
      t.equal(all.filter((n) => n.startsWith('direct')).length, 20);
      t.equal(all.filter((n) => n.startsWith('knex')).length, 20);
    });

    t.test("transactionStatements: a caller's Knex transaction, committed or undone with it", async (t) => {
      await knex.transaction(async (trx) => {
        await trx('st_items').insert({ name: 'h' });
        const tx = await transactionStatements(trx, dialect);
        const rows = await tx.rows<{ name: string }>('INSERT INTO st_items (name) VALUES (?) RETURNING name', ['i']);
        t.same(rows, [{ name: 'i' }]);
        t.same(await trx('st_items').where('name', 'i').pluck('name'), ['i'], 'seen by the transaction');
      });
      t.same((await names()).slice(-2), ['h', 'i'], 'committed with it');
      await t.rejects(
        knex.transaction(async (trx) => {
          const tx = await transactionStatements(trx, dialect);
          await tx.rows('INSERT INTO st_items (name) VALUES (?)', ['j']);
          await trx('st_items').insert({ name: 'a' });
        }),
      );
      t.notOk((await names()).includes('j'), 'undone with it');
    });
  });
}
