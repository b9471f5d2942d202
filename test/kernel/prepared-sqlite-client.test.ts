/**
 * The kernel's SQLite Knex instances run their queries through kept prepared statements
 * (src/db/prepared-sqlite-client.ts): a query's SQL is prepared at its second run and then
 * reused, in transactions too and on the read connection, and every kind of query answers
 * as knex's own SQLite client answers it (rows, the inserted id, the count of changed rows,
 * `RETURNING` rows); a failing query rejects with SQLite's error and its statement still
 * works; a transaction whose COMMIT fails is rolled back (knex leaves it open). SQLite only:
 * on PostgreSQL knex runs queries as it always does, and a failed COMMIT ends the transaction.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import knexFactory, { type Knex } from 'knex';
import { openDatabase } from '../../src/db/database.js';

/** Counts the statements prepared on the one connection of `knex`. */
async function countPrepares(knex: Knex): Promise<{ count: number }> {
  const counter = { count: 0 };
  const client = knex.client as Knex.Client;
  const conn = (await client.acquireConnection()) as { prepare(...args: unknown[]): unknown };
  const prepare = conn.prepare.bind(conn);
  conn.prepare = (...args: unknown[]) => {
    counter.count++;
    return prepare(...args);
  };
  await client.releaseConnection(conn);
  return counter;
}

/** A database the kernel opens on a new file in a scratch directory, closed and removed after the test. */
function scratchDatabase(t: Test): { dir: string; file: string; opened: ReturnType<typeof openDatabase> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-prepared-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'db.sqlite');
  const opened = openDatabase(`sqlite:${file}`);
  t.teardown(async () => {
    await opened.knex.destroy();
    await opened.reads.destroy();
  });
  return { dir, file, opened };
}

t.test('queries are prepared once and answer as knex answers them', async (t) => {
  const { dir, file, opened } = scratchDatabase(t);
  const db = opened.knex;
  await db.schema.createTable('items', (b) => {
    b.increments('id');
    b.string('name').notNullable().unique();
    b.integer('n').notNullable().defaultTo(0);
  });
  const prepares = await countPrepares(db);

  // What knex's own client answers, on a plain knex instance of the same file.
  const plain = knexFactory({ client: 'sqlite3', connection: { filename: path.join(dir, 'plain.sqlite') }, useNullAsDefault: true });
  t.teardown(() => plain.destroy());
  await plain.schema.createTable('items', (b) => {
    b.increments('id');
    b.string('name').notNullable().unique();
    b.integer('n').notNullable().defaultTo(0);
  });
  const script = async (k: Knex) => [
    await k('items').del(),
    await k('items').insert({ name: 'a' }),
    await k('items').insert({ name: 'b', n: 2 }, ['id', 'name']),
    await k('items').insert({ name: 'c', n: 3 }),
    await k('items').where('n', '>', 0).update({ n: 5 }),
    await k('items').where('name', 'a').increment('n', 2),
    await k('items').select('id', 'name', 'n').orderBy('id'),
    await k('items').where('name', 'b').first(),
    await k('items').orderBy('id').pluck('name'),
    await k('items').where('name', 'c').update({ n: 7 }, ['n']),
    await k('items').where('name', 'c').del(),
    (await k.raw('SELECT count(*) AS c FROM items')) as unknown,
  ];
  const expected = await script(plain);
  t.same(await script(db), expected, 'the first run of each query answers as knex does');
  const firstRuns = prepares.count;
  t.same(await script(db), await script(plain), 'and the second run, prepared');
  const preparedOnce = prepares.count - firstRuns;
  t.ok(preparedOnce > 0, `queries run a second time were prepared (${preparedOnce})`);
  await script(db);
  t.equal(prepares.count - firstRuns, preparedOnce, 'a third run prepares nothing: the statements were kept');

  const inTrx = await db.transaction(async (trx) => {
    await trx('items').insert({ name: 'd', n: 1 });
    await trx('items').insert({ name: 'e', n: 1 });
    return trx('items').select('id', 'name', 'n').orderBy('id');
  });
  t.same(inTrx.map((r: { name: string }) => r.name), ['a', 'b', 'd', 'e'], 'a transaction sees its own writes');
  // A query only ever run in transactions: prepared at its second run there, then kept.
  const oneMore = (name: string) =>
    db.transaction(async (trx) => {
      await trx('items').insert({ name, n: 1 });
      await trx('items').where('n', '>=', 1).orderBy('name').pluck('name');
    });
  await oneMore('f');
  const beforeSecond = prepares.count;
  await oneMore('f2');
  t.ok(prepares.count > beforeSecond, 'queries in transactions are prepared too');
  const beforeThird = prepares.count;
  await oneMore('f3');
  t.equal(prepares.count, beforeThird, 'a transaction run again prepares nothing: BEGIN, its queries and COMMIT were kept');
  await t.rejects(db('items').insert({ name: 'a' }), /UNIQUE constraint failed/, 'a failing query rejects with SQLite’s error');
  await t.rejects(db('items').insert({ name: 'a' }), /UNIQUE constraint failed/, 'also prepared');
  const [g] = (await db('items').insert({ name: 'g' })) as number[];
  t.same(await db('items').where('id', g).pluck('name'), ['g'], 'and its statement still works');
  await t.rejects(db.transaction(async (trx) => {
    await trx('items').insert({ name: 'h' });
    throw new Error('undo');
  }), /undo/);
  t.equal(await db('items').where('name', 'h').first(), undefined, 'a rolled back transaction left nothing');

  const readPrepares = await countPrepares(opened.reads);
  for (let i = 0; i < 3; i++) t.equal((await opened.reads('items').where('name', 'g').first()).id, g, 'the read connection reads');
  t.equal(readPrepares.count, 1, 'and prepares a query once too');
});

t.test('a transaction whose COMMIT fails is rolled back: the connection goes back to the pool outside it', async (t) => {
  const { file, opened } = scratchDatabase(t);
  const db = opened.knex;
  // A deferred foreign key is checked at COMMIT: breaking it makes the COMMIT fail.
  await db.raw('CREATE TABLE parents (id INTEGER PRIMARY KEY)');
  await db.raw('CREATE TABLE children (parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)');
  await db.raw('CREATE TABLE notes (text TEXT)');
  for (let round = 1; round <= 2; round++) {
    await t.rejects(
      db.transaction(async (trx) => {
        await trx('notes').insert({ text: 'in the failed transaction' });
        await trx('children').insert({ parent: 999 });
      }),
      /FOREIGN KEY constraint failed/,
      `round ${round}: the COMMIT fails`,
    );
    t.same(await db('notes').pluck('text'), [], 'nothing of it is seen');
  }
  await db.transaction(async (trx) => {
    await trx('parents').insert({ id: 1 });
    await trx('children').insert({ parent: 1 });
    await trx('notes').insert({ text: 'kept' });
  });
  await db('notes').insert({ text: 'outside a transaction' });
  // What another connection sees is what was committed.
  const other = knexFactory({ client: 'sqlite3', connection: { filename: file }, useNullAsDefault: true });
  t.teardown(() => other.destroy());
  t.same(await other('notes').orderBy('rowid').pluck('text'), ['kept', 'outside a transaction'], 'the next transaction and the next write are committed');
});
