/**
 * Statements run on a sqlite3 connection directly, each SQL text prepared once per
 * connection and kept.
 *
 * `Database#all` compiles its SQL every time; for the outbox's statements (an `UPDATE` with a
 * subquery per lane, a multi-row `VALUES` list) compiling costs more than running: measured
 * on this project's machine, 180 µs per run of a lane-advancing `UPDATE` against 76 µs
 * prepared. So each connection keeps its most recently used prepared statements (at most
 * {@link MAX_KEPT_STATEMENTS}; the least recently used is finalized to make room). SQLite
 * refuses to close a connection with statements not finalized, so the first statement kept
 * for a connection wraps its `close` to finalize them all first.
 */

/** A sqlite3 prepared statement (the parts used). */
interface SqliteStatement {
  all(params: unknown[], callback: (err: Error | null, rows: unknown[]) => void): unknown;
  finalize(): void;
}

/** A sqlite3 connection (the parts used). */
export interface SqliteConnection {
  prepare(sql: string, callback: (err: Error | null) => void): SqliteStatement;
  close(...args: unknown[]): unknown;
}

/** The most prepared statements kept per connection. */
export const MAX_KEPT_STATEMENTS = 128;

/** A kept statement: being prepared, or prepared. */
interface Kept {
  /** Settles once prepared; two callers preparing the same text at once share it. */
  ready: Promise<SqliteStatement>;
  /** Set once prepared. */
  statement?: SqliteStatement;
}

/** Each connection's kept statements, least recently used first (a Map keeps insertion order). */
const kept = new WeakMap<SqliteConnection, Map<string, Kept>>();

/** Finalizes a statement now when it is prepared (a `close` right after must see it finalized), else once it is. */
function finalize(entry: Kept): void {
  if (entry.statement) entry.statement.finalize();
  else void entry.ready.then((s) => s.finalize(), () => undefined);
}

function keptOf(conn: SqliteConnection): Map<string, Kept> {
  const known = kept.get(conn);
  if (known) return known;
  const statements = new Map<string, Kept>();
  kept.set(conn, statements);
  const close = conn.close;
  conn.close = function (this: SqliteConnection, ...args: unknown[]) {
    for (const entry of statements.values()) finalize(entry);
    statements.clear();
    return close.apply(this, args);
  };
  return statements;
}

function prepare(conn: SqliteConnection, sql: string): Kept {
  const entry: Kept = {
    ready: new Promise((resolve, reject) => {
      const statement = conn.prepare(sql, (err) => {
        if (err) return reject(err);
        entry.statement = statement;
        resolve(statement);
      });
    }),
  };
  return entry;
}

/**
 * Runs one statement with positional `?` bindings on `conn` and answers its rows (a write's
 * `RETURNING` rows, else none). The statement is prepared on first use and kept.
 */
export async function sqliteRows<R>(conn: SqliteConnection, sql: string, bindings: readonly unknown[]): Promise<R[]> {
  const statements = keptOf(conn);
  let entry = statements.get(sql);
  if (entry) {
    // Most recently used last.
    statements.delete(sql);
  } else {
    if (statements.size >= MAX_KEPT_STATEMENTS) {
      const [oldest, unused] = statements.entries().next().value as [string, Kept];
      statements.delete(oldest);
      finalize(unused);
    }
    const fresh = prepare(conn, sql);
    // SQL that does not compile is not kept.
    fresh.ready.catch(() => statements.get(sql) === fresh && statements.delete(sql));
    entry = fresh;
  }
  statements.set(sql, entry);
  const statement = await entry.ready;
  return new Promise<R[]>((resolve, reject) => statement.all(bindings as unknown[], (err, rows) => (err ? reject(err) : resolve(rows as R[]))));
}
