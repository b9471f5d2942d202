/**
 * Knex's SQLite client with the SQL of its queries prepared once per connection and kept.
 *
 * Knex runs each SQLite query through `Database#all` or `Database#run`, which compile the SQL
 * at every call and take two trips to SQLite's thread (prepare, then run) before the answer
 * reaches the event loop. Kept prepared statements (src/db/sqlite-statements.ts) take one:
 * measured on this project's machine, a 20-row `SELECT` took 70 µs instead of 115, and a
 * `BEGIN IMMEDIATE` with its `COMMIT` 70 µs instead of 135. Under load each trip also waits
 * for a busy event loop, so a query's trips, not SQLite's work, are most of its time.
 *
 * Only how a query is run changes: the same SQL, bindings and answers (rows, or the last
 * inserted rowid and the count of changed rows), chosen by the query's method as knex itself
 * does. Streams (`.stream()`) are left to knex. One thing knex does not do is added: a
 * transaction whose `COMMIT` fails is rolled back before its connection goes back to the pool.
 */
import type { Knex } from 'knex';
import { sqliteRows, sqliteRun, type SqliteConnection } from './sqlite-statements.js';

/** The parts of a knex query object that running it reads and sets. */
interface KnexQuery {
  sql: string;
  bindings?: unknown[];
  method?: string;
  returning?: unknown;
  response?: unknown;
  context?: unknown;
}

/** True for the queries knex's SQLite client runs with `run` (they answer what changed), false for those it runs with `all` (rows). */
function answersChanges(query: KnexQuery): boolean {
  switch (query.method) {
    case 'insert':
    case 'update':
      return !query.returning;
    case 'counter':
    case 'del':
      return true;
    default:
      return false;
  }
}

/** Runs `query` on `connection` through kept prepared statements; sets what knex's `processResponse` reads. */
async function preparedQuery(connection: SqliteConnection, query: KnexQuery): Promise<KnexQuery> {
  if (!query.sql) throw new Error('The query is empty');
  const bindings = query.bindings ?? [];
  try {
    if (answersChanges(query)) query.context = await sqliteRun(connection, query.sql, bindings);
    else query.response = await sqliteRows(connection, query.sql, bindings);
  } catch (err) {
    // A COMMIT that fails (a deferred constraint broken) leaves SQLite's transaction open,
    // and knex rejects the transaction but hands the connection back as it is: every later
    // query would run inside that transaction, never committed, and the next BEGIN would
    // fail. The transaction is undone here, as its caller was told it failed.
    if (COMMIT.test(query.sql)) await sqliteRun(connection, 'ROLLBACK', []).catch(() => undefined);
    throw err;
  }
  return query;
}

/** Knex's SQL that ends a transaction (`COMMIT;`), not a savepoint's `RELEASE`. */
const COMMIT = /^\s*COMMIT\b/i;

/** A knex client class. */
type ClientClass = abstract new (...args: never[]) => Knex.Client;

/** Each knex SQLite client class, with its subclass that runs queries prepared. */
const preparedClasses = new WeakMap<ClientClass, ClientClass>();

/**
 * Makes the SQLite Knex instance `knex` run its queries through kept prepared statements,
 * in transactions too.
 */
export function usePreparedStatements(knex: Knex): void {
  const base = knex.client.constructor as ClientClass;
  let prepared = preparedClasses.get(base);
  if (prepared === undefined) {
    // A subclass, not a method set on the instance: knex builds each transaction's client
    // from the class's prototype, so only the class reaches the queries of transactions.
    const Base = base as unknown as new () => { _query(connection: unknown, query: unknown): unknown };
    class PreparedSqliteClient extends Base {
      override _query(connection: unknown, query: unknown): Promise<KnexQuery> {
        return preparedQuery(connection as SqliteConnection, query as KnexQuery);
      }
    }
    prepared = PreparedSqliteClient as unknown as ClientClass;
    preparedClasses.set(base, prepared);
  }
  Object.setPrototypeOf(knex.client, prepared.prototype);
}
