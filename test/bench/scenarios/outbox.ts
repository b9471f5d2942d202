/**
 * The durable outbox: deliveries per second to a local receiver, and the latency of an
 * endpoint that enqueues (one delivery to each of 10 receivers per request) when the
 * receivers answer at once and when they take a second. Enqueueing must not wait for
 * delivery, so slow receivers may cost the endpoint at most 20 %.
 */
import { atMost, median, type BenchContext, type Figure, type LoadResult, type Scenario } from '../harness.js';

async function waitDelivered(ctx: BenchContext, url: string, total: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const stats = (await (await fetch(`${url}/stats`)).json()) as { delivered: number };
    if (stats.delivered >= total) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`only ${stats.delivered} of ${total} delivered`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const outboxScenario: Scenario = {
  name: 'outbox',
  async run(ctx) {
    const figures: Figure[] = [];
    // 1. Throughput of delivery: N enqueued at once to one fast receiver (one ordered lane)
    //    and to 10 receivers (ten lanes in parallel).
    for (const lanes of [1, 10]) {
      const receivers = await Promise.all(Array.from({ length: lanes }, () => ctx.startServer('receiver', { delayMs: 0 })));
      const server = await ctx.startServer('outbox', { targets: receivers.map((r) => `${r.url}/hook`), database: `sqlite:${ctx.scratch('outbox')}/db.sqlite` });
      try {
        const requests = ctx.quick ? 200 : 1000;
        const started = Date.now();
        await ctx.load({ url: `${server.url}/enqueue`, method: 'POST', amount: requests, connections: 10 });
        const ms = (Date.now() - started) + (await waitDelivered(ctx, server.url, requests * lanes, 120_000));
        figures.push({ scenario: 'outbox', name: `deliveries/s, ${lanes} receiver${lanes > 1 ? 's' : ''} (${requests * lanes} deliveries)`, value: (requests * lanes * 1000) / ms, unit: 'deliv/s' });
      } finally {
        await server.stop();
        await Promise.all(receivers.map((r) => r.stop()));
      }
    }
    // 2. The enqueueing endpoint with fast and with 1 s receivers. Each measurement gets a
    //    fresh server and database (a backlog or a busy worker left by the previous one must
    //    not weigh on the next), and the two kinds alternate, so drifting machine load hits
    //    both alike; medians are reported.
    const receivers = {
      fast: await Promise.all(Array.from({ length: 10 }, () => ctx.startServer('receiver', { delayMs: 0 }))),
      slow: await Promise.all(Array.from({ length: 10 }, () => ctx.startServer('receiver', { delayMs: 1000 }))),
    };
    const runs: Record<'fast' | 'slow', LoadResult[]> = { fast: [], slow: [] };
    try {
      for (let i = 0; i < (ctx.quick ? 2 : 3); i++) {
        for (const kind of ['fast', 'slow'] as const) {
          const server = await ctx.startServer('outbox', { targets: receivers[kind].map((r) => `${r.url}/hook`), database: `sqlite:${ctx.scratch('outbox')}/db.sqlite` });
          try {
            await ctx.load({ url: `${server.url}/enqueue`, method: 'POST', duration: 1, connections: 10 });
            runs[kind].push(await ctx.load({ url: `${server.url}/enqueue`, method: 'POST', connections: 10, duration: ctx.quick ? 2 : 4 }));
          } finally {
            await server.stop();
          }
        }
      }
    } finally {
      await Promise.all([...receivers.fast, ...receivers.slow].map((r) => r.stop()));
    }
    const summary = (kind: 'fast' | 'slow') => ({ rps: median(runs[kind].map((r) => r.rps)), p50: median(runs[kind].map((r) => r.p50)), p99: median(runs[kind].map((r) => r.p99)) });
    const fast = summary('fast');
    const slow = summary('slow');
    for (const [label, r] of [['fast', fast], ['slow (1 s)', slow]] as const) {
      figures.push({ scenario: 'outbox', name: `enqueue endpoint, 10 ${label} receivers`, value: r.rps, unit: 'req/s', ratio: r.rps / ctx.express.rps, p50: r.p50, p99: r.p99 });
    }
    const slowdown = Math.max(slow.p50 / Math.max(fast.p50, 0.1), fast.rps / slow.rps);
    figures.push({ scenario: 'outbox', name: 'slow receivers vs fast: slowdown of the endpoint', value: slowdown, unit: 'x', ...atMost(slowdown, 1.2) });
    return figures;
  },
};
