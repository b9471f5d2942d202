/**
 * Startup: from spawning the process to the server answering, for the standalone server
 * with all five plugins (what `npm start` runs: the bundle) against the smallest Express 5
 * app, median of several runs each. Measured on a fresh database (migrations run) and on a
 * database that is already migrated (a restart). Target: ≤ 2× the bare Express app (issue 17).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { atMost, median, npmStartArgs, type Figure, type Scenario } from '../harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..', '..');

/** Spawns `args`, resolves with ms until stdout shows it listens, then kills it. */
function timeToListen(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      if (/READY \d+|listening on/.test(out)) {
        const ms = performance.now() - started;
        child.once('exit', () => resolve(ms));
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => (err += String(d)));
    child.once('exit', (code) => {
      if (!/READY \d+|listening on/.test(out)) reject(new Error(`exited ${code} before listening: ${err.slice(-500)}`));
    });
  });
}

export const startupScenario: Scenario = {
  name: 'startup',
  async run(ctx) {
    const runs = ctx.quick ? 3 : 7;
    // What `npm start` runs: the bundle, with the start script's node flags.
    const start = npmStartArgs();
    const bare: number[] = [];
    const fresh: number[] = [];
    const restart: number[] = [];
    for (let i = 0; i < runs; i++) {
      bare.push(await timeToListen([path.join(here, '..', 'bare-express.js')], { PORT: '0' }, root));
      const dir = ctx.scratch('startup');
      const env = { PORT: '0', SWITCHBOARD_CONFIG: '', DATABASE_URL: `sqlite:${dir}/db.sqlite`, HOST: '127.0.0.1' };
      fresh.push(await timeToListen(start, env, dir));
      restart.push(await timeToListen(start, env, dir));
    }
    const base = median(bare);
    const figures: Figure[] = [{ scenario: 'startup', name: 'bare Express 5 app', value: base, unit: 'ms' }];
    for (const [name, values] of [['standalone, all plugins, fresh database', fresh], ['standalone, all plugins, restart', restart]] as const) {
      const ms = median(values);
      const ratio = ms / base;
      figures.push({ scenario: 'startup', name: `${name} (${ms.toFixed(0)} ms)`, value: ratio, unit: 'x express', ...atMost(ratio, 2) });
    }
    return figures;
  },
};
