/**
 * opsdroid: `GET /stats/` throughput on the standalone server (SQLite), with all five
 * plugins running. The database is seeded beforehand with the stats rows of 50
 * earlier instances, so the endpoint reports a real sum; it must stay ≥ 0.8 of a bare
 * Express route's throughput with p99 ≤ 4 × p50 (issue 17).
 */
import { Kernel } from '../../../src/index.js';
import { opsdroidPlugin } from '../../../plugins/opsdroid/index.js';
import { allPlugins, atLeast, atMost, type Scenario } from '../harness.js';


/** Seeds stats rows of earlier instances through an in-process kernel on the same file. */
async function seed(url: string, instances: number): Promise<number> {
  const kernel = new Kernel({ database: url, logger: { level: 'warn', destination: process.stderr }, plugins: [opsdroidPlugin] });
  await kernel.prepare('cli');
  try {
    const ctx = kernel.context('opsdroid');
    const rows = Array.from({ length: instances }, (_, i) => ({
      instance_id: `bench-seed-${i}`,
      messages_parsed: 1000 + i,
      webhooks_called: 10 + i,
      total_responses: 900 + i,
      total_response_time: (900 + i) * 0.004,
      updated_at: new Date().toISOString(),
    }));
    await ctx.db(ctx.table('stats')).insert(rows);
    return rows.reduce((n, r) => n + r.messages_parsed, 0);
  } finally {
    await kernel.stop();
  }
}

/** The opsdroid scenario. */
export const opsdroidScenario: Scenario = {
  name: 'opsdroid',
  async run(ctx) {
    const url = `sqlite:${ctx.scratch('opsdroid')}/db.sqlite`;
    const seeded = await seed(url, ctx.quick ? 10 : 50);
    const server = await ctx.startServer('standalone', { database: { url }, plugins: allPlugins({ opsdroid: {} }) });
    try {
      const target = `${server.url}/stats/`;
      const body = (await (await fetch(target)).json()) as { messages: { total_parsed: number } };
      // The seeded rows plus the server's own "started" event.
      if (body.messages.total_parsed !== seeded + 1) throw new Error(`/stats/ reports ${body.messages.total_parsed} parsed, expected ${seeded + 1}`);
      const r = await ctx.versusExpress({ url: target });
      if (r.failures > 0) throw new Error(`${r.failures} failed requests on GET /stats/`);
      const ratio = r.ratio;
      return [
        { scenario: 'opsdroid', name: 'GET /stats/', value: r.rps, unit: 'req/s', ratio, p50: r.p50, p99: r.p99, ...atLeast(ratio, 0.8) },
        { scenario: 'opsdroid', name: 'GET /stats/ p99 / p50', value: r.p99 / Math.max(r.p50, 1), unit: 'x', ...atMost(r.p99 / Math.max(r.p50, 1), 4) },
      ];
    } finally {
      await server.stop();
    }
  },
};
