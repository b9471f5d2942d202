/**
 * Counts every row written to the database, per table, with triggers the test installs on
 * its throwaway database: one cheap query tells whether a request wrote anything at all, on
 * SQLite and PostgreSQL alike, without snapshotting table contents.
 *
 * Bookkeeping that is written by design without a client changing anything — background
 * samplers, coordination tables, the rate limiter's own failure counters — is excluded by
 * {@link WriteExclusions}, each with the reason.
 */
import type { Knex } from 'knex';

/** How one table is watched. */
export interface TableWatch {
  /** Not watched at all. */
  skip?: boolean;
  /** Only these operations count (default all three). */
  ops?: ReadonlyArray<'insert' | 'update' | 'delete'>;
  /** Updates that change only these columns do not count. */
  ignoreColumns?: readonly string[];
}

/** Table name (or a `*_suffix` / `prefix_*` pattern) → how it is watched, with the reason in a comment. */
export type WriteExclusions = Record<string, TableWatch>;

const COUNTER = 'zz_reliability_writes';

function matches(pattern: string, table: string): boolean {
  if (pattern.startsWith('*')) return table.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return table.startsWith(pattern.slice(0, -1));
  return pattern === table;
}

function watchOf(exclusions: WriteExclusions, table: string): TableWatch {
  for (const [pattern, watch] of Object.entries(exclusions)) if (matches(pattern, table)) return watch;
  return {};
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const lit = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Write counts per table. */
export type WriteCounts = Map<string, number>;

/** Installed write counters. */
export interface WriteCounter {
  /** The tables watched. */
  readonly tables: readonly string[];
  /** The current counts. */
  read(): Promise<WriteCounts>;
  /** The tables whose count differs between two readings, with the difference. */
  diff(before: WriteCounts, after: WriteCounts): Array<{ table: string; writes: number }>;
}

/** Installs the counting triggers on every current table except the excluded ones. */
export async function installWriteCounter(db: Knex, exclusions: WriteExclusions): Promise<WriteCounter> {
  const client = String(db.client.config.client);
  const pg = client === 'pg' || client === 'postgres' || client === 'postgresql';
  const all: string[] = pg
    ? ((await db.raw(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`)).rows as Array<{ name: string }>).map((r) => r.name)
    : ((await db.raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)) as Array<{ name: string }>).map((r) => r.name);
  const tables = all.filter((t) => t !== COUNTER && !watchOf(exclusions, t).skip).sort();
  await db.raw(`CREATE TABLE ${COUNTER} (tbl VARCHAR(255) PRIMARY KEY, n BIGINT NOT NULL DEFAULT 0)`);
  if (tables.length > 0) await db(COUNTER).insert(tables.map((tbl) => ({ tbl, n: 0 })));
  if (pg) {
    await db.raw(
      `CREATE OR REPLACE FUNCTION zz_reliability_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE ${COUNTER} SET n = n + 1 WHERE tbl = TG_TABLE_NAME; RETURN NULL; END $$`,
    );
  }
  for (const table of tables) {
    const watch = watchOf(exclusions, table);
    const ops = watch.ops ?? ['insert', 'update', 'delete'];
    let updateOf = '';
    if (ops.includes('update') && watch.ignoreColumns?.length) {
      const columns: string[] = pg
        ? ((await db.raw(`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`, [table])).rows as Array<{ name: string }>).map((r) => r.name)
        : ((await db.raw(`PRAGMA table_info(${q(table)})`)) as Array<{ name: string }>).map((r) => r.name);
      const watched = columns.filter((c) => !watch.ignoreColumns!.includes(c));
      updateOf = ` OF ${watched.map(q).join(', ')}`;
    }
    for (const op of ops) {
      const name = q(`zz_rw_${op}_${table}`.slice(0, 63));
      const event = `${op.toUpperCase()}${op === 'update' ? updateOf : ''}`;
      if (pg) await db.raw(`CREATE TRIGGER ${name} AFTER ${event} ON ${q(table)} FOR EACH ROW EXECUTE FUNCTION zz_reliability_count()`);
      else await db.raw(`CREATE TRIGGER ${name} AFTER ${event} ON ${q(table)} BEGIN UPDATE ${COUNTER} SET n = n + 1 WHERE tbl = ${lit(table)}; END`);
    }
  }
  return {
    tables,
    async read() {
      const rows = (await db(COUNTER).select('tbl', 'n')) as Array<{ tbl: string; n: number | string }>;
      return new Map(rows.map((r) => [r.tbl, Number(r.n)]));
    },
    diff(before, after) {
      const out: Array<{ table: string; writes: number }> = [];
      for (const [table, n] of after) {
        const was = before.get(table) ?? 0;
        if (n !== was) out.push({ table, writes: n - was });
      }
      return out;
    },
  };
}

/** What {@link reproducedWrites} needs of the server under test. */
export interface Replayable<R> {
  /** Sends the request again. */
  send(req: R): Promise<{ status: number }>;
  /** Waits for write-behind work. */
  settle(): Promise<void>;
  /** Puts back what the request may have changed in credentials. */
  repair(): Promise<unknown>;
}

/**
 * Of the tables a refused request seemed to write, those it writes again when sent a second
 * time. A timer of some plugin that happened to write while the request was in flight does
 * not coincide twice; a request that really writes when it is refused does it every time.
 */
export async function reproducedWrites<R>(server: Replayable<R>, counter: WriteCounter, req: R, tables: readonly string[]): Promise<string[]> {
  await server.settle();
  const before = await counter.read();
  const res = await server.send(req);
  await server.settle();
  const after = await counter.read();
  await server.repair();
  if (res.status < 400 || res.status >= 500) return [...tables];
  const again = new Set(counter.diff(before, after).map((d) => d.table));
  return tables.filter((t) => again.has(t));
}
