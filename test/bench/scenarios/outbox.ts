/**
 * The durable outbox: deliveries per second to a local receiver (targets: 500/s on one lane,
 * 2,000/s over ten, on SQLite; on PostgreSQL too when `BENCH_PG_URL` is set, without a
 * target, each lane count in a fresh database that is dropped after), and the latency of an
 * endpoint that enqueues (one delivery to each of 10 receivers per request) when the
 * receivers answer at once and when they take a second. Enqueueing must not wait for
 * delivery, so slow receivers may cost the endpoint at most 20 %. Beside the 1-lane figure,
 * the same measurement of a lane written without Switchboard (outbox-floor.ts): the most this
 * machine gives one lane in that run (three alternating pairs of the two in a full run, and
 * their medians).
 */
import http from 'node:http';
import knexFactory from 'knex';
import { atLeast, atMost, median, type BenchContext, type BenchServer, type Figure, type LoadResult, type Scenario } from '../harness.js';

async function waitDelivered(ctx: BenchContext, url: string, total: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { delivered } = (await (await fetch(`${url}/delivered`)).json()) as { delivered: number };
    if (delivered >= total) {
      const ms = Date.now() - started;
      // Outside the timing: the database holds every one of them as delivered.
      const stored = (await (await fetch(`${url}/stats`)).json()) as { delivered: number };
      if (stored.delivered !== total) throw new Error(`${delivered} deliveries reported, but ${stored.delivered} of ${total} stored as delivered`);
      return ms;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`only ${delivered} of ${total} delivered`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const outboxScenario: Scenario = {
  name: 'outbox',
  async run(ctx) {
    // Receivers: one process answering at once and one answering after a second. Each target
    // URL (`/hook/<n>`) is its own lane, ordered independently, as ten webhooks would be.
    const receivers = { fast: await ctx.startServer('receiver', { delayMs: 0 }), slow: await ctx.startServer('receiver', { delayMs: 1000 }) };
    try {
      return [...(await deliveryThroughput(ctx, receivers.fast)), ...(await enqueueingEndpoint(ctx, receivers))];
    } finally {
      await Promise.all([receivers.fast.stop(), receivers.slow.stop()]);
    }
  },
};

/** Alternating pairs of the 1-lane measurement and its floor in a full run (the medians are reported). */
const ONE_LANE_PAIRS = 3;

/** `n` target URLs on one receiver: `n` lanes. */
function targets(receiver: BenchServer, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${receiver.url}/hook/${i + 1}`);
}

/** Deliveries per second: N events enqueued at once, to one lane and to ten lanes; SQLite, then PostgreSQL when `BENCH_PG_URL` is set. */
async function deliveryThroughput(ctx: BenchContext, receiver: BenchServer): Promise<Figure[]> {
  const figures: Figure[] = [];
  const targetsByLanes = new Map([
    [1, 500],
    [10, 2000],
  ]);
  for (const [lanes, target] of targetsByLanes) {
    const name = `deliveries/s, ${laneText(lanes)} (${deliveries(ctx, lanes)} deliveries)`;
    if (lanes > 1) {
      const value = await deliveriesPerSecond(ctx, receiver, lanes, `sqlite:${ctx.scratch('outbox')}/db.sqlite`);
      figures.push({ scenario: 'outbox', name, value, unit: 'deliv/s', ...atLeast(value, target) });
      continue;
    }
    // One lane, beside the machine's own limit for it measured alike (see outbox-floor.ts):
    // pairs of the two, alternating so that drifting load hits both alike, and the medians
    // (one measurement of one lane spread by ±15 % from run to run).
    const outbox: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < (ctx.quick ? 1 : ONE_LANE_PAIRS); i++) {
      outbox.push(await deliveriesPerSecond(ctx, receiver, lanes, `sqlite:${ctx.scratch('outbox')}/db.sqlite`));
      floor.push(await floorDeliveriesPerSecond(ctx, receiver));
    }
    const value = median(outbox);
    figures.push(
      { scenario: 'outbox', name, value, unit: 'deliv/s', ...atLeast(value, target) },
      { scenario: 'outbox', name: `floor: 1 lane without Switchboard (bare node:http + sqlite3, ${deliveries(ctx, 1)} deliveries)`, value: median(floor), unit: 'deliv/s' },
      { scenario: 'outbox', name: 'deliveries/s, 1 lane: outbox / floor', value: median(outbox.map((v, i) => v / floor[i])), unit: 'x' },
    );
  }
  const pgUrl = process.env.BENCH_PG_URL;
  if (pgUrl) {
    for (const lanes of targetsByLanes.keys()) {
      const value = await withFreshPgDatabase(pgUrl, (url) => deliveriesPerSecond(ctx, receiver, lanes, url));
      figures.push({ scenario: 'outbox', name: `deliveries/s, ${laneText(lanes)}, PostgreSQL (${deliveries(ctx, lanes)} deliveries)`, value, unit: 'deliv/s' });
    }
  }
  return figures;
}

/** Sends `count` empty POSTs to `url` over `connections` keep-alive connections; resolves when all are answered 2xx. */
async function postMany(url: string, count: number, connections: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let sent = 0;
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-length': '0' } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode! < 300 ? resolve() : reject(new Error(`enqueue answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (sent < count) {
          sent++;
          await post();
        }
      }),
    );
  } finally {
    agent.destroy();
  }
}

