/**
 * redball: `GET /api/v1/bots?apikey=…` (the bot list with status and detailedState, 50 bots)
 * on the standalone server over SQLite, against the bare Express route of the same run
 * (targets, issue 17: ≥ 0.8 of Express, p99 ≤ 4 × p50), and for information `GET /api/v1/bots/1` (one
 * bot with its settings).
 *
 * The database is seeded beforehand through an in-process kernel on the same file, with the
 * plugin's own stores (bots with settings and a published detailedState).
 */
import { Kernel } from '../../../src/index.js';
import { BotConfigStore, BotStore, redballPlugin, RunStore } from '../../../plugins/redball/index.js';
import { allPlugins, atLeast, atMost, type Figure, type Scenario } from '../harness.js';

const KEY = 'bench-redball-key-0123456789abcdef';
const BOTS = 50;

async function seed(url: string): Promise<void> {
  const kernel = new Kernel({ database: url, logger: { level: 'warn', destination: process.stderr }, plugins: [{ plugin: redballPlugin, config: { apiKeys: [KEY] } }] });
  await kernel.prepare('cli');
  try {
    const c = kernel.context('redball').container;
    const bots = c.resolve(BotStore);
    const config = c.resolve(BotConfigStore);
    const runs = c.resolve(RunStore);
    for (let i = 1; i <= BOTS; i++) {
      const id = await bots.create({ name: `bench-bot-${i}`, botType: 1, autoRun: false, redditAuth: null });
      await config.write(
        id,
        [
          { category: 'Heartbeat', key: 'INTERVAL_MS', val: 5000, description: 'Beat interval', type: 'int', options: [], subkeys: [], parent_key: '' },
          { category: 'Heartbeat', key: 'MESSAGE', val: `bot ${i}`, description: '', type: 'str', options: [], subkeys: [], parent_key: '' },
        ],
        'replace',
      );
      const text = `bot ${i} #42 at 2026-01-01T00:00:00.000Z`;
      await runs.saveState(id, { summary: { text, html: `<p>${text}</p>`, markdown: text }, heartbeat: { count: 42, at: '2026-01-01T00:00:00.000Z', intervalMs: 5000 } });
    }
  } finally {
    await kernel.stop();
  }
}

/** The redball scenario (export name for `scenarios/index.ts`: `redballScenario`). */
export const redballScenario: Scenario = {
  name: 'redball',
  async run(ctx) {
    const dir = ctx.scratch('redball');
    const url = `sqlite:${dir}/db.sqlite`;
    ctx.log(`redball: seeding ${BOTS} bots`);
    await seed(url);
    const server = await ctx.startServer('standalone', {
      database: { url },
      plugins: allPlugins({ redball: { apiKeys: [KEY], botsDir: `${dir}/bots` } }),
    });
    const figures: Figure[] = [];
    try {
      const list = `${server.url}/api/v1/bots?apikey=${KEY}`;
      const check = (await (await fetch(list)).json()) as { response: { bots: unknown[] } };
      if (check.response.bots.length !== BOTS) throw new Error(`expected ${BOTS} bots, got ${check.response.bots.length}`);
      // The figure issue 9 sets targets for: the bot list.
      const r = await ctx.versusExpress({ url: list });
      if (r.failures > 0) throw new Error(`GET /api/v1/bots: ${r.failures} failed requests`);
      const ratio = r.ratio;
      const name = `GET /api/v1/bots (${BOTS} bots)`;
      figures.push({ scenario: 'redball', name, value: r.rps, unit: 'req/s', ratio, p50: r.p50, p99: r.p99, ...atLeast(ratio, 0.8) });
      const spread = r.p99 / Math.max(r.p50, 1);
      figures.push({ scenario: 'redball', name: `${name}: p99 / p50`, value: spread, unit: 'x', ...atMost(spread, 4) });
      // For information (not in --quick): one bot with its settings (a settings query per request).
      if (!ctx.quick) {
        const one = `${server.url}/api/v1/bots/1?apikey=${KEY}`;
        await ctx.warm({ url: one });
        const o = await ctx.load({ url: one });
        if (o.failures > 0) throw new Error(`GET /api/v1/bots/1: ${o.failures} failed requests`);
        figures.push({ scenario: 'redball', name: 'GET /api/v1/bots/1 (with settings)', value: o.rps, unit: 'req/s', ratio: o.rps / ctx.express.rps, p50: o.p50, p99: o.p99 });
      }
    } finally {
      await server.stop();
    }
    return figures;
  },
};
