/**
 * anope: the object API on the standalone server (SQLite, all five plugins running),
 * at several data sizes (1k, 10k, 100k accounts; `--quick`: 1k, 10k), each in its own
 * database seeded beforehand through an in-process kernel, with one account referenced by a
 * tenth as many access entries:
 *
 * - `GET /rest/account/{id}` throughput on the largest database, as a ratio to bare Express
 *   (target ≥ 0.5, p99 under 5× p50);
 * - listing every account (the second list; the first warms up): time and the server's
 *   peak RSS, per size (targets: the largest list takes ≤ 12× the time of the one ten
 *   times smaller, and its peak RSS is within 64 MB of it: the list is streamed, so memory
 *   stays flat);
 * - the first search on an unindexed field (it creates the index) against the second;
 * - deleting the account that the access entries reference (the database cascades).
 *
 * Every timing of the largest size must be ≤ 12× the same timing ten times smaller.
 */
import { Kernel } from '../../../src/index.js';
import { anopePlugin, AnopeObjects, type AnopeObjectStore } from '../../../plugins/anope/index.js';
import { allPlugins, atLeast, atMost, type BenchContext, type Figure, type Scenario } from '../harness.js';

const TOKEN = 'anope-bench-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const PASS = 'sha256:55ad6396a287df38967de578cbf92788faea8c94cd7d0e4f55eb45257921d75b:3df6978927389fb71a560a232572e5871bd072752eca27f159dc1fdc2462411c';

/** What a seeded database holds. */
interface Seeded {
  url: string;
  size: number;
  refs: number;
  /** The account the access entries reference. */
  target: string;
  /** An account in the middle, for GET by id. */
  middle: string;
}

/** Seeds `size` accounts and `size / 10` access entries on one of them. */
async function seed(ctx: BenchContext, size: number): Promise<Seeded> {
  const url = `sqlite:${ctx.scratch(`anope-${size}`)}/db.sqlite`;
  const kernel = new Kernel({ database: url, logger: { level: 'warn', destination: process.stderr }, plugins: [{ plugin: anopePlugin, config: { auth: { token: TOKEN } } }] });
  await kernel.prepare('cli');
  try {
    const store = kernel.container.resolve<AnopeObjectStore>(AnopeObjects);
    await store.ready();
    const ids: string[] = [];
    for (let i = 0; i < size; i += 5000) {
      const batch = Array.from({ length: Math.min(5000, size - i) }, (_, j) => ({ display: `User${i + j}`, pass: PASS, email: `user${i + j}@example.org`, language: 'en_US' }));
      ids.push(...(await store.createMany('account', batch)));
    }
    const refs = Math.max(1, Math.floor(size / 10));
    const target = ids[0];
    for (let i = 0; i < refs; i += 5000) {
      await store.createMany('nsaccess', Array.from({ length: Math.min(5000, refs - i) }, (_, j) => ({ account: `account:${target}`, mask: `*!*@host${i + j}.example.org` })));
    }
    return { url, size, refs, target, middle: ids[Math.floor(size / 2)] };
  } finally {
    await kernel.stop();
  }
}

/** Reads a whole response, discarding it, and returns [ms, bytes, status]. */
async function timed(url: string, init: RequestInit = {}): Promise<{ ms: number; bytes: number; status: number; text?: string }> {
  const started = performance.now();
  const res = await fetch(url, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string> | undefined) } });
  let bytes = 0;
  const reader = res.body!.getReader();
  let head = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (head.length < 200) head += Buffer.from(value).toString('utf8', 0, 200);
  }
  return { ms: performance.now() - started, bytes, status: res.status, text: head };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** The anope scenario. */
