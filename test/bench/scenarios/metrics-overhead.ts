/**
 * What the kernel's Prometheus metrics cost the kernel route: the trivial validated route
 * with metrics on (the default) and with `metrics: false`, measured in alternating pairs.
 * The cost is 1 − (throughput with metrics / throughput without), in %; target ≤ 3 %.
 */
import { atMost, type LoadResult, type Scenario } from '../harness.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The largest share of the kernel route's throughput the metrics may cost, %. */
export const METRICS_OVERHEAD_TARGET_PERCENT = 3;

export const metricsOverheadScenario: Scenario = {
  name: 'metrics-overhead',
  async run(ctx) {
    const on = await ctx.startServer('kernel');
    const off = await ctx.startServer('kernel', { metrics: false });
    try {
      const url = (s: { url: string }) => `${s.url}/bench/10`;
      await ctx.warm({ url: url(on) });
      await ctx.warm({ url: url(off) });
      const withMetrics: LoadResult[] = [];
      const without: LoadResult[] = [];
      const ratios: number[] = [];
      const duration = ctx.quick ? 1 : 3;
      for (let i = 0; i < (ctx.quick ? 4 : 6); i++) {
        // Alternate which goes first, so drift on a shared machine does not favour one side.
        const first = i % 2 === 0 ? on : off;
        const a = await ctx.load({ url: url(first), duration });
        const b = await ctx.load({ url: url(first === on ? off : on), duration });
        const [m, n] = first === on ? [a, b] : [b, a];
        withMetrics.push(m);
        without.push(n);
        ratios.push(m.rps / n.rps);
      }
      const rps = (list: LoadResult[]) => median(list.map((r) => r.rps));
      const cost = (1 - median(ratios)) * 100;
      ctx.log(`metrics-overhead: ${rps(withMetrics).toFixed(0)} req/s with metrics, ${rps(without).toFixed(0)} without: cost ${cost.toFixed(1)} %`);
      return [
        { scenario: 'metrics-overhead', name: 'kernel route, metrics on (default)', value: rps(withMetrics), unit: 'req/s', ratio: rps(withMetrics) / ctx.express.rps, p50: median(withMetrics.map((r) => r.p50)), p99: median(withMetrics.map((r) => r.p99)) },
        { scenario: 'metrics-overhead', name: 'kernel route, metrics: false', value: rps(without), unit: 'req/s', ratio: rps(without) / ctx.express.rps, p50: median(without.map((r) => r.p50)), p99: median(without.map((r) => r.p99)) },
        { scenario: 'metrics-overhead', name: 'throughput cost of the metrics', value: cost, unit: '%', ...atMost(cost, METRICS_OVERHEAD_TARGET_PERCENT, ' %') },
      ];
    } finally {
      await on.stop();
      await off.stop();
    }
  },
};
