/**
 * Owncast, on the standalone server over SQLite with all five plugins running:
 *
 * - `GET /api/status` throughput (target ≥ 0.8 of bare Express, p99 ≤ 4 × p50);
 * - an integration chat send (`POST /api/integrations/chat/user`) with 10 CHAT webhooks
 *   whose local receivers take 1 s to answer, against the same with receivers that answer at
 *   once (target: slow ≥ 0.8 × fast — deliveries go through the durable outbox, so a slow
 *   receiver must not slow the sender);
 * - the chat history (`GET /api/chat`, and the uncached history query timed in-process) over
 *   one database grown from 1k to 10k, 100k and 1M stored messages (bulk SQL, see
 *   `../bulk-seed.ts`); targets: flat, the largest size's time per request ≤ 1.5 × the one
 *   ten times smaller (`GET /api/chat` is measured against bare Express in interleaved pairs
 *   at those two sizes), and `GET /api/chat` at the largest ≥ 0.8 of bare Express, p99 ≤ 4 × p50;
 * - hiding then showing the newest 10k messages with one `updatemessagevisibility` request,
 *   at the same sizes (the largest ≤ 12 × the one ten times smaller).
 *
 * The databases are seeded beforehand through an in-process kernel on the same file, with the
 * plugin's own services (access token, webhooks) or bulk SQL (messages).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kernel } from '../../../src/index.js';
import { owncastPlugin, OwncastTokens, type Owncast } from '../../../plugins/owncast/index.js';
import { seedOwncastMessages } from '../bulk-seed.js';
import { allPlugins, atLeast, atMost, median, type BenchContext, type Figure, type LoadResult, type Scenario } from '../harness.js';

const KEY = 'bench-owncast-stream-key';
const ADMIN = { Authorization: `Basic ${Buffer.from(`admin:${KEY}`).toString('base64')}`, 'Content-Type': 'application/json' };
const WEBHOOKS = 10;

/** Runs `fn` with the plugin's services of an in-process kernel on `url`. */
async function withOwncast<T>(url: string, fn: (owncast: Owncast) => Promise<T>): Promise<T> {
  const kernel = new Kernel({
    database: url,
    logger: { level: 'warn', destination: process.stderr },
    plugins: [{ plugin: owncastPlugin, config: { streamKey: KEY } }],
    outbox: { allow: ['127.0.0.0/8'] },
  });
  await kernel.prepare('cli');
  try {
    return await fn(kernel.context('owncast').container.resolve<Owncast>(OwncastTokens.Owncast));
  } finally {
    await kernel.stop();
  }
}