function laneText(lanes: number): string {
  return `${lanes} lane${lanes > 1 ? 's' : ''}`;
}

function deliveries(ctx: BenchContext, lanes: number): number {
  return (ctx.quick ? 50 : 1000) * lanes;
}

/** One measurement: `requests` enqueueing requests (one delivery per lane each), timed until all are delivered. */
async function deliveriesPerSecond(ctx: BenchContext, receiver: BenchServer, lanes: number, database: string): Promise<number> {
  return timeDeliveries(ctx, await ctx.startServer('outbox', { targets: targets(receiver, lanes), database }), lanes);
}

/** The same measurement of the floor server (one lane). */
async function floorDeliveriesPerSecond(ctx: BenchContext, receiver: BenchServer): Promise<number> {
  return timeDeliveries(ctx, await ctx.startServer('outbox-floor', { file: `${ctx.scratch('outbox-floor')}/db.sqlite`, target: targets(receiver, 1)[0] }), 1);
}

/**
 * Enqueueing requests sent, and their deliveries awaited, before the timing starts: the
 * server's code is compiled and its caches filled, as every HTTP scenario's warm-up does
 * (`ctx.warm`). Without it, the first second of a fresh process was measured: 1 lane took
 * 15–25 % longer, the outbox and the floor alike (docs/performance.md).
 */
const WARM_UP_REQUESTS = { quick: 20, full: 500 };

/**
 * Warms `server` up (see {@link WARM_UP_REQUESTS}), then sends the enqueueing requests and
 * times them until every delivery is done; stops the server.
 */
async function timeDeliveries(ctx: BenchContext, server: BenchServer, lanes: number): Promise<number> {
  try {
    const warmUp = ctx.quick ? WARM_UP_REQUESTS.quick : WARM_UP_REQUESTS.full;
    // Not autocannon: with a fixed number of requests it ends on its next one-second tick, which
    // added up to a second to a run of one or two.
    await postMany(`${server.url}/enqueue`, warmUp, 10);
    await waitDelivered(ctx, server.url, warmUp * lanes, 120_000);
    const requests = ctx.quick ? 50 : 1000;
    const started = Date.now();
    await postMany(`${server.url}/enqueue`, requests, 10);
    const ms = Date.now() - started + (await waitDelivered(ctx, server.url, (warmUp + requests) * lanes, 120_000));
    return (requests * lanes * 1000) / ms;
  } finally {
    await server.stop();
  }
}

/** Runs `fn` with the URL of a new PostgreSQL database on the server of `baseUrl`, dropped afterwards. */
async function withFreshPgDatabase<T>(baseUrl: string, fn: (url: string) => Promise<T>): Promise<T> {
  const name = `swb_bench_outbox_${process.pid}_${Date.now()}`;
  const admin = knexFactory({ client: 'pg', connection: baseUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE ${name}`);
    try {
      const url = new URL(baseUrl);
      url.pathname = `/${name}`;
      return await fn(url.toString());
    } finally {
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.destroy();
  }
}

/**
 * The enqueueing endpoint (one event to 10 webhooks per request) with fast and with 1 s
 * receivers. Each measurement gets a fresh server and database (a backlog or a busy worker
 * left by the previous one must not weigh on the next), and the two kinds alternate, so
 * drifting machine load hits both alike; medians are reported.
 */
async function enqueueingEndpoint(ctx: BenchContext, receivers: Record<'fast' | 'slow', BenchServer>): Promise<Figure[]> {
  const runs: Record<'fast' | 'slow', LoadResult[]> = { fast: [], slow: [] };
  for (let i = 0; i < (ctx.quick ? 1 : 3); i++) {
    for (const kind of ['fast', 'slow'] as const) {
      const server = await ctx.startServer('outbox', { targets: targets(receivers[kind], 10), database: `sqlite:${ctx.scratch('outbox')}/db.sqlite` });
      try {
        await ctx.warm({ url: `${server.url}/enqueue`, method: 'POST', connections: 10, ...(ctx.quick ? { amount: 100 } : {}) });
        runs[kind].push(await ctx.load({ url: `${server.url}/enqueue`, method: 'POST', connections: 10, duration: ctx.quick ? 1 : 4 }));
      } finally {
        await server.stop();
      }
    }
  }
  const summary = (kind: 'fast' | 'slow') => ({ rps: median(runs[kind].map((r) => r.rps)), p50: median(runs[kind].map((r) => r.p50)), p99: median(runs[kind].map((r) => r.p99)) });
  const fast = summary('fast');
  const slow = summary('slow');
  const figures: Figure[] = [];
  for (const [label, r] of [['fast', fast], ['slow (1 s)', slow]] as const) {
    figures.push({ scenario: 'outbox', name: `enqueue endpoint, 10 ${label} receivers`, value: r.rps, unit: 'req/s', ratio: r.rps / ctx.express.rps, p50: r.p50, p99: r.p99 });
  }
  const slowdown = Math.max(slow.p50 / Math.max(fast.p50, 0.1), fast.rps / slow.rps);
  figures.push({ scenario: 'outbox', name: 'slow receivers vs fast: slowdown of the endpoint', value: slowdown, unit: 'x', ...atMost(slowdown, 1.2) });
  return figures;
}
