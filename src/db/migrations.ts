/**
 * Per-plugin migrations: each plugin has its own migration table
 * (`<prefix>migrations`) and lock, so plugins migrate independently and a plugin's history
 * never mixes with another's or with the host's own Knex migrations.
 */
import type { Knex } from 'knex';
import { inSpan } from '../observability/tracing.js';
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
  /** Reverts the change, when that is possible (for tooling; the kernel never rolls back by itself). */
  down?(db: Knex, ctx: MigrationContext): Promise<void>;
}

/** Builds the {@link MigrationContext} for a prefix. */
export function migrationContext(knex: Knex, tablePrefix: string): MigrationContext {
  return { tablePrefix, table: (name) => `${tablePrefix}${name}`, dialect: dialectOf(knex) };
}

/** The name of the span of each migration that runs (attributes: the table prefix and the migration's name). */
export const MIGRATION_SPAN = 'migration';

/** The advisory lock key every Switchboard instance takes while it migrates (PostgreSQL). */
export const MIGRATION_LOCK_KEY = 0x5357_4d49; // "SWMI"

/**
 * Runs a plugin's pending migrations in name order and records them in
 * `<prefix>migrations` (name, run_at).
 *
 * All pending migrations of a plugin run in ONE transaction that first takes the migration
 * lock: on PostgreSQL a transaction-scoped advisory lock, on SQLite the database write lock
 * (`BEGIN IMMEDIATE` on a database the kernel opened; on a Knex instance the host passed in,
 * the first write takes it, and a busy database is retried). So instances starting together on a fresh database wait for each
 * other and then find the work done; a failing migration leaves nothing half-applied; and a
 * process killed mid-migration leaves no stale lock behind (the lock dies with its
 * transaction). Knex's own migrator was not used for this reason: it takes its lock only
 * after creating its table, and keeps the lock in a row that a crash leaves set.
 *
 * @returns the names of the migrations that ran now
 */
export async function runMigrations(knex: Knex, tablePrefix: string, migrations: readonly Migration[]): Promise<string[]> {
  if (migrations.length === 0) return [];
  const ctx = migrationContext(knex, tablePrefix);
  const table = `${tablePrefix}migrations`;
  const sorted = inNameOrder(migrations);
  const names = new Set<string>();
  for (const m of sorted) {
    if (names.has(m.name)) throw new Error(`Migration '${m.name}' is declared twice`);
    names.add(m.name);
  }
  return withBusyRetry(() =>
    knex.transaction(async (trx) => {
      if (ctx.dialect.name === 'postgres') await trx.raw('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
      if (!(await trx.schema.hasTable(table))) {
        await trx.schema.createTable(table, (t) => {
          t.string('name', 255).primary();
          t.bigInteger('run_at').notNullable();
        });
      }
      const done = new Set(((await trx(table).pluck('name')) as string[]).map(String));
      const ran: string[] = [];
      for (const m of sorted) {
        if (done.has(m.name)) continue;
        await inSpan(MIGRATION_SPAN, { attributes: () => ({ 'switchboard.migration.prefix': tablePrefix, 'switchboard.migration.name': m.name, 'db.system': ctx.dialect.name === 'postgres' ? 'postgresql' : 'sqlite' }) }, () => m.up(trx, ctx));
        await trx(table).insert({ name: m.name, run_at: Date.now() });
        ran.push(m.name);
      }
      return ran;
    }),
  );
}

/**
 * The migrations in the order of their names (`localeCompare`). Declared in that order already,
 * and told so without `localeCompare` when each name first differs from the one before in two
 * digits (`001_init`, `002_…`): digits sort as their code points in every locale. The first
 * `localeCompare` of a process loads ICU's collation data, about 8 ms of every start, which the
 * kernel's and the bundled plugins' migrations never need.
 */
export function inNameOrder<M extends { name: string }>(migrations: readonly M[]): M[] {
  if (migrations.every((m, i) => i === 0 || digitBefore(migrations[i - 1].name, m.name))) return [...migrations];
  return [...migrations].sort((a, b) => a.name.localeCompare(b.name));
}

/** True when `a` and `b` first differ in a digit of each, `a`'s the smaller. */
function digitBefore(a: string, b: string): boolean {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  return x >= 0x30 && x <= 0x39 && y >= 0x30 && y <= 0x39 && x < y;
}

/**
 * SQLite: a writer in another process may hold the database longer than the busy timeout
 * (a long migration); the migration is then tried again, a few times, before giving up.
 */
async function withBusyRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 5 || !/SQLITE_BUSY|database is locked/i.test(String((err as Error).message))) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
