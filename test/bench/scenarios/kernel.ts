/**
 * Kernel overhead: a trivial plugin route with a validated path parameter, against the bare
 * Express route (same response body). Target: ≥ 0.90 of Express's throughput.
 */
import { atLeast, type Scenario } from '../harness.js';

export const kernelScenario: Scenario = {
  name: 'kernel',
  async run(ctx) {
    const server = await ctx.startServer('kernel');
    try {
      const r = await ctx.versusExpress({ url: `${server.url}/bench/10` });
      const ratio = r.ratio;
      return [{ scenario: 'kernel', name: 'validated plugin route', value: r.rps, unit: 'req/s', ratio, p50: r.p50, p99: r.p99, ...atLeast(ratio, 0.9) }];
    } finally {
      await server.stop();
    }
  },
};
