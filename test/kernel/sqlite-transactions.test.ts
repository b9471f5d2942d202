/**
 * SQLite beside other processes: transactions of a kernel-opened database begin IMMEDIATE,
 * so that a transaction that reads before it writes waits for another process's write
 * instead of failing with SQLITE_BUSY (the CLI writing beside a running server); and
 * instances opening a fresh file at once all get connections and migrate.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import knexFactory from 'knex';
import { openDatabase } from '../../src/db/database.js';
import { definePlugin, Kernel } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';

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

for (const kind of databaseKinds()) {
  t.test(`${kind}: nested transactions are still savepoints`, async (t) => {
    const database = await createTestDatabase(kind);
    const { knex } = openDatabase(database.url);
    t.teardown(async () => {
      await knex.destroy();
      await database.drop();
    });
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
}

t.test('instances starting together on a fresh SQLite file all start, round after round', async (t) => {
  const plugin = definePlugin({
    id: 'together',
    version: '1',
    migrations: [
      { name: '001', up: (db, { table }) => db.schema.createTable(table('a'), (tb) => tb.increments('id')) },
      { name: '002', up: (db, { table }) => db.schema.createTable(table('b'), (tb) => tb.increments('id')) },
    ],
  });
  const failures: string[] = [];
  for (let round = 0; round < 10; round++) {
    const database = await createTestDatabase('sqlite');
    const kernels = [1, 2, 3].map((i) => new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [plugin], instanceId: `r${round}-${i}` }));
    const results = await Promise.allSettled(kernels.map((k) => k.start()));
    for (const r of results) if (r.status === 'rejected') failures.push(`round ${round}: ${String(r.reason)}`);
    await Promise.all(kernels.map((k) => k.stop()));
    await database.drop();
  }
  t.same(failures, [], 'every instance started in every round');
});

t.test('connections opened at once on a fresh SQLite file get their settings without SQLITE_BUSY', async (t) => {
  const warnings: string[] = [];
  const log = { warn: (m: unknown) => void warnings.push(String(m)), error: (m: unknown) => void warnings.push(String(m)), debug: () => undefined, deprecate: () => undefined };
  for (let round = 0; round < 20; round++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-fresh-'));
    const file = path.join(dir, 'db.sqlite');
    const handles = [1, 2, 3, 4].map(() => openDatabase({ client: 'sqlite3', connection: { filename: file }, log } as never).knex);
    const modes = await Promise.all(handles.map(async (k) => ((await k.raw('PRAGMA journal_mode')) as Array<{ journal_mode: string }>)[0].journal_mode));
    t.same(modes, ['wal', 'wal', 'wal', 'wal'], `round ${round}: every connection is in WAL mode`);
    await Promise.all(handles.map((k) => k.destroy()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  t.same(warnings.filter((w) => /SQLITE_BUSY/.test(w)), [], 'no connection failed to open (the pool would retry it after a wait)');
});
