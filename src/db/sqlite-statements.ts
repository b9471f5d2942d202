/**
 * Statements run on a sqlite3 connection directly, each SQL text prepared once per
 * connection and kept. The kernel's own hot paths (the outbox, `sqlTransaction`) run their
 * statements through it, and so does every Knex query on a SQLite database the kernel
 * opened (src/db/prepared-sqlite-client.ts).
 *
 * `Database#all` compiles its SQL every time; for the outbox's statements (an `UPDATE` with a
 * subquery per lane, a multi-row `VALUES` list) compiling costs more than running: measured
 * on this project's machine, 180 µs per run of a lane-advancing `UPDATE` against 76 µs
 * prepared. So each connection keeps the prepared statements of the texts it runs more than
 * once, the most recently used (at most {@link MAX_KEPT_STATEMENTS}; the least recently used
 * is finalized to make room). SQLite
 * refuses to close a connection with statements not finalized, so the first statement kept
 * for a connection wraps its `close` to finalize them all first.
 */

/** What a write run with `run` reports (sqlite3 sets it as the callback's `this`). */
export interface SqliteRunResult {
  /** The rowid of the last row inserted. */
  lastID: number;
  /** How many rows the statement changed. */
  changes: number;
}

/** A sqlite3 `run` callback: the result is its `this`. */
type RunCallback = (this: SqliteRunResult, err: Error | null) => void;

/** A sqlite3 prepared statement (the parts used). */
interface SqliteStatement {
  all(params: unknown[], callback: (err: Error | null, rows: unknown[]) => void): unknown;
  run(params: unknown[], callback: RunCallback): unknown;
  finalize(): void;
}

/** A sqlite3 connection (the parts used). */
export interface SqliteConnection {
  all(sql: string, params: unknown[], callback: (err: Error | null, rows: unknown[]) => void): unknown;
  run(sql: string, params: unknown[], callback: RunCallback): unknown;
  prepare(sql: string, callback: (err: Error | null) => void): SqliteStatement;
  close(...args: unknown[]): unknown;
}

/** The most prepared statements kept per connection. */
export const MAX_KEPT_STATEMENTS = 128;

/** The most texts remembered per connection as run once (forgotten all at once past it). */
const MAX_SEEN_ONCE = 1024;

/**
 * Texts run once on each connection, not prepared: a text is prepared and kept from its
 * second run on. Preparing costs a trip to SQLite's thread of its own, which a text that never
 * comes back (a multi-row insert of a size seen once) would pay for nothing.
 */
const seenOnce = new WeakMap<SqliteConnection, Set<string>>();

function firstRun(conn: SqliteConnection, sql: string): boolean {
  let seen = seenOnce.get(conn);
  if (!seen) seenOnce.set(conn, (seen = new Set()));
  if (seen.delete(sql)) return false;
  if (seen.size >= MAX_SEEN_ONCE) seen.clear();
  seen.add(sql);
  return true;
}

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

/** A node-style `all` call as a promise of its rows. */
function rowsOf<R>(all: (callback: (err: Error | null, rows: unknown[]) => void) => unknown): Promise<R[]> {
  return new Promise<R[]>((resolve, reject) => void all((err, rows) => (err ? reject(err) : resolve(rows as R[]))));
}

/** A node-style `run` call as a promise of what it changed (copied: a kept statement's own fields change at its next run). */
function changesOf(run: (callback: RunCallback) => unknown): Promise<SqliteRunResult> {
  return new Promise<SqliteRunResult>(
    (resolve, reject) =>
      void run(function (this: SqliteRunResult, err) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      }),
  );
}

/**
 * The kept statement for `sql` on `conn`, prepared now if needed; undefined on the text's
 * first run, which goes through the connection unprepared.
 */
function keptStatement(conn: SqliteConnection, sql: string): Promise<SqliteStatement> | undefined {
  const statements = keptOf(conn);
  let entry = statements.get(sql);
  if (!entry && firstRun(conn, sql)) return undefined;
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
  return entry.ready;
}

/**
 * Runs one statement with positional `?` bindings on `conn` and answers its rows (a write's
 * `RETURNING` rows, else none). A text run a second time is prepared and kept.
 */
export async function sqliteRows<R>(conn: SqliteConnection, sql: string, bindings: readonly unknown[]): Promise<R[]> {
  const kept = keptStatement(conn, sql);
  if (!kept) return rowsOf<R>((callback) => conn.all(sql, bindings as unknown[], callback));
  const statement = await kept;
  return rowsOf<R>((callback) => statement.all(bindings as unknown[], callback));
}

/**
 * Runs one statement that answers no rows (a write without `RETURNING`) on `conn` and answers
 * the last inserted rowid and how many rows changed. A text run a second time is prepared and
 * kept, as by {@link sqliteRows}.
 */
export async function sqliteRun(conn: SqliteConnection, sql: string, bindings: readonly unknown[]): Promise<SqliteRunResult> {
  const kept = keptStatement(conn, sql);
  if (!kept) return changesOf((callback) => conn.run(sql, bindings as unknown[], callback));
  const statement = await kept;
  return changesOf((callback) => statement.run(bindings as unknown[], callback));
}
