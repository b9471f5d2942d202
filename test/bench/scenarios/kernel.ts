/**
 * Kernel overhead: a trivial plugin route with a validated path parameter, against the bare
 * Express route (same response body). Targets (issue 17): ≥ 1.0 of Express's throughput,
 * p99 ≤ 4 × p50.
 */
import { atLeast, atMost, type Scenario } from '../harness.js';

export const kernelScenario: Scenario = {
  name: 'kernel',
  async run(ctx) {
    const server = await ctx.startServer('kernel');
    try {
      const r = await ctx.versusExpress({ url: `${server.url}/bench/10` });
      const ratio = r.ratio;
      const spread = r.p99 / Math.max(r.p50, 1);
      return [
        { scenario: 'kernel', name: 'validated plugin route', value: r.rps, unit: 'req/s', ratio, p50: r.p50, p99: r.p99, ...atLeast(ratio, 1.0) },
        { scenario: 'kernel', name: 'validated plugin route: p99 / p50', value: spread, unit: 'x', ...atMost(spread, 4) },
      ];
    } finally {
      await server.stop();
    }
  },
};