export const anopeScenario: Scenario = {
  name: 'anope',
  async run(ctx) {
    const sizes = ctx.quick ? [1000, 10000] : [1000, 10000, 100000];
    const figures: Figure[] = [];
    /** Per size, the timings whose growth is checked (ms), and the list's peak RSS (MB). */
    const curves = new Map<number, { list: number; search: number; indexed: number; byName: number; cascade: number; rss: number }>();
    for (const size of sizes) {
      ctx.log(`anope: seeding ${size} accounts`);
      const db = await seed(ctx, size);
      const server = await ctx.startServer('standalone', { database: { url: db.url }, plugins: allPlugins({ anope: { auth: { token: TOKEN } } }) });
      const label = size >= 1000 ? `${size / 1000}k` : String(size);
      try {
        const base = `${server.url}/rest`;
        check((await timed(`${base}/types`)).status === 200, 'GET /rest/types failed');
        check((await timed(`${base}/account/${db.middle}`)).status === 200, 'GET by id failed');

        // The first list warms the path (JIT, prepared statements, heap sizing); the second is measured.
        check((await timed(`${base}/account`)).status === 200, 'listing accounts failed');
        const list = await timed(`${base}/account`);
        check(list.status === 200 && list.bytes > size * 100, `listing ${size} accounts failed (${list.status}, ${list.bytes} bytes)`);
        const rss = server.peakRssMb();
        figures.push({ scenario: 'anope', name: `list ${label} accounts (time)`, value: list.ms, unit: 'ms' });
        figures.push({ scenario: 'anope', name: `list ${label} accounts (peak server RSS)`, value: rss, unit: 'MB' });

        const first = await timed(`${base}/account/email/user${size - 7}@example.org`);
        const second = await timed(`${base}/account/email/user${size - 8}@example.org`);
        check(first.status === 200 && second.status === 200, 'search by email failed');
        const byName = await timed(`${base}/account/display/USER${size - 9}`);
        check(byName.status === 200, 'search by display failed');
        figures.push({ scenario: 'anope', name: `search unindexed field over ${label}: first (creates the index)`, value: first.ms, unit: 'ms' });
        figures.push({ scenario: 'anope', name: `search unindexed field over ${label}: second`, value: second.ms, unit: 'ms' });
        figures.push({ scenario: 'anope', name: `search by name (case-insensitive) over ${label}`, value: byName.ms, unit: 'ms' });

        if (size === sizes[sizes.length - 1]) {
          const target = `${base}/account/${db.middle}`;
          const r = await ctx.versusExpress({ url: target, headers: AUTH });
          check(r.failures === 0, `${r.failures} failed requests on GET /rest/account/{id}`);
          const ratio = r.ratio;
          figures.push({ scenario: 'anope', name: `GET /rest/account/{id} (${label} accounts)`, value: r.rps, unit: 'req/s', ratio, p50: r.p50, p99: r.p99, ...atLeast(ratio, 0.5) });
          const spread = r.p99 / Math.max(r.p50, 1);
          figures.push({ scenario: 'anope', name: 'GET /rest/account/{id} p99 / p50', value: spread, unit: 'x', ...atMost(spread, 5) });
        }

        const del = await timed(`${base}/account/${db.target}`, { method: 'DELETE' });
        check(del.status === 200, `delete failed (${del.status})`);
        const left = await timed(`${base}/nsaccess/account/account:${db.target}`);
        check(left.status === 404, 'the cascade left access entries behind');
        figures.push({ scenario: 'anope', name: `delete an account referenced by ${db.refs >= 1000 ? `${db.refs / 1000}k` : db.refs} access entries (cascade)`, value: del.ms, unit: 'ms' });
        curves.set(size, { list: list.ms, search: first.ms, indexed: second.ms, byName: byName.ms, cascade: del.ms, rss });
      } finally {
        await server.stop();
      }
    }
    const largest = sizes[sizes.length - 1];
    const tenth = largest / 10;
    const big = curves.get(largest)!;
    const small = curves.get(tenth)!;
    const scale = `${largest / 1000}k / ${tenth / 1000}k`;
    const growthOf = { list: 'list time', search: 'first search (creates the index)', indexed: 'second search', byName: 'search by name', cascade: 'cascade delete (10x the references)' } as const;
    for (const [key, name] of Object.entries(growthOf) as Array<[keyof typeof growthOf, string]>) {
      const growth = big[key] / small[key];
      figures.push({ scenario: 'anope', name: `${name}: ${scale}`, value: growth, unit: 'x', ...atMost(growth, 12) });
    }
    const extra = big.rss - small.rss;
    figures.push({ scenario: 'anope', name: `list peak RSS ${largest / 1000}k - ${tenth / 1000}k`, value: extra, unit: 'MB', ...atMost(extra, 64, ' MB') });
    return figures;
  },
};
