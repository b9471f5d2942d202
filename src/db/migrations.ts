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
  const [, log] = (await knex.migrate.latest({ migrationSource: source, tableName: `${tablePrefix}migrations` })) as [number, string[]];
  return log;
}
