/**
 * The durable outbox: deliveries per second to a local receiver, and the latency of an
 * endpoint that enqueues (one delivery to each of 10 receivers per request) when the
 * receivers answer at once and when they take a second. Enqueueing must not wait for
 * delivery, so slow receivers may cost the endpoint at most 20 %.
 */
import { atMost, type BenchContext, type Figure, type Scenario } from '../harness.js';

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
    // 2. The enqueueing endpoint with fast and with 1 s receivers.
    const latency: Record<string, { rps: number; p50: number; p99: number }> = {};
    for (const [label, delayMs] of [['fast', 0], ['slow (1 s)', 1000]] as const) {
      const receivers = await Promise.all(Array.from({ length: 10 }, () => ctx.startServer('receiver', { delayMs })));
      const server = await ctx.startServer('outbox', { targets: receivers.map((r) => `${r.url}/hook`), database: `sqlite:${ctx.scratch('outbox')}/db.sqlite` });
      try {
        await ctx.load({ url: `${server.url}/enqueue`, method: 'POST', duration: 1, connections: 10 });
        const r = await ctx.load({ url: `${server.url}/enqueue`, method: 'POST', connections: 10 });
        latency[label] = r;
        figures.push({ scenario: 'outbox', name: `enqueue endpoint, 10 ${label} receivers`, value: r.rps, unit: 'req/s', ratio: r.rps / ctx.express.rps, p50: r.p50, p99: r.p99 });
      } finally {
        await server.stop();
        await Promise.all(receivers.map((r) => r.stop()));
      }
    }
    const slow = latency['slow (1 s)'];
    const fast = latency.fast;
    const slowdown = Math.max(slow.p50 / Math.max(fast.p50, 0.1), fast.rps / slow.rps);
    figures.push({ scenario: 'outbox', name: 'slow receivers vs fast: slowdown of the endpoint', value: slowdown, unit: 'x', ...atMost(slowdown, 1.2) });
    return figures;
  },
};
