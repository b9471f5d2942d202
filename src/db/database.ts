/**
 * Opening the one Knex instance the kernel and every plugin share.
 *
 * SQLite (through `sqlite3`) is the embedded default; PostgreSQL is for production and for
 * several instances behind a load balancer. Either the host hands the kernel a Knex instance
 * it owns (the kernel then never destroys it), or the kernel opens one from a URL or a Knex
 * config and closes it on stop.
 *
 * On a SQLite file the kernel also opens a second handle for reads ({@link OpenedDatabase.reads}):
 * one read-only connection beside the pool's one writing connection. In WAL mode it reads
 * the last commit while a write transaction is open, so a read that needs no transaction
 * (a token check on every request) does not wait behind the writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { ErrorCodes, SwitchboardError } from '../errors.js';
import { usePreparedStatements } from './prepared-sqlite-client.js';

/**
 * What the kernel accepts as its database:
 * - a URL: `sqlite:./data/switchboard.db`, `sqlite::memory:`, `postgres://user:pw@host/db`;
 * - a Knex config object (client `sqlite3` or `pg`);
 * - a Knex instance the host owns (the kernel will not destroy it).
 */
export type DatabaseOption = string | Knex.Config | Knex;

/** The opened database and whether the kernel owns (and must close) it. */
export interface OpenedDatabase {
  /** The shared Knex handle. */
  knex: Knex;
  /**
   * The handle for reads outside transactions. On a SQLite file the kernel opened: a
   * read-only connection of its own, which sees every committed change (never an open
   * transaction's) and does not wait for the writing connection. Otherwise `knex` itself.
   */
  reads: Knex;
  /** True when the kernel opened it and must destroy it on stop. */
  owned: boolean;
}

/** How long a SQLite connection waits for a lock held by another process, in ms. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

function isKnexInstance(value: unknown): value is Knex {
  return typeof value === 'function' && typeof (value as Knex).raw === 'function' && 'client' in (value as object);
}

/**
 * The pool hook that makes every SQLite connection safe to use: foreign keys on, WAL
 * journal, a busy timeout for other processes (the CLI next to a running server), and
 * `synchronous=NORMAL`, which in WAL mode survives a process crash.
 */
function sqliteAfterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void): void {
  // Switching a fresh file to WAL needs its exclusive lock. While another process opening
  // the same new file holds a lock, SQLite may answer SQLITE_BUSY at once, or after waiting
  // the whole busy timeout when the two wait on each other: so the switch runs with a short
  // timeout and is tried again for up to the full one; the full timeout is set last.
  const pragmas = [
    'PRAGMA busy_timeout = 50',
    'PRAGMA foreign_keys = ON',
    'PRAGMA journal_mode = WAL',
    'PRAGMA synchronous = NORMAL',
    `PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`,
  ];
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  const next = (i: number, attempt = 1): void => {
    if (i === pragmas.length) return done(null, conn);
    conn.run(pragmas[i], (err) => {
      if (!err) return next(i + 1);
      if ((err as { code?: string }).code === 'SQLITE_BUSY' && Date.now() < deadline) {
        setTimeout(() => next(i, attempt + 1), Math.min(10 * attempt, 100));
        return;
      }
      done(err, conn);
    });
  };
  next(0);
}

