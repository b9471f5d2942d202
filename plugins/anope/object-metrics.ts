/**
 * `switchboard_anope_objects{type}`: how many objects of each registered type exist, sampled
 * at scrape time from the global id table with one grouped query, never counted per request.
 * A sample is reused for {@link OBJECT_COUNT_CACHE_MS}, so frequent scrapes (or several
 * scrapers) cost at most one query per that time.
 */
import type { Knex } from 'knex';
import type { Gauge, PluginContext } from '../../src/index.js';
import { exec, q, rowsOf, type AnopeNames } from './sql.js';
import type { AnopeTypeRegistry } from './type-registry.js';

/** How long a sample of the object counts is reused, ms. */
export const OBJECT_COUNT_CACHE_MS = 10_000;

/** Counts of objects by type, read at most once per {@link OBJECT_COUNT_CACHE_MS}. */
export class ObjectCounts {
  private sample?: { at: number; counts: Promise<Map<string, number>> };

  /**
   * @param db - the database
   * @param names - the plugin's table names
   * @param now - the clock (ms since the epoch)
   */
  constructor(
    private readonly db: Knex,
    private readonly names: AnopeNames,
    private readonly now: () => number = Date.now,
  ) {}

  /** The counts by type name (types with no object are absent). */
  counts(): Promise<Map<string, number>> {
    const at = this.now();
    if (this.sample && at - this.sample.at < OBJECT_COUNT_CACHE_MS) return this.sample.counts;
    const counts = this.read();
    this.sample = { at, counts };
    // A failed read is not reused: the next scrape tries again.
    counts.catch(() => {
      if (this.sample?.counts === counts) this.sample = undefined;
    });
    return counts;
  }

  private async read(): Promise<Map<string, number>> {
    const rows = rowsOf<{ type: string; n: unknown }>(await exec(this.db, `SELECT type, COUNT(*) AS n FROM ${q(this.names.objects)} GROUP BY type`));
    return new Map(rows.map((r) => [String(r.type), Number(r.n)]));
  }
}

/** Registers the gauge: one series per registered type (0 when it has no object). */
export function registerObjectMetrics(ctx: PluginContext<unknown>, registry: AnopeTypeRegistry, counts: ObjectCounts): Gauge<'type'> {
  return ctx.metrics.gauge({
    name: 'objects',
    help: `Objects by type (registered types only), sampled from the database at scrape at most every ${OBJECT_COUNT_CACHE_MS / 1000} s.`,
    labelNames: ['type'],
    collect: async (gauge) => {
      const byType = await counts.counts();
      gauge.reset();
      for (const type of registry.names()) gauge.set({ type }, byType.get(type) ?? 0);
    },
  });
}
