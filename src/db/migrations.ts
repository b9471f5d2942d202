/**
 * Per-plugin migrations: each plugin has its own migration table
 * (`<prefix>migrations`) and lock, so plugins migrate independently and a plugin's history
 * never mixes with another's or with the host's own Knex migrations.
 */
import type { Knex } from 'knex';
import { dialectOf, type Dialect } from './dialect.js';

/** What a migration's `up`/`down` receives besides the transaction-bound Knex handle. */
export interface MigrationContext {
  /** The plugin's table prefix, e.g. `anope_`. */
  readonly tablePrefix: string;
  /** Prefixes a table name: `table('account')` → `anope_account`. */
  table(name: string): string;
  /** Dialect helpers for the engine being migrated. */
  readonly dialect: Dialect;
}

/** One schema change of a plugin. Names sort in the order they must run (e.g. `001_init`). */
export interface Migration {
  /** A unique, sortable name; never rename a migration that has shipped. */
  name: string;
  /** Applies the change. `db` is bound to the migration's transaction. */
  up(db: Knex, ctx: MigrationContext): Promise<void>;
  /** Reverts the change, when that is possible. */
  down?(db: Knex, ctx: MigrationContext): Promise<void>;
}

/** Builds the {@link MigrationContext} for a prefix. */
export function migrationContext(knex: Knex, tablePrefix: string): MigrationContext {
  return { tablePrefix, table: (name) => `${tablePrefix}${name}`, dialect: dialectOf(knex) };
}

/**
 * Runs a plugin's pending migrations in name order, recorded in `<prefix>migrations`.
 * Knex's migration lock makes it safe when several instances start at once on PostgreSQL.
 *
 * @returns the names of the migrations that ran now
 */
export async function runMigrations(knex: Knex, tablePrefix: string, migrations: readonly Migration[]): Promise<string[]> {
  if (migrations.length === 0) return [];
  const ctx = migrationContext(knex, tablePrefix);
  const sorted = [...migrations].sort((a, b) => a.name.localeCompare(b.name));
  const source: Knex.MigrationSource<Migration> = {
    getMigrations: async () => sorted,
    getMigrationName: (m) => m.name,
    getMigration: async (m) => ({
      up: (db: Knex) => m.up(db, ctx),
      down: (db: Knex) => (m.down ? m.down(db, ctx) : Promise.resolve()),
    }),
  };
  return withMigrationLock(knex, async () => {
    const [, log] = (await knex.migrate.latest({ migrationSource: source, tableName: `${tablePrefix}migrations` })) as [number, string[]];
    return log;
  });
}

/** The advisory lock key every Switchboard instance takes while it migrates (PostgreSQL). */
export const MIGRATION_LOCK_KEY = 0x5357_4d49; // "SWMI"

/**
 * Runs `fn` while no other instance migrates. Knex's own lock is taken only after it has
 * created its migration table, so two instances starting on a fresh database could both try
 * to create it. On PostgreSQL a session advisory lock, held on one pooled connection while the
 * migrations run on others, makes the second instance wait and then find everything done. On
 * SQLite the database file lock serialises writers; a lost race to create a table is retried.
 */
async function withMigrationLock<T>(knex: Knex, fn: () => Promise<T>): Promise<T> {
  const client = knex.client as { config: { client: unknown }; acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<void> };
  const engine = String(client.config.client);
  if (engine === 'pg' || engine === 'postgres' || engine === 'postgresql') {
    const conn = (await client.acquireConnection()) as { query(sql: string, values?: unknown[]): Promise<unknown> };
    try {
      await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        return await fn();
      } finally {
        await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      }
    } finally {
      await client.releaseConnection(conn);
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 5 || !/already exists|SQLITE_BUSY|locked/i.test(String((err as Error).message))) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}
