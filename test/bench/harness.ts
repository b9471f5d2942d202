/**
 * The benchmark harness: servers in child processes, load from autocannon in this process,
 * and every figure reported as a ratio to a bare Express route measured in the same run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { npmStartArgs as startScriptArgs } from '../helpers/start-script.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** What `server.ts` can start. */
export type BenchServerKind = 'node' | 'express' | 'kernel' | 'standalone' | 'receiver' | 'outbox' | 'outbox-floor';

/** Throughput and latency of one load run. */
export interface LoadResult {
  /** Mean requests per second. */
  rps: number;
  /** Median latency, ms. */
  p50: number;
  /** 99th percentile latency, ms. */
  p99: number;
  /** Requests that failed or answered non-2xx. */
  failures: number;
}

/** A subject measured against Express in interleaved pairs. */
export interface ComparedResult extends LoadResult {
  /** Median over the pairs of subject rps / Express rps. */
  ratio: number;
}

/** One line of the results table. */
export interface Figure {
  /** Scenario group, e.g. `anope`. */
  scenario: string;
  /** What was measured. */
  name: string;
  /** The measured value. */
  value: number;
  /** Its unit (`req/s`, `ms`, `MB`, `x`). */
  unit: string;
  /** Throughput ratio to the bare Express route, when it is a throughput. */
  ratio?: number;
  /** Latencies, for throughput figures. */
  p50?: number;
  p99?: number;
  /** The target this figure must meet, as text, and whether it does. */
  target?: string;
  ok?: boolean;
}

/** What a scenario gets. */
export interface BenchContext {
  /** `--quick`: shorter runs, smaller data. */
  quick: boolean;
  /** Seconds per load run. */
  duration: number;
  /** The bare Express baseline of this run (measured first). */
  express: LoadResult;
  /** Runs load against a URL. */
  load(options: LoadOptions): Promise<LoadResult>;
  /** Warms a URL up before it is measured (JIT, caches): a second, or a few hundred requests in `--quick` (or `amount` when given). */
  warm(options: LoadOptions): Promise<void>;
  /**
   * Measures a URL against the bare Express route in interleaved pairs (Express, subject,
   * Express, subject, …) so that a machine whose load drifts during the run does not skew
   * the ratio; returns the subject's median figures and the median of the pairs' ratios.
   */
  versusExpress(options: LoadOptions): Promise<ComparedResult>;
  /** Starts a server in a child process. */
  startServer(kind: BenchServerKind, config?: unknown): Promise<BenchServer>;
  /** A fresh scratch directory for this scenario. */
  scratch(name: string): string;
  /** Progress output. */
  log(message: string): void;
}

/** Options of a load run. */
export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  /** Seconds (default the context's duration). */
  duration?: number;
  /** A fixed number of requests instead of a duration. */
  amount?: number;
}

/** A server child process. */
export interface BenchServer {
  url: string;
  pid: number;
  /** Peak resident memory of the process so far, MB (VmHWM). */
  peakRssMb(): number;
  stop(): Promise<void>;
}

/** A group of measurements. */
export interface Scenario {
  name: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}

/** Runs autocannon and summarises. */
export async function load(options: LoadOptions & { duration: number }): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    connections: options.connections ?? 50,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration }),
    timeout: 30,
  });
  return {
    rps: result.requests.mean,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

/** BENCH_CPU_PROF=<dir>: each bench server writes a V8 CPU profile there when it stops. */
function cpuProfileFlags(): string[] {
  return process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(process.env.BENCH_CPU_PROF)] : [];
}

/** The package's root (the harness runs from dist/test/bench/). */
const ROOT = path.resolve(here, '..', '..', '..');

/**
 * What `npm start` runs, as node's arguments (see {@link startScriptArgs}). The `standalone`
 * bench server and the startup scenario run exactly this, flags included.
 */
export function npmStartArgs(): string[] {
  return startScriptArgs(ROOT);
}

/**
 * Starts a bench server child process and waits until it listens. Every kind but
 * `standalone` is `server.ts`, which prints `READY <port>`; `standalone` is what `npm start`
 * runs, the bundle, with `config` written to a JSON file it reads through
 * `SWITCHBOARD_CONFIG` (listening on 127.0.0.1, an ephemeral port, logging warnings only).
 */
export function startServer(kind: BenchServerKind, config?: unknown, cwd?: string): Promise<BenchServer> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    if (kind === 'standalone') {
      const start = npmStartArgs();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-bench-config-'));
      const file = path.join(dir, 'switchboard.json');
      fs.writeFileSync(file, JSON.stringify({ ...(config as object), server: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' } }));
      child = spawn(process.execPath, [...cpuProfileFlags(), ...start], {
        cwd: cwd ?? process.cwd(),
        env: { ...process.env, SWITCHBOARD_CONFIG: file },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    } else {
      child = spawn(process.execPath, [...cpuProfileFlags(), path.join(here, 'server.js'), kind, JSON.stringify(config ?? {})], {
        cwd: cwd ?? process.cwd(),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    }
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += String(chunk);
      const m = /READY (\d+)|listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(buffer);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({
        url: `http://127.0.0.1:${m[1] ?? m[2]}`,
        pid: child.pid!,
        peakRssMb: () => {
          const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
          return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
        },
        stop: () =>
          new Promise<void>((r) => {
            if (child.exitCode !== null) return r();
            child.once('exit', () => r());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 3000).unref();
          }),
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`bench server '${kind}' exited with ${code} before it was ready`)));
  });
}

/**
 * The `plugins` section of a standalone config with every bundled plugin on (issue 9 measures
 * each family on the standalone server with all plugins running); `own` gives the measured
 * family's own section and replaces the default one.
 */
export function allPlugins(own: Record<string, unknown>): Record<string, unknown> {
  return {
    opsdroid: {},
    redball: { apiKeys: ['bench-redball-key-all-plugins-0123'] },
    talk: {},
    anope: { auth: { token: 'bench-anope-token-all-plugins-0123' } },
    owncast: { streamKey: 'bench-owncast-stream-key' },
    ...own,
  };
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Interleaved pairs against a running Express baseline: `pairs` times an Express run then a
 * subject run, each `duration` seconds, after a short warm-up of the subject.
 */
export async function compareWithExpress(expressUrl: string, options: LoadOptions & { duration: number }, pairs: number, warmAmount?: number): Promise<ComparedResult> {
  await load({ ...options, ...(warmAmount ? { amount: warmAmount } : {}), duration: 1 });
  const subject: LoadResult[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const base = await load({ url: expressUrl, duration: options.duration, connections: options.connections });
    const run = await load(options);
    subject.push(run);
    ratios.push(run.rps / base.rps);
  }
  return {
    rps: median(subject.map((r) => r.rps)),
    p50: median(subject.map((r) => r.p50)),
    p99: median(subject.map((r) => r.p99)),
    failures: subject.reduce((n, r) => n + r.failures, 0),
    ratio: median(ratios),
  };
}

/** Formats a ratio against a target, e.g. `ratio >= 0.90`. */
export function atLeast(value: number, target: number): { target: string; ok: boolean } {
  return { target: `>= ${target}`, ok: value >= target };
}

/** Formats a value against an upper bound. */
export function atMost(value: number, target: number, unit = ''): { target: string; ok: boolean } {
  return { target: `<= ${target}${unit}`, ok: value <= target };
}
