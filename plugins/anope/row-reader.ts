/**
 * Runs the store's read queries (get by id, search, list pages) as cheaply as the engine
 * allows. Building a query through Knex costs several times more than SQLite takes to
 * answer it, so on SQLite the reader borrows the pool's connection (so it waits its turn
 * behind transactions exactly like any Knex query) and runs a statement prepared once per
 * SQL text; on PostgreSQL, where the round trip dominates, it uses `knex.raw`.
 *
 * The SQL texts are the store's precomputed ones (a bounded set per type), so the cache of
 * prepared statements is bounded too; they are finalized when the plugin stops.
 */
import type { Knex } from 'knex';
import type { Dialect } from '../../src/index.js';
import { exec, rowsOf } from './sql.js';

/** A sqlite3 prepared statement (the parts used). */
interface Statement {
  all(params: unknown[], callback: (err: Error | null, rows: unknown[]) => void): void;
  finalize(callback?: (err: Error | null) => void): void;
}

/** A sqlite3 connection (the parts used). */
interface SqliteConnection {
  prepare(sql: string, callback: (err: Error | null) => void): Statement;
}

/** Runs read-only queries and returns their rows. */
export interface RowReader {
  /** The rows of `sql` with positional `?` bindings. */
  rows<T>(sql: string, bindings: readonly unknown[]): Promise<T[]>;
  /** Releases prepared statements. */
  close(): Promise<void>;
}

/** The reader for a Knex instance. */
export function createRowReader(db: Knex, dialect: Dialect): RowReader {
  if (dialect.name !== 'sqlite') {
    return { rows: async <T>(sql: string, bindings: readonly unknown[]) => rowsOf<T>(await exec(db, sql, bindings)), close: async () => undefined };
  }
  return new SqlitePreparedReader(db);
}

class SqlitePreparedReader implements RowReader {
  private readonly statements = new Map<SqliteConnection, Map<string, Promise<Statement>>>();

  constructor(private readonly db: Knex) {}

  async rows<T>(sql: string, bindings: readonly unknown[]): Promise<T[]> {
    const client = this.db.client as Knex.Client;
    const conn = (await client.acquireConnection()) as SqliteConnection;
    try {
      const stmt = await this.statement(conn, sql);
      return await new Promise<T[]>((resolve, reject) => stmt.all(bindings as unknown[], (err, rows) => (err ? reject(err) : resolve(rows as T[]))));
    } finally {
      await client.releaseConnection(conn);
    }
  }

  private statement(conn: SqliteConnection, sql: string): Promise<Statement> {
    let cache = this.statements.get(conn);
    if (!cache) this.statements.set(conn, (cache = new Map()));
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = new Promise<Statement>((resolve, reject) => {
        const s = conn.prepare(sql, (err) => (err ? reject(err) : resolve(s)));
      });
      stmt.catch(() => cache.delete(sql));
      cache.set(sql, stmt);
    }
    return stmt;
  }

  async close(): Promise<void> {
    const all = [...this.statements.values()].flatMap((m) => [...m.values()]);
    this.statements.clear();
    await Promise.all(all.map((p) => p.then((s) => new Promise<void>((r) => s.finalize(() => r())), () => undefined)));
  }
}
