/**
 * The outbox's lane indexes (kernel migration 004): a lane's queued deliveries and its head
 * each have a partial index, and the old index of every row by (ordering_key, status, id) is
 * gone. On SQLite the statement that gives lanes their next head finds both through them (an
 * index seek each, not a scan). The migration's `down` puts the old index back.
 */
import t from 'tap';
import type { Knex } from 'knex';
import { dialectOf } from '../../src/db/dialect.js';
import { kernelMigrations } from '../../src/db/kernel-migrations.js';
import { migrationContext } from '../../src/db/migrations.js';
import { Lanes } from '../../src/outbox/lanes.js';
import { databaseKinds, startTestKernel } from '../../src/testing/index.js';

/** The outbox table's indexes: name → definition. */
async function indexes(db: Knex): Promise<Map<string, string>> {
  if (dialectOf(db).name === 'sqlite') {
    const rows = (await db.raw(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'swb_outbox' AND sql IS NOT NULL`)) as Array<{ name: string; sql: string }>;
    return new Map(rows.map((r) => [r.name, r.sql]));
  }
  const result = (await db.raw(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'swb_outbox'`)) as { rows: Array<{ indexname: string; indexdef: string }> };
  return new Map(result.rows.map((r) => [r.indexname, r.indexdef]));
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: lanes have a partial index for their queue and one for their head`, async (t) => {
    const sb = await startTestKernel({ database: kind, plugins: [] });
    t.teardown(sb.close);
    const db = sb.kernel.db;

    const after = await indexes(db);
    t.notOk(after.has('swb_outbox_order'), 'the index of every row by lane is gone');
    t.match(after.get('swb_outbox_queued'), /\(ordering_key, id\) WHERE .*status.* = 'queued'/, 'queued deliveries by lane, in order');
    t.match(after.get('swb_outbox_heads'), /\(ordering_key\) WHERE .*status.*(IN \('pending', 'delivering'\)|ANY)/, 'lane heads by lane');

    if (kind === 'sqlite') {
      // The very statement the outbox runs, through EXPLAIN QUERY PLAN.
      const plan: string[] = [];
      const explaining = { rows: async <T>(sql: string, bindings: readonly unknown[]) => {
        const steps = (await db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as Knex.RawBinding[])) as Array<{ detail: string }>;
        plan.push(...steps.map((s) => s.detail));
        return [] as T[];
      } };
      await new Lanes('swb_outbox', dialectOf(db)).advance(explaining, ['http://example.test/a', 'http://example.test/b']);
      t.ok(plan.some((step) => /SEARCH q USING (COVERING )?INDEX swb_outbox_queued/.test(step)), `a lane's oldest queued delivery is an index seek (${plan.join('; ')})`);
      t.ok(plan.some((step) => /SEARCH p USING (COVERING )?INDEX swb_outbox_heads/.test(step)), 'whether a lane has a head is an index seek');
      t.notOk(plan.some((step) => /^SCAN (swb_outbox|q|p)\b/.test(step)), 'nothing scans the table');
    }

    const migration = kernelMigrations.find((m) => m.name === '004_outbox_lane_indexes')!;
    await db.transaction((trx) => migration.down!(trx, migrationContext(trx, 'swb_')));
    const before = await indexes(db);
    t.ok(before.has('swb_outbox_order') && !before.has('swb_outbox_queued') && !before.has('swb_outbox_heads'), 'down puts the old index back');
    await db.transaction((trx) => migration.up(trx, migrationContext(trx, 'swb_')));
    t.same([...(await indexes(db)).keys()].sort(), [...after.keys()].sort(), 'and up again gives the same indexes');
  });
}
