/** Kernel overhead: a trivial validated plugin route against the bare Express route. */
import { atLeast, type Scenario } from '../harness.js';

export const kernelScenario: Scenario = {
  name: 'kernel',
  async run(ctx) {
    const server = await ctx.startServer('kernel');
    try {
      await ctx.load({ url: `${server.url}/bench/10?verbose=true`, duration: 1 });
      const r = await ctx.load({ url: `${server.url}/bench/10?verbose=true` });
      const ratio = r.rps / ctx.express.rps;
      return [{ scenario: 'kernel', name: 'validated plugin route', value: r.rps, unit: 'req/s', ratio, p50: r.p50, p99: r.p99, ...atLeast(ratio, 0.9) }];
    } finally {
      await server.stop();
    }
  },
};
