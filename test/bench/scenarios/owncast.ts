/**
 * Owncast, on the standalone server over SQLite with all five plugins running:
 *
 * - `GET /api/status` throughput (target ≥ 0.5 of bare Express, p99 < 5 × p50);
 * - an integration chat send (`POST /api/integrations/chat/user`) with 10 CHAT webhooks
 *   whose local receivers take 1 s to answer, against the same with receivers that answer at
 *   once (target: slow ≥ 0.8 × fast — deliveries go through the durable outbox, so a slow
 *   receiver must not slow the sender);
 * - the chat history (`GET /api/chat`, and the uncached history query timed in-process) with
 *   1k, 10k and 100k stored messages (target: the 100k figure ≤ 12 × the 10k figure);
 * - hiding then showing 10k messages with one `updatemessagevisibility` request, at the same
 *   sizes (same target).
 *
 * The database is seeded beforehand through an in-process kernel on the same file, with the
 * plugin's own services (access token, webhooks, messages).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kernel } from '../../../src/index.js';
import { owncastPlugin, OwncastTokens, type Owncast } from '../../../plugins/owncast/index.js';
import { allPlugins, atLeast, atMost, type BenchContext, type Figure, type Scenario } from '../harness.js';

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

/** Adds `count` CHAT messages spread over the last four hours. */
async function seedMessages(url: string, count: number): Promise<{ ids: string[]; queryMs: number }> {
  return withOwncast(url, async (owncast) => {
    const now = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < count; i += 5000) {
      const n = Math.min(5000, count - i);
      const batch = Array.from({ length: n }, (_, j) => ({
        type: 'CHAT',
        author: `viewer${(i + j) % 97}`,
        body: `<p>message ${i + j}</p>`,
        rawBody: `message ${i + j}`,
        at: now - 4 * 3_600_000 + Math.floor(((i + j) / count) * 3_600_000),
      }));
      ids.push(...(await owncast.messages.insertMany(batch)));
    }
    // The uncached history query (what /api/chat runs once per refresh interval).
    const rounds = 50;
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) await owncast.messages.recent(5 * 3_600_000, 50);
    const queryMs = Number(process.hrtime.bigint() - started) / 1e6 / rounds;
    return { ids, queryMs };
  });
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
        push({ name: 'GET /api/status', value: r.rps, unit: 'req/s', ratio, p50: r.p50, p99: r.p99, ...atLeast(ratio, 0.5) });
        const spread = r.p99 / Math.max(r.p50, 1);
        push({ name: 'GET /api/status p99 / p50', value: spread, unit: 'x', ...atMost(spread, 5) });
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

    // 3 and 4. History and visibility at 1k, 10k and 100k messages (one database, grown).
    {
      const url = `sqlite:${ctx.scratch('owncast-history')}/db.sqlite`;
      const sizes = ctx.quick ? [1000, 10_000] : [1000, 10_000, 100_000];
      const history = new Map<number, { rps: number; queryMs: number; visibilityMs: number }>();
      let stored = 0;
      const ids: string[] = [];
      for (const size of sizes) {
        ctx.log(`owncast: ${size} messages`);
        const seeded = await seedMessages(url, size - stored);
        ids.push(...seeded.ids);
        stored = size;
        const server = await ctx.startServer('standalone', serverConfig(url));
        try {
          const target = `${server.url}/api/chat`;
          const list = (await (await fetch(target)).json()) as unknown[];
          if (list.length !== 50) throw new Error(`/api/chat returned ${list.length} messages`);
          const duration = ctx.quick ? 1 : Math.min(ctx.duration, 3);
          await ctx.warm({ url: target });
          const r = await ctx.load({ url: target, duration });
          if (r.failures > 0) throw new Error(`GET /api/chat: ${r.failures} failed requests`);
          // Hide, then show, 10k ids (the newest ones), timed.
          const batch = JSON.stringify({ idArray: ids.slice(-10_000), visible: false });
          const again = JSON.stringify({ idArray: ids.slice(-10_000), visible: true });
          const rounds = ctx.quick ? 2 : 4;
          const started = Date.now();
          for (let i = 0; i < rounds; i++) {
            const res = await fetch(`${server.url}/api/admin/chat/updatemessagevisibility`, { method: 'POST', headers: ADMIN, body: i % 2 === 0 ? batch : again });
            if (res.status !== 200) throw new Error(`updatemessagevisibility answered ${res.status}: ${await res.text()}`);
          }
          const visibilityMs = (Date.now() - started) / rounds;
          history.set(size, { rps: r.rps, queryMs: seeded.queryMs, visibilityMs });
          push({ name: `GET /api/chat, ${size} messages`, value: r.rps, unit: 'req/s', ratio: r.rps / ctx.express.rps, p50: r.p50, p99: r.p99 });
          push({ name: `history query (uncached), ${size} messages`, value: seeded.queryMs, unit: 'ms' });
          push({ name: `visibility update of ${Math.min(10_000, size)} ids, ${size} messages`, value: visibilityMs, unit: 'ms' });
        } finally {
          await server.stop();
        }
      }
      const big = history.get(100_000);
      const mid = history.get(10_000);
      if (big && mid) {
        const query = big.queryMs / mid.queryMs;
        push({ name: 'history query: 100k / 10k', value: query, unit: 'x', ...atMost(query, 12) });
        const vis = big.visibilityMs / mid.visibilityMs;
        push({ name: 'visibility update of 10k ids: 100k / 10k messages', value: vis, unit: 'x', ...atMost(vis, 12) });
        const rps = mid.rps / big.rps;
        push({ name: 'GET /api/chat time per request: 100k / 10k', value: rps, unit: 'x', ...atMost(rps, 12) });
      }
    }
    return figures;
  },
};
