/**
 * The cost of running without `Object.prototype.__proto__` (what the standalone server does,
 * as `node --disable-proto=delete` would): the kernel's trivial validated route with and
 * without the accessor, measured in alternating pairs. The ratio is throughput without the
 * accessor over throughput with it (1.00 = no cost). No target: it is reported, not gated.
 */
import type { LoadResult, Scenario } from '../harness.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export const disableProtoScenario: Scenario = {
  name: 'disable-proto',
  async run(ctx) {
    const kept = await ctx.startServer('kernel');
    const deleted = await ctx.startServer('kernel', { disableProto: true });
    try {
      const url = (s: { url: string }) => `${s.url}/bench/10`;
      await ctx.warm({ url: url(kept) });
      await ctx.warm({ url: url(deleted) });
      const withAccessor: LoadResult[] = [];
      const without: LoadResult[] = [];
      const ratios: number[] = [];
      const duration = ctx.quick ? 1 : 3;
      for (let i = 0; i < (ctx.quick ? 2 : 4); i++) {
        // Alternate which goes first, so drift on a shared machine does not favour one side.
        const first = i % 2 === 0 ? kept : deleted;
        const a = await ctx.load({ url: url(first), duration });
        const b = await ctx.load({ url: url(first === kept ? deleted : kept), duration });
        const [k, d] = first === kept ? [a, b] : [b, a];
        withAccessor.push(k);
        without.push(d);
        ratios.push(d.rps / k.rps);
      }
      const rps = (list: LoadResult[]) => median(list.map((r) => r.rps));
      const ratio = median(ratios);
      ctx.log(`disable-proto: ${rps(without).toFixed(0)} req/s without __proto__, ${rps(withAccessor).toFixed(0)} with it (ratio ${ratio.toFixed(3)})`);
      return [
        { scenario: 'disable-proto', name: 'kernel route, with Object.prototype.__proto__', value: rps(withAccessor), unit: 'req/s', ratio: rps(withAccessor) / ctx.express.rps, p50: median(withAccessor.map((r) => r.p50)), p99: median(withAccessor.map((r) => r.p99)) },
        { scenario: 'disable-proto', name: 'kernel route, __proto__ deleted (standalone)', value: rps(without), unit: 'req/s', ratio: rps(without) / ctx.express.rps, p50: median(without.map((r) => r.p50)), p99: median(without.map((r) => r.p99)) },
        { scenario: 'disable-proto', name: 'throughput without / with __proto__', value: ratio, unit: '×' },
      ];
    } finally {
      await kept.stop();
      await deleted.stop();
    }
  },
};
