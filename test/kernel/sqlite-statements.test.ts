/**
 * Prepared statements kept per SQLite connection (src/db/sqlite-statements.ts): one prepare
 * per SQL text, SQL that does not compile is refused and not kept, a failing run leaves the
 * statement usable, the least recently used are finalized past the bound, and the connection
 * still closes (SQLite refuses to close one with statements not finalized). SQLite only:
 * the module is the SQLite driver's; PostgreSQL runs these paths through Knex.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import sqlite3 from 'sqlite3';
import { MAX_KEPT_STATEMENTS, sqliteRows, type SqliteConnection } from '../../src/db/sqlite-statements.js';

t.test('kept, bounded, and closed cleanly', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-sqlite-statements-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const db = new sqlite3.Database(path.join(dir, 'db.sqlite'));
  const conn = db as unknown as SqliteConnection;
  let prepared = 0;
  const prepare = db.prepare.bind(db);
  (db as unknown as { prepare: unknown }).prepare = (sql: string, cb: (err: Error | null) => void) => {
    prepared++;
    return prepare(sql, cb);
  };

  await sqliteRows(conn, 'CREATE TABLE items (n integer unique)', []);
  for (let n = 1; n <= 5; n++) t.same(await sqliteRows(conn, 'INSERT INTO items (n) VALUES (?) RETURNING n', [n]), [{ n }]);
  t.equal(prepared, 2, 'one prepare per SQL text');

  await t.rejects(sqliteRows(conn, 'INSERT INTO items (n) VALUES (?)', [1]), /UNIQUE/, 'a failing run rejects');
  t.same(await sqliteRows(conn, 'INSERT INTO items (n) VALUES (?) RETURNING n', [6]), [{ n: 6 }], 'and the statement still works');

  await t.rejects(sqliteRows(conn, 'SELEC nonsense', []), /syntax error/, 'SQL that does not compile rejects');
  await t.rejects(sqliteRows(conn, 'SELEC nonsense', []), /syntax error/, 'and is prepared again next time (not kept)');

  const before = prepared;
  const all = await Promise.all([1, 2, 3].map(() => sqliteRows<{ c: number }>(conn, 'SELECT count(*) AS c FROM items', [])));
  t.same(all, [[{ c: 6 }], [{ c: 6 }], [{ c: 6 }]]);
  t.equal(prepared, before + 1, 'concurrent first uses share one prepare');

  for (let i = 0; i < MAX_KEPT_STATEMENTS + 20; i++) t.same(await sqliteRows(conn, `SELECT ${i} AS i`, []), [{ i }]);
  const afterMany = prepared;
  await sqliteRows(conn, `SELECT ${MAX_KEPT_STATEMENTS + 19} AS i`, []);
  t.equal(prepared, afterMany, 'a recent statement is still kept');
  await sqliteRows(conn, 'SELECT count(*) AS c FROM items', []);
  t.equal(prepared, afterMany + 1, 'the least recently used ones were dropped');

  const closed = await new Promise<Error | null>((resolve) => db.close((err) => resolve(err ?? null)));
  t.equal(closed?.message ?? null, null, 'the connection closes: every kept statement was finalized first');
});
