/**
 * Statements and transactions for hot write paths, run as cheaply as the engine allows.
 *
 * Through Knex, each statement on SQLite costs about three times what SQLite itself takes for
 * a small write (the query runner, the pool, events), and a transaction is a statement more
 * at each end. A path that commits one small transaction per unit of work (the outbox's
 * results) spends most of its time there. So on SQLite, {@link sqlTransaction} borrows the
 * pool's one connection (it waits its turn behind every Knex query and transaction exactly as
 * they wait for each other) and runs its statements on it directly, between `BEGIN IMMEDIATE`
 * and `COMMIT`, each prepared once per connection (see sqlite-statements.ts). On PostgreSQL,
 * where the round trip dominates, it is a Knex transaction.
 *
 * Either way the work sees the same interface: statements with positional `?` bindings that
 * answer their rows (a write's `RETURNING` rows), and savepoints.
 */
import type { Knex } from 'knex';
import type { Dialect } from './dialect.js';
import { sqliteRows, type SqliteConnection } from './sqlite-statements.js';

/** Runs statements one after the other on one connection or transaction. */
export interface SqlStatements {
  /** Runs one statement with positional `?` bindings; answers its rows (a write's `RETURNING` rows, else none). */
  rows<T = Record<string, unknown>>(sql: string, bindings: readonly unknown[]): Promise<T[]>;
}

/** The statements of a transaction, which may nest savepoints. */
export interface SqlTransaction extends SqlStatements {
  /** Runs `work` in a savepoint: if it throws, its statements are undone (the transaction goes on) and the error is rethrown. */
  savepoint<T>(work: (statements: SqlStatements) => Promise<T>): Promise<T>;
  /**
   * Runs one statement whose failure must not fail the transaction: its error is rethrown and
   * the transaction goes on without its changes. On SQLite a statement that fails undoes
   * its own changes and nothing else, so it runs as it is (a savepoint would add two
   * statements); on PostgreSQL, where a failed statement aborts the transaction, it runs in a
   * savepoint.
   */
  alone<T = Record<string, unknown>>(sql: string, bindings: readonly unknown[]): Promise<T[]>;
}

/** A Knex handle or transaction as {@link SqlStatements} (`knex.raw`). */
export function knexStatements(db: Knex | Knex.Transaction, dialect: Dialect): SqlStatements {
  return { rows: async <T>(sql: string, bindings: readonly unknown[]) => dialect.rows<T>(await db.raw(sql, bindings as Knex.RawBinding[])) };
}


/**
 * The statements of a Knex transaction someone else opened and will commit (a caller's
 * `trx`). On SQLite they run on the transaction's connection directly, as in
 * {@link sqlTransaction}; on PostgreSQL, through the transaction (`knex.raw`). Use them only
 * while the transaction is open, and not while a Knex query runs on it.
 */
export async function transactionStatements(trx: Knex.Transaction, dialect: Dialect): Promise<SqlStatements> {
  if (dialect.name !== 'sqlite') return knexStatements(trx, dialect);
  // A transaction's client answers the transaction's own connection (and releasing it is a no-op).
  const conn = (await (trx.client as Knex.Client).acquireConnection()) as SqliteConnection;
  return { rows: <R>(sql: string, bindings: readonly unknown[]) => sqliteRows<R>(conn, sql, bindings) };
}

/**
 * Runs `work` in one transaction and commits it; rolls back and rethrows when `work` (or the
 * commit) fails. See the module's description for how each engine runs it.
 */
export async function sqlTransaction<T>(knex: Knex, dialect: Dialect, work: (tx: SqlTransaction) => Promise<T>): Promise<T> {
  if (dialect.name !== 'sqlite') {
    return knex.transaction((trx) => {
      const statements = knexStatements(trx, dialect);
      const savepoint: SqlTransaction['savepoint'] = (inner) => trx.transaction((sp) => inner(knexStatements(sp, dialect)));
      return work({ ...statements, savepoint, alone: (sql, bindings) => savepoint((sp) => sp.rows(sql, bindings)) });
    });
  }
  return sqliteAutocommit(knex, async (tx) => {
    await tx.rows('BEGIN IMMEDIATE', []);
    let result: T;
    try {
      result = await work(tx);
      await tx.rows('COMMIT', []);
    } catch (err) {
      // A failed COMMIT may have ended the transaction already; then there is nothing to undo.
      await tx.rows('ROLLBACK', []).catch(() => undefined);
      throw err;
    }
    return result;
  });
}

/**
 * Runs `work` on SQLite's one pooled connection, borrowed (it waits its turn behind every
 * Knex query and transaction, as they wait for each other), outside any transaction: each
 * statement commits on its own, and a savepoint is a transaction of its own. For work whose
 * every statement is complete by itself, so that a crash between two of them leaves nothing
 * half done: it saves the two trips to SQLite's thread that `BEGIN` and `COMMIT` cost.
 */
export async function sqliteAutocommit<T>(knex: Knex, work: (statements: SqlTransaction) => Promise<T>): Promise<T> {
  const client = knex.client as Knex.Client;
  const conn = (await client.acquireConnection()) as SqliteConnection;
  const run = <R>(sql: string, bindings: readonly unknown[] = []) => sqliteRows<R>(conn, sql, bindings);
  let savepoints = 0;
  const statements: SqlTransaction = {
    rows: run,
    alone: run,
    async savepoint(inner) {
      const name = `swb_sp${++savepoints}`;
      await run(`SAVEPOINT ${name}`);
      try {
        const result = await inner({ rows: run });
        await run(`RELEASE ${name}`);
        return result;
      } catch (err) {
        await run(`ROLLBACK TO ${name}`);
        await run(`RELEASE ${name}`);
        throw err;
      }
    },
  };
  try {
    return await work(statements);
  } finally {
    await client.releaseConnection(conn);
  }
}

/**
 * The multi-row `INSERT … VALUES` statements of one table and column list, with positional
 * `?` bindings row after row. A hot write path inserts batches of varying size, and the text
 * depends only on the number of rows, so each size is built once and kept (callers bound
 * their batch sizes, which bounds what is kept).
 */
export class ValuesInsert {
  private readonly bySize = new Map<number, string>();

  /**
   * @param table - the table
   * @param columns - the columns, in the order of each row's bindings
   * @param suffix - text after the rows (e.g. ` RETURNING id`)
   */
  constructor(
    private readonly table: string,
    private readonly columns: readonly string[],
    private readonly suffix = '',
  ) {}

  /** The statement that inserts `rows` rows. */
  sql(rows: number): string {
    let sql = this.bySize.get(rows);
    if (sql === undefined) {
      const row = `(${this.columns.map(() => '?').join(', ')})`;
      sql = `INSERT INTO ${this.table} (${this.columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}${this.suffix}`;
      this.bySize.set(rows, sql);
    }
    return sql;
  }
}
