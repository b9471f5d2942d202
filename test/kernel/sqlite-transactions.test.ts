/**
 * SQLite transactions of a kernel-opened database begin IMMEDIATE, so that a transaction
 * that reads before it writes waits for another process's write instead of failing with
 * SQLITE_BUSY (the CLI writing beside a running server).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import knexFactory from 'knex';
import { openDatabase } from '../../src/db/database.js';

t.test('a transaction that reads, then writes after another connection wrote, commits', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-immediate-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'db.sqlite');
  const { knex } = openDatabase(`sqlite:${file}`);
  t.teardown(() => knex.destroy());
  await knex.schema.createTable('items', (tb) => {
    tb.increments('id');
    tb.string('name');
  });
  // Another process, as the CLI would be: its own connection, with a busy timeout.
  const other = knexFactory({ client: 'sqlite3', connection: { filename: file }, useNullAsDefault: true, pool: { min: 1, max: 1, afterCreate: (c: any, done: any) => c.run('PRAGMA busy_timeout = 5000', (e: Error | null) => done(e, c)) } });
  t.teardown(() => other.destroy());

  let otherWrite: Promise<unknown> | undefined;
  await knex.transaction(async (trx) => {
    const [{ n }] = await trx('items').count({ n: '*' });
    // The other process writes while this transaction is between its read and its write.
    otherWrite = other('items').insert({ name: 'from the other process' }).then((r) => r);
    await new Promise((r) => setTimeout(r, 100));
    await trx('items').insert({ name: `after reading ${n}` });
  });
  await otherWrite;
  const rows = await knex('items').orderBy('id').select('name');
  t.same(rows.map((r) => r.name), ['after reading 0', 'from the other process'], 'both writes committed, the other one waited for the transaction');
});

t.test('nested transactions are still savepoints', async (t) => {
  const { knex } = openDatabase('sqlite::memory:');
  t.teardown(() => knex.destroy());
  await knex.schema.createTable('items', (tb) => {
    tb.increments('id');
    tb.string('name');
  });
  await knex.transaction(async (trx) => {
    await trx('items').insert({ name: 'kept' });
    await trx.transaction(async (inner) => {
      await inner('items').insert({ name: 'rolled back' });
      throw new Error('undo the inner part');
    }).catch(() => undefined);
    await trx.transaction((inner) => inner('items').insert({ name: 'kept too' }));
  });
  t.same((await knex('items').orderBy('id').select('name')).map((r) => r.name), ['kept', 'kept too']);
});
