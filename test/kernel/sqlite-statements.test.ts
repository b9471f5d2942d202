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
  t.equal(prepared, 0, 'a text run once is not prepared');
  for (let n = 1; n <= 5; n++) t.same(await sqliteRows(conn, 'INSERT INTO items (n) VALUES (?) RETURNING n', [n]), [{ n }]);
  t.equal(prepared, 1, 'a text run again is prepared once, and kept');

  await t.rejects(sqliteRows(conn, 'INSERT INTO items (n) VALUES (?)', [1]), /UNIQUE/, 'a failing run rejects');
  t.same(await sqliteRows(conn, 'INSERT INTO items (n) VALUES (?) RETURNING n', [6]), [{ n: 6 }], 'and the statement still works');

  await t.rejects(sqliteRows(conn, 'SELEC nonsense', []), /syntax error/, 'SQL that does not compile rejects, run once');
  await t.rejects(sqliteRows(conn, 'SELEC nonsense', []), /syntax error/, 'and when prepared');
  const failed = prepared;
  await t.rejects(sqliteRows(conn, 'SELEC nonsense', []), /syntax error/, 'and again');
  await t.rejects(sqliteRows(conn, 'SELEC nonsense', []), /syntax error/, 'and again');
  t.equal(prepared, failed + 1, 'it was not kept: prepared again');

  const before = prepared;
  await sqliteRows(conn, 'SELECT count(*) AS c FROM items', []);
  const all = await Promise.all([1, 2, 3].map(() => sqliteRows<{ c: number }>(conn, 'SELECT count(*) AS c FROM items', [])));
  t.same(all, [[{ c: 6 }], [{ c: 6 }], [{ c: 6 }]]);
  t.equal(prepared, before + 1, 'concurrent uses share one prepare');

  for (let i = 0; i < MAX_KEPT_STATEMENTS + 20; i++) for (let twice = 0; twice < 2; twice++) t.same(await sqliteRows(conn, `SELECT ${i} AS i`, []), [{ i }]);
  const afterMany = prepared;
  await sqliteRows(conn, `SELECT ${MAX_KEPT_STATEMENTS + 19} AS i`, []);
  t.equal(prepared, afterMany, 'a recent statement is still kept');
  await sqliteRows(conn, 'SELECT count(*) AS c FROM items', []);
  await sqliteRows(conn, 'SELECT count(*) AS c FROM items', []);
  t.equal(prepared, afterMany + 1, 'the least recently used ones were dropped: prepared again');

  const closed = await new Promise<Error | null>((resolve) => db.close((err) => resolve(err ?? null)));
  t.equal(closed?.message ?? null, null, 'the connection closes: every kept statement was finalized first');
});