/** Local webhook receivers answering 200 after `delayMs`. */
async function receivers(count: number, delayMs: number): Promise<{ urls: string[]; received: () => number; close(): Promise<void> }> {
  let received = 0;
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          received++;
          const answer = () => res.writeHead(200).end('ok');
          if (delayMs > 0) setTimeout(answer, delayMs).unref();
          else answer();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return server;
    }),
  );
  return {
    urls: servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`),
    received: () => received,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      );
    },
  };
}

function serverConfig(url: string) {
  return {
    database: { url },
    webhooks: { allow: ['127.0.0.0/8'] },
    plugins: allPlugins({ owncast: { streamKey: KEY } }),
  };
}

/** The chat send with 10 webhooks whose receivers answer after `delayMs`. */
async function chatSend(ctx: BenchContext, delayMs: number, label: string): Promise<{ rps: number; p50: number; p99: number; delivered: number }> {
  const url = `sqlite:${ctx.scratch(`owncast-send-${label}`)}/db.sqlite`;
  const hooks = await receivers(WEBHOOKS, delayMs);
  try {
    const token = await withOwncast(url, async (owncast) => {
      for (const hook of hooks.urls) await owncast.webhooks.create(hook, ['CHAT']);
      return (await owncast.tokens.create('bench', ['CAN_SEND_MESSAGES'])).token;
    });
    const server = await ctx.startServer('standalone', serverConfig(url));
    try {
      const options = {
        url: `${server.url}/api/integrations/chat/user`,
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ user: 'bench', body: 'hello from the **benchmark**' }),
      };
      const probe = await fetch(options.url, { method: 'POST', headers: options.headers, body: options.body });
      if (probe.status !== 200) throw new Error(`chat send answered ${probe.status}: ${await probe.text()}`);
      await ctx.warm({ ...options, ...(ctx.quick ? { amount: 100 } : {}) });
      const r = await ctx.load({ ...options, ...(ctx.quick ? { duration: 1 } : {}) });
      if (r.failures > 0) throw new Error(`chat send (${label} receivers): ${r.failures} failed requests`);
      return { ...r, delivered: hooks.received() };
    } finally {
      await server.stop();
    }
  } finally {
    await hooks.close();
  }
}

/**
 * Grows the message table from `from` to `size` CHAT messages (bulk SQL, one transaction;
 * the new ones spread over an hour ending three hours ago, after every older one), then times
 * the uncached history query in-process. Answers the ids of the newest 10k messages.
 */
async function growMessages(url: string, from: number, size: number): Promise<{ newest: string[]; queryMs: number }> {
  const kernel = new Kernel({ database: url, logger: { level: 'warn', destination: process.stderr }, plugins: [{ plugin: owncastPlugin, config: { streamKey: KEY } }] });
  await kernel.prepare('cli');
  try {
    const ctx = kernel.context('owncast');
    const table = ctx.table('messages');
    const now = Date.now();
    await seedOwncastMessages(ctx.db, table, from, size - from, now - 4 * 3_600_000, now - 3 * 3_600_000);
    const rows = (await ctx.db(table).select('id').orderBy('seq', 'desc').limit(10_000)) as Array<{ id: string }>;
    // The uncached history query (what /api/chat runs once per refresh interval).
    const owncast = ctx.container.resolve<Owncast>(OwncastTokens.Owncast);
    const check = await owncast.messages.recent(5 * 3_600_000, 50);
    if (check.length !== 50 || check[49].id !== rows[0].id) throw new Error('the history query does not answer the newest messages');
    // Five batches of 100 queries; the median batch's mean (one batch disturbed by the
    // machine's other work does not move it).
    const means: number[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < 100; i++) await owncast.messages.recent(5 * 3_600_000, 50);
      means.push(Number(process.hrtime.bigint() - started) / 1e6 / 100);
    }
    const queryMs = median(means);
    return { newest: rows.map((r) => r.id).reverse(), queryMs };
  } finally {
    await kernel.stop();
  }
}

/** The owncast scenario (export name for `scenarios/index.ts`: `owncastScenario`). */
export const owncastScenario: Scenario = {
  name: 'owncast',
  async run(ctx) {
    const figures: Figure[] = [];
    const push = (f: Omit<Figure, 'scenario'>) => figures.push({ scenario: 'owncast', ...f });

    // 1. GET /api/status.
    {
      const url = `sqlite:${ctx.scratch('owncast-status')}/db.sqlite`;
      await withOwncast(url, async (owncast) => {
        await owncast.broadcasts.start({ remoteAddr: '127.0.0.1', streamDetails: { width: 1280, height: 720 } });
      });
      const server = await ctx.startServer('standalone', serverConfig(url));
      try {
        const target = `${server.url}/api/status`;
        const body = (await (await fetch(target)).json()) as { online: boolean };
        if (body.online !== true) throw new Error(`/api/status: ${JSON.stringify(body)}`);
        const r = await ctx.versusExpress({ url: target });
        if (r.failures > 0) throw new Error(`GET /api/status: ${r.failures} failed requests`);
        const ratio = r.ratio;
        push({ name: 'GET /api/status', value: r.rps, unit: 'req/s', ratio, p50: r.p50, p99: r.p99, ...atLeast(ratio, 0.8) });
        const spread = r.p99 / Math.max(r.p50, 1);
        push({ name: 'GET /api/status p99 / p50', value: spread, unit: 'x', ...atMost(spread, 4) });
      } finally {
        await server.stop();
      }
    }

    // 2. Integration chat send, 10 webhooks: receivers taking 1 s against fast receivers.
    {
      ctx.log('owncast: chat send with 10 slow webhook receivers');
      const slow = await chatSend(ctx, 1000, 'slow');
      ctx.log('owncast: chat send with 10 fast webhook receivers');
      const fast = await chatSend(ctx, 0, 'fast');
      push({ name: 'chat send, 10 webhooks, receivers take 1 s', value: slow.rps, unit: 'req/s', ratio: slow.rps / ctx.express.rps, p50: slow.p50, p99: slow.p99, ...atLeast(slow.rps, 1000) });
      push({ name: 'chat send, 10 webhooks, fast receivers', value: fast.rps, unit: 'req/s', ratio: fast.rps / ctx.express.rps, p50: fast.p50, p99: fast.p99, ...atLeast(fast.rps, 1000) });
      const ratio = slow.rps / fast.rps;
      push({ name: 'chat send: slow / fast receivers', value: ratio, unit: 'x', ...atLeast(ratio, 0.8) });
      push({ name: 'webhooks delivered during the fast run', value: fast.delivered, unit: 'requests' });
    }

    // 3 and 4. History and visibility at 1k, 10k, 100k and 1M messages (one database, grown).
    {
      const url = `sqlite:${ctx.scratch('owncast-history')}/db.sqlite`;
      const sizes = ctx.quick ? [1000, 10_000] : [1000, 10_000, 100_000, 1_000_000];
      const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
      const steadySizes = sizes.slice(-2);
      const history = new Map<number, { rps: number; ratio: number; p50: number; p99: number; queryMs: number; visibilityMs: number }>();
      let stored = 0;
      for (const size of sizes) {
        ctx.log(`owncast: ${size} messages`);
        const seedStarted = Date.now();
        const seeded = await growMessages(url, stored, size);
        ctx.log(`owncast: seeded in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
        stored = size;
        const server = await ctx.startServer('standalone', serverConfig(url));
        try {
          const target = `${server.url}/api/chat`;
          const list = (await (await fetch(target)).json()) as Array<{ id: string }>;
          if (list.length !== 50 || list[49].id !== seeded.newest[seeded.newest.length - 1]) throw new Error(`/api/chat returned ${list.length} messages, not the newest`);
          // The two largest sizes: against Express in interleaved pairs (their ratio of ratios is
          // the change of time per request, whatever the machine's load does meanwhile).
          let r: LoadResult & { ratio: number };
          if (steadySizes.includes(size)) r = await ctx.versusExpress({ url: target });
          else {
            await ctx.warm({ url: target });
            const plain = await ctx.load({ url: target, duration: ctx.quick ? 1 : Math.min(ctx.duration, 3) });
            r = { ...plain, ratio: plain.rps / ctx.express.rps };
          }
          if (r.failures > 0) throw new Error(`GET /api/chat: ${r.failures} failed requests`);
          // Hide, then show, 10k ids (the newest ones), timed.
          const batch = JSON.stringify({ idArray: seeded.newest, visible: false });
          const again = JSON.stringify({ idArray: seeded.newest, visible: true });
          const rounds = ctx.quick ? 2 : 4;
          const started = Date.now();
          for (let i = 0; i < rounds; i++) {
            const res = await fetch(`${server.url}/api/admin/chat/updatemessagevisibility`, { method: 'POST', headers: ADMIN, body: i % 2 === 0 ? batch : again });
            if (res.status !== 200) throw new Error(`updatemessagevisibility answered ${res.status}: ${await res.text()}`);
          }
          const visibilityMs = (Date.now() - started) / rounds;
          const ratio = r.ratio;
          history.set(size, { rps: r.rps, ratio, p50: r.p50, p99: r.p99, queryMs: seeded.queryMs, visibilityMs });
          push({ name: `GET /api/chat, ${label(size)} messages`, value: r.rps, unit: 'req/s', ratio, p50: r.p50, p99: r.p99 });
          push({ name: `history query (uncached), ${label(size)} messages`, value: seeded.queryMs, unit: 'ms' });
          push({ name: `visibility update of ${label(seeded.newest.length)} ids, ${label(size)} messages`, value: visibilityMs, unit: 'ms' });
        } finally {
          await server.stop();
        }
      }
      // The two largest sizes: the same requests, ten times the rows.
      const [small, large] = steadySizes;
      const big = history.get(large)!;
      const mid = history.get(small)!;
      const scale = `${label(large)} / ${label(small)}`;
      const query = big.queryMs / mid.queryMs;
      push({ name: `history query: ${scale}`, value: query, unit: 'x', ...atMost(query, 1.5) });
      const vis = big.visibilityMs / mid.visibilityMs;
      // Round one's bound (the issue's flat targets are the reads); only when both sizes updated
      // as many ids (`--quick`'s 1k has only 1k messages). Measured 0.6-1.7x at 1M / 100k.
      const sameIds = small >= 10_000;
      push({ name: `visibility update of 10k ids: ${scale} messages`, value: vis, unit: 'x', ...(sameIds ? atMost(vis, 12) : {}) });
      const perRequest = mid.ratio / big.ratio;
      push({ name: `GET /api/chat time per request: ${scale}`, value: perRequest, unit: 'x', ...atMost(perRequest, 1.5) });
      push({ name: `GET /api/chat, ${label(large)} messages: ratio to Express`, value: big.ratio, unit: 'x', ...atLeast(big.ratio, 0.8) });
      const spread = big.p99 / Math.max(big.p50, 1);
      push({ name: `GET /api/chat, ${label(large)} messages: p99 / p50`, value: spread, unit: 'x', ...atMost(spread, 4) });
    }
    return figures;
  },
};
