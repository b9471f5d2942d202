/**
 * `npm run bench [-- --quick] [-- --only name,name]`: baselines first (a bare node:http
 * handler and a bare Express 5 route), then every scenario; each throughput is printed as a
 * ratio to the Express route of the same run. Writes `test/bench/results/<time>.json`, and
 * prints the change of every ratio since the previous results file of the same mode.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { atMost, compareWithExpress, load, startServer, type BenchContext, type Figure, type LoadOptions, type LoadResult } from './harness.js';
import { scenarios } from './scenarios/index.js';
import { compareRatios, formatComparison, previousResults } from './compare.js';

/** The longest a full run (every scenario) may take, seconds. */
const FULL_RUN_SECONDS = 8 * 60;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? (args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined);
  const only = onlyArg ? new Set(onlyArg.split(',')) : undefined;
  const duration = quick ? 2 : 8;
  const warmAmount = quick ? 1500 : undefined;
  const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
  const started = Date.now();

  const measure = async (kind: 'node' | 'express', config?: unknown): Promise<LoadResult> => {
    const server = await startServer(kind, config);
    try {
      const url = kind === 'express' ? `${server.url}/bench` : server.url;
      await load({ url, duration: 1, ...(warmAmount ? { amount: warmAmount } : {}) });
      return await load({ url, duration: quick ? 1 : duration });
    } finally {
      await server.stop();
    }
  };
  log('baseline: bare node:http');
  const node = await measure('node');
  log('baseline: bare Express 5 route');
  const express = await measure('express');
  // For information: what the standalone's server option (expressServerOptions) gives Express itself.
  log('baseline: bare Express 5 route, expressServerOptions');
  const expressPrototypes = await measure('express', { prototypes: true });
  // A baseline Express server stays up for the whole run, for interleaved comparisons.
  const expressServer = await startServer('express');
  await load({ url: `${expressServer.url}/bench`, duration: 1, ...(warmAmount ? { amount: warmAmount } : {}) });
  const pairs = quick ? 1 : 3;
  const figures: Figure[] = [
    { scenario: 'baseline', name: 'bare node:http handler', value: node.rps, unit: 'req/s', ratio: node.rps / express.rps, p50: node.p50, p99: node.p99 },
    { scenario: 'baseline', name: 'bare Express 5 route', value: express.rps, unit: 'req/s', ratio: 1, p50: express.p50, p99: express.p99 },
    { scenario: 'baseline', name: 'bare Express 5 route, server built with expressServerOptions', value: expressPrototypes.rps, unit: 'req/s', ratio: expressPrototypes.rps / express.rps, p50: expressPrototypes.p50, p99: expressPrototypes.p99 },
  ];
  const scratchRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-bench-'));
  const ctx: BenchContext = {
    quick,
    duration,
    express,
    load: (o: LoadOptions) => load({ ...o, duration: o.duration ?? duration }),
    warm: async (o: LoadOptions) => void (await load({ duration: 1, ...(warmAmount ? { amount: warmAmount } : {}), ...o })),
    versusExpress: (o: LoadOptions) => compareWithExpress(`${expressServer.url}/bench`, { ...o, duration: o.duration ?? (quick ? 1 : 3) }, pairs, warmAmount),
    startServer: (kind, config) => startServer(kind, config),
    scratch: (name) => fs.mkdtempSync(path.join(scratchRoot, `${name}-`)),
    log,
  };
  for (const scenario of scenarios) {
    if (only && !only.has(scenario.name)) continue;
    log(`scenario: ${scenario.name}`);
    const scenarioStarted = Date.now();
    try {
      figures.push(...(await scenario.run(ctx)));
      log(`scenario ${scenario.name}: ${((Date.now() - scenarioStarted) / 1000).toFixed(1)} s`);
    } catch (err) {
      log(`scenario ${scenario.name} failed: ${(err as Error).stack}`);
      figures.push({ scenario: scenario.name, name: 'FAILED', value: 0, unit: '', target: 'runs', ok: false });
    }
  }
  await expressServer.stop();
  fs.rmSync(scratchRoot, { recursive: true, force: true });

  // Issue 17: a full run, the 1M-row sizes included, stays under 8 minutes on 2 cores.
  const seconds = (Date.now() - started) / 1000;
  if (!quick && !only) figures.push({ scenario: 'run', name: 'full run time', value: seconds, unit: 's', ...atMost(seconds, FULL_RUN_SECONDS, ' s') });

  const fmt = (n: number | undefined, digits = 0) => (n === undefined ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  const rows = figures.map((f) => [
    f.scenario,
    f.name,
    `${fmt(f.value, f.unit === 'req/s' ? 0 : 2)} ${f.unit}`,
    f.ratio === undefined ? '' : fmt(f.ratio, 2),
    f.p50 === undefined ? '' : `${fmt(f.p50, 1)} / ${fmt(f.p99, 1)}`,
    f.target ? `${f.target} ${f.ok ? 'ok' : 'MISSED'}` : '',
  ]);
  const header = ['scenario', 'measure', 'value', 'vs express', 'p50 / p99 ms', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
  const missed = figures.filter((f) => f.ok === false);
  process.stdout.write(`\n${figures.filter((f) => f.ok !== undefined).length - missed.length} targets met, ${missed.length} missed; ${((Date.now() - started) / 1000).toFixed(0)} s${quick ? ' (quick)' : ''}\n`);

  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    /* not a git checkout */
  }
  const dir = path.join(process.cwd(), 'test', 'bench', 'results');
  const previous = previousResults(dir, quick);
  if (previous) process.stdout.write(`\n${formatComparison(previous.results, path.relative(process.cwd(), previous.file), compareRatios(previous.results.figures, figures))}`);
  else process.stdout.write(`\nNo earlier ${quick ? 'quick' : 'full'} results file in ${path.relative(process.cwd(), dir)} to compare with.\n`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), commit, quick, machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, figures }, null, 2));
  process.stdout.write(`figures written to ${path.relative(process.cwd(), file)}\n`);
  if (missed.length > 0) process.exitCode = 1;
}

void main();
