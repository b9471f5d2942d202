/**
 * The one place where SQLite and PostgreSQL differ: booleans, dates, JSON columns, returned
 * ids and constraint errors. Stores call these helpers instead of checking the client.
 */
import type { Knex } from 'knex';

/** The two database engines Switchboard supports. */
export type DialectName = 'sqlite' | 'postgres';

/** Dialect helpers for one Knex instance. */
export interface Dialect {
  /** Which engine this is. */
  readonly name: DialectName;
  /** Reads a boolean column (SQLite stores 0/1). */
  bool(value: unknown): boolean;
  /** Reads a timestamp column stored by {@link Dialect.toDate} as a `Date` (or null). */
  date(value: unknown): Date | null;
  /** The value to store for a timestamp: ISO 8601 text on both engines sorts and compares correctly. */
  toDate(value: Date): string;
  /** Reads a column created with {@link Dialect.jsonColumn} (text on SQLite, `jsonb` on PostgreSQL). */
  json<T = unknown>(value: unknown): T;
  /** The value to store in a JSON column created with {@link Dialect.jsonColumn}. */
  toJson(value: unknown): string;
  /** Adds a JSON column to a table being created. */
  jsonColumn(table: Knex.CreateTableBuilder, name: string): Knex.ColumnBuilder;
  /** Inserts one row and returns its new integer id (column `id`). */
  insertId(db: Knex | Knex.Transaction, table: string, row: Record<string, unknown>): Promise<number>;
  /** True when `err` is a unique-constraint violation. */
  isUniqueViolation(err: unknown): boolean;
  /** True when `err` is a foreign-key violation. */
  isForeignKeyViolation(err: unknown): boolean;
  /** `FOR UPDATE SKIP LOCKED` where the engine has it (PostgreSQL); SQLite has one writer anyway. */
  skipLocked<T extends Knex.QueryBuilder>(query: T): T;
  /** The same clause as SQL text (empty on SQLite), for raw statements. */
  readonly skipLockedSql: string;
  /** The rows of a `knex.raw()` result (PostgreSQL wraps them in `{ rows }`). */
  rows<T = Record<string, unknown>>(result: unknown): T[];
  /**
   * Runs several statements without parameters (DDL) in one round trip, on `db` or inside
   * the transaction `db` is. Much faster than one `raw()` each when a schema is created.
   */
  execBatch(db: Knex | Knex.Transaction, statements: readonly string[]): Promise<void>;
}

interface SqliteConnection {
  exec(sql: string, callback: (err: Error | null) => void): void;
}

/** The client internals used to reach a Knex handle's (or transaction's) connection. */
interface ConnectionClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

/** Builds the dialect helpers for a Knex instance. */
export function dialectOf(knex: Knex): Dialect {
  const client = String(knex.client.config.client);
  const name: DialectName = client === 'pg' || client === 'postgres' || client === 'postgresql' ? 'postgres' : 'sqlite';
  const pg = name === 'postgres';
  return {
    name,
    bool: (value) => value === true || value === 1 || value === '1' || value === 't' || value === 'true',
    date: (value) => {
      if (value === null || value === undefined || value === '') return null;
      const d = value instanceof Date ? value : new Date(typeof value === 'number' ? value : String(value));
      return Number.isNaN(d.getTime()) ? null : d;
    },
    toDate: (value) => value.toISOString(),
    // PostgreSQL's driver already decodes jsonb (a stored JSON string arrives as a string, not
    // to be parsed again); SQLite keeps the text.
    json: <T>(value: unknown): T => (pg || typeof value !== 'string' ? (value as T) : (JSON.parse(value) as T)),
    toJson: (value) => JSON.stringify(value),
    jsonColumn: (table, column) => (pg ? table.jsonb(column) : table.text(column)),
    insertId: async (db, table, row) => {
      const result = await db(table).insert(row, ['id']);
      const first = result[0] as unknown;
      return Number(typeof first === 'object' && first !== null ? (first as { id: unknown }).id : first);
    },
    isUniqueViolation: (err) => {
      const e = err as { code?: string; errno?: number; message?: string };
      return pg ? e?.code === '23505' : e?.code === 'SQLITE_CONSTRAINT' && /UNIQUE/i.test(String(e.message));
    },
    isForeignKeyViolation: (err) => {
      const e = err as { code?: string; message?: string };
      return pg ? e?.code === '23503' : e?.code === 'SQLITE_CONSTRAINT' && /FOREIGN KEY/i.test(String(e.message));
    },
    skipLocked: (query) => (pg ? (query.forUpdate().skipLocked() as typeof query) : query),
    skipLockedSql: pg ? 'FOR UPDATE SKIP LOCKED' : '',
    rows: <T>(result: unknown): T[] => (pg ? ((result as { rows: T[] }).rows ?? []) : ((result as T[]) ?? [])),
    execBatch: async (db, statements) => {
      if (statements.length === 0) return;
      const sql = statements.join(';\n');
      // PostgreSQL's simple query protocol runs several statements in one query.
      if (pg) {
        await db.raw(sql);
        return;
      }
      // sqlite3 runs several statements only through exec() on the connection; a transaction's
      // client hands out the transaction's own connection.
      const client = db.client as unknown as ConnectionClient;
      const connection = (await client.acquireConnection()) as SqliteConnection;
      try {
        await new Promise<void>((resolve, reject) => connection.exec(sql, (err) => (err ? reject(err) : resolve())));
      } finally {
        await client.releaseConnection(connection);
      }
    },
  };
}
