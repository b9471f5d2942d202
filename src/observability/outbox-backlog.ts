/**
 * The outbox's backlog for the metrics, read at scrape time in one grouped query over the
 * unfinished and dead rows (the `(owner, status)` index keeps delivered rows out of it).
 */
import type { Knex } from 'knex';
import type { OutboxBacklog } from './metrics.js';

interface BacklogRow {
  owner: string;
  status: string;
  failing: number | string;
  n: number | string;
  oldest: number | string | null;
}

/**
 * Reads the backlog of the outbox table: by owner, deliveries pending (never failed),
 * retrying (failed at least once, not given up) and dead, and the oldest unfinished one.
 * Every name in `owners` is present (with zeros) even when it has no rows.
 */
export async function readOutboxBacklog(knex: Knex, table: string, owners: readonly string[]): Promise<OutboxBacklog> {
  const rows = (await knex(table)
    .select('owner', 'status')
    .select(knex.raw('CASE WHEN failures > 0 THEN 1 ELSE 0 END AS failing'))
    .count({ n: '*' })
    .min({ oldest: 'created_at' })
    .whereIn('status', ['queued', 'pending', 'delivering', 'dead'])
    .groupBy('owner', 'status', knex.raw('CASE WHEN failures > 0 THEN 1 ELSE 0 END'))) as BacklogRow[];
  const counts = new Map<string, { pending: number; retrying: number; dead: number }>();
  const oldest = new Map<string, number>();
  for (const owner of owners) counts.set(owner, { pending: 0, retrying: 0, dead: 0 });
  for (const row of rows) {
    let c = counts.get(row.owner);
    if (!c) counts.set(row.owner, (c = { pending: 0, retrying: 0, dead: 0 }));
    const n = Number(row.n);
    if (row.status === 'dead') {
      c.dead += n;
      continue;
    }
    if (Number(row.failing) === 1) c.retrying += n;
    else c.pending += n;
    const at = Number(row.oldest);
    if (row.oldest !== null && Number.isFinite(at) && at < (oldest.get(row.owner) ?? Infinity)) oldest.set(row.owner, at);
  }
  return { counts, oldest };
}