/** The pool hook of the read connection: read-only (`query_only`), and the busy timeout for other processes' locks. */
function sqliteReaderAfterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void): void {
  conn.run('PRAGMA query_only = ON', (err) => {
    if (err) return done(err, conn);
    conn.run(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`, (err2) => done(err2, conn));
  });
}

/**
 * A Knex instance of one read-only connection to the SQLite file of `config`, opened on its
 * first read; undefined when there is no file of its own to open (`:memory:`, a `file:` URI,
 * a connection given as a function), whose reads then share the writing connection.
 */
function sqliteReader(config: Knex.Config): Knex | undefined {
  const filename = sqliteFile(config);
  if (filename === undefined) return undefined;
  const reader = knexFactory({ client: config.client, connection: { filename }, useNullAsDefault: true, pool: { min: 0, max: 1, afterCreate: sqliteReaderAfterCreate } });
  usePreparedStatements(reader);
  return reader;
}

/**
 * The file of a SQLite config when it names a plain file path; undefined for another client,
 * `:memory:`, a `file:` URI or a connection given otherwise (a function).
 */
function sqliteFile(config: Knex.Config): string | undefined {
  if (config.client !== 'sqlite3' && config.client !== 'sqlite') return undefined;
  const filename = (config.connection as { filename?: unknown } | undefined)?.filename;
  if (typeof filename !== 'string' || filename === '' || filename === ':memory:' || filename.startsWith('file:')) return undefined;
  return filename;
}

/** Turns a `sqlite:` or `postgres:` URL into a Knex config. */
export function configFromUrl(url: string): Knex.Config {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (file === '') {
      throw new SwitchboardError(ErrorCodes.INVALID_DATABASE, `Database URL '${url}' names no file`);
    }
    return { client: 'sqlite3', connection: { filename: file }, useNullAsDefault: true };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    return { client: 'pg', connection: url, pool: { min: 0, max: 10 } };
  }
  throw new SwitchboardError(
    ErrorCodes.INVALID_DATABASE,
    `Database URL must start with 'sqlite:' or 'postgres://' (got '${url.replace(/\/\/[^@/]*@/, '//***@')}')`,
  );
}

/** Adds the kernel's SQLite connection settings to a Knex config (no-op for other clients). */
function withSqliteSettings(config: Knex.Config): Knex.Config {
  if (config.client !== 'sqlite3' && config.client !== 'sqlite') return config;
  const filename = sqliteFile(config);
  if (filename !== undefined) fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true });
  return {
    ...config,
    useNullAsDefault: true,
    pool: { ...(config.pool ?? {}), min: 1, max: 1, afterCreate: sqliteAfterCreate },
  };
}

/** The parts of a Knex transaction that {@link beginImmediate} touches. */
interface KnexTransactionInternals {
  begin(conn: unknown): Promise<unknown>;
  query(conn: unknown, sql: string): Promise<unknown>;
}

/**
 * Makes every top-level transaction of a SQLite Knex instance start with `BEGIN IMMEDIATE`.
 *
 * Knex begins SQLite transactions with a plain (deferred) `BEGIN`: the transaction reads
 * first and asks for the write lock at its first write. When another process (the CLI
 * beside a running server) has written in between, SQLite cannot upgrade the stale read
 * snapshot and fails at once with `SQLITE_BUSY`, without waiting for the busy timeout — a
 * request that reads then writes in a transaction answered 500. `BEGIN IMMEDIATE` takes
 * the write lock first, waiting up to the busy timeout for the other process. Within this
 * process nothing changes: its SQLite pool has one connection, so transactions already run
 * one at a time. Nested transactions (savepoints) are left alone.
 */
function beginImmediate(knex: Knex): void {
  const client = knex.client as { transaction(...args: unknown[]): KnexTransactionInternals };
  const create = client.transaction;
  // `this` is kept: a transaction's own client (an object inheriting from this one) must
  // create its nested transactions as savepoints.
  client.transaction = function (this: unknown, ...args: unknown[]) {
    const trx = create.apply(this, args);
    trx.begin = (conn) => trx.query(conn, 'BEGIN IMMEDIATE;');
    return trx;
  };
}

/** Opens the database described by `option`, or adopts the host's Knex instance. */
export function openDatabase(option: DatabaseOption): OpenedDatabase {
  if (isKnexInstance(option)) return { knex: option, reads: option, owned: false };
  const config = typeof option === 'string' ? configFromUrl(option) : option;
  if (!config || typeof config !== 'object' || !config.client) {
    throw new SwitchboardError(ErrorCodes.INVALID_DATABASE, 'Database config needs a client (sqlite3 or pg)');
  }
  const knex = knexFactory(withSqliteSettings(config));
  if (config.client === 'sqlite3' || config.client === 'sqlite') {
    usePreparedStatements(knex);
    beginImmediate(knex);
  }
  return { knex, reads: sqliteReader(config) ?? knex, owned: true };
}
