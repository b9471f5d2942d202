/**
 * Bulk seeding of the benchmark databases (SQLite): a million rows in seconds instead of
 * minutes. Each seeding is one `INSERT … SELECT` over a recursive counter, in one
 * transaction, on a connection whose durability is relaxed for the seeding only (the
 * in-process seeding kernel is stopped afterwards; the measured server opens its own
 * connections with the kernel's usual pragmas).
 *
 * The rows are what the plugins' own stores would write (the scenarios check them through
 * HTTP before measuring): Anope objects get their global id row and their type row, Owncast
 * messages their unique id, time and visibility.
 */
import type { Knex } from 'knex';

/** Rows written per statement: the counter runs over one chunk (keeps SQLite's temporary B-tree small). */
const CHUNK = 250_000;

/** A counter `n(i)` from `from` to `to - 1`, as a CTE. */
function counter(from: number, to: number): string {
  return `WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${to})`;
}

/**
 * Relaxes durability on the seeding connection (SQLite only: the pool is its one
 * connection), runs `fn` in one transaction, then restores it.
 */
async function seeding<T>(db: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  await db.raw('PRAGMA synchronous = OFF');
  await db.raw('PRAGMA cache_size = -262144');
  await db.raw('PRAGMA temp_store = MEMORY');
  try {
    return await db.transaction(fn);
  } finally {
    await db.raw('PRAGMA synchronous = NORMAL');
    await db.raw('PRAGMA cache_size = -2000');
  }
}

/** What {@link seedAnopeObjects} needs to know of the plugin's tables. */
export interface AnopeTables {
  /** The global id table (`anope_objects`). */
  objects: string;
  /** The type's table (`anope_obj_<type>`). */
  table: string;
}

/**
 * Adds `count` objects of `type`, numbered `start` … `start + count - 1`; `columns` gives
 * each column's SQL expression of that number `i` (e.g. `'User' || i`). Returns the id of
 * number `start` (the new ids are consecutive).
 */
export async function seedAnopeObjects(db: Knex, tables: AnopeTables, type: string, start: number, count: number, columns: Record<string, string>): Promise<number> {
  const names = Object.keys(columns);
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return seeding(db, async (trx) => {
    const [{ before }] = (await trx.raw(`SELECT coalesce(max(id), 0) AS before FROM ${quote(tables.objects)}`)) as Array<{ before: number }>;
    for (let from = 0; from < count; from += CHUNK) {
      const to = Math.min(count, from + CHUNK);
      await trx.raw(`${counter(from, to)} INSERT INTO ${quote(tables.objects)} (type) SELECT ? FROM n`, [type]);
    }
    const [{ first }] = (await trx.raw(`SELECT min(id) AS first FROM ${quote(tables.objects)} WHERE id > ?`, [before])) as Array<{ first: number }>;
    await trx.raw(
      `INSERT INTO ${quote(tables.table)} (id${names.map((n) => `, ${quote(n)}`).join('')}) ` +
        `SELECT id${names.map((n) => `, ${columns[n]}`).join('')} ` +
        `FROM (SELECT id, id - ? + ? AS i FROM ${quote(tables.objects)} WHERE id >= ?) ORDER BY id`,
      [first, start, first],
    );
    return first;
  });
}

/**
 * Adds `count` visible CHAT messages to Owncast's message table, numbered `start` …, spread
 * evenly from `from` to `until` (epoch ms), with ids `b<11 digits>` (12 characters like the
 * store's random base64url ids; one of those equals such an id with negligible probability).
 */
export async function seedOwncastMessages(db: Knex, table: string, start: number, count: number, from: number, until: number): Promise<void> {
  const span = Math.max(1, until - from);
  await seeding(db, async (trx) => {
    for (let lo = 0; lo < count; lo += CHUNK) {
      const hi = Math.min(count, lo + CHUNK);
      await trx.raw(
        `${counter(start + lo, start + hi)} INSERT INTO "${table}" (id, type, author, body, raw_body, visible, created_at, client_id) ` +
          `SELECT printf('b%011d', i), 'CHAT', 'viewer' || (i % 97), '<p>message ' || i || '</p>', 'message ' || i, 1, ` +
          `${from} + ((i - ${start}) * ${span}) / ${Math.max(1, count)}, NULL FROM n`,
      );
    }
  });
}
