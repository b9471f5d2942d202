/**
 * A flood of wrong HTTP Basic logins (issue 15, finding 2): the standalone server with a
 * scrypt-hashed user password and every plugin on; 40 connections send Talk requests with
 * wrong passwords, 200 a second in all, (each a different guess, as a password-guessing client sends them, so no
 * check can be shared or remembered) for a known and for unknown users. Meanwhile a single
 * client measures the latency of the unauthenticated `GET /healthz`, sent at a fixed pace;
 * its median under the flood is reported as a ratio to its median when the server is
 * idle. Target: ≤ 3×. Before the fix each guess ran scrypt on the event loop and the ratio was
 * about 100×.
 *
 * The flood runs in a worker thread (this same module, started with `workerData`), so that
 * it does not share an event loop with the probe that measures.
 */
import http from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import { hashPassword } from '../../../src/index.js';
import { allPlugins, atMost, median, type Figure, type Scenario } from '../harness.js';

const USER = 'alice';
const PASSWORD = 'bench-alice-password-7d1c';
const FLOOD_CONNECTIONS = 40;
/**
 * Guesses per second over all connections: a heavy brute force (12 000 a minute), paced so
 * that what is measured is the cost of password checking, not the server's saturation by
 * any flood of requests (which would slow `/healthz` just as much with no auth at all).
 */
const FLOOD_RATE = 200;

type Options = Parameters<typeof autocannon>[0];
type Result = Awaited<ReturnType<typeof autocannon>>;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** How often the probe sends, ms. */
const PROBE_INTERVAL_MS = 50;

/** One GET; resolves with its latency, ms. */
function timedGet(url: string, agent: http.Agent): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`GET ${url} answered ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/**
 * GETs sent at a fixed pace (one every {@link PROBE_INTERVAL_MS} ms, whether or not the
 * earlier ones have been answered) for `seconds`; the latency of each, ms. A fixed pace,
 * not one request after the other: a server that stalls for a second then answers a
 * hundred slow requests, not one, so the median shows the stall.
 */
async function probe(url: string, seconds: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
  const pending: Array<Promise<number>> = [];
  const started = Date.now();
  try {
    for (let i = 0; Date.now() - started < seconds * 1000; i++) {
      pending.push(timedGet(url, agent));
      const next = started + (i + 1) * PROBE_INTERVAL_MS;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    return await Promise.all(pending);
  } finally {
    agent.destroy();
  }
}

/** What the flood worker is told. */
interface FloodJob {
  authFlood: true;
  url: string;
  seconds: number;
}

type FloodResult = Result & { statusCodeStats?: Record<string, { count: number }> };
/** What the worker sends back. */
type FloodSummary = { perSecond: number; statusCodeStats?: Record<string, { count: number }>; '2xx': number };

/** Starts the flood in a worker thread; resolves with autocannon's result. */
function startFlood(job: Omit<FloodJob, 'authFlood'>, onStarted: () => void): Promise<FloodSummary> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { authFlood: true, ...job } satisfies FloodJob });
    worker.on('message', (message: FloodSummary | 'started') => {
      if (message === 'started') onStarted();
      else resolve(message);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the flood worker exited with ${code}`)));
  });
}

/**
 * The flood, in the worker: every request a new guess (a quarter of them for unknown users),
 * so that no two requests carry the same credentials.
 */
async function flood(job: FloodJob): Promise<void> {
  let n = 0;
  const path = '/ocs/v2.php/apps/spreed/api/v1/bot/admin';
  const guess = (req: Record<string, unknown>) => {
    const i = n++;
    return { ...req, headers: { 'ocs-apirequest': 'true', accept: 'application/json', authorization: basic(i % 4 === 0 ? `nobody-${i}` : USER, `guess-${i}`) } };
  };
  const options = { url: job.url, connections: FLOOD_CONNECTIONS, overallRate: FLOOD_RATE, duration: job.seconds, timeout: 30, requests: [{ method: 'GET', path, setupRequest: guess }] };
  const run = autocannon(options as Options);
  (run as unknown as NodeJS.EventEmitter).once('start', () => parentPort!.postMessage('started'));
  const result = (await run) as FloodResult;
  const answered = Object.values(result.statusCodeStats ?? {}).reduce((sum, { count }) => sum + count, 0);
  parentPort!.postMessage({ perSecond: answered / job.seconds, statusCodeStats: result.statusCodeStats, '2xx': result['2xx'] } satisfies FloodSummary);
}

if (!isMainThread && (workerData as Partial<FloodJob> | null)?.authFlood) void flood(workerData as FloodJob);

/** The auth-flood scenario (export name for `scenarios/index.ts`: `authFloodScenario`). */
export const authFloodScenario: Scenario = {
  name: 'auth-flood',
  async run(ctx) {
    const dir = ctx.scratch('auth-flood');
    const server = await ctx.startServer('standalone', {
      database: { url: `sqlite:${dir}/db.sqlite` },
      users: [{ id: USER, password: hashPassword(PASSWORD), admin: true }],
      plugins: allPlugins({}),
    });
    const figures: Figure[] = [];
    try {
      const healthz = `${server.url}/healthz`;
      const seconds = ctx.quick ? 2 : 6;
      await probe(healthz, 0.5);
      const idle = median(await probe(healthz, seconds));

      let started!: () => void;
      const floodStarted = new Promise<void>((r) => (started = r));
      const flood = startFlood({ url: server.url, seconds: seconds + 2 }, started);
      // Measure once the flood has been running for a second.
      await Promise.race([floodStarted, flood]);
      await new Promise((r) => setTimeout(r, 1000));
      const underFlood = median(await probe(healthz, seconds));
      const result = await flood;
      const statuses = Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => `${status}: ${count}`).join(', ');
      if (!result.statusCodeStats?.['401'] || result['2xx'] > 0) throw new Error(`the flood did not get refusals only (${statuses})`);

      const ratio = underFlood / idle;
      ctx.log(`auth-flood: /healthz p50 idle ${idle.toFixed(2)} ms, under the flood ${underFlood.toFixed(2)} ms; flood ${Math.round(result.perSecond)} req/s (${statuses})`);
      figures.push({ scenario: 'auth-flood', name: 'GET /healthz p50 idle', value: idle, unit: 'ms' });
      figures.push({ scenario: 'auth-flood', name: `GET /healthz p50 under ${FLOOD_RATE} wrong Basic logins/s over ${FLOOD_CONNECTIONS} connections`, value: underFlood, unit: 'ms' });
      figures.push({ scenario: 'auth-flood', name: 'GET /healthz p50: under the flood / idle', value: ratio, unit: 'x', ...atMost(ratio, 3) });
      figures.push({ scenario: 'auth-flood', name: 'wrong logins answered (401, or 429 past the bound)', value: result.perSecond, unit: 'req/s' });
    } finally {
      await server.stop();
    }
    return figures;
  },
};
